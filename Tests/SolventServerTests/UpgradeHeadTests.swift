import Foundation
import Hummingbird
import HummingbirdTesting
import SolventCore
@testable import SolventServer
import Testing

/// A malformed WebSocket upgrade gets a status and the JSON error body (attack 14): 400 without
/// `Sec-WebSocket-Key`, 426 with `Sec-WebSocket-Version: 13` for another version; before, NIO's
/// upgrader closed the connection without a word.
@Suite struct UpgradeHeadTests {
    static func upgrade(port: Int, headers: String, key: String?) -> String {
        "GET /v1/stream?channels=events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + headers
            + (key.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n"
    }

    @Test func malformedUpgradesAreAnswered() async throws {
        let f = try await Fixture()
        try await f.app.test(.live) { client in
            let port = try #require(client.port)
            let validKey = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            let cases: [(headers: String, key: String?, status: Int, field: String)] = [
                ("Sec-WebSocket-Version: 13\r\n", f.operatorKey, 400, "Sec-WebSocket-Key"),
                ("Sec-WebSocket-Version: 13\r\n", nil, 400, "Sec-WebSocket-Key"),
                ("Sec-WebSocket-Version: 8\r\n" + validKey, f.operatorKey, 426, "Sec-WebSocket-Version"),
                (validKey, f.operatorKey, 426, "Sec-WebSocket-Version"),
            ]
            for c in cases {
                let connection = try await RawConnection.open(port: port)
                connection.send(Self.upgrade(port: port, headers: c.headers, key: c.key))
                let (text, closed) = await connection.read(seconds: 5)
                #expect(text.hasPrefix("HTTP/1.1 \(c.status) "), "\(c.headers): \(text.prefix(80))")
                #expect(text.lowercased().contains("content-type: application/json"))
                #expect(RawConnection.body(text)?["error"]?["field"] == .string(c.field), "\(text)")
                if c.status == 426 { #expect(text.lowercased().contains("sec-websocket-version: 13\r\n")) }
                #expect(closed)
            }
            // The control: a valid upgrade without an API key is still a 401, and with one a 101.
            let anonymous = try await RawConnection.open(port: port)
            anonymous.send(Self.upgrade(port: port, headers: "Sec-WebSocket-Version: 13\r\n" + validKey, key: nil))
            #expect(await anonymous.read(seconds: 5).text.hasPrefix("HTTP/1.1 401 "))
            let ok = try await RawConnection.open(port: port)
            ok.send(Self.upgrade(port: port, headers: "Sec-WebSocket-Version: 13\r\n" + validKey, key: f.operatorKey))
            #expect(await ok.read(seconds: 0.5).text.hasPrefix("HTTP/1.1 101"))
            // The same connection serves ordinary requests after a refusal check: a plain GET passes through.
            #expect(try await RawConnection.healthz(port: port).hasPrefix("HTTP/1.1 200"))
        }
    }

    /// The checker's decision alone: only a WebSocket upgrade is inspected.
    @Test func refusalRules() {
        func refusal(_ headers: [String: String]) -> Int? {
            UpgradeHeadChecker.refusal { name in headers.first { $0.key.lowercased() == name }.map { [$0.value] } ?? [] }.map { Int($0.0.status.code) }
        }
        let upgrade = ["Connection": "keep-alive, Upgrade", "Upgrade": "websocket"]
        let key = ["Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="]
        #expect(refusal(upgrade) == 400)
        #expect(refusal(upgrade.merging(key) { a, _ in a }) == 426)
        #expect(refusal(upgrade.merging(key) { a, _ in a }.merging(["Sec-WebSocket-Version": "7"]) { a, _ in a }) == 426)
        #expect(refusal(upgrade.merging(key) { a, _ in a }.merging(["Sec-WebSocket-Version": "13"]) { a, _ in a }) == nil)
        #expect(refusal(["Host": "x"]) == nil)
        #expect(refusal(["Upgrade": "websocket"]) == nil, "no Connection: Upgrade, not an upgrade")
    }
}
