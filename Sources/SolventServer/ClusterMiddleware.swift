import HTTPTypes
import Hummingbird
import NIOCore

/// A cluster node's HTTP rules (docs/cluster.md "Clients"): on a standby a write is answered
/// 307 to the leader's advertised URL (same path and query; the client repeats it with the same
/// Idempotency-Key), or 503 with Retry-After when no leader is known; every answer carries
/// `Solvent-Sequence` (the node's engine reflects at least this journal sequence) and `Solvent-Role`.
struct ClusterMiddleware: RouterMiddleware {
    typealias Context = SolventRequestContext
    let cluster: ClusterNode

    static let sequenceHeader = HTTPField.Name("Solvent-Sequence")!
    static let roleHeader = HTTPField.Name("Solvent-Role")!

    /// Requests that change state (only the leader journals them).
    static func isWrite(_ request: Request) -> Bool {
        guard request.method == .post else { return false }
        return request.uri.path == "/v1/commands" || request.uri.path.hasPrefix("/v1/webhooks")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let status = cluster.status
        if Self.isWrite(request), status.role != .leader {
            if let url = status.leaderURL, status.leaderID != cluster.settings.nodeID {
                var location = url
                while location.hasSuffix("/") { location.removeLast() }
                location += request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                var response = SolventAPI.json(APIError(.temporaryRedirect, field: "leader", reason: "this node is a standby: the leader \(status.leaderID ?? "") is at \(url)").json,
                                               status: .temporaryRedirect)
                response.headers[.location] = location
                response.headers[Self.roleHeader] = status.role.rawValue
                return response
            }
            var response = SolventAPI.json(APIError(.serviceUnavailable, field: "leader", reason: "no leader is known right now (a takeover takes up to the lease): retry").json,
                                           status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            response.headers[Self.roleHeader] = status.role.rawValue
            return response
        }
        // A refused append left the engine ahead of its journal and PostgreSQL is unreachable to
        // rebuild it: nothing is read from it (no command that is not journaled is ever shown);
        // /v1/cluster, /metrics and the health checks still answer.
        if cluster.engine.awaitsRebuild, request.uri.path.hasPrefix("/v1/"), request.uri.path != "/v1/cluster" {
            var response = SolventAPI.json(APIError(.serviceUnavailable, field: "journal", reason: "the engine is being rebuilt from the journal (PostgreSQL unreachable): retry").json,
                                           status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            response.headers[Self.roleHeader] = cluster.status.role.rawValue
            return response
        }
        // An atomic the engine thread updates (EngineService.journaledSequence): no await on the
        // engine actor per request. Read before the handler: the answer reflects at least this.
        let sequence = cluster.engine.journaledSequence
        var response = try await next(request, context)
        response.headers[Self.sequenceHeader] = String(sequence)
        response.headers[Self.roleHeader] = cluster.status.role.rawValue
        return response
    }
}
