import Foundation
import SolventCore
import SolventJournal
import SolventServer
import Testing

@Suite struct RiskSummaryTests {
    /// One long of 0.1 BTC at 60,000 with 1,000 USDT (MMR 0.5 %): the liquidation price solves
    /// 1000 + 0.1 (P − 60000) = 0.0005 P, P = 5000 / 0.0995 = 50,251.2562…; after a mark of
    /// 61,000 one hour later, σ(1 day) = |ln(61000/60000)| · √24 = 0.080977 (EWMA's first
    /// sample), the distance is (61000 − P) / 61000 = 17.62 % and ln(61000 / P) / σ = 2.39 σ.
    /// Values from Python (fractions, math).
    @Test func handComputedDistances() async throws {
        let f = try await Fixture()
        for (k, text) in [#"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}"#,
                          #"{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"0.1","price":"60000","fee":"0"}"#,
                          #"{"time":"2024-01-01T01:00:00Z","type":"mark","symbol":"BTCUSDT","price":"61000"}"#].enumerated() {
            _ = try await f.engine.submit(try JSONParser.parse(Array(text.utf8)), key: "c\(k)")
        }
        let summary = try JSONParser.parse(Array(await f.engine.riskSummary(includeHistory: true).json.utf8))
        #expect(summary["volatility"]?["BTCUSDT"] == .string("0.080977"))
        let row = summary["closest"]?[0]
        #expect(row?["account"] == .string("alice"))
        #expect(row?["side"] == .string("long"))
        #expect(row?["liquidation_price"] == .string("50251.26"))
        #expect(row?["distance_pct"] == .string("17.62"))
        #expect(row?["distance_sigma"] == .string("2.39"))
        // equity 1000 + 0.1 × 1000 = 1100; MM 0.005 × 6100 = 30.5; ratio 30.5 / 1100 = 0.0277…
        #expect(row?["equity"] == .string("1100"))
        #expect(row?["maintenance_margin"] == .string("30.5"))
        #expect(row?["margin_ratio"] == .string("0.0277"))
        #expect(summary["by_status"]?["healthy"] == .number("1"))
        #expect(summary["time_iso"] == .string("2024-01-01T01:00:00Z"))
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }
}

@Suite struct EventStoreReadTests {
    /// The events endpoint reads the durable event store: every event from the first, paged
    /// by sequence, filtered by account and kind.
    @Test func everyEventPagedAndFiltered() async throws {
        let journaled = try JournaledEngine.create(scenario: try JSONParser.parse(genesis), journal: MemoryJournal())
        let engine = EngineService(journaled: journaled, clock: TestClock().clock)
        _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"a","asset":"USDT","amount":"1"}"#), key: "k0")  // seq 1, 2
        for k in 1...9 {
            _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"a","asset":"USDT","amount":"1"}"#), key: "k\(k)")  // seq 3…11
        }
        let all = try await engine.events(EventQuery(after: 0, limit: 100))
        #expect(all.oldest == 1)
        #expect(all.events.map(\.sequence) == Array(1...11))
        let page = try await engine.events(EventQuery(after: 8, limit: 2))
        #expect(page.events.map(\.sequence) == [9, 10])
        #expect(try await engine.events(EventQuery(after: 11, limit: 10)).events.isEmpty)
        #expect(try await engine.events(EventQuery(account: "b", limit: 10)).events.isEmpty)
        #expect(try await engine.events(EventQuery(kind: "account_opened", limit: 10)).events.map(\.sequence) == [1])
    }
}
