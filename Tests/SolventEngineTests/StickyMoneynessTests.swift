import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// `vol_surface` with `"sticky": "moneyness"` (VolSurfaceSticky.swift, VolatilitySlice+Moneyness.swift,
/// docs/options.md "Volatility surface"): the slice's strikes are read as moneyness ln(K_j/F₀) at
/// the forward F₀ recorded when it was fed; after a move to F an option of strike K gets the vol
/// at ln(K/F), i.e. the slice's vol at K·F₀/F. Also options whose underlying is an asset price,
/// which follow `asset_price` (Engine+SurfaceFollow.swift).
@Suite struct StickyMoneynessTests {
    static let t1 = VolSurfaceTests.t1

    static func slice(_ sticky: VolSurfaceSticky, at time: Int64 = t1, underlying: String = "BTCUSDT") -> TimedCommand {
        at(time, .volSurface(underlying: underlying, expiry: OptionBook.expiryTime, strikes: [dec("45000"), dec("55000"), dec("65000")],
                             vols: [dec("0.70"), dec("0.60"), dec("0.65")], sourceTime: time, sticky: sticky))
    }

    static func close(_ value: FixedDecimal?, _ expected: Double, _ tolerance: Double) -> Bool {
        guard let value else { return false }
        return abs(DoubleBoundary.double(value) - expected) <= tolerance
    }

    /// The slice read in moneyness, by hand: points (100, 0.3), (200, 0.5) fed at F₀ = 100. At
    /// F = 100 it is the strike reading; at F = 200 the strike 300 reads the slice at 150 —
    /// σ² = (0.09 + 0.25)/2 = 0.17 — and the strike 100 reads it at 50 (flat 0.3); at F = 50 the
    /// strike 100 reads it at 200 (0.5).
    @Test func sliceReadInMoneyness() {
        let slice = VolatilitySlice(strikes: [dec("100"), dec("200")], vols: [dec("0.3"), dec("0.5")])
        var checked = 0
        for strike in ["50", "100", "150", "200", "1000"] {
            #expect(slice.vol(at: dec(strike), forward: dec("100"), referenceForward: dec("100")) == slice.vol(at: dec(strike)))
            checked += 1
        }
        #expect(abs(slice.vol(at: dec("300"), forward: dec("200"), referenceForward: dec("100")) - 0.17.squareRoot()) < 1e-15)
        #expect(slice.vol(at: dec("100"), forward: dec("200"), referenceForward: dec("100")) == 0.3)
        #expect(slice.vol(at: dec("100"), forward: dec("50"), referenceForward: dec("100")) == 0.5)
        #expect(checked == 5)
    }

    /// Hand-computed (Python 3 with scipy 1.17.1, scipy.stats.norm.cdf; /tmp script in the commit
    /// message's spirit: Black-76 rate 0, T = (30 days − 1 minute)/365 days = 0.08218987823439879):
    /// the standard slice (45,000/0.70, 55,000/0.60, 65,000/0.65) fed at F₀ = 50,000, then BTCUSDT
    /// moves. Sticky strike keeps σ(60,000) = √0.39125 and σ(40,000) = 0.70. Sticky moneyness:
    /// - F = 55,000: the call reads 60,000·50,000/55,000 = 54,545.45…: σ² = 0.49 − 0.13·0.954545… =
    ///   0.365909…, σ = 0.6049041997780235, call = 1961.3623968732973 (strike: 2080.705468227825);
    ///   the put reads 36,363.6… < 45,000: 0.70, put = 224.8054374340959 in both modes;
    /// - F = 40,000: the call reads 75,000 > 65,000: 0.65, call = 47.60760685815558 (strike:
    ///   35.909900802705465); the put reads 50,000: σ² = 0.425, σ = 0.6519202405202649,
    ///   put = 2978.118445705957 (strike: 3197.046770370667).
    @Test func remarkAfterMovesInBothModes() throws {
        let cases: [(VolSurfaceSticky, String, Double, Double, Double, Double)] = [
            (.strike, "55000", 0.39125.squareRoot(), 2080.705468227825, 0.7, 224.8054374340959),
            (.moneyness, "55000", 0.6049041997780235, 1961.3623968732973, 0.7, 224.8054374340959),
            (.strike, "40000", 0.39125.squareRoot(), 35.909900802705465, 0.7, 3197.046770370667),
            (.moneyness, "40000", 0.65, 47.60760685815558, 0.6519202405202649, 2978.118445705957),
        ]
        var checked = 0
        for (sticky, forward, callVol, callPrice, putVol, putPrice) in cases {
            var engine = try OptionBook.engine()
            let fed = engine.apply(Self.slice(sticky))
            #expect(!fed.contains { $0.kind == .rejected }, "\(fed.map(\.json))")
            #expect(engine.state.optionMarks?.surfaces?.first?.sticky == sticky)
            #expect(engine.state.optionMarks?.surfaces?.first?.referenceForward == (sticky == .moneyness ? dec("50000") : nil))
            let t = Self.t1 + 1_000
            let events = engine.apply(at(t, .markPrice(symbol: "BTCUSDT", price: dec(forward), sourceTime: t)))
            #expect(events.filter { $0.kind == .optionMarkComputed }.count == 2, "\(events.map(\.json))")
            let s = engine.state
            let call = s.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
            let put = s.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
            #expect(Self.close(s.optionMarks?.impliedVols[call], callVol, 1e-15), "\(sticky) \(forward)")
            #expect(Self.close(s.optionMarks?.impliedVols[put], putVol, 1e-15), "\(sticky) \(forward)")
            #expect(Self.close(s.market.marks[call], callPrice, 1e-7), "\(sticky) \(forward): \(s.market.marks[call]!)")
            #expect(Self.close(s.market.marks[put], putPrice, 1e-7), "\(sticky) \(forward): \(s.market.marks[put]!)")
            #expect(engine.invariantViolation() == nil)
            checked += 1
        }
        #expect(checked == 4)
    }

    /// When fed, a moneyness slice prices exactly as a strike slice (F = F₀); the recorded F₀
    /// enters the state hash, survives Codable (the snapshot) and restore, and the command
    /// round-trips through the canonical encoding (which names `sticky` only for moneyness) and
    /// the scenario decoder.
    @Test func feedStateHashSnapshotRestoreAndEncoding() throws {
        var strike = try OptionBook.engine(), moneyness = try OptionBook.engine()
        let a = strike.apply(Self.slice(.strike)), b = moneyness.apply(Self.slice(.moneyness))
        #expect(a.map(\.json) == b.map(\.json))
        #expect(strike.state.market.marks == moneyness.state.market.marks)
        #expect(strike.stateHash() != moneyness.stateHash())
        let decoded = try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(moneyness.state))
        var restored = Engine(restoring: decoded)
        #expect(restored.stateHash() == moneyness.stateHash())
        #expect(restored.state.optionMarks?.surfaces == moneyness.state.optionMarks?.surfaces)
        let move = at(Self.t1 + 1_000, .markPrice(symbol: "BTCUSDT", price: dec("52000"), sourceTime: Self.t1 + 1_000))
        #expect(restored.apply(move).map(\.json) == moneyness.apply(move).map(\.json))
        #expect(restored.stateHash() == moneyness.stateHash())
        var checked = 0
        for sticky in VolSurfaceSticky.allCases {
            let command = Self.slice(sticky)
            let text = String(decoding: command.canonicalJSON, as: UTF8.self)
            #expect(text.contains("\"sticky\":\"moneyness\"") == (sticky == .moneyness), "\(text)")
            let back = try SolventEngine.Scenario.decodeCommand(JSONReader(JSONParser.parse(command.canonicalJSON), path: "c"), assetIndex: [:], defaultTime: 0)
            #expect(back.command == command.command && back.time == command.time)
            checked += 1
        }
        #expect(checked == 2)
        let bad = #"{"time": 1, "type": "vol_surface", "underlying": "BTCUSDT", "expiry": 2, "strikes": ["1"], "vols": ["0.5"], "sticky": "delta"}"#
        #expect(throws: InputError.self) {
            _ = try SolventEngine.Scenario.decodeCommand(JSONReader(JSONParser.parse([UInt8](bad.utf8)), path: "c"), assetIndex: [:], defaultTime: 0)
        }
    }

    /// Replay of a path with moneyness and strike slices gives the same events and state hash.
    @Test func replayIsEqual() throws {
        var commands = [Self.slice(.moneyness)]
        var t = Self.t1
        for (n, price) in ["51000", "47000", "58000", "44000", "50500"].enumerated() {
            t += 60_000
            commands.append(at(t, .markPrice(symbol: "BTCUSDT", price: dec(price), sourceTime: t)))
            if n == 2 { commands.append(Self.slice(.strike, at: t)) }
            if n == 3 { commands.append(Self.slice(.moneyness, at: t)) }
        }
        var first = try OptionBook.engine(), second = try OptionBook.engine()
        let a = commands.flatMap { first.apply($0).map(\.json) }, b = commands.flatMap { second.apply($0).map(\.json) }
        #expect(a == b && first.stateHash() == second.stateHash())
        #expect(a.filter { $0.contains("option_mark_computed") }.count == 2 * (1 + 5 + 2))
        #expect(first.invariantViolation() == nil)
    }

    /// Options on an asset price (underlying "BTC", no instrument of that name: the forward is
    /// BTC's price over the settle asset's) follow `asset_price`, as options on an instrument
    /// follow `mark`: BTC 50,000 → 55,000 gives the hand-computed sticky-strike marks of
    /// SurfaceFollowTests (call 2080.705468227825, put 224.8054374340959), and a settle-asset
    /// price move re-marks too (USDT 1 → 1.1: forward 50,000, the call at √0.39125 again,
    /// 790.5630221917636 — VolSurfaceTests). A moneyness slice needs one forward for its options:
    /// options in two settle assets with different forwards refuse it (`invalid_input`, `sticky`).
    @Test func assetPriceUnderlyingsFollowAssetPrice() throws {
        var engine = try Self.assetBook()
        var events = engine.apply(Self.slice(.strike, underlying: "BTC"))
        #expect(events.filter { $0.kind == .optionMarkComputed }.count == 2, "\(events.map(\.json))")
        events = engine.apply(at(Self.t1 + 1_000, .assetPrice(asset: "BTC", price: dec("55000"))))
        #expect(events.filter { $0.kind == .optionMarkComputed }.count == 2, "\(events.map(\.json))")
        let call = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
        let put = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
        #expect(Self.close(engine.state.market.marks[call], 2080.705468227825, 1e-7))
        #expect(Self.close(engine.state.market.marks[put], 224.8054374340959, 1e-7))
        events = engine.apply(at(Self.t1 + 2_000, .assetPrice(asset: "USDT", price: dec("1.1"))))
        #expect(Self.close(engine.state.market.marks[call], 790.5630221917636, 1e-7), "\(events.map(\.json))")
        #expect(engine.invariantViolation() == nil)
        // An unrelated asset's price re-marks nothing.
        events = engine.apply(at(Self.t1 + 3_000, .assetPrice(asset: "USDC", price: dec("0.9"))))
        #expect(!events.contains { $0.kind == .optionMarkComputed })

        var mixed = try Self.assetBook(secondSettle: true)
        let refused = mixed.apply(Self.slice(.moneyness, underlying: "BTC"))
        let rejected = refused.first { $0.kind == .rejected }
        #expect(rejected?["field"] == .text("sticky") && rejected?["code"] == .integer(1001), "\(refused.map(\.json))")
        #expect(mixed.state.optionMarks?.surfaces == nil)
        #expect(!mixed.apply(Self.slice(.strike, underlying: "BTC")).contains { $0.kind == .rejected })
    }

    /// OptionBook's options with the asset BTC as their underlying (and, with `secondSettle`, a
    /// USDC-settled call on it with the same expiry, USDC at 0.5: its forward is 100,000).
    static func assetBook(secondSettle: Bool = false) throws -> Engine {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let extra = secondSettle ? #", {"symbol": "BTC-90000-C-USDC", "kind": "option", "right": "call", "strike": "90000", "expiry": "\#(OptionBook.expiry)", "underlying": "BTC", "base": "BTC", "settle": "USDC", "contract_size": "1", "brackets": \#(brackets)}"# : ""
        let text = """
        {"start": {"time": "\(OptionBook.start)", "valuation_time": "\(OptionBook.start)",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000", "USDC": "\(secondSettle ? "0.5" : "1")"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTC-60000-C", "kind": "option", "right": "call", "strike": "60000", "expiry": "\(OptionBook.expiry)", "underlying": "BTC",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-40000-P", "kind": "option", "right": "put", "strike": "40000", "expiry": "\(OptionBook.expiry)", "underlying": "BTC",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}\(extra)],
          "marks": {"BTC-60000-C": "1000", "BTC-40000-P": "500"},
          "implied_vols": {"BTC-60000-C": "0.60", "BTC-40000-P": "0.70"},
          "accounts": [{"id": "s", "settle": "USDT", "collateral": {"USDT": "100000"}, "positions": []}]},
         "parameters": {"backstop": true, "adl": false},
         "insurance_fund": {"USDT": "100000"},
         "commands": []}
        """
        return try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](text.utf8))).makeEngine()
    }
}
