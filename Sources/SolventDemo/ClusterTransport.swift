import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import SolventCore
public import SolventEngine
import Synchronization

/// The live demo's replay written to a cluster over HTTP (`solvent demo --cluster 3`,
/// docs/cluster.md "The demo as a cluster"): each command is `POST /v1/commands` with the
/// operator key, its own time and its idempotency key, sent to the node believed to lead; a 307
/// is followed to the leader's `Location` with the same body and key; a 503, a refused
/// connection or a timeout (the leader was killed, a takeover is under way) is retried on the next
/// node with the same key until `retrySeconds` pass, so a command is applied exactly once
/// whichever node finally acknowledges it (docs/cluster.md "Takeover").
public final class ClusterTransport: DemoTransport {
    public let nodes: [String]
    let apiKey: String
    let retrySeconds: Double
    private let client: HTTPClient
    /// The node the last acknowledgement came from (where the next command goes first).
    private let preferred = Mutex<String?>(nil)
    /// Commands retried (a 503, a refused connection, a timeout), and 307s followed.
    private let counters = Mutex((retries: 0, redirects: 0))

    /// `nodes`: the base URLs (`http://127.0.0.1:8080`) of the group's nodes.
    public init(nodes: [String], apiKey: String, retrySeconds: Double = 30) {
        precondition(!nodes.isEmpty, "a cluster has nodes")
        self.nodes = nodes
        self.apiKey = apiKey
        self.retrySeconds = retrySeconds
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(5))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    /// Commands retried on another node and 307s followed so far.
    public var retries: Int { counters.withLock { $0.retries } }
    public var redirects: Int { counters.withLock { $0.redirects } }

    /// Each command in order, one request each (the next starts after the previous was acknowledged).
    public func submit(_ commands: [TimedCommand]) async throws -> [DemoOutcome] {
        var outcomes: [DemoOutcome] = []
        for command in commands {
            let body = try await post(path: "/v1/commands", body: command.canonicalJSON, key: command.key ?? "")
            outcomes.append(Self.outcome(body))
        }
        return outcomes
    }

    /// From `GET /v1/accounts/{id}` on the node that acknowledged the last command (the leader,
    /// which reflects every acknowledged command): the position's notional over `mark`
    /// (linear contract of size 1: `notional = |quantity| × mark`, docs/margin.md), signed by
    /// `side` (the demo's traders hold one side; liquidation and ADL only reduce a position).
    /// The API shows no quantity, so this is exact only while the engine's mark is `mark` (the
    /// demo's last submitted mark); a refused mark leaves a dust position the replay leaves open.
    public func positionQuantity(account: String, symbol: String, side: Int, mark: String) async throws -> String? {
        guard let mark = FixedDecimal(mark), mark.isPositive, let notional = try await positionNotional(account: account, symbol: symbol) else { return nil }
        let magnitude = notional.magnitude / mark
        return (side > 0 ? magnitude : -magnitude).description
    }

    /// The account's position notional on `symbol` (absolute, settle asset), read from the leader.
    public func positionNotional(account: String, symbol: String) async throws -> FixedDecimal? {
        let body = try await get(path: "/v1/accounts/\(account)")
        guard case .array(let positions)? = body["account"]?["positions"] else { return nil }
        for position in positions where position["symbol"] == .string(symbol) {
            if case .string(let text)? = position["notional"] { return FixedDecimal(text) }
        }
        return nil
    }

    static func outcome(_ body: JSONValue) -> DemoOutcome {
        guard case .array(let events)? = body["events"] else { return DemoOutcome(kinds: [], marginCalls: []) }
        var kinds: [String] = []
        var calls: [(account: String, amount: FixedDecimal, time: Int64)] = []
        for event in events {
            guard case .string(let kind)? = event["type"] else { continue }
            kinds.append(kind)
            if kind == "margin_call", case .string(let account)? = event["account"], case .string(let amount)? = event["call_amount"],
               let call = FixedDecimal(amount), case .number(let time)? = event["time"], let t = Int64(time) {
                calls.append((account, call, t))
            }
        }
        return DemoOutcome(kinds: kinds, marginCalls: calls)
    }

    private func order() -> [String] {
        guard let first = preferred.withLock({ $0 }), let k = nodes.firstIndex(of: first) else { return nodes }
        return Array(nodes[k...] + nodes[..<k])
    }

    /// POSTs `body` with `key` until a node acknowledges it (200), following 307s; other statuses
    /// than 503 (a 4xx: the command was refused) end it with an error naming the node's answer.
    func post(path: String, body: [UInt8], key: String) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .milliseconds(Int(retrySeconds * 1000))
        var attempt = 0
        while true {
            let candidates = order()
            var target = candidates[attempt % candidates.count] + path
            attempt += 1
            for _ in 0..<3 {
                var request = HTTPClientRequest(url: target)
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
                request.headers.add(name: "Idempotency-Key", value: key)
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
                guard let response = try? await client.execute(request, timeout: .seconds(5)),
                      let bytes = try? await response.body.collect(upTo: 64 << 20) else { break }
                let status = response.status.code
                if status == 307, let location = response.headers.first(name: "Location") {
                    counters.withLock { $0.redirects += 1 }
                    target = location
                    continue
                }
                if status == 200 {
                    if let base = Self.base(of: target) { preferred.withLock { $0 = base } }
                    return (try? JSONParser.parse(Array(bytes.readableBytesView))) ?? .object([])
                }
                if status != 503 {
                    throw ClusterTransportError("\(target) answered \(status) to \(String(decoding: body, as: UTF8.self).prefix(200)): \(String(buffer: bytes).prefix(300))")
                }
                break
            }
            counters.withLock { $0.retries += 1 }
            guard ContinuousClock.now < deadline else {
                throw ClusterTransportError("no node of \(nodes) acknowledged \(key) within \(retrySeconds) s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// GETs `path` from the preferred node (then the others) until one answers 200.
    func get(path: String) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .milliseconds(Int(retrySeconds * 1000))
        var attempt = 0
        while true {
            let candidates = order()
            var request = HTTPClientRequest(url: candidates[attempt % candidates.count] + path)
            attempt += 1
            request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
            if let response = try? await client.execute(request, timeout: .seconds(5)),
               let bytes = try? await response.body.collect(upTo: 64 << 20) {
                if response.status.code == 200 { return (try? JSONParser.parse(Array(bytes.readableBytesView))) ?? .object([]) }
                if response.status.code == 404 { return .object([]) }
            }
            guard ContinuousClock.now < deadline else { throw ClusterTransportError("no node of \(nodes) answered GET \(path) within \(retrySeconds) s") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// One GET of a full URL, no retry (nil: no 200 answer).
    public func getOnce(_ url: String) async throws -> JSONValue? {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        let response = try await client.execute(request, timeout: .seconds(2))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        guard response.status.code == 200 else { return nil }
        return try JSONParser.parse(Array(bytes.readableBytesView))
    }

    /// `http://host:port` of a URL.
    static func base(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

/// The cluster did not acknowledge a demo command (every node refused or was unreachable for too long).
public struct ClusterTransportError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
