import Foundation

/// The risk desk's dashboard (docs/service.md), served at `/` from the binary: no CDN, no external asset.
/// One self-contained page, kept as files in `Resources/` and embedded by SwiftPM (`.embedInCode`):
/// `dashboard.html` with the CSS (`dashboard.css`) and the two scripts (`dashboard-format.js`, pure
/// formatting tested by node in `Tests/dashboard/`; `dashboard.js`, the page's state, stream and DOM)
/// inlined where it names them. It reads the key from `#key=KEY` (then keeps it in sessionStorage and
/// drops it from the URL), loads `GET /v1/risk` and recent `GET /v1/events`, then follows `/v1/stream`
/// (events, risk, prices) with reconnect and gap filling. `scripts/check_dashboard.py` renders it in
/// headless Chromium and checks the element ids it fills.
enum DashboardPage {
    static let html: String = inline(
        template: text(PackageResources.dashboard_html),
        parts: [("/* dashboard.css */", text(PackageResources.dashboard_css)),
                ("/* dashboard-format.js */", text(PackageResources.dashboard_format_js)),
                ("/* dashboard.js */", text(PackageResources.dashboard_js))])

    /// `template` with each marker line replaced by its file's text (each marker is present once).
    static func inline(template: String, parts: [(marker: String, text: String)]) -> String {
        var page = template
        for (marker, text) in parts {
            guard let range = page.range(of: marker) else { preconditionFailure("dashboard.html lacks \(marker)") }
            page.replaceSubrange(range, with: text.hasSuffix("\n") ? String(text.dropLast()) : text)
        }
        return page
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
