import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SolventCore
import SolventServer
import Testing

/// A plain TCP client for what an HTTP client library will not send (garbage, slow bytes,
/// oversized headers, a silent connection).
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// `count` connections, opened on a thread of their own (a blocking connect on the
    /// cooperative pool could starve the server's accept loop, which runs there).
    static func open(port: Int, count: Int) async throws -> [RawConnection] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do { continuation.resume(returning: try (0..<count).map { _ in try RawConnection(port: port) }) } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    static func open(port: Int) async throws -> RawConnection { try await open(port: port, count: 1)[0] }

    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// What the server sent until it closed the connection (`closed`), or until `seconds` passed.
    /// The blocking reads run on a thread of their own: blocking the (two-thread) cooperative
    /// pool would stall the server under test, whose handlers run there too.
    func read(seconds: Double) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.readBlocking(seconds: seconds)) }
            thread.start()
        }
    }

    private func readBlocking(seconds: Double) -> (text: String, closed: Bool) {
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { out.append(contentsOf: buffer[0..<n]); continue }
            if n == 0 { return (String(decoding: out, as: UTF8.self), true) }
            if errno == EAGAIN || errno == EINTR { continue }
            return (String(decoding: out, as: UTF8.self), true)  // reset
        }
        return (String(decoding: out, as: UTF8.self), false)
    }

    /// `GET /healthz` on a connection of its own: the status line.
    static func healthz(port: Int) async throws -> String {
        let connection = try await RawConnection.open(port: port)
        connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return await connection.read(seconds: 3).text.components(separatedBy: "\r\n").first ?? ""
    }

    /// The JSON body of an HTTP response text.
    static func body(_ text: String) -> JSONValue? {
        guard let range = text.range(of: "\r\n\r\n") else { return nil }
        return try? JSONParser.parse(Array(text[range.upperBound...].utf8))
    }

    deinit { close(fd) }
}

func upgradeRequest(_ path: String, port: Int, authorization: String? = nil) -> String {
    "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + (authorization.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n"
}

@Suite struct RefusalTests {
    /// A refused WebSocket upgrade answers the documented status with a JSON body (not an empty 400).
    @Test func webSocketRefusalsAreJSON() async throws {
        let f = try await Fixture()
        try await f.app.test(.live) { client in
            let port = try #require(client.port)
            let cases: [(String, String?, Int, String)] = [
                ("/v1/stream?channels=events", nil, 401, "Authorization"),
                ("/v1/stream?channels=events", "slv_unknown", 401, "Authorization"),
                ("/v1/stream?channels=events&account=bob", f.aliceKey, 403, "account"),
                ("/v1/stream?channels=risk", f.aliceKey, 403, "channels"),
                ("/v1/stream?channels=events&account=caf%C3%A9", f.operatorKey, 400, "account"),
            ]
            for (path, key, status, field) in cases {
                let connection = try await RawConnection.open(port: port)
                connection.send(upgradeRequest(path, port: port, authorization: key))
                let (text, closed) = await connection.read(seconds: 5)
                #expect(text.hasPrefix("HTTP/1.1 \(status) "), "\(path): \(text.prefix(80))")
                #expect(text.lowercased().contains("content-type: application/json"))
                #expect(RawConnection.body(text)?["error"]?["field"] == .string(field), "\(path): \(text)")
                #expect(closed)
            }
            // A permitted upgrade still works (101).
            let ok = try await RawConnection.open(port: port)
            ok.send(upgradeRequest("/v1/stream?channels=events", port: port, authorization: f.aliceKey))
            let (text, _) = await ok.read(seconds: 0.5)
            #expect(text.hasPrefix("HTTP/1.1 101"), "\(text.prefix(80))")
        }
    }

    /// 405 (with Allow) where the path exists with another method; 404 where it does not.
    @Test func methodNotAllowed() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            let get = try await client.execute(uri: "/v1/commands", method: .get, headers: [.authorization: "Bearer \(f.operatorKey)"]) { $0 }
            #expect(get.status == .methodNotAllowed)
            #expect(get.headers[.allow] == "POST")
            #expect((try? JSONParser.parse(Array(get.body.readableBytesView)))?["error"]?["field"] == .string("method"))
            let delete = try await request(client, .delete, "/v1/accounts/alice", key: f.operatorKey)
            #expect(delete.status == .methodNotAllowed)
            let put = try await request(client, .put, "/v1/webhooks/deliveries/3/retry", key: f.operatorKey)
            #expect(put.status == .methodNotAllowed)
            #expect(try await request(client, .get, "/v1/nothing", key: f.operatorKey).status == .notFound)
        }
    }

    /// Every integer parameter is range-checked: a typed 400, never a trap (issue 14: the
    /// operator's retry of delivery Int64.min killed the process).
    @Test func integerParametersAreRangeChecked() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            for id in ["-9223372036854775808", "0", "-1", "9223372036854775808", "99999999999999999999999", "1e3", "%2D1"] {
                let r = try await request(client, .post, "/v1/webhooks/deliveries/\(id)/retry", key: f.operatorKey, idempotency: "r-\(id)")
                #expect(r.status == .badRequest, "\(id)")
                #expect(r.json?["error"]?["field"] == .string("id"))
            }
            for query in ["after=-1", "after=9223372036854775808", "limit=0", "limit=10001", "limit=-9223372036854775808", "after=x"] {
                let r = try await request(client, .get, "/v1/events?\(query)", key: f.operatorKey)
                #expect(r.status == .badRequest, "\(query)")
            }
            for query in ["after=-9223372036854775808", "limit=0", "limit=1001"] {
                #expect(try await request(client, .get, "/v1/webhooks/deliveries?\(query)", key: f.operatorKey).status == .badRequest, "\(query)")
            }
            #expect(try await request(client, .get, "/v1/webhooks/deliveries?after=9223372036854775807&limit=1", key: f.operatorKey).status == .ok)
            #expect(try await request(client, .get, "/healthz", key: nil).status == .ok, "still alive")
        }
    }

    /// Requests without a valid key are rate-limited per address too.
    @Test func unauthenticatedRequestsAreRateLimited() async throws {
        let f = try await Fixture(limiter: RateLimiter(perSecond: 0.001, burst: 3))
        try await f.app.test(.router) { client in
            for _ in 0..<3 { #expect(try await request(client, .get, "/v1/risk", key: "slv_guess").status == .unauthorized) }
            let limited = try await client.execute(uri: "/v1/risk", method: .get, headers: [.authorization: "Bearer slv_guess"]) { $0 }
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(try await request(client, .get, "/healthz", key: nil).status == .tooManyRequests)
            // A valid key has its own bucket.
            #expect(try await request(client, .get, "/v1/risk", key: f.operatorKey).status == .ok)
        }
    }
}

@Suite struct RateLimiterPruningTests {
    /// One bucket per address must not grow without bound: refilled buckets are dropped.
    @Test func refilledBucketsAreDropped() async {
        let limiter = RateLimiter(perSecond: 1000, burst: 2)
        let start = ContinuousClock.now
        for k in 0..<50_000 { _ = await limiter.take("ip:10.0.\(k)", now: start) }
        #expect(await limiter.bucketCount == 50_000)
        #expect(await limiter.take("ip:new", now: start + .seconds(1)) == nil)
        #expect(await limiter.bucketCount == 1)
    }
}

@Suite struct AccountIDTests {
    @Test func pattern() {
        #expect(AccountID.isValid("alice") && AccountID.isValid("t-1_2.3:x") && AccountID.isValid(String(repeating: "a", count: 128)))
        #expect(!AccountID.isValid("") && !AccountID.isValid(String(repeating: "a", count: 129)))
        #expect(!AccountID.isValid("caf\u{e9}") && !AccountID.isValid("cafe\u{301}") && !AccountID.isValid("a b") && !AccountID.isValid("a/b"))
        #expect(AccountID.problem("a\u{0}b")?.contains("0x00") == true)
    }

    /// Issue 14: "cafe\u0301" credited the existing account "caf\u00e9" (canonical equivalence).
    /// Both are refused now, in bodies, paths (after percent-decoding) and queries.
    @Test func oneSpellingPerAccount() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            for (k, id) in ["caf\\u00e9", "cafe\\u0301", "a b", "", String(repeating: "x", count: 129)].enumerated() {
                let r = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                          body: #"{"type":"deposit","account":"\#(id)","asset":"USDT","amount":"1"}"#, idempotency: "id\(k)")
                #expect(r.status == .badRequest, "\(id)")
                #expect(r.json?["error"]?["field"] == .string("account"))
            }
            let check = try await request(client, .post, "/v1/orders/check", key: f.operatorKey,
                                          body: #"{"account":"cafe\u0301","symbol":"BTCUSDT","quantity":"1","price":"60000"}"#)
            #expect(check.status == .badRequest)
            for path in ["/v1/accounts/caf%C3%A9", "/v1/accounts/cafe%CC%81", "/v1/accounts/a%20b", "/v1/reserves/proofs/caf%C3%A9", "/v1/accounts/a%2Fb"] {
                let r = try await request(client, .get, path, key: f.operatorKey)
                #expect(r.status == .badRequest, "\(path)")
                #expect(r.json?["error"]?["field"] == .string("id"))
            }
            #expect(try await request(client, .get, "/v1/events?account=caf%C3%A9", key: f.operatorKey).status == .badRequest)
            // Percent-decoded before the check: %61 is "a".
            _ = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                  body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1"}"#, idempotency: "ok")
            #expect(try await request(client, .get, "/v1/accounts/%61lice", key: f.aliceKey).status == .ok)
        }
    }
}

@Suite struct KeyLifecycleTests {
    /// A key revoked or removed by another process (`solvent keys revoke`, an edit of
    /// keys.json) stops working on the next request, without a restart; an expired key too.
    @Test func revokedRemovedAndExpiredKeysStopWorking() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.aliceKey).status == .notFound)  // works (no account yet)
            let cli = try APIKeyStore(directory: f.folder)
            let revoked = try await cli.revoke(id: APIKeyStore.id(ofKey: f.aliceKey))
            #expect(revoked?.revoked != nil)
            let refused = try await request(client, .get, "/v1/accounts/alice", key: f.aliceKey)
            #expect(refused.status == .unauthorized)
            #expect(refused.json?["error"]?["reason"] == .string("this API key was revoked"))
            #expect(await cli.list().first { $0.id == APIKeyStore.id(ofKey: f.aliceKey) }?.status(at: Date()) == "revoked")

            // Removed from the file by hand: unknown at once.
            let path = f.folder + "/keys.json"
            let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [[String: Any]]
            let kept = stored.filter { ($0["id"] as? String) != APIKeyStore.id(ofKey: f.fillKey) }
            try JSONSerialization.data(withJSONObject: kept).write(to: URL(fileURLWithPath: path + ".edit"))
            #expect(rename(path + ".edit", path) == 0)
            let removed = try await request(client, .get, "/v1/events", key: f.fillKey)
            #expect(removed.status == .unauthorized)
            #expect(removed.json?["error"]?["reason"] == .string("unknown API key"))
            #expect(try await request(client, .get, "/v1/risk", key: f.operatorKey).status == .ok, "the other keys still work")

            // Expiry.
            let short = try await cli.create(role: .account, account: "bob", expires: Date().addingTimeInterval(2))
            #expect(try await request(client, .get, "/v1/accounts/bob", key: short).status == .notFound)
            try await Task.sleep(for: .milliseconds(2100))
            let expired = try await request(client, .get, "/v1/accounts/bob", key: short)
            #expect(expired.status == .unauthorized)
            #expect(expired.json?["error"]?["reason"] == .string("this API key has expired"))
        }
    }

    /// keys.json written before creation, expiry and revocation times were recorded still loads.
    @Test func olderKeyFilesStillLoad() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = "slv_0123456789"
        let hash = APIKeyStore.hash(ofKey: text)
        try #"[{"account":null,"hash":"\#(hash)","id":"\#(hash.prefix(12))","role":"operator"}]"#.write(toFile: folder + "/keys.json", atomically: true, encoding: .utf8)
        let store = try APIKeyStore(directory: folder)
        #expect(await store.principal(for: text)?.role == .operator_)
        #expect(await store.list().count == 1)
    }
}

@Suite struct ConnectionTests {
    /// Silent and slow clients are cut (header timeout), an idle keep-alive connection is
    /// closed (idle timeout), oversized headers get 431, a garbage request line 400, a huge
    /// declared body 413 before it is read; the server answers /healthz throughout.
    @Test func slowSilentAndMalformedClientsAreCut() async throws {
        let f = try await Fixture(idleTimeout: .milliseconds(400), headerTimeout: .milliseconds(400))
        try await f.app.test(.live) { client in
            let port = try #require(client.port)
            // 300 silent connections (issue 14: they exhausted the file limit and stalled /healthz).
            let silent = try await RawConnection.open(port: port, count: 300)
            #expect(try await RawConnection.healthz(port: port) == "HTTP/1.1 200 OK")
            let started = Date()
            let firstClosed = await silent[0].read(seconds: 3).closed
            #expect(firstClosed, "a silent connection is closed")
            #expect(Date().timeIntervalSince(started) < 2.5)
            for connection in silent.suffix(10) { let closed = await connection.read(seconds: 1).closed; #expect(closed) }

            // Slowloris: a header line every 100 ms never completes the head.
            let slow = try await RawConnection.open(port: port)
            slow.send("GET /healthz HTTP/1.1\r\n")
            var cut = false
            for k in 0..<40 {
                if !slow.send("X-Slow-\(k): 1\r\n") { cut = true; break }
                if await slow.read(seconds: 0.1).closed { cut = true; break }
            }
            #expect(cut, "a dribbling client is cut")

            // Keep-alive idle after a response.
            let idle = try await RawConnection.open(port: port)
            idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let answered = await idle.read(seconds: 3)
            #expect(answered.text.hasPrefix("HTTP/1.1 200"))
            #expect(answered.closed, "idle keep-alive connection closed")

            // Oversized headers: 431 with a JSON body, then close.
            let big = try await RawConnection.open(port: port)
            big.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 40_000) + "\r\n\r\n")
            let bigAnswer = await big.read(seconds: 3)
            #expect(bigAnswer.text.hasPrefix("HTTP/1.1 431"), "\(bigAnswer.text.prefix(60))")
            #expect(RawConnection.body(bigAnswer.text)?["error"]?["field"] == .string("headers"))
            #expect(bigAnswer.closed)

            // A garbage request line: 400 and close.
            let garbage = try await RawConnection.open(port: port)
            garbage.send("HELLO THERE\r\n\r\n")
            let garbageAnswer = await garbage.read(seconds: 3)
            #expect(garbageAnswer.text.hasPrefix("HTTP/1.1 400"), "\(garbageAnswer.text.prefix(60))")
            #expect(garbageAnswer.closed)

            // A huge declared body: 413 before any of it is sent, then close.
            let huge = try await RawConnection.open(port: port)
            huge.send("POST /v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(f.operatorKey)\r\nIdempotency-Key: huge\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 999999999999\r\n\r\n{")
            let hugeAnswer = await huge.read(seconds: 3)
            #expect(hugeAnswer.text.hasPrefix("HTTP/1.1 413"), "\(hugeAnswer.text.prefix(60))")
            #expect(hugeAnswer.closed)

            #expect(try await RawConnection.healthz(port: port) == "HTTP/1.1 200 OK", "still alive")
        }
    }
}

