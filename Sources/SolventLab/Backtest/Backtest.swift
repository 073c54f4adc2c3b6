public import SolventCore
public import SolventEngine
public import SolventRisk

/// Settings of a backtest (docs/lab.md).
public struct BacktestConfig: Sendable {
    public var symbol = "BTCUSDT"
    public var accounts = 2_000
    public var seed: UInt64 = 1
    /// Time to cure a margin call (the engine's grace period).
    public var gracePeriodMs: Int64 = 30 * 60_000
    /// Opening insurance fund (USDT).
    public var insuranceFund = FixedDecimal(1_000_000)
    /// Book depth within ±2 % of the mark, as a fraction of the traded volume of the bar, or of
    /// the trailing hour (the bar included) when bars are shorter than an hour: resting depth is a
    /// stock, not a flow, so it does not shrink with the bar (docs/lab.md, "Book depth").
    public var depthFraction = 0.02
    /// Taker fee on the synthetic traders' fills.
    public var feeRate = 0.0004
    public var responsiveShare = 0.5
    public var meanHoldingHours = 72.0
    /// The dynamic models' policy.
    public var dynamicPolicy = DynamicMargin.Policy()
    /// Margin ratios are sampled once a day (an evaluation of every open account).
    public var sampleRatios = true
    /// How often the dynamic models' rates are re-set (ms): a day; the calibrated model every hour.
    public var rateUpdateMs: Int64 = 86_400_000
    public var calibratedUpdateMs: Int64 = 3_600_000
    /// Between daily re-sets, an hourly proposal is applied only when the first-bracket rate moved
    /// by more than this fraction (a venue does not churn its table for small changes).
    public var rateChangeThreshold = 0.1
    /// Name of the run in tables (default: the model's name), e.g. a frontier variant.
    public var label: String? = nil
    /// Static tiers scaled by this factor (frontier variants of the industry table).
    public var staticScale = 1.0
    /// Finer bars (e.g. one-minute) of the same market: every bar they cover completely is replayed
    /// along their own path (each fine bar open → nearer extreme → other extreme → close) instead
    /// of the bar's four synthetic marks. Depth stays the coarse bar's.
    public var fineBars: [Bar] = []
    /// Liquidation-engine latency: the engine sees the mark (and acts) once every `stepMs`, the
    /// latest price of the path at that moment; nil: at every point of the path.
    public var stepMs: Int64? = nil

    public init() {}
}

/// One day of a backtest.
public struct BacktestDay: Sendable, Hashable {
    /// Start of the day (ms).
    public var time: Int64
    public var close: Double
    public var low: Double
    public var high: Double
    public var liquidations: Int
    public var calls: Int
    public var cures: Int
    /// Shortfall beyond bankruptcy this day (fund draws + ADL + socialized + bad debt), USDT.
    public var shortfall: Double
    /// Insurance fund at the end of the day, USDT.
    public var fund: Double
    /// First-bracket maintenance rate in force at the end of the day.
    public var maintenanceRate: Double
    public var openAccounts: Int
    /// Median and 90th percentile margin ratio (MM / equity) of open accounts; 0 when none.
    public var medianRatio: Double
    public var p90Ratio: Double
}

/// What a backtest measured.
public struct BacktestResult: Sendable {
    public var model: MarginModel
    /// The run's name (the model's, or a frontier variant's).
    public var label = ""
    /// Highest first-bracket maintenance rate in force, and the lowest first-bracket leverage cap.
    public var peakMaintenanceRate = 0.0
    public var minimumMaxLeverage = 0.0
    /// Bars replayed along finer bars' path.
    public var fineCoveredBars = 0
    public var bars: Int
    public var accounts: Int
    /// Accounts that opened a position.
    public var traded: Int
    public var liquidations = 0
    public var liquidatedAccounts = 0
    /// Liquidated accounts whose liquidation caused no shortfall (closed before bankruptcy).
    public var cleanLiquidations = 0
    public var liquidatedNotional = 0.0
    public var calls = 0
    public var cures = 0
    public var fundDraws = 0.0
    public var fundContributions = 0.0
    public var adlEvents = 0
    public var adlCovered = 0.0
    public var socializedEvents = 0
    public var socialized = 0.0
    public var badDebt = 0.0
    public var minimumFund = 0.0
    public var finalFund = 0.0
    public var meanMaintenanceRate = 0.0
    public var rejectedOpens = 0
    public var days: [BacktestDay] = []
    /// Shortfall per liquidated account (USDT, > 0 only), for fund sizing.
    public var shortfalls: [Double] = []
    /// Cover-2 stress: the largest, over the days, of the two biggest stress losses of open
    /// accounts, a stress loss being `max(0, |q|·P·worst move against the side − equity)` with the
    /// history's worst 24-hour fall (longs) and rise (shorts). USDT.
    public var cover2 = 0.0
    public var cover2Time: Int64 = 0
    /// The history's worst 24-hour fall and rise (fractions).
    public var worstFall = 0.0
    public var worstRise = 0.0
    /// `opening + deposited − withdrawn − (balances + fund + fees + external)` per asset at the
    /// end: zero when the engine conserved money through the whole backtest.
    public var conservationGaps: [FixedDecimal] = []
    /// Engine state hash at the end (determinism checks).
    public var stateHash = ""

    /// Fund draws + ADL + socialized loss + uncovered bad debt.
    public var totalShortfall: Double { fundDraws + adlCovered + socialized + badDebt }
    /// Share of liquidated accounts closed without a shortfall.
    public var coverage: Double { liquidatedAccounts == 0 ? 1 : Double(cleanLiquidations) / Double(liquidatedAccounts) }
    /// Share of margin calls cured.
    public var cureRate: Double { calls == 0 ? 0 : Double(cures) / Double(calls) }
}

/// Replays a bar history through the engine with a synthetic population of traders, under one
/// margin model (docs/lab.md). Deterministic for a given history, configuration and seed.
public enum Backtest {
    /// The Binance-like BTCUSDT tiers of the demo portfolio.
    public static let staticTiers: BracketTable = {
        try! BracketTable(rows: [
            (0, 50_000, 125, "0.004"), (50_000, 500_000, 100, "0.005"), (500_000, 8_000_000, 50, "0.01"),
            (8_000_000, 50_000_000, 20, "0.025"), (50_000_000, 80_000_000, 10, "0.05"), (80_000_000, 1_000_000_000_000, 5, "0.1"),
        ].map { BracketTable.Row(floor: FixedDecimal($0.0), cap: FixedDecimal($0.1), maxLeverage: FixedDecimal($0.2), mmr: FixedDecimal($0.3)!) })
    }()

    public static func run(bars: [Bar], model: MarginModel, config: BacktestConfig = BacktestConfig(), table: BracketTable = staticTiers,
                           progress: ((Double) -> Void)? = nil) -> BacktestResult {
        precondition(bars.count >= 2, "a backtest needs at least two bars")
        let times = bars.map(\.time)
        let barMs = DynamicMargin.barInterval(times)
        let closes = bars.map { DoubleBoundary.double($0.close) }
        let usdt = 0, btc = 1
        let symbol = config.symbol
        let table = config.staticScale == 1 ? table
            : MarginModel.table(static: table, rates: table.brackets.map { DoubleBoundary.double($0.maintenanceMarginRate) * config.staticScale })
        let instrument = Instrument(symbol: symbol, kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: .one, brackets: table)
        let market = Market(assets: [Asset(symbol: "USDT", price: .one, haircut: .zero), Asset(symbol: "BTC", price: bars[0].open, haircut: FixedDecimal("0.05")!)],
                            instruments: [instrument], marks: [bars[0].open])
        var parameters = EngineParameters.exchange
        parameters.gracePeriodMs = config.gracePeriodMs
        parameters.markStalenessMs = max(barMs * 2, 60_000)
        var engine = Engine(market: market, parameters: parameters)
        engine.fundInsurance(asset: usdt, amount: config.insuranceFund)

        // Dynamic rates: computed causally (each step uses bars up to it), applied once a day (the
        // calibrated model every hour).
        var basePolicy = config.dynamicPolicy
        basePolicy.trainingBars = min(basePolicy.trainingBars, max(20, bars.count / 3))
        let floors = table.brackets.map { DoubleBoundary.double($0.notionalFloor) }
        let volumes = bars.map { DoubleBoundary.double($0.volume) }
        let depthVolumes = Self.depthVolumes(times: times, volumes: volumes, barMs: barMs)
        let dynamic: DynamicMargin? = model.policy(base: basePolicy).map { policy in
            if model == .calibrated {
                return MarginCalibration.run(times: times, prices: closes, volumes: volumes, bracketFloors: floors, policy: policy,
                                             opens: bars.map { DoubleBoundary.double($0.open) }, highs: bars.map { DoubleBoundary.double($0.high) },
                                             lows: bars.map { DoubleBoundary.double($0.low) }).calibrated
            }
            return DynamicMargin(times: times, prices: closes, volumes: volumes, bracketFloors: floors, policy: policy,
                                 opens: bars.map { DoubleBoundary.double($0.open) }, highs: bars.map { DoubleBoundary.double($0.high) },
                                 lows: bars.map { DoubleBoundary.double($0.low) })
        }
        let updateMs = max(barMs, model == .calibrated ? config.calibratedUpdateMs : config.rateUpdateMs)
        let traders = TraderPopulation.generate(count: config.accounts, bars: bars.count, barMs: barMs, gracePeriodMs: config.gracePeriodMs,
                                                seed: config.seed, responsiveShare: config.responsiveShare, meanHoldingHours: config.meanHoldingHours)
        var opening = [[Int]](repeating: [], count: bars.count)
        var closing = [[Int]](repeating: [], count: bars.count)
        for (k, t) in traders.enumerated() {
            opening[t.openBar].append(k)
            closing[t.closeBar].append(k)
        }
        var traderIndex: [String: Int] = [:]
        for (k, t) in traders.enumerated() { traderIndex[t.id] = k }

        var result = BacktestResult(model: model, bars: bars.count, accounts: config.accounts, traded: 0)
        result.label = config.label ?? model.rawValue
        var scheduled: [(time: Int64, command: EngineCommand)] = []  // cure deposits, by time
        var liquidated = Set<String>()
        var withShortfall = Set<String>()
        var shortfallByAccount: [String: Double] = [:]
        var day: BacktestDay? = nil
        let dayMs: Int64 = 86_400_000
        let window = max(1, Int(dayMs / barMs))
        for t in bars.indices {
            for k in min(bars.count, t + 1)..<min(bars.count, t + window + 1) {
                result.worstFall = max(result.worstFall, 1 - DoubleBoundary.double(bars[k].low) / closes[t])
                result.worstRise = max(result.worstRise, DoubleBoundary.double(bars[k].high) / closes[t] - 1)
            }
        }
        var rateSum = 0.0, rateCount = 0
        // Which fine bars cover each bar completely (every fine bar of the interval present).
        let fineMs = config.fineBars.count >= 2 ? DynamicMargin.barInterval(config.fineBars.map(\.time)) : barMs
        var fineCover = [Range<Int>?](repeating: nil, count: bars.count)
        if !config.fineBars.isEmpty && fineMs < barMs {
            let per = Int(barMs / fineMs)
            var j = 0
            for (b, bar) in bars.enumerated() {
                while j < config.fineBars.count && config.fineBars[j].time < bar.time { j += 1 }
                var k = j
                while k < config.fineBars.count && config.fineBars[k].time < bar.time + barMs { k += 1 }
                if k - j == per { fineCover[b] = j..<k }
            }
        }
        var currentRate = DoubleBoundary.double(table.brackets[0].maintenanceMarginRate)
        var currentLeverage = DoubleBoundary.double(table.brackets[0].maxLeverage)
        var peakRate = currentRate, minLeverage = currentLeverage
        var lastUpdate: Int64? = nil

        func apply(_ time: Int64, _ command: EngineCommand) -> [EngineEvent] {
            let events = engine.apply(TimedCommand(time: time, command: command))
            for event in events { account(event) }
            return events
        }
        func account(_ event: EngineEvent) {
            let amount = { (name: String) in DoubleBoundary.double(event.decimal(name) ?? .zero) }
            switch event.kind {
            case .marginCall:
                result.calls += 1
                day?.calls += 1
                if let id = event.account, let k = traderIndex[id], traders[k].responsive, let call = event.decimal("call_amount"), call.isPositive {
                    let deposit = (call * FixedDecimal("1.1")!).rounded(toDigits: 2, rule: .up)
                    let due = event.time + traders[k].cureDelayMs
                    let at = scheduled.firstIndex { $0.time > due } ?? scheduled.count
                    scheduled.insert((due, .deposit(account: id, asset: "USDT", amount: deposit, settle: "USDT")), at: at)
                }
            case .marginCallCured:
                result.cures += 1
                day?.cures += 1
            case .liquidationStarted:
                result.liquidations += 1
                day?.liquidations += 1
                if let id = event.account { liquidated.insert(id) }
            case .liquidationFill:
                result.liquidatedNotional += abs(amount("quantity")) * amount("price")
            case .insuranceFundDraw:
                result.fundDraws += amount("amount")
                shortfall(event.account, amount("amount"))
            case .insuranceFundContribution:
                result.fundContributions += amount("amount")
            case .autoDeleveraged:
                result.adlEvents += 1
                result.adlCovered += amount("deficit_covered")
                shortfall(event.text("bankrupt_account"), amount("deficit_covered"))
            case .socializedLoss:
                result.socializedEvents += 1
                result.socialized += amount("amount")
                shortfall(event.text("bankrupt_account"), amount("amount"))
            case .badDebt:
                result.badDebt += amount("amount")
                shortfall(event.account, amount("amount"))
            default:
                break
            }
        }
        func shortfall(_ id: String?, _ value: Double) {
            guard value > 0 else { return }
            day?.shortfall += value
            if let id {
                withShortfall.insert(id)
                shortfallByAccount[id, default: 0] += value
            }
        }
        func closeDay() {
            guard var finished = day else { return }
            finished.fund = DoubleBoundary.double(engine.state.totals[usdt].insuranceFund)
            finished.maintenanceRate = currentRate
            if config.sampleRatios {
                let evaluator = engine.evaluator
                var ratios: [Double] = []
                var stress: [Double] = []
                let mark = DoubleBoundary.double(engine.state.market.marks[0] ?? .zero)
                for record in engine.state.accounts where !record.account.positions.isEmpty {
                    let pool = evaluator.evaluate(record.account, prices: false).cross
                    ratios.append(pool.marginRatio.map(DoubleBoundary.double) ?? 10)
                    let position = record.account.positions[0]
                    let move = position.quantity.isPositive ? result.worstFall : result.worstRise
                    stress.append(max(0, DoubleBoundary.double(position.quantity.magnitude) * mark * move - DoubleBoundary.double(pool.equity)))
                }
                stress.sort(by: >)
                let two = stress.prefix(2).reduce(0, +)
                if two > result.cover2 {
                    result.cover2 = two
                    result.cover2Time = finished.time
                }
                ratios.sort()
                finished.openAccounts = ratios.count
                finished.medianRatio = ratios.isEmpty ? 0 : ratios[ratios.count / 2]
                finished.p90Ratio = ratios.isEmpty ? 0 : ratios[min(ratios.count - 1, ratios.count * 9 / 10)]
            }
            result.days.append(finished)
            day = nil
        }
        func book(_ price: FixedDecimal, volume: Double) -> EngineCommand {
            // Depth within ±2 %: a fraction of the bar's volume, spread over five levels per side.
            let levels = SyntheticBook.levels(around: price, depth: max(0.01, volume * config.depthFraction), rounding: .toNearestOrAwayFromZero)
            return .book(symbol: symbol, bids: levels.bids, asks: levels.asks)
        }

        for (b, bar) in bars.enumerated() {
            let dayStart = bar.time - ((bar.time % dayMs) + dayMs) % dayMs
            if day?.time != dayStart {
                closeDay()
                day = BacktestDay(time: dayStart, close: 0, low: .infinity, high: 0, liquidations: 0, calls: 0, cures: 0, shortfall: 0, fund: 0,
                                  maintenanceRate: 0, openAccounts: 0, medianRatio: 0, p90Ratio: 0)
            }
            let period = bar.time - ((bar.time % updateMs) + updateMs) % updateMs
            if let dynamic, b > 0, lastUpdate != period,
               lastUpdate == nil || period % 86_400_000 == 0 || abs(dynamic.steps[b - 1].rates[0] / currentRate - 1) > config.rateChangeThreshold {
                lastUpdate = period
                let rates = dynamic.steps[b - 1].rates
                let newTable = MarginModel.table(static: table, rates: rates)
                currentRate = DoubleBoundary.double(newTable.brackets[0].maintenanceMarginRate)
                currentLeverage = DoubleBoundary.double(newTable.brackets[0].maxLeverage)
                peakRate = max(peakRate, currentRate)
                minLeverage = min(minLeverage, currentLeverage)
                _ = apply(bar.time, .changeParameters(ParameterChange(brackets: [symbol: newTable]), effectiveTime: bar.time))
            }
            rateSum += currentRate
            rateCount += 1
            // The intrabar path: from the fine bars when they cover this bar, else open, the nearer
            // extreme, the other extreme, close; sampled every `stepMs` when the engine is slower.
            let path = Self.path(bar: bar, barMs: barMs, fine: fineCover[b].map { Array(config.fineBars[$0]) }, fineMs: fineMs, stepMs: config.stepMs)
            let volume = depthVolumes[b]
            for (p, (time, price)) in path.enumerated() {
                while let first = scheduled.first, first.time <= time {
                    scheduled.removeFirst()
                    _ = apply(first.time, first.command)
                }
                _ = apply(time, book(price, volume: volume))
                _ = apply(time, .markPrice(symbol: symbol, price: price, sourceTime: time))
                if p == 0 {
                    for k in opening[b] {
                        let trader = traders[k]
                        let open = DoubleBoundary.double(price)
                        let quantity = FixedDecimal(raw: Int128((trader.notional / open * 1000).rounded()) * 1_000_000_000_000_000)
                        guard quantity.isPositive else { continue }
                        let notional = quantity * price
                        // The venue caps leverage by the bracket in force: a trader takes at most that.
                        let brackets = engine.state.market.instruments[0].brackets
                        let cap = brackets.brackets[brackets.index(forNotional: notional)].maxLeverage
                        let leverage = FixedDecimal.minimum(FixedDecimal(trader.leverage), cap)
                        let collateral = (notional / leverage * DoubleBoundary.decimal(1 + trader.buffer)!).rounded(toDigits: 2, rule: .up)
                        _ = apply(time, .deposit(account: trader.id, asset: "USDT", amount: collateral + FixedDecimal(1), settle: "USDT"))
                        _ = apply(time, .setLeverage(account: trader.id, symbol: symbol, leverage: leverage))
                        let fee = (notional * DoubleBoundary.decimal(config.feeRate)!).rounded(toDigits: 8, rule: .up)
                        let events = apply(time, .fill(account: trader.id, symbol: symbol, quantity: trader.side > 0 ? quantity : -quantity,
                                                       price: price, fee: fee, orderID: nil))
                        if events.contains(where: { $0.kind == .rejected }) { result.rejectedOpens += 1 } else { result.traded += 1 }
                    }
                }
                if p == path.count - 1 {
                    for k in closing[b] {
                        let id = traders[k].id
                        guard let a = engine.state.accountIndex[id], let position = engine.state.accounts[a].account.positions.first else { continue }
                        let fee = (position.quantity.magnitude * price * DoubleBoundary.decimal(config.feeRate)!).rounded(toDigits: 8, rule: .up)
                        _ = apply(time, .fill(account: id, symbol: symbol, quantity: -position.quantity, price: price, fee: fee, orderID: nil))
                    }
                }
            }
            if var d = day {
                d.close = DoubleBoundary.double(bar.close)
                d.low = min(d.low, DoubleBoundary.double(bar.low))
                d.high = max(d.high, DoubleBoundary.double(bar.high))
                day = d
            }
            if b % 256 == 0 { progress?(Double(b) / Double(bars.count)) }
        }
        closeDay()
        progress?(1)
        result.fineCoveredBars = fineCover.filter { $0 != nil }.count
        result.liquidatedAccounts = liquidated.count
        result.cleanLiquidations = liquidated.subtracting(withShortfall).count
        result.shortfalls = shortfallByAccount.values.sorted()
        result.minimumFund = result.days.map(\.fund).min() ?? 0
        result.finalFund = DoubleBoundary.double(engine.state.totals[usdt].insuranceFund)
        result.meanMaintenanceRate = rateCount == 0 ? 0 : rateSum / Double(rateCount)
        result.peakMaintenanceRate = peakRate
        result.minimumMaxLeverage = minLeverage
        result.stateHash = engine.stateHash()
        result.conservationGaps = engine.state.market.assets.indices.map { engine.state.conservationGap(of: $0).value ?? .max }
        _ = btc
        return result
    }

    /// The volume a bar's book depth is drawn from: the bar's own for bars of an hour or more, else
    /// the traded volume of the trailing hour `(t − 1 h, t]` (bars in a gap do not count).
    static func depthVolumes(times: [Int64], volumes: [Double], barMs: Int64) -> [Double] {
        guard barMs < 3_600_000 else { return volumes }
        var out = [Double](repeating: 0, count: volumes.count)
        var start = 0, sum = 0.0
        for k in volumes.indices {
            sum += volumes[k]
            while times[start] <= times[k] - 3_600_000 {
                sum -= volumes[start]
                start += 1
            }
            out[k] = max(0, sum)
        }
        return out
    }

    /// The marks of one bar: `(time, price)`. Without fine bars: open, the nearer extreme, the other
    /// extreme, close, a quarter of the bar apart; with them, that path for every fine bar. With
    /// `stepMs`, the engine's view: at the end of every step, the latest point of that path.
    static func path(bar: Bar, barMs: Int64, fine: [Bar]?, fineMs: Int64, stepMs: Int64?) -> [(Int64, FixedDecimal)] {
        func four(_ b: Bar, _ ms: Int64) -> [(Int64, FixedDecimal)] {
            let up = b.close >= b.open
            let step = max(1, ms / 4)
            return [b.open, up ? b.low : b.high, up ? b.high : b.low, b.close].enumerated().map { (b.time + Int64($0.offset) * step, $0.element) }
        }
        let raw = fine.map { $0.flatMap { four($0, fineMs) } } ?? four(bar, barMs)
        guard let stepMs, stepMs > 0 else { return raw }
        var out: [(Int64, FixedDecimal)] = []
        var k = 0
        var t = bar.time + stepMs - 1
        while true {
            let end = min(t, bar.time + barMs - 1)
            while k + 1 < raw.count && raw[k + 1].0 <= end { k += 1 }
            out.append((end, raw[k].1))
            if end >= bar.time + barMs - 1 { break }
            t += stepMs
        }
        // The last step of the bar sees its close.
        out[out.count - 1].1 = raw[raw.count - 1].1
        return out
    }
}
