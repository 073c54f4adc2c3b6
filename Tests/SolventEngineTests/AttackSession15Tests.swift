import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// Session 15's outside attack on the new surface (vol_surface, greeks, deliver): hostile
/// inputs get a typed refusal naming the field and change nothing; reads never trap.
@Suite struct AttackSession15Tests {
    /// A market whose underlying XUSDT is marked at 1 with a call and a put struck at 1,
    /// expiring 30 days after the start; account `a` holds nothing yet.
    static func tinyStrikeEngine(vol: String) throws -> Engine {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let text = """
        {"start": {"time": "\(OptionBook.start)", "valuation_time": "\(OptionBook.start)",
          "assets": {"USDT": "1", "X": "1"}, "haircuts": {},
          "instruments": [
            {"symbol": "XUSDT", "kind": "linear_perpetual", "base": "X", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "X-1-C", "kind": "option", "right": "call", "strike": "1", "expiry": "\(OptionBook.expiry)", "underlying": "XUSDT",
             "base": "X", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "X-1-P", "kind": "option", "right": "put", "strike": "1", "expiry": "\(OptionBook.expiry)", "underlying": "XUSDT",
             "base": "X", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"XUSDT": "1", "X-1-C": "0.00000001", "X-1-P": "0.00000001"},
          "implied_vols": {"X-1-C": "\(vol)", "X-1-P": "\(vol)"},
          "accounts": [{"id": "a", "settle": "USDT", "collateral": {"USDT": "1000000"}, "positions": []},
                       {"id": "q", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "1000000"}, "positions": []}]},
         "parameters": {"backstop": true, "adl": false},
         "insurance_fund": {"USDT": "100000"},
         "commands": []}
        """
        return try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](text.utf8))).makeEngine()
    }

    /// Greeks of an account with a long call and a long put of 1e9 units each, at the money, with
    /// a fed implied vol of 1.16e-11: each position's gamma is about 0.3989/(σ·√T)·1e9 ≈ 1.2e20
    /// (inside FixedDecimal's range, ~1.7e20), so the pool's total (≈ 2.4e20) does not fit. The
    /// read must answer (a total that does not fit is reported as the positions' are: not
    /// trapping the process that serves GET /v1/accounts/{id}/greeks).
    @Test func greeksTotalsNeverTrap() throws {
        var engine = try Self.tinyStrikeEngine(vol: "0.0000000000116")
        let t = OptionBook.startTime + 1_000
        for symbol in ["X-1-C", "X-1-P"] {
            let events = engine.apply(at(t, .fill(account: "a", symbol: symbol, quantity: dec("1000000000"), price: dec("0.00000001"), fee: .zero, orderID: nil)))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        for symbol in ["X-1-C", "X-1-P"] {  // the same book in a portfolio account: scenario margin answers too
            _ = engine.apply(at(t, .fill(account: "q", symbol: symbol, quantity: dec("1000000000"), price: dec("0.00000001"), fee: .zero, orderID: nil)))
        }
        _ = engine.portfolioEvaluation(of: "q")
        #expect(engine.greeks(of: "q")?.totals.first?.gamma == FixedDecimal.max)
        #expect(engine.invariantViolation() == nil)
        let greeks = try #require(engine.greeks(of: "a"))
        #expect(greeks.positions.count == 2)
        #expect(greeks.positions.allSatisfy { ($0.gamma ?? .zero) > dec("50000000000000000000") }, "\(greeks.positions)")
        #expect(!greeks.json.isEmpty)
        // The two gammas (~1.2e20 each) do not add inside the range: the total saturates.
        #expect(greeks.totals.count == 1 && greeks.totals[0].gamma == FixedDecimal.max, "\(greeks.totals)")
        #expect(greeks.totals[0].saturated)
    }

    /// The state hash after one refused command at `t1` (the event sequence moves; time too for a
    /// refusal past the range contract's entry check, which refuses before the clock moves).
    static func refusedBaseline(outOfRange: Bool) throws -> String {
        var engine = try OptionBook.engine()
        let events = engine.apply(outOfRange ? VolSurfaceTests.surface(["50000"], ["0"]) : VolSurfaceTests.surface([], []))
        #expect(events.contains { $0.kind == .rejected })
        return engine.stateHash()
    }

    /// Hostile slices from a price feeder: each refused with the field named, the state as after
    /// any other refusal (same state hash).
    @Test func hostileSlicesAreRefusedNamingTheField() throws {
        let baselines = [true: try Self.refusedBaseline(outOfRange: true), false: try Self.refusedBaseline(outOfRange: false)]
        let many = (1...257).map { String($0 * 100) }
        let cases: [(TimedCommand, String)] = [
            (VolSurfaceTests.surface(many, many.map { _ in "0.5" }), "strikes"),
            (VolSurfaceTests.surface(["50000", "40000"], ["0.5", "0.5"]), "strikes[1]"),
            (VolSurfaceTests.surface(["50000", "50000"], ["0.5", "0.5"]), "strikes[1]"),
            (VolSurfaceTests.surface(["0"], ["0.5"]), "strikes[0]"),
            (VolSurfaceTests.surface(["-50000"], ["0.5"]), "strikes[0]"),
            (VolSurfaceTests.surface(["0.000000000000000001"], ["0.5"]), "strikes[0]"),
            (VolSurfaceTests.surface(["100000000.000000000000000001"], ["0.5"]), "strikes[0]"),
            (VolSurfaceTests.surface(["40000", "170000000000000000000"], ["0.5", "0.5"]), "strikes[1]"),
            (VolSurfaceTests.surface(["50000"], ["0"]), "vols[0]"),
            (VolSurfaceTests.surface(["50000"], ["-0.5"]), "vols[0]"),
            (VolSurfaceTests.surface(["50000"], ["10.000000000000000001"]), "vols[0]"),
            (VolSurfaceTests.surface(["50000", "60000"], ["0.5"]), "vols"),
            (VolSurfaceTests.surface(["50000"], ["0.5", "0.5"]), "vols"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], expiry: OptionBook.expiryTime + 1), "expiry"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], expiry: -1), "expiry"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], expiry: Int64.max), "expiry"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], underlying: "NOPE"), "expiry"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], underlying: ""), "expiry"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], source: VolSurfaceTests.t1 + 1), "source_time"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], source: -1), "source_time"),
            (VolSurfaceTests.surface(["50000"], ["0.5"], source: Int64.min), "source_time"),
        ]
        var checked = 0
        for (command, field) in cases {
            var engine = try OptionBook.engine()
            let events = engine.apply(command)
            let refused = events.first { $0.kind == .rejected }
            #expect(refused?["field"] == .text(field), "\(field): \(events.map(\.json))")
            let outOfRange = refused?["code"] == .integer(1009)
            #expect(engine.stateHash() == baselines[outOfRange], "\(field)")
            checked += 1
        }
        #expect(checked == cases.count && checked > 0)
    }

    /// Slices at the contract's edges are accepted and price without trapping: vols 1e-18 and 10,
    /// strikes 1e-8 and 1e8, neighbouring strikes 1e-18 apart (equal as Doubles: the
    /// interpolation's weight is 0/0 and the option keeps its mark), a source time of 0 (54
    /// years to expiry). Every computed mark is within the contract's prices; the debug
    /// invariants hold (EngineFuzzer-free: the engine's own check).
    @Test func edgeSlicesPriceWithinTheContract() throws {
        let slices: [([String], [String], Int64)] = [
            (["0.00000001", "100000000"], ["0.000000000000000001", "10"], VolSurfaceTests.t1),
            (["0.00000001", "100000000"], ["10", "0.000000000000000001"], VolSurfaceTests.t1),
            (["59999.999999999999999999", "60000", "60000.000000000000000001"], ["10", "0.000000000000000001", "10"], VolSurfaceTests.t1),
            (["40000", "60000"], ["10", "10"], 0),
            (["40000", "60000"], ["0.000000000000000001", "0.000000000000000001"], VolSurfaceTests.t1 - 1),
        ]
        var priced = 0
        for (strikes, vols, source) in slices {
            var engine = try OptionBook.engine()
            let events = engine.apply(VolSurfaceTests.surface(strikes, vols, source: source))
            #expect(!events.contains { $0.kind == .rejected }, "\(strikes) \(vols): \(events.map(\.json))")
            for e in events where e.kind == .optionMarkComputed {
                let price = try #require(e.decimal("price"))
                #expect(price >= RangeContract.minPrice && price <= RangeContract.maxPrice)
                priced += 1
            }
            for account in ["p", "s"] { _ = engine.greeks(of: account) }
            #expect(engine.invariantViolation() == nil)
        }
        #expect(priced > 0)
    }

    /// Index ≡ rescan for option holders when only the underlying moves: a portfolio account and a
    /// standard account short the call (not holding the perpetual) go through an underlying rally
    /// tick by tick; the indexed engine emits the same events and reaches the same state hash as
    /// one re-evaluating every account on every command.
    @Test func underlyingMovesReachOptionHoldersAsARescanDoes() throws {
        var indexed = try OptionBook.engine(collateral: "20000")
        var rescan = try OptionBook.engine(collateral: "20000", fullRescan: true)
        var commands = [at(OptionBook.startTime + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-20"), price: dec("1000"), fee: .zero, orderID: nil)),
                        at(OptionBook.startTime + 1_000, .fill(account: "s", symbol: "BTC-60000-C", quantity: dec("-10"), price: dec("1000"), fee: .zero, orderID: nil)),
                        at(OptionBook.startTime + 1_000, .fill(account: "s", symbol: "BTC-40000-P", quantity: dec("-10"), price: dec("500"), fee: .zero, orderID: nil))]
        var t = OptionBook.startTime + 2_000
        for price in Array(stride(from: 50_000, through: 90_000, by: 2_500)) + stride(from: 87_500, through: 20_000, by: -7_500) {
            commands.append(at(t, .markPrice(symbol: "BTCUSDT", price: FixedDecimal(price), sourceTime: t)))
            commands.append(at(t + 1, .tick))
            t += 61_000
        }
        var transitions = 0, liquidations = 0
        for command in commands {
            let a = indexed.apply(command), b = rescan.apply(command)
            #expect(a.map(\.json) == b.map(\.json), "\(command)")
            transitions += a.filter { $0.kind != .rejected && $0.account != nil }.count
            liquidations += a.filter { $0.kind == .liquidationFill }.count
        }
        #expect(indexed.stateHash() == rescan.stateHash())
        #expect(indexed.invariantViolation() == nil)
        #expect(transitions > 0 && liquidations > 0, "the rally must liquidate the short calls")
    }

    /// Malformed vol_surface documents (what a feeder's client sends as JSON) are refused by the
    /// decoder with the path of the faulty value, before the engine: NaN-like text, exponents,
    /// numbers past the decimal's range or digits, non-arrays, missing members.
    @Test func malformedSliceDocumentsAreRefusedByPath() throws {
        let cases: [(String, String)] = [
            (#""strikes": ["NaN"], "vols": ["0.5"]"#, "strikes[0]"),
            (#""strikes": ["Infinity"], "vols": ["0.5"]"#, "strikes[0]"),
            (#""strikes": ["1e5"], "vols": ["0.5"]"#, "strikes[0]"),
            (#""strikes": ["50000"], "vols": ["-nan"]"#, "vols[0]"),
            (#""strikes": ["50000"], "vols": ["0.0000000000000000001"]"#, "vols[0]"),
            (#""strikes": ["999999999999999999999999999999"], "vols": ["0.5"]"#, "strikes[0]"),
            (#""strikes": "50000", "vols": ["0.5"]"#, "strikes"),
            (#""strikes": [null], "vols": ["0.5"]"#, "strikes[0]"),
            (#""strikes": [["50000"]], "vols": ["0.5"]"#, "strikes[0]"),
            (#""vols": ["0.5"]"#, "strikes"),
            (#""strikes": ["50000"]"#, "vols"),
        ]
        var checked = 0
        for (members, path) in cases {
            let text = #"{"type": "vol_surface", "underlying": "BTCUSDT", "expiry": \#(OptionBook.expiryTime), \#(members)}"#
            let value = try JSONParser.parse([UInt8](text.utf8))
            do {
                let command = try Scenario.decodeCommand(JSONReader(value, path: "commands[0]"), assetIndex: ["USDT": 0, "BTC": 1], defaultTime: OptionBook.startTime)
                Issue.record("\(members) decoded as \(command)")
            } catch {
                #expect(error.path.hasPrefix("commands[0].\(path)"), "\(members): \(error)")
                checked += 1
            }
        }
        #expect(checked == cases.count)
    }

    /// Option liquidation at the edges: a portfolio and a standard account short 1e9 at-the-money
    /// calls marked at the contract's smallest price with a vol of 1e-11 (the cost of a step
    /// is ~0) go through a rally of the underlying: the indexed engine and a full rescan emit the
    /// same events, positions never flip, the debug invariants hold, and it ends (bounded ticks).
    @Test func optionLiquidationAtTheEdgesTerminatesWithoutFlipping() throws {
        var engines = [try Self.tinyStrikeEngine(vol: "0.0000000000116"), try Self.tinyStrikeEngine(vol: "0.0000000000116")]
        let rescanEngine = engines[1].state
        engines[1] = Engine(restoring: rescanEngine, fullRescan: true)
        var t = OptionBook.startTime + 1_000
        var commands = [at(t, .fill(account: "q", symbol: "X-1-C", quantity: dec("-1000000000"), price: dec("0.00000001"), fee: .zero, orderID: nil)),
                        at(t, .fill(account: "a", symbol: "X-1-C", quantity: dec("-1000000000"), price: dec("0.00000001"), fee: .zero, orderID: nil))]
        for price in ["1.0001", "1.001", "1.01", "1.1", "2", "0.5", "1"] {
            t += 61_000
            commands.append(at(t, .markPrice(symbol: "XUSDT", price: dec(price), sourceTime: t)))
            commands.append(at(t, .optionMark(symbol: "X-1-C", price: FixedDecimal.maximum(RangeContract.minPrice, dec(price) - dec("1")), impliedVol: dec("0.0000000000116"), sourceTime: t)))
            commands.append(at(t + 1, .tick))
        }
        var liquidations = 0
        for command in commands {
            let a = engines[0].apply(command), b = engines[1].apply(command)
            #expect(a.map(\.json) == b.map(\.json), "\(command)")
            liquidations += a.filter { $0.kind == .liquidationFill || $0.kind == .liquidationStarted }.count
            for id in ["a", "q"] {
                let record = engines[0].state.accounts[engines[0].state.accountIndex[id]!]
                #expect(record.account.positions.allSatisfy { !$0.quantity.isPositive }, "\(id) flipped long: \(record.account.positions)")
            }
            #expect(engines[0].invariantViolation() == nil)
        }
        #expect(engines[0].stateHash() == engines[1].stateHash())
        #expect(liquidations > 0)
    }
}
