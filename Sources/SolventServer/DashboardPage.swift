/// The risk desk's dashboard (docs/service.md), served at `/` from the binary: no CDN, no external asset.
enum DashboardPage {
    static let html = #"""
    <!doctype html><title>Solvent</title><p>loading</p>
    """#
}
