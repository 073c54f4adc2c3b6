import Foundation
public import SolventCore
public import SolventLab
public import SolventServer
import SolventRisk
import SolventEngine

/// The live demo (`solvent demo`): a seeded population of traders on the BTCUSDT perpetual,
/// opened over the first day of a real price window, then the window replayed bar by bar
/// through the journaled engine, so that warnings, margin calls, cures, liquidations, ADL and
/// the insurance fund play out as they would have (docs/service.md "The live demo").
public struct LiveDemo: Sendable {
    public let bars: [Bar]
    public let traders: [SyntheticTrader]
    /// Grace period of a margin call (engine time, ms).
    public static let gracePeriodMs: Int64 = 2 * 3_600_000
    /// Insurance fund at the start (USDT).
    public static let insuranceFund = "250000"
    /// Share of a bar's volume quoted within ±2 % of the price (liquidation depth).
    public static let depthFraction = 0.002
    public static let feeRate = FixedDecimal("0.0004")!
    public static let symbol = "BTCUSDT"

    /// `accounts` traders (seed `seed`), opening during the first 24 bars, holding for days.
    public init(bars: [Bar], accounts: Int, seed: UInt64 = 20200312) {
        precondition(bars.count >= 48, "the demo needs at least 48 bars")
        self.bars = bars
        let barMs = max(60_000, bars[1].time - bars[0].time)
        traders = TraderPopulation.generate(count: accounts, bars: bars.count, barMs: barMs, gracePeriodMs: Self.gracePeriodMs, seed: seed,
                                            responsiveShare: 0.5, meanHoldingHours: 240).map { trader in
            var t = trader
            // Open within the first day so the crash finds them in the market; keep the holding time.
            t.openBar = trader.openBar % 24
            // Holding past the window's end: still open when the replay stops (the dashboard keeps them).
            t.closeBar = trader.closeBar >= bars.count - 1 ? .max : t.openBar + (trader.closeBar - trader.openBar)
            return t
        }
    }

    /// The genesis scenario: USDT and BTC, the BTCUSDT perpetual with Binance-like tiers, the
    /// first bar's open as mark, the fund, a grace period, staleness allowing hourly bars. Built
    /// as the scenario document the journal stores (docs/scenarios.md), never as text.
    public func genesis() -> JSONValue {
        func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(members.map { (key: $0.0, value: $0.1) }) }
        func decimal(_ value: FixedDecimal) -> JSONValue { .string(value.description) }
        let open = decimal(bars[0].open)
        let tiers = Backtest.staticTiers.brackets.map {
            object([("notional_floor", decimal($0.notionalFloor)), ("notional_cap", decimal($0.notionalCap)),
                    ("max_leverage", decimal($0.maxLeverage)), ("mmr", decimal($0.maintenanceMarginRate))])
        }
        let first = Timestamp.formatISO8601(bars[0].time), last = Timestamp.formatISO8601(bars[bars.count - 1].time)
        return object([
            ("description", .string("solvent demo: \(traders.count) traders on \(Self.symbol), \(first) to \(last)")),
            ("start", object([
                ("time", .string(first)),
                ("policy", object([("warning_ratio", .string("0.5")), ("call_ratio", .string("0.7")), ("restore_ratio", .string("0.5"))])),
                ("assets", object([("USDT", .string("1")), ("BTC", open)])),
                ("haircuts", object([("BTC", .string("0.05"))])),
                ("instruments", .array([object([("symbol", .string(Self.symbol)), ("kind", .string("linear_perpetual")), ("base", .string("BTC")),
                                                ("settle", .string("USDT")), ("contract_size", .string("1")), ("brackets", .array(tiers))])])),
                ("marks", object([(Self.symbol, open)])),
                ("accounts", .array([])),
            ])),
            ("parameters", object([("preset", .string("exchange")), ("grace_period_ms", .number(String(Self.gracePeriodMs))),
                                   ("mark_staleness_ms", .number(String(4 * 3_600_000))), ("oracle_divergence_limit", .string("0.25"))])),
            ("insurance_fund", object([("USDT", .string(Self.insuranceFund))])),
            ("commands", .array([])),
        ])
    }

    /// Progress of a replay: bars done, and the last bar's time.
    public typealias Progress = @Sendable (_ bar: Int, _ of: Int, _ time: Int64) async -> Void

    /// Replays the window through `engine`: per bar ten price points (open, the nearer extreme,
    /// the other, close, and points between them), each a book, an index and a mark; traders open and close
    /// on schedule, and responsive ones answer margin calls after their delay.
    /// `barsPerSecond` paces it in wall-clock time (nil: as fast as the engine goes).
    /// Returns the number of events of each kind the replay produced.
    @discardableResult
    public func run(engine: EngineService, metrics: ServiceMetrics? = nil, barsPerSecond: Double?, progress: Progress? = nil) async throws -> [String: Int] {
        // The replay's commands carry their own (historical) times: commands sent through the API
        // meanwhile are stamped with the engine's current time, not the wall clock.
        await engine.use(clock: .engineTime)
        return try await run(transport: EngineTransport(engine: engine, metrics: metrics), barsPerSecond: barsPerSecond, progress: progress)
    }

    /// The replay through `transport` (the in-process engine, or a cluster's leader over HTTP).
    @discardableResult
    public func run<Transport: DemoTransport>(transport: Transport, barsPerSecond: Double?, progress: Progress? = nil) async throws -> [String: Int] {
        var opening = [[Int]](repeating: [], count: bars.count)
        var closing = [[Int]](repeating: [], count: bars.count)
        for (k, t) in traders.enumerated() {
            opening[t.openBar].append(k)
            if t.closeBar < bars.count { closing[t.closeBar].append(k) }
        }
        let replay = Replay(transport: transport, traders: traders)
        let barMs = max(60_000, bars[1].time - bars[0].time)
        let pause = barsPerSecond.map { Duration.seconds(1 / (Double(Self.pointsPerBar) * $0)) }

        for (b, bar) in bars.enumerated() {
            let path = Self.path(bar)
            let volume = DoubleBoundary.double(bar.volume)
            for (p, price) in path.enumerated() {
                let time = bar.time + Int64(p) * (barMs / Int64(path.count))
                while let first = replay.scheduled.first, first.time <= time {
                    replay.scheduled.removeFirst()
                    try await replay.submit([.deposit(account: first.account, asset: "USDT", amount: first.amount, settle: nil)], at: first.time)
                }
                let levels = SyntheticBook.levels(around: price, depth: max(0.01, volume * Self.depthFraction), rounding: .toNearestOrAwayFromZero)
                // One price point is one journal transaction (group commit): its book, index and mark.
                try await replay.submit([.book(symbol: Self.symbol, bids: levels.bids, asks: levels.asks),
                                         .indexPrice(symbol: Self.symbol, price: price, sourceTime: time),
                                         .markPrice(symbol: Self.symbol, price: price, sourceTime: time)], at: time)
                if p == 0 {
                    for k in opening[b] { try await replay.submit(openingCommands(traders[k], at: price), at: time) }
                }
                if p == path.count - 1 {
                    for k in closing[b] {
                        let side = traders[k].side > 0 ? 1 : -1
                        let text = try await transport.positionQuantity(account: traders[k].id, symbol: Self.symbol, side: side, mark: price.description)
                        let quantity = text.flatMap { FixedDecimal($0) } ?? .zero
                        if quantity.isZero { continue }
                        let fee = (quantity.magnitude * price * Self.feeRate).rounded(toDigits: 8, rule: .up)
                        try await replay.submit([.fill(account: traders[k].id, symbol: Self.symbol, quantity: -quantity, price: price, fee: fee, orderID: nil)], at: time)
                    }
                }
                if let pause { try await Task.sleep(for: pause) }
            }
            await progress?(b + 1, bars.count, bar.time)
        }
        return replay.tally
    }

    /// A replay's running state: the event tally, the cures responsive traders scheduled, the key serial.
    final class Replay<Transport: DemoTransport> {
        let transport: Transport
        let traders: [SyntheticTrader]
        let index: [String: Int]
        var tally: [String: Int] = [:]
        var scheduled: [(time: Int64, account: String, amount: FixedDecimal)] = []
        var serial = 0

        init(transport: Transport, traders: [SyntheticTrader]) {
            self.transport = transport
            self.traders = traders
            index = Dictionary(uniqueKeysWithValues: traders.enumerated().map { ($1.id, $0) })
        }

        /// Sends `commands` at `time` (the replay's own times; keys demo-1, demo-2, …), tallies their
        /// events, and schedules a responsive trader's cure of each margin call after its delay.
        func submit(_ commands: [EngineCommand], at time: Int64) async throws {
            let timed = commands.map { command -> TimedCommand in
                serial += 1
                return TimedCommand(time: time, command: command, key: "demo-\(serial)")
            }
            let outcomes = try await transport.submit(timed)
            for outcome in outcomes {
                for kind in outcome.kinds { tally[kind, default: 0] += 1 }
                for call in outcome.marginCalls {
                    guard let k = index[call.account], traders[k].responsive, call.amount.isPositive else { continue }
                    let deposit = (call.amount * FixedDecimal("1.1")!).rounded(toDigits: 2, rule: .up)
                    scheduled.append((call.time + traders[k].cureDelayMs, call.account, deposit))
                    scheduled.sort { $0.time < $1.time }
                }
            }
        }
    }

    /// Price points per bar: open, the nearer extreme, the other extreme, close, with
    /// `segmentSteps − 1` linearly interpolated points inside each of the three legs.
    public static let segmentSteps = 3
    public static var pointsPerBar: Int { 3 * segmentSteps + 1 }

    /// The intrabar path of a bar (the backtest's four points, made gradual).
    static func path(_ bar: Bar) -> [FixedDecimal] {
        let up = bar.close >= bar.open
        let corners = [bar.open, up ? bar.low : bar.high, up ? bar.high : bar.low, bar.close]
        var points = [corners[0]]
        for leg in 0..<3 {
            let from = corners[leg], to = corners[leg + 1]
            for step in 1...segmentSteps {
                points.append((from + (to - from) * FixedDecimal(step) / FixedDecimal(segmentSteps)).rounded(toDigits: 2))
            }
        }
        return points
    }

    /// A trader's opening: collateral (IM × (1 + buffer), the leverage capped by the bracket), leverage, the fill.
    func openingCommands(_ trader: SyntheticTrader, at price: FixedDecimal) -> [EngineCommand] {
        let quantity = FixedDecimal(raw: Int128((trader.notional / DoubleBoundary.double(price) * 1000).rounded()) * 1_000_000_000_000_000)
        guard quantity.isPositive else { return [] }
        let notional = quantity * price
        let brackets = Backtest.staticTiers
        let cap = brackets.brackets[brackets.index(forNotional: notional)].maxLeverage
        let leverage = FixedDecimal.minimum(FixedDecimal(trader.leverage), cap)
        let collateral = (notional / leverage * DoubleBoundary.decimal(1 + trader.buffer)!).rounded(toDigits: 2, rule: .up) + FixedDecimal(1)
        let fee = (notional * Self.feeRate).rounded(toDigits: 8, rule: .up)
        return [.deposit(account: trader.id, asset: "USDT", amount: collateral, settle: nil),
                .setLeverage(account: trader.id, symbol: Self.symbol, leverage: leverage),
                .fill(account: trader.id, symbol: Self.symbol, quantity: trader.side > 0 ? quantity : -quantity, price: price, fee: fee, orderID: nil)]
    }
}
