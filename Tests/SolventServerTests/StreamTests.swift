import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import SolventCore
import SolventEngine
import SolventServer
import Testing

/// Reads text messages of a WebSocket until `done` says enough (or `limit` messages).
func streamMessages(port: Int, path: String, limit: Int = 50, after start: @escaping @Sendable () async throws -> Void,
                    until done: @escaping @Sendable ([JSONValue]) -> Bool) async throws -> [JSONValue] {
    let collected = Collected()
    _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)\(path)", logger: Logger(label: "ws-test")) { inbound, _, _ in
        var started = false
        for try await message in inbound.messages(maxSize: 1 << 22) {
            guard case .text(let text) = message else { continue }
            let all = await collected.append(try JSONParser.parse(Array(text.utf8)))
            if !started { started = true; try await start() }
            if done(all) || all.count >= limit { return }
        }
    }
    return await collected.values
}

actor Collected {
    var values: [JSONValue] = []
    func append(_ value: JSONValue) -> [JSONValue] { values.append(value); return values }
}

func integer(_ value: JSONValue?) -> Int64? {
    if case .number(let n)? = value { return Int64(n) }
    return nil
}

@Suite struct StreamTests {
    /// An operator's stream: hello with the engine sequence, then every event gap-free with
    /// increasing stream_seq, prices after a mark, and a risk summary.
    @Test func operatorStream() async throws {
        let f = try await Fixture()
        try await f.app.test(.live) { client in
            let port = try #require(client.port)
            let engine = f.engine
            let messages = try await streamMessages(port: port, path: "/v1/stream?channels=events,prices,risk&access_token=\(f.operatorKey)", after: {
                _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}"#), key: "d1")
                _ = try await engine.submit(try JSONParser.parse(#"{"type":"mark","symbol":"BTCUSDT","price":"61000"}"#), key: "m1")
                await engine.publishRiskIfChanged()
            }, until: { all in all.contains { $0["type"] == .string("prices") } && all.filter { $0["type"] == .string("risk") }.count >= 2 })
            let hello = try #require(messages.first)
            #expect(hello["type"] == .string("hello"))
            #expect(hello["role"] == .string("operator"))
            let start = try #require(integer(hello["sequence"]))
            // The first risk summary comes at once, before any change.
            #expect(messages[1]["type"] == .string("risk"))
            let events = messages.filter { $0["type"] == .string("event") }
            #expect(!events.isEmpty)
            for (k, message) in events.enumerated() {
                #expect(integer(message["event"]?["seq"]) == start + Int64(k) + 1, "gap-free event sequence")
                #expect(integer(message["sequence"]) == integer(message["event"]?["seq"]))
            }
            #expect(events.contains { $0["event"]?["type"] == .string("deposited") })
            let streamSeqs = messages.dropFirst(2).compactMap { integer($0["stream_seq"]) }
            #expect(streamSeqs == Array(1...Int64(streamSeqs.count)), "stream_seq counts every message")
            let prices = try #require(messages.first { $0["type"] == .string("prices") })
            #expect(prices["marks"]?["BTCUSDT"] == .string("61000"))
            let risk = try #require(messages.last { $0["type"] == .string("risk") })
            #expect(integer(risk["accounts"]) == 1)
            #expect(risk["marks"]?["BTCUSDT"] == .string("61000"))
        }
    }

    /// An account key streams its own account's events only, and may not ask for another's or for risk.
    @Test func accountStreamIsScoped() async throws {
        let f = try await Fixture()
        try await f.app.test(.live) { client in
            let port = try #require(client.port)
            let engine = f.engine
            let messages = try await streamMessages(port: port, path: "/v1/stream?channels=events&access_token=\(f.aliceKey)", after: {
                _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"bob","asset":"USDT","amount":"5"}"#), key: "b1")
                _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"7"}"#), key: "a1")
            }, until: { all in all.contains { $0["event"]?["type"] == .string("deposited") } })
            #expect(messages.first?["account"] == .string("alice"))
            let accounts = messages.compactMap { $0["event"]?["account"] }
            #expect(!accounts.isEmpty)
            #expect(accounts.allSatisfy { $0 == .string("alice") })
        }
        try await f.app.test(.router) { client in
            let otherAccount = try await request(client, .get, "/v1/stream?account=bob&access_token=\(f.aliceKey)", key: nil).status
            let riskForAccount = try await request(client, .get, "/v1/stream?channels=risk", key: f.aliceKey).status
            let eventsForFeeder = try await request(client, .get, "/v1/stream?channels=events", key: f.priceKey).status
            let unknownChannel = try await request(client, .get, "/v1/stream?channels=gossip", key: f.operatorKey).status
            let unknownKey = try await request(client, .get, "/v1/stream", key: "nope").status
            #expect(otherAccount == .forbidden)
            #expect(riskForAccount == .forbidden)
            #expect(eventsForFeeder == .forbidden)
            #expect(unknownChannel == .badRequest)
            #expect(unknownKey == .unauthorized)
        }
    }

    /// A subscriber that never reads is cut off with a reason once its queue is full; the
    /// publisher never waits, and another subscriber still gets every message.
    @Test func slowConsumerIsCutOff() async throws {
        let hub = EventHub(queueLimit: 4)
        let slow = hub.subscribe(.init(account: nil, channels: [.prices]))
        let fast = hub.subscribe(.init(account: nil, channels: [.prices]))
        var received = 0
        var iterator = fast.messages.makeAsyncIterator()
        for k in 1...10 {
            hub.publish(channel: .prices, type: "prices", sequence: Int64(k), members: "\"time\":\(k)")
            if await iterator.next() != nil { received += 1 }
        }
        #expect(received == 10)
        #expect(hub.subscriberCount == 1)
        #expect(hub.droppedSubscribers == 1)
        let closing = try #require(hub.unsubscribe(slow.id))
        #expect(closing.reason == "slow consumer: 4 messages queued")
        #expect(closing.streamSeq == 5)
        // The slow subscriber's queue holds the first four, in order, then ends.
        var queued: [String] = []
        for await message in slow.messages { queued.append(message) }
        #expect(queued.count == 4)
        #expect(queued.first == #"{"type":"prices","stream_seq":1,"sequence":1,"time":1}"#)
    }
}
