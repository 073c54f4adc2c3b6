public import SolventCore
public import SolventEngine
import SolventRisk

/// Liquidation cascades (docs/lab.md): a book of leveraged traders, an initial price shock,
/// then rounds in which liquidations sell into a thin book, the price moves to where they
/// filled, and more accounts cross. Measured with and without the engine's controls.
public enum Cascade {
    /// Which controls are on.
    public enum Controls: String, Sendable, Hashable, CaseIterable {
        /// No throttle, a ±99 % band, no divergence breaker.
        case none
        /// A liquidation notional cap per minute.
        case throttle
        /// Liquidation fills only within ±2 % of the index.
        case band
        /// Liquidations pause while the mark is more than 3 % from the index.
        case breaker
        /// All of them.
        case all
    }

    public struct Config: Sendable {
        public var accounts = 5_000
        public var seed: UInt64 = 1
        public var price = FixedDecimal(10_000)
        /// Book depth within ±2 % of the mark (base units, BTC).
        public var depth = 150.0
        /// Share of the consumed depth restored each round (market makers return).
        public var resilience = 0.2
        /// Seconds between rounds.
        public var roundSeconds: Int64 = 1
        public var rounds = 300
        /// Opening insurance fund (USDT).
        public var insuranceFund = FixedDecimal(250_000)
        /// Notional cap per minute for `throttle`.
        public var throttleNotional = FixedDecimal(2_000_000)
        public init() {}
    }

    public struct Outcome: Sendable, Hashable {
        public var shock: Double
        public var controls: Controls
        /// Liquidated notional (USDT) and accounts liquidated.
        public var liquidatedNotional: Double
        public var liquidations: Int
        /// Final price move from the pre-shock price (negative = down), and its ratio to the shock.
        public var finalMove: Double
        public var amplification: Double
        public var rounds: Int
        public var fundLeft: Double
        public var fundUsed: Double
        public var adlEvents: Int
        public var socialized: Double
        public var badDebt: Double
        /// Accounts still waiting for liquidation when the simulation stopped (paused or throttled).
        public var backlog: Int
        public var fundBroke: Bool { adlEvents > 0 || socialized > 0 || badDebt > 0 }
    }

    /// The engine with every trader's position open at `config.price`.
    public static func book(_ config: Config) -> Engine {
        let instrument = Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: .one, brackets: Backtest.staticTiers)
        let market = Market(assets: [Asset(symbol: "USDT", price: .one, haircut: .zero), Asset(symbol: "BTC", price: config.price, haircut: FixedDecimal("0.05")!)],
                            instruments: [instrument], marks: [config.price])
        var engine = Engine(market: market, parameters: .exchange)
        engine.fundInsurance(asset: 0, amount: config.insuranceFund)
        for trader in TraderPopulation.generate(count: config.accounts, bars: 2, barMs: 3_600_000, gracePeriodMs: 0, seed: config.seed) {
            let quantity = FixedDecimal(raw: Int128((trader.notional / DoubleBoundary.double(config.price) * 1000).rounded()) * 1_000_000_000_000_000)
            guard quantity.isPositive else { continue }
            let notional = quantity * config.price
            let cap = Backtest.staticTiers.brackets[Backtest.staticTiers.index(forNotional: notional)].maxLeverage
            let leverage = FixedDecimal.minimum(FixedDecimal(trader.leverage), cap)
            let collateral = (notional / leverage * DoubleBoundary.decimal(1 + trader.buffer)!).rounded(toDigits: 2, rule: .up)
            let account = Account(id: trader.id, settle: 0, collateral: [CollateralBalance(asset: 0, amount: collateral)],
                                  positions: [Position(instrument: 0, quantity: trader.side > 0 ? quantity : -quantity, entryPrice: config.price,
                                                       leverage: leverage, marginMode: .cross)])
            try? engine.openAccount(account)
        }
        return engine
    }

    /// Runs one cascade from `start` (a copy; the book is not changed).
    public static func run(_ start: Engine, shock: Double, controls: Controls, config: Config) -> Outcome {
        var engine = start
        var parameters = engine.state.parameters
        parameters.priceBand = FixedDecimal("0.99")!
        parameters.oracleDivergenceLimit = FixedDecimal(1_000)
        parameters.indexMoveLimit = FixedDecimal(1_000)
        parameters.markStalenessMs = 3_600_000
        parameters.liquidationStepsPerCommand = 100_000
        parameters.liquidationNotionalCap = nil
        if controls == .throttle || controls == .all { parameters.liquidationNotionalCap = config.throttleNotional }
        if controls == .band || controls == .all { parameters.priceBand = FixedDecimal("0.02")! }
        if controls == .breaker || controls == .all { parameters.oracleDivergenceLimit = FixedDecimal("0.03")! }
        var time: Int64 = 1_700_000_000_000
        _ = engine.apply(TimedCommand(time: time, command: .changeParameters(ParameterChange(parameters: parameters), effectiveTime: time)))
        let p0 = DoubleBoundary.double(config.price)
        // The external index takes the shock; the cascade happens on this venue's book.
        let index = config.price * DoubleBoundary.decimal(1 - shock)!
        var price = index
        let fund0 = DoubleBoundary.double(engine.state.totals[0].insuranceFund)
        var outcome = Outcome(shock: shock, controls: controls, liquidatedNotional: 0, liquidations: 0, finalMove: 0, amplification: 0, rounds: 0,
                              fundLeft: fund0, fundUsed: 0, adlEvents: 0, socialized: 0, badDebt: 0, backlog: 0)
        var depthLeft = config.depth  // fraction of the baseline depth available, in BTC
        var quiet = 0
        for round in 0..<config.rounds {
            time += config.roundSeconds * 1000
            let levels = SyntheticBook.levels(around: price, depth: depthLeft, rounding: .down)
            _ = engine.apply(TimedCommand(time: time, command: .book(symbol: "BTCUSDT", bids: levels.bids, asks: levels.asks)))
            _ = engine.apply(TimedCommand(time: time, command: .indexPrice(symbol: "BTCUSDT", price: index, sourceTime: time)))
            let events = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: price, sourceTime: time)))
            var low: FixedDecimal? = nil, high: FixedDecimal? = nil
            var sold = 0.0
            for event in events {
                switch event.kind {
                case .liquidationStarted: outcome.liquidations += 1
                case .liquidationFill:
                    let q = DoubleBoundary.double(event.decimal("quantity") ?? .zero), p = event.decimal("price") ?? price
                    outcome.liquidatedNotional += abs(q) * DoubleBoundary.double(p)
                    if event.text("executor") == "depth" {
                        sold += abs(q)
                        if q < 0 { low = low.map { FixedDecimal.minimum($0, p) } ?? p } else { high = high.map { FixedDecimal.maximum($0, p) } ?? p }
                    }
                case .autoDeleveraged: outcome.adlEvents += 1
                case .socializedLoss: outcome.socialized += DoubleBoundary.double(event.decimal("amount") ?? .zero)
                case .badDebt: outcome.badDebt += DoubleBoundary.double(event.decimal("amount") ?? .zero)
                default: break
                }
            }
            outcome.rounds = round + 1
            // The price moves to where liquidations filled; depth is consumed, then partly restored.
            if let low { price = FixedDecimal.minimum(price, low) }
            if let high { price = FixedDecimal.maximum(price, high) }
            depthLeft = min(config.depth, max(0, depthLeft - sold) + config.resilience * config.depth)
            if sold == 0 && engine.state.backlog.isEmpty { quiet += 1 } else { quiet = 0 }
            if quiet >= 2 { break }
        }
        outcome.finalMove = DoubleBoundary.double(price) / p0 - 1
        outcome.amplification = shock > 0 ? -outcome.finalMove / shock : 0
        outcome.fundLeft = DoubleBoundary.double(engine.state.totals[0].insuranceFund)
        outcome.fundUsed = max(0, fund0 - outcome.fundLeft)
        outcome.backlog = engine.state.backlog.count
        return outcome
    }
}
