@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// Random option books (OptionBook's market; portfolio and standard accounts; option and
/// perpetual fills, option marks, underlying moves, orders, deposits, withdrawals, expiry).
enum RandomOptionBook {
    /// An engine with `count` extra accounts `r0…` (every other one portfolio-margined), each
    /// with random collateral.
    static func engine(seed: UInt64, accounts count: Int, fullRescan: Bool) -> Engine {
        var rng = SplitMix64(seed: seed)
        var extra = ""
        for n in 0..<count {
            let collateral = RandomBook.decimal(5_000, 80_000, digits: 0, using: &rng)
            extra += #", {"id": "r\#(n)", "mode": "\#(n % 2 == 0 ? "portfolio" : "standard")", "settle": "USDT", "collateral": {"USDT": "\#(collateral)"}, "positions": []}"#
        }
        return try! OptionBook.scenario(extraAccounts: extra).makeEngine(fullRescan: fullRescan)
    }

    /// A random command stream; with `expire`, it runs past the options' expiry.
    static func commands(seed: UInt64, engine: Engine, count: Int, expire: Bool = false) -> [TimedCommand] {
        var rng = SplitMix64(seed: seed &+ 99)
        let ids = engine.state.accounts.map(\.id)
        var underlying = dec("50000")
        var call = (price: dec("1000"), vol: dec("0.6"))
        var put = (price: dec("500"), vol: dec("0.7"))
        var time = OptionBook.startTime
        let span = expire ? (OptionBook.expiryTime - OptionBook.startTime) * 11 / 10 : 3_600_000
        let stepMax = span / Int64(count)
        var commands: [TimedCommand] = []
        for n in 0..<count {
            time += Int64.random(in: 1...max(2, stepMax * 2), using: &rng)
            let account = ids[Int.random(in: 0..<ids.count, using: &rng)]
            let command: EngineCommand
            switch Int.random(in: 0..<12, using: &rng) {
            case 0, 1:
                underlying = (underlying * RandomBook.decimal(0.95, 1.05, digits: 4, using: &rng)).rounded(toDigits: 2)
                command = .markPrice(symbol: "BTCUSDT", price: underlying, sourceTime: time)
            case 2:
                call = ((call.price * RandomBook.decimal(0.7, 1.4, digits: 3, using: &rng)).rounded(toDigits: 2), RandomBook.decimal(0.3, 1.5, digits: 3, using: &rng))
                command = .optionMark(symbol: "BTC-60000-C", price: FixedDecimal.maximum(dec("0.01"), call.price), impliedVol: call.vol, sourceTime: time)
            case 3:
                put = ((put.price * RandomBook.decimal(0.7, 1.4, digits: 3, using: &rng)).rounded(toDigits: 2), RandomBook.decimal(0.3, 1.5, digits: 3, using: &rng))
                command = .optionMark(symbol: "BTC-40000-P", price: FixedDecimal.maximum(dec("0.01"), put.price), impliedVol: put.vol, sourceTime: time)
            case 4, 5:
                let (symbol, price) = Bool.random(using: &rng) ? ("BTC-60000-C", call.price) : ("BTC-40000-P", put.price)
                let q = RandomBook.decimal(-8, 8, digits: 1, using: &rng)
                command = .fill(account: account, symbol: symbol, quantity: q.isZero ? dec("-1") : q, price: FixedDecimal.maximum(dec("0.01"), price),
                                fee: RandomBook.decimal(0, 3, digits: 2, using: &rng), orderID: nil)
            case 6:
                let q = RandomBook.decimal(-1, 1, digits: 2, using: &rng)
                command = .fill(account: account, symbol: "BTCUSDT", quantity: q.isZero ? dec("0.1") : q, price: underlying, fee: .zero, orderID: nil)
            case 7:
                let symbol = ["BTC-60000-C", "BTC-40000-P", "BTCUSDT"][Int.random(in: 0..<3, using: &rng)]
                let price = symbol == "BTCUSDT" ? underlying : (symbol == "BTC-60000-C" ? call.price : put.price)
                let q = RandomBook.decimal(-5, 5, digits: 1, using: &rng)
                command = .placeOrder(id: "o\(n)", account: account, symbol: symbol, quantity: q.isZero ? dec("1") : q,
                                      price: FixedDecimal.maximum(dec("0.01"), price), reduceOnly: Bool.random(using: &rng))
            case 8: command = .deposit(account: account, asset: "USDT", amount: RandomBook.decimal(100, 20_000, digits: 0, using: &rng), settle: nil)
            case 9: command = .withdraw(account: account, asset: "USDT", amount: RandomBook.decimal(100, 20_000, digits: 0, using: &rng))
            case 10:
                let bids = (1...3).map { k in BookLevel(price: (underlying * (dec("1") - FixedDecimal(k) * dec("0.002"))).rounded(toDigits: 2), quantity: dec("50")) }
                command = .book(symbol: ["BTC-60000-C", "BTC-40000-P", "BTCUSDT"][Int.random(in: 0..<3, using: &rng)], bids: bids, asks: [])
            default: command = .tick
            }
            commands.append(TimedCommand(time: time, command: command))
        }
        // Random steps average 1.1 × the span to expiry but may fall short of it: with `expire`,
        // a last tick past the expiry makes the stream reach it whatever the draws (seed
        // 5566590084980102431 ended 56 minutes before it).
        if expire, time <= OptionBook.expiryTime { commands.append(TimedCommand(time: OptionBook.expiryTime + 1, command: .tick)) }
        return commands
    }
}

/// Invariants of the engine's property tests extended to option books.
@Suite struct OptionsPropertyTests {
    /// The at-risk index (zero-width bands for option and portfolio accounts, option marks
    /// re-evaluating holders) finds exactly what a full rescan finds: the same events, byte for
    /// byte, and the same state hash; money is conserved at every command; the engine's debug
    /// invariants hold (they run inside `apply` in test builds).
    @Test(.shrinking(false)) func indexEqualsFullRescanWithOptions() async {
        let checked = Counter()
        await propertyCheck(count: 8, input: Gen.uint64()) { seed in
            var fast = RandomOptionBook.engine(seed: seed, accounts: 8, fullRescan: false)
            var oracle = RandomOptionBook.engine(seed: seed, accounts: 8, fullRescan: true)
            for command in RandomOptionBook.commands(seed: seed, engine: fast, count: 150, expire: seed % 2 == 0) {
                let a = fast.apply(command).map(\.json)
                let b = oracle.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
                #expect(conserved(fast), "seed \(seed) after \(command)")
                EngineFuzzer.checkInvariants(fast)
            }
            #expect(fast.stateHash() == oracle.stateHash())
            let options = fast.state.accounts.filter { r in r.account.positions.contains { fast.state.market.instruments[$0.instrument].kind.contractName == "option" } }.count
            checked.add(options)
        }
        #expect(checked.value > 0, "no random book held an option")
    }

    /// Determinism: the same commands give the same events and state hash.
    @Test(.shrinking(false)) func deterministicWithOptions() async {
        await propertyCheck(count: 4, input: Gen.uint64()) { seed in
            var one = RandomOptionBook.engine(seed: seed, accounts: 6, fullRescan: false)
            var two = RandomOptionBook.engine(seed: seed, accounts: 6, fullRescan: false)
            for command in RandomOptionBook.commands(seed: seed, engine: one, count: 120, expire: true) {
                #expect(one.apply(command).map(\.json) == two.apply(command).map(\.json))
            }
            #expect(one.stateHash() == two.stateHash())
            // After expiry no option position or order is left.
            #expect(one.state.accounts.allSatisfy { r in r.account.positions.allSatisfy { one.state.market.instruments[$0.instrument].symbol == "BTCUSDT" } })
        }
    }

    /// Agreement: for every portfolio account of a random engine state with options, an
    /// `evaluate` document built from the state gives the pool numbers the engine reports.
    @Test(.shrinking(false)) func evaluateAgreesWithEngine() async throws {
        let compared = Counter()
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            var engine = RandomOptionBook.engine(seed: seed, accounts: 8, fullRescan: false)
            for command in RandomOptionBook.commands(seed: seed, engine: engine, count: 120) { _ = engine.apply(command) }
            for record in engine.state.accounts where record.isPortfolio && !record.account.positions.isEmpty {
                let mine = engine.evaluateAccount(record).cross
                guard let theirs = try? OptionBook.evaluatePool(OptionBook.evaluateDocument(engine, account: record.id)).pool else {
                    Issue.record("seed \(seed): evaluate refused the document of \(record.id)")
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

/// A counter shared by the cases of a property test (to check that it checked something).
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.lock(); count += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
