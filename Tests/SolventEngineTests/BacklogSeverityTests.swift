@_spi(Internals) import PropertyBased
import SolventCore
@testable import SolventEngine
import SolventTestSupport
import Testing

/// The liquidation backlog's severities are kept across commands (BacklogSeverities.swift):
/// a long backlog (a large share of the accounts crossing on one move, two steps per command)
/// worked over many commands, with commands between that change the severities' inputs —
/// deposits, fills, withdrawals into backlog accounts, marks of a second instrument held
/// isolated (a pool outside the liquidation, whose band is not crossed), the BTC collateral's
/// price, small BTC moves, books, ticks. The drain must take the accounts in the order of the
/// reference scan with fresh evaluations (`referenceLiquidationOrder`): the same events byte
/// for byte and the same state hash after every command. In debug builds every kept severity
/// the drain uses is also checked against a fresh evaluation (the memo's invariant).
@Suite struct BacklogSeverityTests {
    static let usdt = 0, btc = 1
    static let btcPerp = 0, ethPerp = 1

    static func market() -> Market {
        let btcBrackets = try! BracketTable(rows: [.init(floor: 0, cap: 50_000, maxLeverage: 50, mmr: FixedDecimal("0.01")!),
                                                   .init(floor: 50_000, cap: 100_000_000, maxLeverage: 20, mmr: FixedDecimal("0.025")!)])
        let ethBrackets = try! BracketTable(rows: [.init(floor: 0, cap: 100_000_000, maxLeverage: 50, mmr: FixedDecimal("0.01")!)])
        return Market(assets: [Asset(symbol: "USDT", price: 1, haircut: 0), Asset(symbol: "BTC", price: 50_000, haircut: FixedDecimal("0.1")!)],
                      instruments: [Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: 1, brackets: btcBrackets),
                                    Instrument(symbol: "ETHUSDT", kind: .perpetual(.linear), base: "ETH", settle: "USDT", contractSize: 1, brackets: ethBrackets)],
                      marks: [50_000, 3_000])
    }

    /// `count` accounts long BTCUSDT in cross with 3–12 % of the notional as margin; a third
    /// also hold BTC collateral, a third an isolated ETHUSDT position, some an ETH position in cross.
    static func engine(seed: UInt64, count: Int, reference: Bool) -> Engine {
        var rng = SplitMix64(seed: seed)
        var parameters = EngineParameters.exchange
        parameters.liquidationStepsPerCommand = 2
        parameters.backstopEnabled = true
        parameters.markStalenessMs = 86_400_000
        parameters.oracleDivergenceLimit = FixedDecimal("0.5")!
        var engine = Engine(market: market(), parameters: parameters)
        engine.referenceLiquidationOrder = reference
        for n in 0..<count {
            let quantity = RandomBook.decimal(0.2, 3, digits: 3, using: &rng)
            let margin = (quantity * 50_000 * RandomBook.decimal(0.03, 0.12, digits: 4, using: &rng)).rounded(toDigits: 2)
            var collateral = [CollateralBalance(asset: usdt, amount: margin)]
            var positions = [Position(instrument: btcPerp, quantity: quantity, entryPrice: 50_000, leverage: nil, marginMode: .cross)]
            switch n % 3 {
            case 0: collateral.append(CollateralBalance(asset: btc, amount: RandomBook.decimal(0.001, 0.05, digits: 4, using: &rng)))
            case 1:
                let q = RandomBook.decimal(-20, 20, digits: 2, using: &rng)
                positions.append(Position(instrument: ethPerp, quantity: q.isZero ? 1 : q, entryPrice: 3_000, leverage: nil,
                                          marginMode: .isolated(margin: (q.magnitude * 3_000 * FixedDecimal("0.2")!).rounded(toDigits: 2) + 10)))
            default:
                if Bool.random(using: &rng) {
                    let q = RandomBook.decimal(-5, 5, digits: 2, using: &rng) + FixedDecimal("0.01")!  // a draw of −0.01 would open nothing
                    positions.append(Position(instrument: ethPerp, quantity: q.isZero ? 1 : q,
                                              entryPrice: 3_000, leverage: nil, marginMode: .cross))
                }
            }
            try! engine.openAccount(Account(id: "a\(n)", settle: usdt, collateral: collateral, positions: positions))
        }
        return engine
    }

    /// A drop of 8–11 % on BTCUSDT, then `count` commands of every kind that changes a severity's inputs.
    static func commands(seed: UInt64, accounts: Int, count: Int) -> [TimedCommand] {
        var rng = SplitMix64(seed: seed &+ 99)
        var time: Int64 = 1_000
        var btcMark = (FixedDecimal(50_000) * (1 - RandomBook.decimal(0.08, 0.11, digits: 4, using: &rng))).rounded(toDigits: 2)
        var ethMark: FixedDecimal = 3_000
        var commands = [TimedCommand(time: time, command: .indexPrice(symbol: "BTCUSDT", price: btcMark, sourceTime: time)),
                        TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: btcMark, sourceTime: time))]
        for n in 0..<count {
            time += Int64.random(in: 1...2_000, using: &rng)
            let account = "a\(Int.random(in: 0..<accounts, using: &rng))"
            let command: EngineCommand
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                btcMark = (btcMark * RandomBook.decimal(0.995, 1.005, digits: 4, using: &rng)).rounded(toDigits: 2)
                command = .markPrice(symbol: "BTCUSDT", price: btcMark, sourceTime: time)
            case 1, 2:
                ethMark = (ethMark * RandomBook.decimal(0.97, 1.03, digits: 4, using: &rng)).rounded(toDigits: 2)
                command = .markPrice(symbol: "ETHUSDT", price: ethMark, sourceTime: time)
            case 3: command = .assetPrice(asset: "BTC", price: (btcMark * RandomBook.decimal(0.98, 1.02, digits: 4, using: &rng)).rounded(toDigits: 2))
            case 4: command = .deposit(account: account, asset: "USDT", amount: RandomBook.decimal(1, 3_000, digits: 2, using: &rng), settle: nil)
            case 5: command = .withdraw(account: account, asset: "USDT", amount: RandomBook.decimal(1, 500, digits: 2, using: &rng))
            case 6:
                command = .fill(account: account, symbol: "ETHUSDT", quantity: RandomBook.decimal(-1, 1, digits: 2, using: &rng) + FixedDecimal("0.01")!,
                                price: ethMark, fee: 1, orderID: nil)
            case 7:
                let bids = (1...3).map { k in BookLevel(price: (btcMark * (1 - FixedDecimal(k) * FixedDecimal("0.001")!)).rounded(toDigits: 2),
                                                         quantity: RandomBook.decimal(0.1, 2, digits: 3, using: &rng)) }
                let asks = (1...3).map { k in BookLevel(price: (btcMark * (1 + FixedDecimal(k) * FixedDecimal("0.001")!)).rounded(toDigits: 2),
                                                         quantity: RandomBook.decimal(0.1, 2, digits: 3, using: &rng)) }
                command = .book(symbol: "BTCUSDT", bids: bids, asks: asks)
            case 8: command = .indexPrice(symbol: "BTCUSDT", price: btcMark, sourceTime: time)
            default: command = n % 2 == 0 ? .tick : .placeOrder(id: "o\(n)", account: account, symbol: "ETHUSDT", quantity: 1, price: ethMark, reduceOnly: false)
            }
            commands.append(TimedCommand(time: time, command: command))
        }
        return commands
    }

    @Test(.shrinking(false)) func keptSeveritiesGiveTheScanOrder() async {
        let longBacklogCommands = Counter(), stepsOnLongBacklog = Counter(), keptUsed = Counter()
        await propertyCheck(count: 5, input: Gen.uint64()) { seed in
            var fast = Self.engine(seed: seed, count: 48, reference: false)
            var reference = Self.engine(seed: seed, count: 48, reference: true)
            for command in Self.commands(seed: seed, accounts: 48, count: 90) {
                let backlog = fast.state.backlog.count
                let a = fast.apply(command).map(\.json)
                let b = reference.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
                if backlog >= 8 {
                    longBacklogCommands.add(1)
                    stepsOnLongBacklog.add(a.filter { $0.contains("\"liquidation_fill\"") }.count)
                }
            }
            #expect(fast.stateHash() == reference.stateHash(), "seed \(seed)")
            keptUsed.add(fast.severities.used)
        }
        // The case the memo is for was reached: commands that found a long backlog and stepped it.
        #expect(longBacklogCommands.value > 0)
        #expect(stepsOnLongBacklog.value > 0)
        // …and the drain ranked accounts by kept severities (each one checked against a fresh evaluation in debug builds).
        #expect(keptUsed.value > 0)
    }
}
