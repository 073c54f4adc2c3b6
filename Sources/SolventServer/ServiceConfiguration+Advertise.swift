import Foundation
public import SolventCore

extension ServiceConfiguration {
    /// Whether `host` is a wildcard address (every interface): `0.0.0.0`, `::`, `[::]`, `*` or empty.
    public static func isWildcard(host: String) -> Bool {
        ["0.0.0.0", "::", "[::]", "*", ""].contains(host.trimmingCharacters(in: .whitespaces))
    }

    /// A cluster node's advertised URL must be one other nodes and clients can reach
    /// (docs/cluster.md "Running three nodes"): standbys redirect writes to it. Without
    /// `advertise` the default is `http://HOST:PORT` of the listener, which is refused when it
    /// cannot be reached: a wildcard host (`0.0.0.0`, `::`) or port 0 (a free port chosen at
    /// bind time). The error names `advertise` and asks for `--advertise http://HOST:PORT`.
    /// Nothing is checked for a single node (no `node_id`) or when `advertise` is set.
    public func checkAdvertise() throws(InputError) {
        guard nodeID != nil, postgres != nil, advertise == nil else { return }
        if Self.isWildcard(host: host) {
            throw InputError(path: "advertise",
                             reason: "this cluster node listens on \(host.isEmpty ? "every interface" : host), which other nodes cannot reach: set --advertise http://HOST:\(port) (SOLVENT_ADVERTISE, \"advertise\") to the URL clients and standbys use for it")
        }
        if port == 0 {
            throw InputError(path: "advertise",
                             reason: "this cluster node listens on a free port chosen at start (--port 0): set --port, or --advertise http://\(host):PORT with the port it will use")
        }
    }
}
