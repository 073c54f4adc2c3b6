@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// Stale fed option marks (Engine+StaleOptionMarks.swift, docs/options.md "Stale option marks"):
/// once the underlying moves past `option_mark_tolerance` from the mark a fed option mark was
/// quoted at, the option is marked by Black-76 at its fed vol and the new underlying, inside the
/// same command, so margin and liquidation see the moved value.
///
/// Hand values: mpmath 1.3 at 40 digits, Black-76 with rate 0 (`F·N(d1) − K·N(d2)`,
/// `K·N(−d2) − F·N(−d1)`, `d1 = (ln(F/K) + σ²T/2)/(σ√T)`), T in 365-day years from the fed
/// mark's source time (no decay between inputs).
@Suite struct StaleOptionMarkTests {
    static let brackets = #"[{"notional_floor": "0", "notional_cap": "100000000", "max_leverage": "50", "mmr": "0.01"}]"#

    /// ORACLE2's `liquidation_scenario("plain")` (scripts/oracle/crosscheck_inverse_books.py): a
    /// BTC portfolio writer (1.2 BTC) sells 10 puts K = 55,000 at 0.015 and 5 calls K = 65,000 at
    /// 0.02 (BTC-PERPETUAL 60,000, vols 0.7 / 0.6, expiry 7 days after the start); the perpetual
    /// crashes to 42,000 one command before the fresh option marks arrive.
    static func oracleScenario(extraParameters: String = "") throws -> SolventEngine.Scenario {
        let text = """
        {"start": {"time": "2024-03-01T08:00:00Z", "valuation_time": "2024-03-01T08:00:00Z",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USD": "1", "BTC": "60000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTC-PERPETUAL", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC", "contract_size": "10", "brackets": \(brackets)},
            {"symbol": "BTC-8MAR24-55000-P", "kind": "inverse_option", "right": "put", "strike": "55000", "expiry": "2024-03-08T08:00:00Z",
             "underlying": "BTC-PERPETUAL", "base": "BTC", "settle": "BTC", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-8MAR24-65000-C", "kind": "inverse_option", "right": "call", "strike": "65000", "expiry": "2024-03-08T08:00:00Z",
             "underlying": "BTC-PERPETUAL", "base": "BTC", "settle": "BTC", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"BTC-PERPETUAL": "60000", "BTC-8MAR24-55000-P": "0.0150", "BTC-8MAR24-65000-C": "0.0200"},
          "implied_vols": {"BTC-8MAR24-55000-P": "0.7", "BTC-8MAR24-65000-C": "0.6"},
          "accounts": [{"id": "writer", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "1.2"}, "positions": []},
                       {"id": "buyer", "settle": "BTC", "collateral": {"BTC": "10"}, "positions": []}]},
         "parameters": {"backstop": true, "adl": false, "mark_staleness_ms": 86400000\(extraParameters)},
         "insurance_fund": {"BTC": "50"},
         "commands": [
          {"time": "2024-03-01T08:01:00Z", "type": "fill", "account": "writer", "symbol": "BTC-8MAR24-55000-P", "quantity": "-10", "price": "0.0150"},
          {"time": "2024-03-01T08:01:00Z", "type": "fill", "account": "buyer", "symbol": "BTC-8MAR24-55000-P", "quantity": "10", "price": "0.0150"},
          {"time": "2024-03-01T08:01:00Z", "type": "fill", "account": "writer", "symbol": "BTC-8MAR24-65000-C", "quantity": "-5", "price": "0.0200"},
          {"time": "2024-03-01T08:01:00Z", "type": "fill", "account": "buyer", "symbol": "BTC-8MAR24-65000-C", "quantity": "5", "price": "0.0200"},
          {"time": "2024-03-01T08:10:00Z", "type": "mark", "symbol": "BTC-PERPETUAL", "price": "42000"},
          {"time": "2024-03-01T08:10:00Z", "type": "option_mark", "symbol": "BTC-8MAR24-55000-P", "price": "0.33", "implied_vol": "1.2", "source_time": "2024-03-01T08:10:00Z"},
          {"time": "2024-03-01T08:10:00Z", "type": "option_mark", "symbol": "BTC-8MAR24-65000-C", "price": "0.0001", "implied_vol": "1.2", "source_time": "2024-03-01T08:10:00Z"},
          {"time": "2024-03-01T08:11:00Z", "type": "tick"}, {"time": "2024-03-01T08:12:00Z", "type": "tick"}]}
        """
        return try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](text.utf8)))
    }

    static func run(_ scenario: SolventEngine.Scenario, fullRescan: Bool = false) throws -> (Engine, [EngineEvent]) {
        var engine = try scenario.makeEngine(fullRescan: fullRescan)
        var events: [EngineEvent] = []
        for command in scenario.commands {
            events += engine.apply(command)
            #expect(engine.invariantViolation() == nil, "\(engine.invariantViolation() ?? "")")
        }
        return (engine, events)
    }

    static func value(_ event: EngineEvent, _ name: String) -> Double? {
        if case .decimal(let d) = event[name] { return DoubleBoundary.double(d) }
        return nil
    }

    /// The oracle's scenario: the crash makes both fed marks stale (|42,000 − 60,000| > 1 % of
    /// 60,000). The put is re-marked to Black76(42,000, 55,000, 0.7, 7/365)/42,000 =
    /// 13,003.76546732071964/42,000 = 0.30961346350763618197 BTC, the call to its model value
    /// 1.3577e-9 BTC, floored at the smallest price 1e-8. The writer's equity is then
    /// 1.2 + 10·0.015 + 5·0.02 − 10·0.3096134635076362 − 5·1e-8 = −1.6461346850763618 BTC:
    /// bankrupt at once, every short bought back at the moved value (not at 0.015, as before),
    /// the insurance fund paying the deficit.
    @Test func oracleCrashLiquidatesAtTheMovedValue() throws {
        let (engine, events) = try Self.run(Self.oracleScenario())
        let stale = events.filter { $0.kind == .optionMarkStale }
        #expect(stale.map { $0.text("symbol") } == ["BTC-8MAR24-55000-P", "BTC-8MAR24-65000-C"])
        #expect(stale.allSatisfy { $0["quoted_underlying_price"] == .decimal(dec("60000")) && $0["underlying_price"] == .decimal(dec("42000")) })
        #expect(stale.first?["mark_before"] == .decimal(dec("0.015")) && stale.first?["tolerance"] == .decimal(dec("0.01")))
        let computed = events.filter { $0.kind == .optionMarkComputed }
        #expect(computed.count == 2)
        let putMark = computed.first.flatMap { Self.value($0, "price") } ?? 0
        #expect(abs(putMark - 0.30961346350763618197) < 1e-12)
        #expect(computed.last?["price"] == .decimal(RangeContract.minPrice))
        let started = events.first { $0.kind == .liquidationStarted && $0.account == "writer" }
        #expect(started?.text("status") == "bankrupt")
        #expect(abs((started.flatMap { Self.value($0, "equity") } ?? 0) - -1.6461346850763618) < 1e-12)
        // Every liquidation fill of the puts at the moved value, none at the stale 0.015.
        let putFills = events.filter { $0.kind == .liquidationFill && $0.text("symbol") == "BTC-8MAR24-55000-P" }
        #expect(putFills.count == 1 && putFills.allSatisfy { abs((Self.value($0, "price") ?? 0) - 0.30961346350763618197) < 1e-12 })
        #expect(!events.contains { $0.kind == .liquidationFill && $0["price"] == .decimal(dec("0.015")) })
        let draw = events.first { $0.kind == .insuranceFundDraw }
        #expect(abs((draw.flatMap { Self.value($0, "amount") } ?? 0) - 1.6461346850763618) < 1e-12)
        #expect(account(engine, "writer").account.positions.isEmpty)
        #expect(conserved(engine))
        // The fresh option marks afterwards take the options back to fed marks.
        #expect(engine.state.optionMarks?.modelMarked == nil && engine.state.optionMarks?.quotedForwards == nil)
    }

    /// With a tolerance wider than the crash (0.5 > 30 %) the fed marks are trusted: the old
    /// behaviour, the puts bought back at 0.015 — what the oracle found.
    @Test func aWideToleranceKeepsTheFedMarks() throws {
        let (_, events) = try Self.run(Self.oracleScenario(extraParameters: #", "option_mark_tolerance": "0.5""#))
        #expect(!events.contains { $0.kind == .optionMarkStale || $0.kind == .optionMarkComputed })
        #expect(events.contains { $0.kind == .liquidationFill && $0["price"] == .decimal(dec("0.015")) })
    }

    /// Linear: a standard account short 2 puts K = 40,000 (OptionBook: fed mark 500 at vol 0.70
    /// quoted at BTCUSDT 50,000, expiry 30 days after the fed source time). A drift within the
    /// tolerance (50,400: 0.8 %) keeps the fed mark and records where it was quoted; a further
    /// move to 50,600 — 0.4 % from the last mark but 1.2 % from the quote — makes it stale:
    /// put 535.2053912466234803, call (K 60,000, vol 0.60) 802.06293820464113269. The crash to
    /// 40,000 re-marks the model-marked put to 3,197.083649846768459 and the standard rule's MM
    /// is 2·(max(0.075·40,000, 0.075·m) + m) = 12,394.16729969353692.
    @Test func cumulativeDriftThenCrashMarginsAtTheModel() throws {
        let fills = #"[{"time": "2024-03-01T08:00:01Z", "type": "fill", "account": "s", "symbol": "BTC-40000-P", "quantity": "-2", "price": "500"}]"#
        let scenario = try OptionBook.scenario(commands: fills)
        var engine = try scenario.makeEngine()
        for c in scenario.commands { _ = engine.apply(c) }
        let call = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
        let put = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
        let t0 = OptionBook.startTime + 10_000
        var events = engine.apply(at(t0, .markPrice(symbol: "BTCUSDT", price: dec("50400"), sourceTime: t0)))
        #expect(!events.contains { $0.kind == .optionMarkStale || $0.kind == .optionMarkComputed })
        #expect(engine.state.market.marks[put] == dec("500") && engine.state.market.marks[call] == dec("1000"))
        #expect(engine.state.optionMarks?.quotedForwards == [call: dec("50000"), put: dec("50000")])
        events = engine.apply(at(t0 + 1_000, .markPrice(symbol: "BTCUSDT", price: dec("50600"), sourceTime: t0 + 1_000)))
        #expect(events.filter { $0.kind == .optionMarkStale }.allSatisfy { $0["quoted_underlying_price"] == .decimal(dec("50000")) })
        #expect(events.filter { $0.kind == .optionMarkStale }.count == 2)
        #expect(abs(DoubleBoundary.double(engine.state.market.marks[put]!) - 535.2053912466234803) < 1e-8)
        #expect(abs(DoubleBoundary.double(engine.state.market.marks[call]!) - 802.06293820464113269) < 1e-8)
        #expect(engine.state.markSources[put]?.sourceTime == OptionBook.startTime)  // the fed mark's: its inputs are that old
        #expect(engine.state.optionMarks?.modelMarked == [call, put].sorted() && engine.state.optionMarks?.quotedForwards == nil)
        events = engine.apply(at(t0 + 2_000, .markPrice(symbol: "BTCUSDT", price: dec("40000"), sourceTime: t0 + 2_000)))
        #expect(events.filter { $0.kind == .optionMarkComputed }.count == 2 && !events.contains { $0.kind == .optionMarkStale })
        #expect(abs(DoubleBoundary.double(engine.state.market.marks[put]!) - 3197.083649846768459) < 1e-8)
        let mm = engine.evaluateAccount(account(engine, "s")).cross.maintenanceMargin
        #expect(abs(DoubleBoundary.double(mm) - 12394.16729969353692) < 1e-6)
        #expect(engine.invariantViolation() == nil)
        // A fresh fed mark ends the model marks of that option; within the tolerance it stays.
        _ = engine.apply(at(t0 + 3_000, .optionMark(symbol: "BTC-40000-P", price: dec("3300"), impliedVol: dec("0.75"), sourceTime: t0 + 3_000)))
        #expect(engine.state.optionMarks?.modelMarked == [call])
        events = engine.apply(at(t0 + 4_000, .markPrice(symbol: "BTCUSDT", price: dec("40100"), sourceTime: t0 + 4_000)))
        #expect(engine.state.market.marks[put] == dec("3300"))
        #expect(events.filter { $0.kind == .optionMarkComputed }.map { $0.text("symbol") } == ["BTC-60000-C"])
        #expect(engine.state.optionMarks?.quotedForwards == [put: dec("40000")])
        // Back at the quote: nothing left to remember.
        _ = engine.apply(at(t0 + 5_000, .markPrice(symbol: "BTCUSDT", price: dec("40000"), sourceTime: t0 + 5_000)))
        #expect(engine.state.optionMarks?.quotedForwards == nil)
        #expect(engine.invariantViolation() == nil)
    }

    /// The follow state is in the state hash, survives Codable and restore, and a restored
    /// engine goes on exactly as the original; the index finds what a full rescan finds.
    @Test func stateHashRestoreAndRescan() throws {
        let fills = #"[{"time": "2024-03-01T08:00:01Z", "type": "fill", "account": "s", "symbol": "BTC-40000-P", "quantity": "-2", "price": "500"},"# +
            #"{"time": "2024-03-01T08:00:01Z", "type": "fill", "account": "p", "symbol": "BTC-60000-C", "quantity": "-3", "price": "1000"}]"#
        let scenario = try OptionBook.scenario(collateral: "20000", commands: fills)
        var engine = try scenario.makeEngine()
        var rescan = try scenario.makeEngine(fullRescan: true)
        for c in scenario.commands { _ = engine.apply(c); _ = rescan.apply(c) }
        let before = engine.stateHash()
        let t0 = OptionBook.startTime + 10_000
        let drift = at(t0, .markPrice(symbol: "BTCUSDT", price: dec("50300"), sourceTime: t0))
        #expect(engine.apply(drift).map(\.json) == rescan.apply(drift).map(\.json))
        #expect(engine.state.optionMarks?.quotedForwards?.isEmpty == false)
        #expect(String(decoding: engine.canonicalState(), as: UTF8.self).contains("quoted_forwards"))
        var restored = Engine(restoring: try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(engine.state)))
        #expect(restored.stateHash() == engine.stateHash() && engine.stateHash() != before)
        var checked = 0
        for (k, price) in ["51000", "47000", "38000", "44000", "45000"].enumerated() {
            let move = at(t0 + Int64(k + 1) * 1_000, .markPrice(symbol: "BTCUSDT", price: dec(price), sourceTime: t0 + Int64(k + 1) * 1_000))
            let a = engine.apply(move).map(\.json)
            #expect(a == restored.apply(move).map(\.json))
            #expect(a == rescan.apply(move).map(\.json))
            #expect(engine.stateHash() == restored.stateHash() && engine.stateHash() == rescan.stateHash())
            #expect(engine.invariantViolation() == nil)
            checked += 1
        }
        #expect(checked == 5)
        #expect(String(decoding: engine.canonicalState(), as: UTF8.self).contains("model_marked"))
        let again = Engine(restoring: try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(engine.state)))
        #expect(again.stateHash() == engine.stateHash())
    }

    /// `option_mark_tolerance`: 0 re-marks on any move; an explicit value enters the state hash,
    /// the default (absent) does not name it; out of [0, 1] is an input error naming the field;
    /// `change_parameters` sets it and the journal encoding names it only when set.
    @Test func toleranceParameter() throws {
        let zero = try OptionBook.scenario(parameters: #"{"backstop": true, "adl": false, "option_mark_tolerance": "0"}"#)
        var engine = try zero.makeEngine()
        let t0 = OptionBook.startTime + 10_000
        let events = engine.apply(at(t0, .markPrice(symbol: "BTCUSDT", price: dec("50001"), sourceTime: t0)))
        #expect(events.filter { $0.kind == .optionMarkStale }.count == 2)
        #expect(engine.optionMarkTolerance == .zero)
        let absent = try OptionBook.scenario().makeEngine()
        let named = try OptionBook.scenario(parameters: #"{"backstop": true, "adl": false, "option_mark_tolerance": "0.01"}"#).makeEngine()
        #expect(!String(decoding: absent.canonicalState(), as: UTF8.self).contains("optionMarkTolerance"))
        #expect(absent.optionMarkTolerance == dec("0.01") && named.optionMarkTolerance == dec("0.01"))
        #expect(absent.stateHash() != named.stateHash())  // named is a different parameter state
        var refused = 0
        for value in [#""-0.1""#, #""1.5""#, #""x""#, "true"] {
            do {
                _ = try OptionBook.scenario(parameters: #"{"option_mark_tolerance": \#(value)}"#)
                Issue.record("accepted \(value)")
            } catch let error as InputError {
                #expect(error.path.hasSuffix("parameters.option_mark_tolerance"), "\(value): \(error.path)")
                refused += 1
            } catch {
                Issue.record("\(value): \(error)")
            }
        }
        #expect(refused == 4)
        let change = try OptionBook.scenario(commands: #"[{"time": "2024-03-01T08:00:05Z", "type": "change_parameters", "parameters": {"option_mark_tolerance": "0.25"}}]"#)
        var changed = try change.makeEngine()
        var changeEvents: [EngineEvent] = []
        for c in change.commands { changeEvents += changed.apply(c) }
        #expect(changed.optionMarkTolerance == dec("0.25"))
        // parameters_applied lists the change (ORACLE4 found `"changes":[]` for it), old and new.
        let applied = try #require(changeEvents.first { $0.kind == .parametersApplied })
        #expect(applied.json.contains(#"{"field":"option_mark_tolerance","old":"0.01","new":"0.25"}"#), "\(applied.json)")
        // Naming the default changes nothing.
        #expect(!ParameterUpdate.differences(EngineParameters(), named.state.parameters).contains { $0.field == "option_mark_tolerance" })
        var w = JSONWriter()
        change.commands[0].writeCanonical(into: &w)
        #expect(String(decoding: w.bytes, as: UTF8.self).contains(#""option_mark_tolerance":"0.25""#))
    }

    /// Property: over random option books (RandomOptionBook: underlying moves of up to ±5 %,
    /// option marks fed at random in between, fills, orders, deposits, expiry) the at-risk index
    /// finds what a full rescan finds with stale marks going on and off, an engine restored from a
    /// mid-stream snapshot continues byte for byte, and the debug invariants hold. Counts the
    /// stale marks it saw (> 0).
    @Test(.shrinking(false)) func randomBooksIndexRescanRestore() async {
        let stale = Counter()
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            var fast = RandomOptionBook.engine(seed: seed, accounts: 6, fullRescan: false)
            var oracle = RandomOptionBook.engine(seed: seed, accounts: 6, fullRescan: true)
            let commands = RandomOptionBook.commands(seed: seed, engine: fast, count: 120, expire: seed % 3 == 0)
            var restored: Engine? = nil
            for (n, command) in commands.enumerated() {
                let a = fast.apply(command)
                let b = oracle.apply(command).map(\.json)
                #expect(a.map(\.json) == b, "seed \(seed) at \(command)")
                if a.map(\.json) != b { return }
                if var r = restored { #expect(r.apply(command).map(\.json) == b); restored = r }
                stale.add(a.filter { $0.kind == .optionMarkStale }.count)
                #expect(fast.invariantViolation() == nil, "seed \(seed): \(fast.invariantViolation() ?? "")")
                if n == commands.count / 2 {
                    restored = Engine(restoring: try! JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(fast.state)))
                }
            }
            #expect(fast.stateHash() == oracle.stateHash() && fast.stateHash() == restored?.stateHash())
        }
        #expect(stale.value > 0, "no fed mark went stale")
    }

    /// A `mark` of the option itself is a fed mark: it ends the model marks of that option.
    @Test func aMarkOfTheOptionIsFed() throws {
        var engine = try OptionBook.engine()
        let put = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
        let t0 = OptionBook.startTime + 10_000
        _ = engine.apply(at(t0, .markPrice(symbol: "BTCUSDT", price: dec("45000"), sourceTime: t0)))
        #expect(engine.state.optionMarks?.modelMarked?.contains(put) == true)
        _ = engine.apply(at(t0 + 1_000, .markPrice(symbol: "BTC-40000-P", price: dec("900"), sourceTime: t0 + 1_000)))
        #expect(engine.state.optionMarks?.modelMarked?.contains(put) == false)
        _ = engine.apply(at(t0 + 2_000, .markPrice(symbol: "BTCUSDT", price: dec("45100"), sourceTime: t0 + 2_000)))
        #expect(engine.state.market.marks[put] == dec("900"))
        #expect(engine.invariantViolation() == nil)
    }
}
