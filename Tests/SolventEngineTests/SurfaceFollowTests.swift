@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// Surface marks follow the underlying (Engine+SurfaceFollow.swift, docs/options.md "Volatility
/// surface"): options priced by a `vol_surface` slice are re-marked by Black-76 at the slice's
/// vol for their strike (sticky strike) when the underlying's mark moves; a fed option mark
/// newer than the slice is kept; the index finds what a full rescan finds; replay is equal.
@Suite struct SurfaceFollowTests {
    static let t1 = VolSurfaceTests.t1

    /// Hand-computed (Python 3 with scipy 1.17.1, scipy.stats.norm.cdf): after the standard slice
    /// (45,000/0.70, 55,000/0.60, 65,000/0.65) at t1, BTCUSDT moves 50,000 → 55,000 one second
    /// later. T stays (30 days − 1 minute)/365 days = 0.08218987823439879 (the slice's source
    /// time: no decay between inputs), the call's vol stays √0.39125 (sticky strike), the put's
    /// 0.70. Black-76, rate 0: call K = 60,000 at F = 55,000: 2080.705468227825 (it was
    /// 790.5630221917672 at 50,000); put K = 40,000 at F = 55,000: 224.8054374340959.
    @Test func remarkAfterAnUnderlyingMove() throws {
        var engine = try OptionBook.engine()
        _ = engine.apply(VolSurfaceTests.standard)
        let t = Self.t1 + 1_000
        let events = engine.apply(at(t, .markPrice(symbol: "BTCUSDT", price: dec("55000"), sourceTime: t)))
        #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        let computed = events.filter { $0.kind == .optionMarkComputed }
        #expect(computed.count == 2)
        #expect(computed.allSatisfy { $0["underlying_price"] == .decimal(dec("55000")) })
        let s = engine.state
        let call = s.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
        let put = s.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
        #expect(abs(DoubleBoundary.double(s.market.marks[call]!) - 2080.705468227825) < 1e-7)
        #expect(abs(DoubleBoundary.double(s.market.marks[put]!) - 224.8054374340959) < 1e-7)
        #expect(abs(DoubleBoundary.double(s.optionMarks!.impliedVols[call]!) - 0.39125.squareRoot()) < 1e-15)
        #expect(s.optionMarks?.impliedVols[put] == dec("0.7"))
        #expect(s.markSources[call]?.sourceTime == Self.t1 && s.markSources[put]?.sourceTime == Self.t1)  // the slice's
        #expect(s.optionMarks?.surfaceMarked == [call, put].sorted())
        #expect(engine.invariantViolation() == nil)
    }

    /// A fed option_mark newer than the slice is not overwritten by a later underlying move; the
    /// other option still follows; a plain `mark` of the option also takes it off the surface.
    /// (`option_mark_tolerance` 1, so the ±10 % moves leave fed marks alone: past the default 1 %
    /// the stale-mark rule re-marks them by the model, StaleOptionMarkTests.)
    @Test func fedOptionMarkNewerThanTheSliceIsKept() throws {
        var engine = try OptionBook.scenario(parameters: #"{"backstop": true, "adl": false, "option_mark_tolerance": "1"}"#).makeEngine()
        _ = engine.apply(VolSurfaceTests.standard)
        let call = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
        let put = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
        _ = engine.apply(at(Self.t1 + 500, .optionMark(symbol: "BTC-60000-C", price: dec("1234"), impliedVol: dec("0.8"), sourceTime: Self.t1 + 500)))
        let putBefore = engine.state.market.marks[put]
        var events = engine.apply(at(Self.t1 + 1_000, .markPrice(symbol: "BTCUSDT", price: dec("55000"), sourceTime: Self.t1 + 1_000)))
        #expect(events.filter { $0.kind == .optionMarkComputed }.count == 1)
        #expect(engine.state.market.marks[call] == dec("1234") && engine.state.optionMarks?.impliedVols[call] == dec("0.8"))
        #expect(engine.state.market.marks[put] != putBefore)
        _ = engine.apply(at(Self.t1 + 2_000, .markPrice(symbol: "BTC-40000-P", price: dec("300"), sourceTime: Self.t1 + 2_000)))
        #expect(engine.state.optionMarks?.surfaceMarked == nil)
        events = engine.apply(at(Self.t1 + 3_000, .markPrice(symbol: "BTCUSDT", price: dec("45000"), sourceTime: Self.t1 + 3_000)))
        #expect(!events.contains { $0.kind == .optionMarkComputed })
        #expect(engine.state.market.marks[put] == dec("300") && engine.state.market.marks[call] == dec("1234"))
        // A newer slice prices both again, and they follow again.
        _ = engine.apply(VolSurfaceTests.surface(["45000", "55000", "65000"], ["0.70", "0.60", "0.65"], at: Self.t1 + 4_000))
        #expect(engine.state.optionMarks?.surfaceMarked == [call, put].sorted())
        #expect(engine.invariantViolation() == nil)
    }

    /// The surface-marked list enters the state hash and survives Codable and restore.
    @Test func stateHashAndRestore() throws {
        var engine = try OptionBook.engine()
        _ = engine.apply(VolSurfaceTests.standard)
        var fed = engine
        _ = fed.apply(at(Self.t1, .optionMark(symbol: "BTC-60000-C", price: engine.state.market.marks[1]!, impliedVol: engine.state.optionMarks!.impliedVols[1]!, sourceTime: Self.t1)))
        #expect(fed.state.market.marks == engine.state.market.marks && fed.state.optionMarks?.impliedVols == engine.state.optionMarks?.impliedVols)
        #expect(fed.stateHash() != engine.stateHash())  // same marks, but one follows the surface and one does not
        let decoded = try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(engine.state))
        var restored = Engine(restoring: decoded)
        #expect(restored.stateHash() == engine.stateHash())
        let move = at(Self.t1 + 1_000, .markPrice(symbol: "BTCUSDT", price: dec("52000"), sourceTime: Self.t1 + 1_000))
        #expect(restored.apply(move).map(\.json) == engine.apply(move).map(\.json))
        #expect(restored.stateHash() == engine.stateHash())
    }

    /// A random option book: accounts alternately portfolio and standard, random option fills,
    /// a random slice, then an underlying path with ticks, sometimes a fed option mark or a new
    /// slice. The indexed engine, a full rescan and a replay give the same events byte for byte
    /// and the same state hash; returns how many option marks the underlying moves recomputed.
    /// `sticky`: the slices' rule (VolSurfaceSticky.swift) — moneyness re-marks at ln(K/F).
    static func check(_ seed: UInt64, sticky: VolSurfaceSticky = .strike) -> (recomputed: Int, transitions: Int) {
        var rng = SplitMix64(seed: seed)
        var extra = ""
        for n in 0..<6 {
            extra += #", {"id": "r\#(n)", "mode": "\#(n % 2 == 0 ? "portfolio" : "standard")", "settle": "USDT", "collateral": {"USDT": "\#(Int.random(in: 3_000...40_000, using: &rng))"}, "positions": []}"#
        }
        let scenario = try! OptionBook.scenario(extraAccounts: extra)
        var commands: [TimedCommand] = []
        var t = OptionBook.startTime + 1_000
        for n in 0..<6 {
            for (symbol, price) in [("BTC-60000-C", "1000"), ("BTC-40000-P", "500")] where Bool.random(using: &rng) {
                let q = FixedDecimal(Int.random(in: -8...4, using: &rng))
                if q.isZero { continue }
                commands.append(at(t, .fill(account: "r\(n)", symbol: symbol, quantity: q, price: dec(price), fee: .zero, orderID: nil)))
            }
        }
        func slice(_ time: Int64) -> TimedCommand {
            let vols = (0..<3).map { _ in FixedDecimal(Int.random(in: 30...120, using: &rng)) / FixedDecimal(100) }
            return at(time, .volSurface(underlying: "BTCUSDT", expiry: OptionBook.expiryTime, strikes: [dec("45000"), dec("55000"), dec("65000")], vols: vols, sourceTime: time, sticky: sticky))
        }
        t += 1_000
        commands.append(slice(t))
        var price = 50_000
        for _ in 0..<30 {
            t += 61_000
            price = max(5_000, price + Int.random(in: -4_000...4_000, using: &rng))
            commands.append(at(t, .markPrice(symbol: "BTCUSDT", price: FixedDecimal(price), sourceTime: t)))
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: commands.append(at(t, .optionMark(symbol: "BTC-60000-C", price: FixedDecimal(Int.random(in: 100...3_000, using: &rng)), impliedVol: dec("0.7"), sourceTime: t)))
            case 1: commands.append(slice(t))
            default: break
            }
            commands.append(at(t + 1, .tick))
        }
        var indexed = try! scenario.makeEngine(), rescan = try! scenario.makeEngine(fullRescan: true), replay = try! scenario.makeEngine()
        var recomputed = 0, transitions = 0
        var emitted: [String] = []
        for command in commands {
            let a = indexed.apply(command), b = rescan.apply(command)
            emitted += a.map(\.json)
            #expect(a.map(\.json) == b.map(\.json), "seed \(seed): \(command)")
            if case .markPrice = command.command {
                recomputed += a.filter { $0.kind == .optionMarkComputed }.count
                transitions += a.filter { $0.kind != .rejected && $0.account != nil }.count  // account events a move caused
            }
        }
        var replayed: [String] = []
        for command in commands { replayed += replay.apply(command).map(\.json) }
        #expect(indexed.stateHash() == rescan.stateHash() && indexed.stateHash() == replay.stateHash(), "seed \(seed)")
        #expect(indexed.invariantViolation() == nil && rescan.invariantViolation() == nil, "seed \(seed)")
        #expect(replayed == emitted, "seed \(seed): the replay's events differ")
        return (recomputed, transitions)
    }

    @Test(.shrinking(false)) func indexEqualsRescanOverRandomBooks() async {
        let recomputed = Counter()
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in recomputed.add(Self.check(seed).recomputed) }
        #expect(recomputed.value > 0, "no underlying move re-marked an option")
    }

    /// The same over random books whose slices are sticky moneyness (the smile moves with the
    /// underlying), and the fixed seeds below with moneyness slices.
    @Test(.shrinking(false)) func indexEqualsRescanOverRandomBooksWithMoneynessSlices() async {
        let recomputed = Counter()
        await propertyCheck(count: 4, input: Gen.uint64()) { seed in recomputed.add(Self.check(seed, sticky: .moneyness).recomputed) }
        var transitions = 0
        for seed in UInt64(1)...2 {
            let seen = Self.check(seed, sticky: .moneyness)
            recomputed.add(seen.recomputed); transitions += seen.transitions
        }
        #expect(recomputed.value > 0 && transitions > 0, "no underlying move re-marked an option or moved an account")
    }

    /// Fixed seeds whose underlying paths move option holders across thresholds (the index must
    /// find them through the re-marked options and the underlying), not only re-mark.
    @Test func fixedSeedsReachStatusChanges() {
        var recomputed = 0, transitions = 0
        for seed in UInt64(1)...4 {
            let seen = Self.check(seed)
            recomputed += seen.recomputed; transitions += seen.transitions
        }
        #expect(recomputed > 0 && transitions > 0)
    }
}
