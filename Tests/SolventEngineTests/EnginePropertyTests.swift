@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventTestSupport
import Testing

@Suite struct EnginePropertyTests {
    /// Money is conserved by every command: per asset, opening + deposited − withdrawn =
    /// balances + insurance fund + fees + external, exactly, after every command.
    @Test(.shrinking(false)) func conservationOfMoney() async {
        await propertyCheck(count: 10, input: Gen.uint64()) { seed in
            var engine = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            #expect(conserved(engine))
            for command in randomCommands(seed: seed, engine: engine, count: 100) {
                _ = engine.apply(command)
                #expect(conserved(engine), "seed \(seed) after \(command)")
            }
        }
    }

    /// The at-risk index finds exactly what a full rescan finds: the same events, byte
    /// for byte, and the same state hash, at every step of random books and price paths.
    @Test(.shrinking(false)) func indexEqualsFullRescan() async {
        await propertyCheck(count: 10, input: Gen.uint64()) { seed in
            let parameters = mixedParameters(seed)
            var fast = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: parameters)
            var oracle = randomEngine(seed: seed, accounts: 12, fullRescan: true, parameters: parameters)
            for command in randomCommands(seed: seed, engine: fast, count: 100) {
                let a = fast.apply(command).map(\.json)
                let b = oracle.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
            }
            #expect(fast.stateHash() == oracle.stateHash())
        }
    }

    /// The heap of the liquidation drain takes accounts in exactly the order of a scan of the
    /// whole backlog at every step: the same events, byte for byte, and the same state hash.
    @Test(.shrinking(false)) func liquidationHeapEqualsBacklogScan() async {
        await propertyCheck(count: 16, input: Gen.uint64()) { seed in
            let parameters = mixedParameters(seed)
            var fast = randomEngine(seed: seed, accounts: 24, fullRescan: false, parameters: parameters)
            var reference = randomEngine(seed: seed, accounts: 24, fullRescan: false, parameters: parameters)
            reference.referenceLiquidationOrder = true
            for command in randomCommands(seed: seed, engine: fast, count: 150) {
                let a = fast.apply(command).map(\.json)
                let b = reference.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
            }
            #expect(fast.stateHash() == reference.stateHash())
        }
    }

    /// The same commands give byte-identical events and the same state hash.
    @Test(.shrinking(false)) func determinism() async {
        await propertyCheck(count: 4, input: Gen.uint64()) { seed in
            var first = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            var second = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            let commands = randomCommands(seed: seed, engine: first, count: 40)
            let a = commands.flatMap { first.apply($0) }.map(\.json)
            let b = commands.flatMap { second.apply($0) }.map(\.json)
            #expect(a == b)
            #expect(first.stateHash() == second.stateHash())
        }
    }

    /// A rejected command changes no account, order or total (only engine time and the command count).
    @Test func rejectionChangesNothing() async {
        await propertyCheck(count: 20, input: Gen.int64(in: 1...1_000_000)) { cents in
            var rng = SplitMix64(seed: UInt64(cents))
            let market = RandomBook.market(using: &rng)
            var engine = Engine(market: market)
            _ = engine.apply(TimedCommand(time: 1, command: .deposit(account: "a", asset: "USDT", amount: FixedDecimal(raw: Int128(cents) * 10_000_000_000_000_000), settle: nil)))
            let before = (engine.state.accounts, engine.state.orders, engine.state.totals)
            let tooMuch = FixedDecimal(raw: Int128(cents + 1) * 10_000_000_000_000_000)
            let events = engine.apply(TimedCommand(time: 2, command: .withdraw(account: "a", asset: "USDT", amount: tooMuch)))
            #expect(events.first?.kind == .rejected)
            #expect(engine.state.accounts == before.0 && engine.state.orders == before.1 && engine.state.totals == before.2)
        }
    }
}

@Suite struct RestoreTests {
    /// A state encoded and decoded (a snapshot) restores to the same hash, and the restored
    /// engine answers the following commands with byte-identical events.
    @Test(.shrinking(false)) func restoreIsEquivalent() async {
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            var original = randomEngine(seed: seed, accounts: 10, fullRescan: false, parameters: mixedParameters(seed))
            let commands = randomCommands(seed: seed, engine: original, count: 120)
            for command in commands.prefix(60) { _ = original.apply(command) }
            let data = try! JSONEncoder().encode(original.state)
            var restored = Engine(restoring: try! JSONDecoder().decode(EngineState.self, from: data))
            #expect(restored.stateHash() == original.stateHash())
            for command in commands.dropFirst(60) {
                #expect(restored.apply(command).map(\.json) == original.apply(command).map(\.json), "seed \(seed)")
            }
            #expect(restored.stateHash() == original.stateHash())
        }
    }
}

/// An isolated liquidation on a random book: account `iso` holds one isolated BTCUSDT
/// position (random side, size, margin) and a cross wallet with no cross position; `cp`
/// holds the opposite side in cross with a large wallet (the ADL counterparty); a random
/// fund, ADL on or off; then index, book and mark move to a random price (±12 %).
func isolatedLiquidationCase(seed: UInt64) -> (engine: Engine, commands: [TimedCommand]) {
    var rng = SplitMix64(seed: seed)
    var market = btcMarket([.init(floor: 0, cap: 100_000_000, maxLeverage: 100, mmr: dec("0.01"))])
    market.marks = [dec("50000")]
    var parameters = EngineParameters.exchange
    parameters.markStalenessMs = 86_400_000
    parameters.oracleDivergenceLimit = dec("0.2")
    parameters.adlEnabled = Bool.random(using: &rng)
    parameters.socializeOver = Bool.random(using: &rng) ? .profitable : .all
    parameters.backstopEnabled = Int.random(in: 0..<4, using: &rng) == 0
    var engine = Engine(market: market, parameters: parameters)
    let side: FixedDecimal = Bool.random(using: &rng) ? 1 : -1
    let size = RandomBook.decimal(0.1, 3, digits: 3, using: &rng)
    let margin = (size * 50_000 * RandomBook.decimal(0.011, 0.12, digits: 4, using: &rng)).rounded(toDigits: 2)
    let wallet = RandomBook.decimal(0, 20_000, digits: 2, using: &rng)
    try! engine.openAccount(Account(id: "iso", settle: 0, collateral: [CollateralBalance(asset: 0, amount: wallet)],
                                    positions: [Position(instrument: 0, quantity: side * size, entryPrice: 50_000, leverage: 50, marginMode: .isolated(margin: margin))]))
    let theirs = RandomBook.decimal(0.1, 4, digits: 3, using: &rng)
    try! engine.openAccount(Account(id: "cp", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1_000_000)],
                                    positions: [Position(instrument: 0, quantity: -side * theirs, entryPrice: RandomBook.decimal(45_000, 55_000, digits: 0, using: &rng),
                                                         leverage: 5, marginMode: .cross)]))
    engine.fundInsurance(asset: 0, amount: RandomBook.decimal(0, 3_000, digits: 2, using: &rng))
    let price = (dec("50000") * RandomBook.decimal(0.88, 1.12, digits: 4, using: &rng)).rounded(toDigits: 1)
    var bids: [BookLevel] = [], asks: [BookLevel] = []
    for k in 1...Int.random(in: 1...4, using: &rng) {
        let step = price * dec("0.003") * FixedDecimal(k)
        bids.append(BookLevel(price: (price - step).rounded(toDigits: 1), quantity: RandomBook.decimal(0.05, 2, digits: 3, using: &rng)))
        asks.append(BookLevel(price: (price + step).rounded(toDigits: 1), quantity: RandomBook.decimal(0.05, 2, digits: 3, using: &rng)))
    }
    let commands = [TimedCommand(time: 1_000, command: .indexPrice(symbol: "BTCUSDT", price: price, sourceTime: 1_000)),
                    TimedCommand(time: 2_000, command: .book(symbol: "BTCUSDT", bids: bids, asks: asks)),
                    TimedCommand(time: 3_000, command: .markPrice(symbol: "BTCUSDT", price: price, sourceTime: 3_000)),
                    TimedCommand(time: 4_000, command: .tick), TimedCommand(time: 5_000, command: .tick)]
    return (engine, commands)
}

@Suite struct EngineInvariantTests {
    /// An isolated pool never moves the cross wallet except by its own surplus: the wallet of
    /// an account with no cross position never falls, stays put while the isolated position is
    /// open, and on the close rises by exactly the pool's surplus after the fee (margin +
    /// realized PnL − fee) or by nothing when the pool ended in deficit. The liquidation fee
    /// never exceeds the pool's surplus (and there is none on a deficit); the insurance fund is
    /// never negative. The pool's realized PnL is recovered independently from the external
    /// (clearing) total: Δexternal = −realized(iso) − Σ realized(ADL counterparty) − bad debt(iso).
    @Test(.shrinking(false)) func isolatedPoolNeverMovesCrossWalletAndFeeWithinSurplus() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var (engine, commands) = isolatedLiquidationCase(seed: seed)
            for command in commands {
                let a = engine.state.accountIndex["iso"]!
                let walletBefore = engine.state.accounts[a].balance(0)
                let marginBefore: FixedDecimal? = engine.state.accounts[a].account.positions.first.flatMap {
                    if case .isolated(let m) = $0.marginMode { return m } else { return nil }
                }
                let externalBefore = engine.state.totals[0].external
                let events = engine.apply(command)
                let walletAfter = engine.state.accounts[a].balance(0)
                #expect(!engine.state.totals[0].insuranceFund.isNegative, "seed \(seed)")
                #expect(walletAfter >= walletBefore, "seed \(seed): the cross wallet fell")
                let fees = events.filter { $0.kind == .insuranceFundContribution && $0.account == "iso" }.reduce(FixedDecimal.zero) { $0 + $1.decimal("amount")! }
                let notional = events.filter { $0.kind == .liquidationFill && $0.account == "iso" }
                    .reduce(FixedDecimal.zero) { $0 + $1.decimal("quantity")!.magnitude * $1.decimal("price")! }
                #expect(fees <= notional * engine.state.parameters.liquidationFeeRate, "seed \(seed)")
                guard let marginBefore else { continue }
                if !engine.state.accounts[a].account.positions.isEmpty {
                    #expect(walletAfter == walletBefore, "seed \(seed): an open isolated pool moved the wallet")
                    continue
                }
                let counterpartyRealized = events.filter { $0.kind == .autoDeleveraged }.reduce(FixedDecimal.zero) { $0 + $1.decimal("realized_pnl")! }
                let badDebt = events.filter { $0.kind == .badDebt && $0.account == "iso" }.reduce(FixedDecimal.zero) { $0 + $1.decimal("amount")! }
                let realized = -((engine.state.totals[0].external - externalBefore).value!) - counterpartyRealized - badDebt
                let surplus = marginBefore + realized
                #expect(fees <= FixedDecimal.maximum(.zero, surplus), "seed \(seed): fee \(fees) above surplus \(surplus)")
                #expect(walletAfter - walletBefore == FixedDecimal.maximum(.zero, surplus - fees), "seed \(seed)")
                if surplus.isNegative {
                    let covered = events.filter { ($0.kind == .insuranceFundDraw && $0.account == "iso") || $0.kind == .socializedLoss }
                        .reduce(FixedDecimal.zero) { $0 + $1.decimal("amount")! }
                    #expect(covered + badDebt == -surplus, "seed \(seed): the deficit is covered by fund, socialization and bad debt")
                }
            }
            #expect(conserved(engine), "seed \(seed)")
        }
    }

    /// ADL only reduces positions opposite to the bankrupt side in the same instrument (never
    /// flips or opens one), and the insurance fund is never negative, over random books and
    /// price paths (all waterfall paths) and the isolated liquidation cases.
    @Test(.shrinking(false)) func adlOnlyReducesOppositePositionsOfTheInstrument() async {
        await propertyCheck(count: 24, input: Gen.uint64()) { seed in
            var engine: Engine
            var commands: [TimedCommand]
            if seed % 2 == 0 {
                engine = randomEngine(seed: seed, accounts: 16, fullRescan: false, parameters: mixedParameters(seed))
                commands = randomCommands(seed: seed, engine: engine, count: 120)
            } else {
                (engine, commands) = isolatedLiquidationCase(seed: seed)
            }
            for command in commands {
                // Positions as the events move them through the command (fills, liquidation fills,
                // ADL), so each ADL is checked against the positions at that moment.
                var positions: [String: [String: FixedDecimal]] = [:]
                for record in engine.state.accounts {
                    for p in record.account.positions { positions[record.id, default: [:]][engine.state.market.instruments[p.instrument].symbol] = p.quantity }
                }
                let events = engine.apply(command)
                #expect(!engine.state.market.assets.indices.contains { engine.state.totals[$0].insuranceFund.isNegative }, "seed \(seed)")
                for event in events {
                    guard let id = event.account, let symbol = event.text("symbol") else { continue }
                    switch event.kind {
                    case .filled: positions[id, default: [:]][symbol] = event.decimal("position")!
                    case .liquidationFill: positions[id, default: [:]][symbol, default: .zero] += event.decimal("quantity")!
                    case .autoDeleveraged:
                        let bankrupt = event.text("bankrupt_account")!
                        let q = event.decimal("quantity")!
                        let theirs = positions[id]?[symbol] ?? .zero
                        let bankruptSide = positions[bankrupt]?[symbol] ?? .zero
                        #expect(bankruptSide.signum == q.signum && theirs.signum == -q.signum, "seed \(seed): ADL of a position not opposite the bankrupt side")
                        #expect(q.magnitude <= theirs.magnitude && q.magnitude <= bankruptSide.magnitude, "seed \(seed): ADL took more than a position")
                        positions[id, default: [:]][symbol] = theirs + q
                        positions[bankrupt, default: [:]][symbol] = bankruptSide - q
                    default: break
                    }
                }
                for record in engine.state.accounts {
                    for p in record.account.positions {
                        #expect(positions[record.id]?[engine.state.market.instruments[p.instrument].symbol] == p.quantity, "seed \(seed): positions as the events tell")
                    }
                }
            }
        }
    }

    /// Reduce-only never increases |position| nor flips it: over random reduce-only orders,
    /// fills on them (often larger than the position), fills without an order id and marks,
    /// every fill on a reduce-only order leaves |position| no larger and on the same side (or
    /// zero), and resting reduce-only orders are always opposite the position and total at most
    /// |position| (none rest on a flat position).
    @Test(.shrinking(false)) func reduceOnlyNeverIncreasesNorFlips() async {
        await propertyCheck(count: 100, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var engine = Engine(market: btcMarket([.init(floor: 0, cap: 100_000_000, maxLeverage: 100, mmr: dec("0.005"))]),
                                parameters: { var p = EngineParameters.exchange; p.markStalenessMs = 86_400_000; return p }())
            let start = RandomBook.decimal(-3, 3, digits: 2, using: &rng)
            try! engine.openAccount(Account(id: "u", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1_000_000)],
                                            positions: start.isZero ? [] : [Position(instrument: 0, quantity: start, entryPrice: 50_000, leverage: 10, marginMode: .cross)]))
            var time: Int64 = 1
            var ids: [String] = []
            for n in 0..<60 {
                time += 1_000
                let command: EngineCommand
                switch Int.random(in: 0..<10, using: &rng) {
                case 0...3:
                    ids.append("o\(n)")
                    command = .placeOrder(id: "o\(n)", account: "u", symbol: "BTCUSDT", quantity: nonZero(RandomBook.decimal(-2, 2, digits: 2, using: &rng)),
                                          price: 50_000, reduceOnly: true)
                case 4...6:
                    let id = ids.isEmpty ? nil : ids[Int.random(in: 0..<ids.count, using: &rng)]
                    let order = id.flatMap { engine.state.orders[$0] }
                    let size = RandomBook.decimal(0.01, 3, digits: 2, using: &rng)
                    command = .fill(account: "u", symbol: "BTCUSDT", quantity: order.map { $0.quantity.isNegative ? -size : size } ?? size,
                                    price: 50_000, fee: 0, orderID: order == nil ? nil : id)
                case 7, 8:
                    command = .fill(account: "u", symbol: "BTCUSDT", quantity: nonZero(RandomBook.decimal(-1, 1, digits: 2, using: &rng)), price: 50_000, fee: 0, orderID: nil)
                default:
                    command = .markPrice(symbol: "BTCUSDT", price: RandomBook.decimal(49_000, 51_000, digits: 0, using: &rng), sourceTime: time)
                }
                let before = engine.state.accounts[0].account.positions.first?.quantity ?? .zero
                let onReduceOnly: Bool
                if case .fill(_, _, _, _, _, let id?) = command, engine.state.orders[id]?.reduceOnly == true { onReduceOnly = true } else { onReduceOnly = false }
                _ = engine.apply(TimedCommand(time: time, command: command))
                let after = engine.state.accounts[0].account.positions.first?.quantity ?? .zero
                if onReduceOnly {
                    #expect(after.magnitude <= before.magnitude, "seed \(seed): a reduce-only fill increased the position")
                    #expect(after.isZero || after.signum == before.signum, "seed \(seed): a reduce-only fill flipped the position")
                }
                let resting = engine.state.orders.values.filter(\.reduceOnly)
                #expect(resting.allSatisfy { !after.isZero && $0.quantity.signum == -after.signum }, "seed \(seed)")
                #expect(resting.reduce(FixedDecimal.zero) { $0 + $1.quantity.magnitude } <= after.magnitude, "seed \(seed)")
            }
            #expect(conserved(engine))
        }
    }
}

private func nonZero(_ value: FixedDecimal) -> FixedDecimal { value.isZero ? dec("0.01") : value }
