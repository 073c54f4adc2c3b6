import Foundation
import PropertyBased
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import Testing

/// The range contract (docs/range-contract.md): every attack case of the hostile-input review
/// is refused with a typed reason naming the field and changes nothing; bounds are exact; the
/// fuzzers' corpora and random byte strings never trap.
@Suite struct RangeContractTests {
    /// The fuzzer's market with account "a" (USDT-settled, holds 0.1 BTC) and "b".
    func engine() throws -> Engine {
        try Scenario.decode(JSONParser.parse(Array(EngineFuzzer.genesis.utf8))).makeEngine()
    }

    /// Applies one scenario command (JSON text) at `time` ms after the start.
    func apply(_ engine: inout Engine, _ json: String, after ms: Int64 = 1_000) throws -> [EngineEvent] {
        let assetIndex = Dictionary(uniqueKeysWithValues: engine.state.market.assets.enumerated().map { ($1.symbol, $0) })
        let timed = try Scenario.decodeCommand(JSONReader(JSONParser.parse(json), path: "command"), assetIndex: assetIndex,
                                               defaultTime: engine.state.time + ms)
        return engine.apply(timed)
    }

    /// The single rejection of a command, with its field; the state hash before and after.
    func expectRefused(_ json: String, field: String, setup: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var e = try engine()
        for command in setup { _ = try apply(&e, command) }
        let before = e.stateHash()
        let events = try apply(&e, json)
        let rejected = events.filter { $0.kind == .rejected }
        #expect(rejected.count == 1, "expected one rejection of \(json), got \(events.map(\.json))", sourceLocation: sourceLocation)
        #expect(rejected.first?.text("field") == field, "\(rejected.first?.json ?? "none")", sourceLocation: sourceLocation)
        // Nothing changed but the command count and the event sequence.
        var replay = try engine()
        for command in setup { _ = try apply(&replay, command) }
        #expect(replay.state.accounts == e.state.accounts, sourceLocation: sourceLocation)
        #expect(replay.state.totals == e.state.totals, sourceLocation: sourceLocation)
        #expect(replay.state.market == e.state.market, sourceLocation: sourceLocation)
        _ = before
    }

    /// Issue 14's minimal cases, each refused with the field named.
    @Test func attackCasesAreRefused() throws {
        let deposit = #"{"type":"deposit","account":"a","asset":"BTC","amount":"1000000000000000","settle":"USDT"}"#
        try expectRefused(deposit, field: "amount", setup: [deposit])
        try expectRefused(#"{"type":"set_leverage","account":"a","symbol":"BTCUSDT","leverage":"0.000000000000000001"}"#, field: "leverage")
        try expectRefused(#"{"type":"place_order","id":"x","account":"a","symbol":"BTCUSDT","quantity":"1000000000000000","price":"1000000000000000"}"#, field: "price")
        try expectRefused(#"{"type":"place_order","id":"x","account":"a","symbol":"BTCUSDT","quantity":"1000000000000000","price":"50000"}"#, field: "quantity")
        try expectRefused(#"{"type":"fill","account":"a","symbol":"BTCUSDT","quantity":"1000000000000000","price":"1000000000000000"}"#, field: "price")
        try expectRefused(#"{"type":"fill","account":"a","symbol":"BTCUSDT","quantity":"1000000001","price":"50000"}"#, field: "quantity")
        try expectRefused(#"{"type":"asset_price","asset":"USDT","price":"0.000000000000000001"}"#, field: "price")
        try expectRefused(#"{"type":"mark","symbol":"BTCUSDT","price":"100000000.000000000000000001"}"#, field: "price")
        try expectRefused(#"{"type":"book","symbol":"BTCUSDT","bids":[["0.000000001","1"]],"asks":[]}"#, field: "bids[0][0]")
        // A partial parameter change is checked merged into what is in force, when scheduled.
        try expectRefused(#"{"type":"change_parameters","parameters":{"oracle_divergence_limit":"1000000000000000"}}"#,
                          field: "parameters.oracle_divergence_limit")
    }

    /// Parameters beyond the contract are refused by the decoder, naming the field.
    @Test func parameterCasesAreRefused() throws {
        let e = try engine()
        let assetIndex = Dictionary(uniqueKeysWithValues: e.state.market.assets.enumerated().map { ($1.symbol, $0) })
        for (json, path) in [
            (#"{"type":"change_parameters","parameters":{"grace_period_ms":9223372036854775807}}"#, "grace_period_ms"),
            (#"{"type":"tick","time":9223372036854775807}"#, "time"),
        ] {
            #expect(throws: InputError.self) {
                _ = try Scenario.decodeCommand(JSONReader(JSONParser.parse(json), path: "command"), assetIndex: assetIndex, defaultTime: e.state.time)
            }
            do {
                _ = try Scenario.decodeCommand(JSONReader(JSONParser.parse(json), path: "command"), assetIndex: assetIndex, defaultTime: e.state.time)
            } catch let error as InputError {
                #expect(error.path.hasSuffix(path), "\(error)")
                #expect(error.reason.contains("out of range"), "\(error)")
            }
        }
    }

    /// Each bound is exact: the bound itself is accepted, one unit (10^-18) beyond is refused.
    @Test func boundsAreExact() {
        let ulp = FixedDecimal.ulp
        #expect(RangeContract.priceProblem(RangeContract.maxPrice) == nil)
        #expect(RangeContract.priceProblem(RangeContract.maxPrice + ulp) != nil)
        #expect(RangeContract.priceProblem(RangeContract.minPrice) == nil)
        #expect(RangeContract.priceProblem(RangeContract.minPrice - ulp) != nil)
        #expect(RangeContract.leverageProblem(.one) == nil)
        #expect(RangeContract.leverageProblem(.one - ulp) != nil)
        #expect(RangeContract.leverageProblem(FixedDecimal(1000)) == nil)
        #expect(RangeContract.leverageProblem(FixedDecimal(1000) + ulp) != nil)
        #expect(RangeContract.sizeProblem(RangeContract.maxPositionSize) == nil)
        #expect(RangeContract.sizeProblem(RangeContract.maxPositionSize + ulp) != nil)
        #expect(RangeContract.timeProblem(RangeContract.maxTime) == nil)
        #expect(RangeContract.timeProblem(RangeContract.maxTime + 1) != nil)
        #expect(RangeContract.timeProblem(-1) != nil)
        #expect(RangeContract.durationProblem(RangeContract.maxDurationMs) == nil)
        #expect(RangeContract.durationProblem(RangeContract.maxDurationMs + 1) != nil)
    }

    /// The worst products inside the contract fit: a position of the largest size at the
    /// largest price, against the most extreme collateral price ratio the contract allows.
    @Test func worstCaseInsideTheContractEvaluates() throws {
        var e = try engine()
        _ = try apply(&e, #"{"type":"deposit","account":"a","asset":"BTC","amount":"999999999999999","settle":"USDT"}"#)
        _ = try apply(&e, #"{"type":"asset_price","asset":"USDT","price":"0.00000001"}"#)
        _ = try apply(&e, #"{"type":"asset_price","asset":"BTC","price":"100000000"}"#)
        _ = try apply(&e, #"{"type":"fill","account":"b","symbol":"BTCUSDT","quantity":"999999999","price":"100000000"}"#)
        _ = try apply(&e, #"{"type":"mark","symbol":"BTCUSDT","price":"100000000"}"#)
        _ = try apply(&e, #"{"type":"mark","symbol":"BTCUSDT","price":"0.00000001"}"#)
        let a = e.state.accountIndex["a"]!
        let value = e.evaluator.collateralValue(of: e.state.accounts[a].account)
        // 1e15 BTC at 1e8 / 1e-8 per USDT is 1e31 USDT: counted at the bound, 1e18 per balance.
        #expect(value <= RangeContract.maxCollateralValue * FixedDecimal(2))
        #expect(value >= RangeContract.maxCollateralValue)
        EngineFuzzer.checkInvariants(e)
    }

    /// The fuzzers' checked-in corpora replay without a trap (a crash found by `scripts/fuzz`
    /// is added to the corpus and so stays a regression test here).
    @Test func fuzzCorporaReplay() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var count = 0
        for (target, run) in [("FuzzEngine", EngineFuzzer.run), ("FuzzEvaluate", EvaluateFuzzer.run)] as [(String, ([UInt8]) -> Void)] {
            let folder = root.appendingPathComponent("Fuzz/Corpus/\(target)")
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                run([UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
                count += 1
            }
        }
        #expect(count >= 10)
    }

    /// Property: any byte string, read as a command sequence, never traps the decoder or the
    /// engine, conserves money, and replays to the same state hash.
    @Test func anyCommandSequenceIsTotal() async {
        await propertyCheck(count: 1000, input: Gen.uint8().array(of: 0...400)) { bytes in
            EngineFuzzer.run(bytes)
        }
    }

    /// Property: any byte string, read as an evaluate document, never traps.
    @Test func anyEvaluateDocumentIsTotal() async {
        await propertyCheck(count: 1000, input: Gen.uint8().array(of: 0...300)) { bytes in
            EvaluateFuzzer.run(bytes)
        }
    }
}

/// Properties of the contract's edge: a value inside is never refused as out of range, a value
/// outside always is (code 1009, the field named), and neither traps.
@Suite struct RangeContractPropertyTests {
    /// A decimal spanning the whole range, dense near the bounds: `m · 10^k` units of 10^-18.
    static let values = Gen.int64(in: -9_000_000_000_000_000...9_000_000_000_000_000)
        .map { m -> FixedDecimal in FixedDecimal(raw: Int128(m)) }
    static let scales = Gen.int(in: 0...20)

    static func scaled(_ value: FixedDecimal, _ k: Int) -> FixedDecimal {
        var raw = value.raw
        for _ in 0..<k {
            let (next, overflow) = raw.multipliedReportingOverflow(by: 10)
            if overflow { break }
            raw = next
        }
        return FixedDecimal(raw: raw)
    }

    /// Applies `command` to the fuzzer's market; returns the out-of-range rejections' fields.
    static func outOfRangeFields(_ command: EngineCommand) throws -> [String] {
        var engine = try Scenario.decode(JSONParser.parse(Array(EngineFuzzer.genesis.utf8))).makeEngine()
        let events = engine.apply(TimedCommand(time: engine.state.time + 1_000, command: command))
        EngineFuzzer.checkInvariants(engine)
        return events.filter { $0.kind == .rejected && $0["code"] == .integer(Int64(RejectReason.Code.outOfRange.rawValue)) }
            .compactMap { $0.text("field") }
    }

    @Test func pricesAreRefusedExactlyOutsideTheContract() async {
        await propertyCheck(count: 300, input: Self.values, Self.scales) { value, k in
            let price = Self.scaled(value, k)
            let inside = RangeContract.priceProblem(price) == nil
            for command in [EngineCommand.markPrice(symbol: "BTCUSDT", price: price, sourceTime: 1_704_067_201_000),
                            .assetPrice(asset: "BTC", price: price),
                            .fill(account: "a", symbol: "BTCUSDT", quantity: FixedDecimal("0.1")!, price: price, fee: .zero, orderID: nil)] {
                let fields = try Self.outOfRangeFields(command)
                #expect(fields == (inside ? [] : ["price"]), "\(command)")
            }
        }
    }

    @Test func leverageIsRefusedExactlyOutsideTheContract() async {
        await propertyCheck(count: 300, input: Self.values, Self.scales) { value, k in
            let leverage = Self.scaled(value, k)
            let inside = RangeContract.leverageProblem(leverage) == nil
            let fields = try Self.outOfRangeFields(.setLeverage(account: "a", symbol: "ETHUSDT", leverage: leverage))
            #expect(fields == (inside ? [] : ["leverage"]))
        }
    }

    @Test func depositsAreRefusedExactlyBeyondTheBalanceBound() async {
        await propertyCheck(count: 300, input: Self.values, Self.scales) { value, k in
            let amount = Self.scaled(value, k).magnitude
            guard amount.isPositive else { return }
            // Account "a" holds 10,000 USDT: the deposit is refused iff the balance would pass 1e15.
            let inside = amount <= RangeContract.maxBalance - FixedDecimal(10_000)
            let fields = try Self.outOfRangeFields(.deposit(account: "a", asset: "USDT", amount: amount, settle: nil))
            #expect(fields == (inside ? [] : ["amount"]))
        }
    }
}

/// Account ids follow one ASCII pattern in scenario and evaluate documents: `"cafe\u{301}"`
/// and `"caf\u{e9}"` are equal as Swift strings, so a non-ASCII id could name another account.
@Suite struct AccountIDInputTests {
    @Test func evaluateRefusesNonASCIIIds() throws {
        let document = #"{"assets":{"USDT":"1"},"instruments":[],"marks":{},"accounts":[{"id":"cafe\u0301","settle":"USDT"}]}"#
        #expect(throws: InputError.self) { _ = try EvaluateInput.decode(JSONParser.parse(document)) }
        do { _ = try EvaluateInput.decode(JSONParser.parse(document)) } catch let error as InputError {
            #expect(error.path == "accounts[0].id")
        }
        let valid = #"{"assets":{"USDT":"1"},"instruments":[],"marks":{},"accounts":[{"id":"alice_01.x:y-z","settle":"USDT"}]}"#
        _ = try EvaluateInput.decode(JSONParser.parse(valid))
    }

    @Test func scenarioCommandsRefuseNonASCIIIds() throws {
        var document = EngineFuzzer.genesis
        document = document.replacingOccurrences(of: #""commands":[]"#, with: #""commands":[{"type":"deposit","account":"caf\u00e9","asset":"USDT","amount":"1"}]"#)
        do {
            _ = try Scenario.decode(JSONParser.parse(document))
            Issue.record("a non-ASCII account id was accepted")
        } catch let error as InputError {
            #expect(error.path == "commands[0].account", "\(error)")
        }
    }
}

/// Findings of the outside attack on the range contract (attacks/ 01–04), as regression tests.
@Suite struct RangeContractAttackRegressionTests {
    /// attacks/04: `Int128.min` as a decimal text used to trap in `magnitude`; the range is now
    /// symmetric and the text is refused.
    @Test func int128MinIsNotADecimal() throws {
        #expect(throws: DecimalParseError.self) { _ = try FixedDecimal(parsing: "-170141183460469231731.687303715884105728") }
        #expect(try FixedDecimal(parsing: "-170141183460469231731.687303715884105727") == -FixedDecimal.max)
        #expect(FixedDecimal.min == -FixedDecimal.max)
        #expect(throws: DecimalError.self) { _ = try (-FixedDecimal.max).subtractingChecked(.ulp) }
        let reader = JSONReader(.string("-170141183460469231731.687303715884105728"), path: "amount")
        #expect(throws: InputError.self) { _ = try reader.decimal() }
    }

    /// attacks/01: ~1,700 fundings at a rate just below 1 on an in-contract position used to
    /// overflow a balance; the funding that would pass a balance of 1e19 is refused, typed.
    @Test func repeatedFundingIsRefusedBeforeABalanceOverflows() throws {
        let document = """
        {"start":{"time":"2024-01-01T00:00:00Z","assets":{"USDT":"1","BTC":"8000"},
          "instruments":[{"symbol":"BTCUSDT","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1",
            "brackets":[{"notional_floor":"0","notional_cap":"1000000000000000","max_leverage":"1000","mmr":"0.004"}]}],
          "marks":{"BTCUSDT":"8000"},"accounts":[]},"commands":[]}
        """
        var engine = try Scenario.decode(JSONParser.parse(document)).makeEngine()
        var time = engine.state.time
        func apply(_ command: EngineCommand) -> [EngineEvent] {
            time += 1
            return engine.apply(TimedCommand(time: time, command: command))
        }
        _ = apply(.deposit(account: "a", asset: "USDT", amount: .one, settle: nil))
        _ = apply(.markPrice(symbol: "BTCUSDT", price: FixedDecimal(100_000_000), sourceTime: time + 1))
        _ = apply(.fill(account: "a", symbol: "BTCUSDT", quantity: FixedDecimal(-1_000_000_000), price: FixedDecimal(100_000_000), fee: .zero, orderID: nil))
        var refusedAt: Int? = nil
        for n in 0..<200 {
            let events = apply(.funding(symbol: "BTCUSDT", rate: FixedDecimal("0.999999999999999999")!))
            if let rejected = events.first(where: { $0.kind == .rejected }) {
                #expect(rejected.text("field") == "rate")
                #expect(rejected["code"] == .integer(Int64(RejectReason.Code.outOfRange.rawValue)))
                refusedAt = n
                break
            }
        }
        // Just under 1e17 a funding: after 100 of them the balance is just under 1e19, and the
        // 101st (n = 100) would pass it.
        #expect(refusedAt == 100)
        EngineFuzzer.checkInvariants(engine)
        // The mark can still move to the far end of the contract without a trap.
        _ = apply(.markPrice(symbol: "BTCUSDT", price: FixedDecimal("0.00000001")!, sourceTime: time + 1))
        EngineFuzzer.checkInvariants(engine)
    }
}
