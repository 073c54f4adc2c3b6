import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import SolventCore
import Synchronization
import Testing

/// A webhook receiver on loopback for the cluster tests: plain HTTP/1.1 over a socket, one
/// request per connection (`Connection: close`), answering `status` (changeable while it runs)
/// and recording every request's headers and body.
final class LoopbackReceiver: @unchecked Sendable {
    struct Request: Sendable { var headers: [String: String]; var body: [UInt8]; var status: Int }
    let port: Int
    private let socket: Int32
    let requests = Mutex<[Request]>([])
    let status = Atomic<Int>(503)

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { throw ClusterTests.ClusterTestError("receiver: cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() { shutdown(socket, Int32(SHUT_RDWR)); close(socket) }

    private func acceptLoop() {
        while true {
            let client = accept(socket, nil, nil)
            guard client >= 0 else { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var headerEnd: Int? = nil
        var contentLength = 0
        var headers: [String: String] = [:]
        while true {
            let n = read(client, &chunk, chunk.count)
            guard n > 0 else { return }
            buffer += chunk[0..<n]
            if headerEnd == nil, let end = Self.find([13, 10, 13, 10], in: buffer) {
                headerEnd = end + 4
                let lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n").dropFirst()
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[String(line[..<colon]).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                contentLength = Int(headers["content-length"] ?? "0") ?? 0
            }
            if let headerEnd, buffer.count >= headerEnd + contentLength { break }
        }
        let answer = status.load(ordering: .relaxed)
        requests.withLock { $0.append(Request(headers: headers, body: Array(buffer[headerEnd!..<(headerEnd! + contentLength)]), status: answer)) }
        let response = Array("HTTP/1.1 \(answer) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for k in 0...(haystack.count - needle.count) where haystack[k..<(k + needle.count)].elementsEqual(needle) { return k }
        return nil
    }
}

/// Webhooks of a cluster (docs/cluster.md "Webhooks in a cluster") with real processes: three
/// nodes, a subscription configured on a standby only (the group's through PostgreSQL), a
/// receiver that fails at first, `kill -9` of the leader with deliveries pending: the successor
/// delivers every one; none lost, a repeat only with the same delivery id.
@Suite(.serialized) struct ClusterWebhookTests {
    @Test(.enabled(if: ClusterTests.enabled), .timeLimit(.minutes(2))) func successorDeliversPendingWebhooks() async throws {
        let url = try #require(ClusterTests.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let group = ClusterTests.Group(url: url)
        defer { group.stopAll() }
        let retry = ["SOLVENT_WEBHOOK_RETRY": #"{"base_ms":100,"max_ms":300,"max_attempts":1000,"timeout_ms":2000}"#]
        let subscription = #"[{"name":"desk","url":"http://127.0.0.1:\#(receiver.port)/hook","secret":"desk-secret-0123456789","events":["deposited"]}]"#
        let a = try group.start("a", environment: retry)
        let apiKey = try #require(a.operatorKey)
        #expect(await ClusterTests.wait(a, seconds: 10) { $0["role"] == .string("leader") } != nil)
        let b = try group.start("b", environment: retry)
        let c = try group.start("c", environment: retry.merging(["SOLVENT_WEBHOOKS": subscription]) { _, new in new })
        for standby in [b, c] {
            #expect(await ClusterTests.wait(standby, seconds: 10) { $0["leader_id"] == .string("a") } != nil)
        }
        let writes = 20
        for n in 0..<writes {
            _ = try #require(await ClusterTests.write(key: "h-\(n)", account: "h\(n % 5)", apiKey: apiKey, ports: [a.port], seconds: 5))
        }
        // The leader delivers to the subscription c configured; the receiver refuses: all pending, seen from a standby.
        let pending = await Self.waitWebhooks(b, apiKey: apiKey, seconds: 20) { document in
            document["deliveries"]?["pending"] == .number(String(writes))
        }
        guard case .array(let listed)? = pending?["subscriptions"] else {
            Issue.record("no subscriptions in the standby's /v1/webhooks")
            return
        }
        #expect(listed.map { $0["name"] } == [.string("desk")], "a standby lists the group's subscription")
        // Attempts run after the enqueue: wait until the receiver refused one of each.
        let attempted = Date().addingTimeInterval(10)
        while Set(receiver.requests.withLock { $0.map { $0.headers["solvent-event-id"] ?? "" } }).count < writes, Date() < attempted {
            try await Task.sleep(for: .milliseconds(50))
        }
        let refused = receiver.requests.withLock { $0.count }
        #expect(refused >= writes, "the receiver refused \(refused) attempts before the kill")

        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        receiver.status.store(204, ordering: .relaxed)

        let survivors = [b, c]
        var leader: ClusterTests.Node? = nil
        for node in survivors where await ClusterTests.wait(node, seconds: 10, until: { $0["role"] == .string("leader") }) != nil {
            leader = node
            break
        }
        let successor = try #require(leader, "a standby took over")
        let delivered = await Self.waitWebhooks(successor, apiKey: apiKey, seconds: 20) { document in
            document["deliveries"]?["delivered"] == .number(String(writes))
        }
        #expect(delivered?["deliveries"]?["pending"] == .number("0"), "no delivery left pending")

        // Every deposit's event reached the receiver with a 2xx; every repeat carries the same delivery id.
        let requests = receiver.requests.withLock { $0 }
        var deliveryOfEvent: [String: Set<String>] = [:]
        for request in requests {
            deliveryOfEvent[request.headers["solvent-event-id"] ?? "", default: []].insert(request.headers["solvent-delivery-id"] ?? "")
        }
        let accepted = Set(requests.filter { $0.status == 204 }.compactMap { $0.headers["solvent-event-id"] })
        #expect(deliveryOfEvent.count == writes, "one event id per deposit")
        #expect(accepted.count == writes, "every deposit's webhook was accepted after the takeover")
        #expect(deliveryOfEvent.values.allSatisfy { $0.count == 1 }, "duplicates only with the same delivery id")
        let bodies = requests.filter { $0.status == 204 }.compactMap { try? JSONParser.parse($0.body)["event"]?["type"] }
        #expect(bodies.count >= writes && bodies.allSatisfy { $0 == .string("deposited") })
    }

    /// `GET /v1/webhooks` of `node` until `condition` holds, up to `seconds`.
    static func waitWebhooks(_ node: ClusterTests.Node, apiKey: String, seconds: Double, until condition: (JSONValue) -> Bool) async -> JSONValue? {
        let deadline = Date().addingTimeInterval(seconds)
        var last: JSONValue? = nil
        while Date() < deadline {
            var request = URLRequest(url: URL(string: node.base + "/v1/webhooks")!)
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
            if let (data, response) = try? await ClusterTests.session.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200,
               let document = try? JSONParser.parse(Array(data)) {
                last = document
                if condition(document) { return document }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("webhooks of node \(node.id) after \(seconds) s: \(last.map { "\($0)" } ?? "no answer")")
        return nil
    }
}
