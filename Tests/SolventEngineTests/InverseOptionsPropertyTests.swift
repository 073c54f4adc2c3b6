@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// Random coin-settled option books (InverseOptionBook's market: BTC-settled options on the
/// inverse perpetual BTC-PERP; portfolio and standard BTC accounts; option, perpetual and future
/// fills, option marks in coin, underlying moves, orders, BTC deposits and withdrawals, USD
/// deposits (refused for portfolio accounts), expiry).
enum RandomInverseOptionBook {
    /// An engine with `count` extra BTC accounts `r0…` (every other one portfolio-margined).
    static func engine(seed: UInt64, accounts count: Int, fullRescan: Bool, parameters: String = #"{"backstop": true, "adl": false}"#) -> Engine {
        var rng = SplitMix64(seed: seed)
        var extra = ""
        for n in 0..<count {
            let collateral = RandomBook.decimal(0.1, 2, digits: 3, using: &rng)
            extra += #", {"id": "r\#(n)", "mode": "\#(n % 2 == 0 ? "portfolio" : "standard")", "settle": "BTC", "collateral": {"BTC": "\#(collateral)"}, "positions": []}"#
        }
        return try! InverseOptionBook.scenario(extraAccounts: extra, parameters: parameters).makeEngine(fullRescan: fullRescan)
    }

    /// A random command stream; with `expire`, it runs past the expiry.
    static func commands(seed: UInt64, engine: Engine, count: Int, expire: Bool = false) -> [TimedCommand] {
        var rng = SplitMix64(seed: seed &+ 77)
        let ids = engine.state.accounts.map(\.id).filter { $0 != "u" }
        var underlying = dec("50000")
        var call = (price: dec("0.02"), vol: dec("0.6"))
        var put = (price: dec("0.01"), vol: dec("0.7"))
        var time = InverseOptionBook.startTime
        let span = expire ? (InverseOptionBook.expiryTime - InverseOptionBook.startTime) * 11 / 10 : 3_600_000
        let stepMax = span / Int64(count)
        var commands: [TimedCommand] = []
        for n in 0..<count {
            time += Int64.random(in: 1...max(2, stepMax * 2), using: &rng)
            let account = ids[Int.random(in: 0..<ids.count, using: &rng)]
            let command: EngineCommand
            switch Int.random(in: 0..<13, using: &rng) {
            case 0, 1:
                underlying = (underlying * RandomBook.decimal(0.95, 1.05, digits: 4, using: &rng)).rounded(toDigits: 1)
                command = .markPrice(symbol: ["BTC-PERP", "BTC-FUT"][Int.random(in: 0..<2, using: &rng)], price: underlying, sourceTime: time)
            case 2:
                call = ((call.price * RandomBook.decimal(0.7, 1.4, digits: 3, using: &rng)).rounded(toDigits: 6), RandomBook.decimal(0.3, 1.5, digits: 3, using: &rng))
                command = .optionMark(symbol: "BTC-60000-C", price: FixedDecimal.maximum(dec("0.0001"), call.price), impliedVol: call.vol, sourceTime: time)
            case 3:
                put = ((put.price * RandomBook.decimal(0.7, 1.4, digits: 3, using: &rng)).rounded(toDigits: 6), RandomBook.decimal(0.3, 1.5, digits: 3, using: &rng))
                command = .optionMark(symbol: "BTC-40000-P", price: FixedDecimal.maximum(dec("0.0001"), put.price), impliedVol: put.vol, sourceTime: time)
            case 4, 5:
                let (symbol, price) = Bool.random(using: &rng) ? ("BTC-60000-C", call.price) : ("BTC-40000-P", put.price)
                let q = RandomBook.decimal(-8, 8, digits: 1, using: &rng)
                command = .fill(account: account, symbol: symbol, quantity: q.isZero ? dec("-1") : q, price: FixedDecimal.maximum(dec("0.0001"), price),
                                fee: RandomBook.decimal(0, 0.0003, digits: 6, using: &rng), orderID: nil)
            case 6:
                let q = RandomBook.decimal(-500, 500, digits: 0, using: &rng)
                command = .fill(account: account, symbol: Bool.random(using: &rng) ? "BTC-PERP" : "BTC-FUT", quantity: q.isZero ? dec("10") : q,
                                price: underlying, fee: .zero, orderID: nil)
            case 7:
                let symbol = ["BTC-60000-C", "BTC-40000-P", "BTC-PERP"][Int.random(in: 0..<3, using: &rng)]
                let price = symbol == "BTC-PERP" ? underlying : (symbol == "BTC-60000-C" ? call.price : put.price)
                let q = RandomBook.decimal(-5, 5, digits: 1, using: &rng).rounded(toDigits: symbol == "BTC-PERP" ? 0 : 1)
                command = .placeOrder(id: "o\(n)", account: account, symbol: symbol, quantity: q.isZero ? dec("1") : q,
                                      price: FixedDecimal.maximum(dec("0.0001"), price), reduceOnly: Bool.random(using: &rng))
            case 8: command = .deposit(account: account, asset: "BTC", amount: RandomBook.decimal(0.01, 1, digits: 3, using: &rng), settle: nil)
            case 9: command = .withdraw(account: account, asset: "BTC", amount: RandomBook.decimal(0.01, 1, digits: 3, using: &rng))
            case 10:
                let bids = (1...3).map { k in BookLevel(price: (underlying * (dec("1") - FixedDecimal(k) * dec("0.002"))).rounded(toDigits: 1), quantity: dec("500")) }
                command = .book(symbol: "BTC-PERP", bids: bids, asks: [])
            case 11: command = .deposit(account: account, asset: "USD", amount: dec("100"), settle: nil)
            default: command = .tick
            }
            commands.append(TimedCommand(time: time, command: command))
        }
        if expire, time <= InverseOptionBook.expiryTime { commands.append(TimedCommand(time: InverseOptionBook.expiryTime + 1, command: .tick)) }
        return commands
    }

    /// Whether `record` holds a coin-settled option.
    static func holdsInverseOption(_ engine: Engine, _ record: EngineAccount) -> Bool {
        record.account.positions.contains { engine.state.market.instruments[$0.instrument].isInverseOption }
    }
}

/// The options property tests over coin-settled books (spec items 4-7): index = rescan,
/// conservation, invariants, determinism through expiry, and agreement with `evaluate`.
@Suite struct InverseOptionsPropertyTests {
    /// The at-risk index finds what a full rescan finds over coin-settled books (the same events
    /// and state hash), money is conserved at every command, the debug invariants hold, and a
    /// coin-settled portfolio account never holds an asset other than its coin.
    @Test(.shrinking(false)) func indexEqualsFullRescanWithInverseOptions() async {
        let checked = Counter()
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            var fast = RandomInverseOptionBook.engine(seed: seed, accounts: 8, fullRescan: false)
            var oracle = RandomInverseOptionBook.engine(seed: seed, accounts: 8, fullRescan: true)
            for command in RandomInverseOptionBook.commands(seed: seed, engine: fast, count: 150, expire: seed % 2 == 0) {
                let a = fast.apply(command).map(\.json)
                let b = oracle.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
                #expect(conserved(fast), "seed \(seed) after \(command)")
                EngineFuzzer.checkInvariants(fast)
                checked.add(fast.state.accounts.filter { RandomInverseOptionBook.holdsInverseOption(fast, $0) }.count)
            }
            #expect(fast.stateHash() == oracle.stateHash())
            for record in fast.state.accounts where record.isPortfolio {
                #expect(record.account.collateral.allSatisfy { $0.asset == record.account.settle || $0.amount.isZero }, "seed \(seed) \(record.id)")
            }
        }
        #expect(checked.value > 0, "no random book held a coin-settled option")
    }

    /// Determinism through expiry; after it no option position is left.
    @Test(.shrinking(false)) func deterministicThroughExpiry() async {
        await propertyCheck(count: 3, input: Gen.uint64()) { seed in
            var one = RandomInverseOptionBook.engine(seed: seed, accounts: 6, fullRescan: false)
            var two = RandomInverseOptionBook.engine(seed: seed, accounts: 6, fullRescan: false)
            for command in RandomInverseOptionBook.commands(seed: seed, engine: one, count: 100, expire: true) {
                #expect(one.apply(command).map(\.json) == two.apply(command).map(\.json))
            }
            #expect(one.stateHash() == two.stateHash())
            #expect(one.state.accounts.allSatisfy { r in r.account.positions.allSatisfy { one.state.market.instruments[$0.instrument].symbol == "BTC-PERP" } })
        }
    }

    /// Agreement: for every coin-settled portfolio account of a random engine state, an
    /// `evaluate` document built from the state gives the pool numbers the engine reports.
    @Test(.shrinking(false)) func evaluateAgreesWithEngine() async throws {
        let compared = Counter()
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            var engine = RandomInverseOptionBook.engine(seed: seed, accounts: 8, fullRescan: false)
            for command in RandomInverseOptionBook.commands(seed: seed, engine: engine, count: 120) { _ = engine.apply(command) }
            for record in engine.state.accounts where record.isPortfolio && !record.account.positions.isEmpty {
                let mine = engine.evaluateAccount(record).cross
                let document = OptionBook.evaluateDocument(engine, account: record.id)
                guard let theirs = try? OptionBook.evaluatePool(document).pool else {
                    Issue.record("seed \(seed): evaluate refused the document of \(record.id): \(document)")
                    continue
                }
                #expect(mine.equity == theirs.equity && mine.initialMargin == theirs.initialMargin && mine.maintenanceMargin == theirs.maintenanceMargin
                        && mine.status == theirs.status && mine.callAmount == theirs.callAmount && mine.marginRatio == theirs.marginRatio,
                        "seed \(seed) account \(record.id)")
                compared.add(1)
            }
        }
        #expect(compared.value > 0)
    }
}

/// OptionLiquidationPropertyTests' generator over coin-settled books: random step fractions,
/// backstop or the thin-book delta hedge (with the inverse perpetual), option books quoted
/// around the coin marks (or absent: thin), a BTC-PERP book, and a crash (BTC-PERP down 4 % a
/// minute five times while the put's coin mark and vol jump).
enum RandomInverseOptionLiquidation {
    static func engine(seed: UInt64, fullRescan: Bool) -> Engine {
        RandomInverseOptionBook.engine(seed: seed, accounts: 8, fullRescan: fullRescan, parameters: RandomOptionLiquidation.parameters(seed))
    }

    static func commands(seed: UInt64, engine: Engine, count: Int) -> [TimedCommand] {
        var rng = SplitMix64(seed: seed &+ 41)
        var marks: [String: FixedDecimal] = ["BTC-PERP": dec("50000"), "BTC-60000-C": dec("0.02"), "BTC-40000-P": dec("0.01")]
        var out: [TimedCommand] = []
        let base = RandomInverseOptionBook.commands(seed: seed, engine: engine, count: count)
        let crashAt = Int.random(in: count / 4..<(3 * count / 4), using: &rng)
        for (n, command) in base.enumerated() {
            out.append(command)
            switch command.command {
            case let .markPrice(symbol, price, _): marks[symbol] = price
            case let .optionMark(symbol, price, _, _): marks[symbol] = price
            default: break
            }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                let symbol = ["BTC-60000-C", "BTC-40000-P", "BTC-PERP"][Int.random(in: 0..<3, using: &rng)]
                let mark = marks[symbol]!
                let quoted = Bool.random(using: &rng)
                let (size, digits) = symbol == "BTC-PERP" ? (dec("2000"), 1) : (dec("3"), 6)
                let bids = quoted ? [BookLevel(price: (mark * dec("0.98")).rounded(toDigits: digits), quantity: size)] : []
                let asks = quoted ? [BookLevel(price: (mark * dec("1.02")).rounded(toDigits: digits), quantity: size)] : []
                out.append(TimedCommand(time: command.time, command: .book(symbol: symbol, bids: bids, asks: asks)))
            }
            if n == crashAt {
                var time = command.time
                var btc = marks["BTC-PERP"]!
                var put = marks["BTC-40000-P"]!
                for step in 1...5 {
                    time += 60_000
                    btc = (btc * dec("0.96")).rounded(toDigits: 1)
                    put = (put * dec("1.5")).rounded(toDigits: 6)
                    out.append(TimedCommand(time: time, command: .markPrice(symbol: "BTC-PERP", price: btc, sourceTime: time)))
                    out.append(TimedCommand(time: time, command: .optionMark(symbol: "BTC-40000-P", price: put,
                                                                             impliedVol: dec("0.7") + FixedDecimal(step) * dec("0.1"), sourceTime: time)))
                }
                marks["BTC-PERP"] = btc
                marks["BTC-40000-P"] = put
            }
        }
        return out
    }

    /// One run: index = full rescan = replay (events byte for byte, state hashes), conservation,
    /// the debug invariants, no liquidation fill flips a position. Returns (option fills, hedge fills).
    static func check(_ seed: UInt64) -> (fills: Int, hedges: Int) {
        var fills = 0, hedges = 0
        var fast = engine(seed: seed, fullRescan: false)
        var oracle = engine(seed: seed, fullRescan: true)
        var replay = engine(seed: seed, fullRescan: false)
        for command in commands(seed: seed, engine: fast, count: 120) {
            let events = fast.apply(command)
            let a = events.map(\.json)
            let b = oracle.apply(command).map(\.json)
            #expect(a == b, "seed \(seed) at \(command)")
            if a != b { return (fills, hedges) }
            #expect(replay.apply(command).map(\.json) == a, "seed \(seed): replay differs at \(command)")
            #expect(conserved(fast), "seed \(seed) after \(command)")
            EngineFuzzer.checkInvariants(fast)
            for event in events where event.kind == .liquidationFill {
                guard let id = event.account, let holder = fast.state.accountIndex[id], let symbol = event.text("symbol"),
                      let i = fast.state.market.instruments.firstIndex(where: { $0.symbol == symbol }) else { continue }
                if event.text("executor")?.hasPrefix("delta_hedge") == true { hedges += 1; continue }
                guard fast.state.market.instruments[i].isInverseOption else { continue }
                fills += 1
                let after = fast.state.accounts[holder].positionIndex(i).map { fast.state.accounts[holder].account.positions[$0].quantity } ?? .zero
                let filled = event.decimal("quantity") ?? .zero
                #expect(!filled.isZero && after.signum != filled.signum, "seed \(seed): a flip: \(event.json), position after \(after)")
            }
        }
        #expect(fast.stateHash() == oracle.stateHash() && fast.stateHash() == replay.stateHash(), "seed \(seed)")
        return (fills, hedges)
    }
}

@Suite struct InverseOptionLiquidationPropertyTests {
    /// Random seeds (odd ones with the delta hedge on) over coin-settled books.
    @Test(.shrinking(false)) func inverseOptionLiquidationKeepsTheInvariants() async {
        let fills = Counter()
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            fills.add(RandomInverseOptionLiquidation.check(seed).fills)
        }
        #expect(fills.value > 0, "no coin-settled option position was liquidated")
    }

    /// Fixed seeds that reach coin-settled option liquidation fills and the inverse delta hedge
    /// (found by a scan of seeds 1…30 on 2026-11-30: 11, 21, 23, 29 give 5 option fills and 11
    /// hedge fills between them; seeds 1…6 reach no hedge).
    @Test func fixedSeedsReachStepsAndTheHedge() {
        var fills = 0, hedges = 0
        for seed in [UInt64(11), 21, 23, 29] {
            let seen = RandomInverseOptionLiquidation.check(seed)
            fills += seen.fills; hedges += seen.hedges
        }
        #expect(fills > 0 && hedges > 0, "fills \(fills), hedges \(hedges)")
    }
}
