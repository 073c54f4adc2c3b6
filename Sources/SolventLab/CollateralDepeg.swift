public import SolventCore
public import SolventEngine
import SolventRisk

/// The 2025-10-10 incident as what it was at Binance: a **collateral de-peg** (USDe, wBETH and
/// BNSOL, accepted as futures collateral, were priced on the venue's own thin spot books and fell
/// to a fraction of their redemption value between 21:36 and 22:16 UTC) on top of the price
/// cascade, followed by ADL at other venues (docs/lab.md, "2025-10-10").
///
/// Two perpetuals (BTCUSDT, and ETHUSDT when ETH prices are found) are replayed through the engine
/// with the real marks; the traders post USDT, USDe or wBETH as collateral (multi-asset cross
/// margin with haircuts), and the collateral prices follow a documented de-peg path
/// (`depegPrice`). With `collateralPricing = .redemption` the same replay prices the collateral at
/// its redemption value (USDe = 1, wBETH = ETH at its conversion rate), which is what Binance
/// moved to after the event: the difference between the two rows is what that control is worth.
public enum CollateralDepeg {
    /// How the venue prices the de-pegging collateral.
    public enum CollateralPricing: String, Sendable {
        /// At the venue's own spot book: the de-peg path.
        case venueBook = "venue_book"
        /// At redemption value: USDe 1 USDT, wBETH the ETH price (at its conversion rate).
        case redemption
    }

    /// Settings of the replay (the incident library's trader count, seed and fund).
    public struct Config: Sendable {
        public var accounts = 1_000
        public var seed: UInt64 = 1
        public var insuranceFund = FixedDecimal(50_000)
        public var pricing = CollateralPricing.venueBook
        /// Shares of the traders posting USDe and wBETH (the rest post USDT); wBETH only when
        /// the ETH market is replayed.
        public var usdeShare = 0.35
        public var wbethShare = 0.15
        /// Collateral haircuts (illustrative, not Binance's published collateral ratios).
        public var usdeHaircut = FixedDecimal("0.1")!
        public var wbethHaircut = FixedDecimal("0.1")!
        /// Book depth within ±2 %: this fraction of the trailing hour's traded volume (as the backtest).
        public var depthFraction = 0.02
        public var gracePeriodMs: Int64 = 30 * 60_000
        public var meanHoldingHours = 24.0
        public var feeRate = 0.0004
        public init() {}
    }

    /// The published lows and the window (sources in `Incidents.library`): USDe about 0.65 on
    /// Binance's USDe book; wBETH about 430 USDT when ETH/USDT traded above 3,800 (a ratio of
    /// 0.113); Binance's compensation window 21:36–22:16 UTC. The minute path is not published:
    /// the price is 1 (of redemption value) before 21:36, falls linearly to the low at 21:40 (the
    /// time reported for wBETH's low), and recovers linearly to 1 at 22:16.
    public static let depegStart = Timestamp.parseISO8601("2025-10-10T21:36:00Z")!
    public static let depegLow = Timestamp.parseISO8601("2025-10-10T21:40:00Z")!
    public static let depegEnd = Timestamp.parseISO8601("2025-10-10T22:16:00Z")!
    public static let usdeLow = 0.65
    public static let wbethLowRatio = 430.0 / 3_800.0

    /// The fraction of redemption value at `time` along the de-peg path reaching `low`.
    public static func depegFraction(at time: Int64, low: Double) -> Double {
        if time <= depegStart || time >= depegEnd { return 1 }
        if time <= depegLow { return 1 - (1 - low) * Double(time - depegStart) / Double(depegLow - depegStart) }
        return low + (1 - low) * Double(time - depegLow) / Double(depegEnd - depegLow)
    }

    /// The price series of the replay.
    public struct Series: Sendable {
        /// BTC marks (the venue's mark or traded prices) and, optionally, another venue's prices
        /// as the index; `btcVolume` gives depth (base units; the marks' own volume when nil).
        public var btc: [Bar]
        public var btcIndex: [Bar]? = nil
        public var btcVolume: [Bar]? = nil
        public var eth: [Bar]? = nil
        public var ethIndex: [Bar]? = nil
        public var names: [String] = []
        public init(btc: [Bar]) { self.btc = btc }
    }

    /// What the replay measured (the incident library's numbers plus the collateral's part).
    public struct Result: Sendable {
        public var liquidations = 0
        public var liquidatedAccounts = 0
        /// Liquidated accounts that posted USDe or wBETH.
        public var liquidatedWithDepegCollateral = 0
        public var fundDraws = 0.0
        public var adlEvents = 0
        public var adlCovered = 0.0
        public var socialized = 0.0
        public var badDebt = 0.0
        /// Collateral converted to cover deficits, in USDT of proceeds, per asset.
        public var converted: [String: Double] = [:]
        /// `liquidations_paused` events (the engine's breakers) and their reasons.
        public var pauses = 0
        public var pauseReasons: [String: Int] = [:]
        /// Time liquidations stood paused, summed over the instruments (ms), and the pauses' start times.
        public var pausedMs: Int64 = 0
        public var pauseTimes: [Int64] = []
        public var worstMove = 0.0
        public var points = 0
        public var instruments: [String] = []
        public var stateHash = ""
        public var conservationGaps: [FixedDecimal] = []
    }

    public static func run(_ series: Series, config: Config = Config()) -> Result {
        precondition(series.btc.count >= 2, "the replay needs at least two bars")
        let table = Backtest.staticTiers
        let hasEth = !(series.eth ?? []).isEmpty
        var instruments = [Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: .one, brackets: table)]
        if hasEth { instruments.append(Instrument(symbol: "ETHUSDT", kind: .perpetual(.linear), base: "ETH", settle: "USDT", contractSize: .one, brackets: table)) }
        let ethBars = series.eth ?? []
        let assets = [
            Asset(symbol: "USDT", price: .one, haircut: .zero),
            Asset(symbol: "USDe", price: .one, haircut: config.usdeHaircut),
            Asset(symbol: "wBETH", price: hasEth ? ethBars[0].open : FixedDecimal(4_000), haircut: config.wbethHaircut),
            Asset(symbol: "BTC", price: series.btc[0].open, haircut: FixedDecimal("0.05")!),
            Asset(symbol: "ETH", price: hasEth ? ethBars[0].open : FixedDecimal(4_000), haircut: FixedDecimal("0.05")!),
        ]
        let market = Market(assets: assets, instruments: instruments, marks: instruments.indices.map { $0 == 0 ? series.btc[0].open : ethBars[0].open })
        var parameters = EngineParameters.exchange
        parameters.gracePeriodMs = config.gracePeriodMs
        // Five-minute bars give a mark every 75 s: a mark is stale after five minutes.
        parameters.markStalenessMs = 5 * 60_000
        var engine = Engine(market: market, parameters: parameters)
        engine.fundInsurance(asset: 0, amount: config.insuranceFund)

        // The marks of each instrument, as (time, price) along each bar's path.
        func marks(_ bars: [Bar]) -> [(Int64, FixedDecimal)] {
            let ms = DynamicMargin.barInterval(bars.map(\.time))
            return bars.flatMap { Backtest.path(bar: $0, barMs: ms, fine: nil, fineMs: ms, stepMs: nil) }
        }
        var stream: [(time: Int64, instrument: Int, price: FixedDecimal)] = marks(series.btc).map { ($0.0, 0, $0.1) }
        if hasEth { stream += marks(ethBars).map { ($0.0, 1, $0.1) } }
        stream.sort { ($0.time, $0.instrument) < ($1.time, $1.instrument) }
        // Depth: the trailing hour's volume of the depth series (base units).
        func hourly(_ bars: [Bar]) -> (times: [Int64], volumes: [Double]) {
            let times = bars.map(\.time), volumes = bars.map { DoubleBoundary.double($0.volume) }
            let ms = DynamicMargin.barInterval(times)
            return (times, Backtest.depthVolumes(times: times.map { $0 + ms - 1 }, volumes: volumes, barMs: ms))
        }
        let btcDepth = hourly(series.btcVolume ?? series.btc)
        let ethDepth = hourly(ethBars)
        func depth(_ d: (times: [Int64], volumes: [Double]), at time: Int64) -> Double {
            var lo = 0, hi = d.times.count
            while lo < hi { let mid = (lo + hi) / 2; if d.times[mid] <= time { lo = mid + 1 } else { hi = mid } }
            return lo == 0 ? (d.volumes.first ?? 0) : d.volumes[lo - 1]
        }
        let indexes: [[Bar]] = [series.btcIndex ?? [], hasEth ? (series.ethIndex ?? []) : []]
        let indexMs = indexes.map { $0.count >= 2 ? DynamicMargin.barInterval($0.map(\.time)) : 60_000 }
        var indexNext = [0, 0]

        // Traders: opening times drawn over the BTC bars; every third on ETH when it is replayed.
        let btcMs = DynamicMargin.barInterval(series.btc.map(\.time))
        let traders = TraderPopulation.generate(count: config.accounts, bars: series.btc.count, barMs: btcMs, gracePeriodMs: config.gracePeriodMs,
                                                seed: config.seed, meanHoldingHours: config.meanHoldingHours)
        var rng = SplitMix64(seed: config.seed ^ 0x5EED_DE9E)
        let collateral: [String] = traders.map { _ in
            let u = Double.random(in: 0..<1, using: &rng)
            return u < config.usdeShare ? "USDe" : (hasEth && u < config.usdeShare + config.wbethShare ? "wBETH" : "USDT")
        }
        let instrumentOf = traders.indices.map { k in hasEth && k % 3 == 2 ? 1 : 0 }
        let startTime = series.btc[0].time
        var opening: [Int64: [Int]] = [:], closing: [Int64: [Int]] = [:]
        for (k, t) in traders.enumerated() {
            opening[startTime + Int64(t.openBar) * btcMs, default: []].append(k)
            closing[startTime + Int64(t.closeBar) * btcMs, default: []].append(k)
        }
        var traderIndex: [String: Int] = [:]
        for (k, t) in traders.enumerated() { traderIndex[t.id] = k }

        var result = Result()
        result.instruments = instruments.map(\.symbol)
        var scheduled: [(time: Int64, command: EngineCommand)] = []
        var liquidated = Set<String>()
        var lastMark: [FixedDecimal?] = [series.btc[0].open, hasEth ? ethBars[0].open : nil]
        var sentPrices: [String: FixedDecimal] = [:]
        var pausedSince: [String: Int64] = [:]

        func apply(_ time: Int64, _ command: EngineCommand) -> [EngineEvent] {
            let events = engine.apply(TimedCommand(time: time, command: command))
            for event in events { account(event) }
            return events
        }
        func account(_ event: EngineEvent) {
            let amount = { (name: String) in DoubleBoundary.double(event.decimal(name) ?? .zero) }
            switch event.kind {
            case .marginCall:
                if let id = event.account, let k = traderIndex[id], traders[k].responsive, let call = event.decimal("call_amount"), call.isPositive {
                    let deposit = (call * FixedDecimal("1.1")!).rounded(toDigits: 2, rule: .up)
                    let due = event.time + traders[k].cureDelayMs
                    let at = scheduled.firstIndex { $0.time > due } ?? scheduled.count
                    scheduled.insert((due, .deposit(account: id, asset: "USDT", amount: deposit, settle: "USDT")), at: at)
                }
            case .liquidationStarted:
                result.liquidations += 1
                if let id = event.account, liquidated.insert(id).inserted, let k = traderIndex[id], collateral[k] != "USDT" {
                    result.liquidatedWithDepegCollateral += 1
                }
            case .insuranceFundDraw: result.fundDraws += amount("amount")
            case .autoDeleveraged:
                result.adlEvents += 1
                result.adlCovered += amount("deficit_covered")
            case .socializedLoss: result.socialized += amount("amount")
            case .badDebt: result.badDebt += amount("amount")
            case .collateralConverted: result.converted[event.text("asset") ?? "?", default: 0] += amount("proceeds")
            case .liquidationsPaused:
                result.pauses += 1
                result.pauseTimes.append(event.time)
                if let symbol = event.text("symbol"), pausedSince[symbol] == nil { pausedSince[symbol] = event.time }
                for reason in (event.text("reasons") ?? "").split(separator: ",") { result.pauseReasons[String(reason), default: 0] += 1 }
            case .liquidationsResumed:
                if let symbol = event.text("symbol"), let since = pausedSince.removeValue(forKey: symbol) { result.pausedMs += event.time - since }
            default: break
            }
        }
        func setPrice(_ time: Int64, _ asset: String, _ price: FixedDecimal) {
            guard price.isPositive, sentPrices[asset] != price else { return }
            sentPrices[asset] = price
            _ = apply(time, .assetPrice(asset: asset, price: price))
        }
        func collateralPrices(_ time: Int64) {
            let depeg = config.pricing == .venueBook
            setPrice(time, "USDe", depeg ? DoubleBoundary.decimal((depegFraction(at: time, low: usdeLow) * 1e6).rounded() / 1e6)! : .one)
            if hasEth, let eth = lastMark[1] {
                let ratio = depeg ? depegFraction(at: time, low: wbethLowRatio) : 1
                setPrice(time, "wBETH", (eth * DoubleBoundary.decimal((ratio * 1e6).rounded() / 1e6)!).rounded(toDigits: 2, rule: .halfEven))
            }
        }
        func open(_ k: Int, at time: Int64) {
            let trader = traders[k], i = instrumentOf[k]
            guard let price = lastMark[i] else { return }
            let quantity = FixedDecimal(raw: Int128((trader.notional / DoubleBoundary.double(price) * 1000).rounded()) * 1_000_000_000_000_000)
            guard quantity.isPositive else { return }
            let notional = quantity * price
            let brackets = engine.state.market.instruments[i].brackets
            let leverage = FixedDecimal.minimum(FixedDecimal(trader.leverage), brackets.brackets[brackets.index(forNotional: notional)].maxLeverage)
            let value = (notional / leverage * DoubleBoundary.decimal(1 + trader.buffer)!).rounded(toDigits: 2, rule: .up)
            let fee = (notional * DoubleBoundary.decimal(config.feeRate)!).rounded(toDigits: 8, rule: .up)
            let asset = collateral[k]
            if asset == "USDT" {
                _ = apply(time, .deposit(account: trader.id, asset: "USDT", amount: value + FixedDecimal(1), settle: "USDT"))
            } else {
                let a = engine.state.market.assets.firstIndex { $0.symbol == asset }!
                let unit = engine.state.market.assets[a].price * (FixedDecimal.one - engine.state.market.assets[a].haircut)
                guard let amount = value.divided(by: unit, rounding: .halfEven)?.rounded(toDigits: 8, rule: .up), amount.isPositive else { return }
                // The fee is paid in the settle asset: a little USDT besides the collateral.
                _ = apply(time, .deposit(account: trader.id, asset: "USDT", amount: fee.rounded(toDigits: 2, rule: .up) + FixedDecimal(1), settle: "USDT"))
                _ = apply(time, .deposit(account: trader.id, asset: asset, amount: amount, settle: "USDT"))
            }
            let symbol = instruments[i].symbol
            _ = apply(time, .setLeverage(account: trader.id, symbol: symbol, leverage: leverage))
            _ = apply(time, .fill(account: trader.id, symbol: symbol, quantity: trader.side > 0 ? quantity : -quantity, price: price, fee: fee, orderID: nil))
        }
        func close(_ k: Int, at time: Int64) {
            let id = traders[k].id, i = instrumentOf[k]
            guard let a = engine.state.accountIndex[id], let price = lastMark[i],
                  let position = engine.state.accounts[a].account.positions.first(where: { $0.instrument == i }) else { return }
            let fee = (position.quantity.magnitude * price * DoubleBoundary.decimal(config.feeRate)!).rounded(toDigits: 8, rule: .up)
            _ = apply(time, .fill(account: id, symbol: instruments[i].symbol, quantity: -position.quantity, price: price, fee: fee, orderID: nil))
        }

        var openTimes = opening.keys.sorted()[...], closeTimes = closing.keys.sorted()[...]
        let first = [DoubleBoundary.double(series.btc[0].close), hasEth ? DoubleBoundary.double(ethBars[0].close) : 0]
        for point in stream {
            let time = point.time
            while let s = scheduled.first, s.time <= time {
                scheduled.removeFirst()
                _ = apply(s.time, s.command)
            }
            // Another venue's price as the index, once its bar has closed (no look-ahead).
            let bars = indexes[point.instrument]
            while indexNext[point.instrument] < bars.count, bars[indexNext[point.instrument]].time + indexMs[point.instrument] <= time {
                let bar = bars[indexNext[point.instrument]]
                _ = apply(time, .indexPrice(symbol: instruments[point.instrument].symbol, price: bar.close, sourceTime: bar.time + indexMs[point.instrument]))
                indexNext[point.instrument] += 1
            }
            let volume = depth(point.instrument == 0 ? btcDepth : ethDepth, at: time)
            let levels = SyntheticBook.levels(around: point.price, depth: max(0.01, volume * config.depthFraction), rounding: .toNearestOrAwayFromZero)
            _ = apply(time, .book(symbol: instruments[point.instrument].symbol, bids: levels.bids, asks: levels.asks))
            lastMark[point.instrument] = point.price
            collateralPrices(time)
            _ = apply(time, .markPrice(symbol: instruments[point.instrument].symbol, price: point.price, sourceTime: time))
            result.worstMove = max(result.worstMove, 1 - DoubleBoundary.double(point.price) / first[point.instrument])
            result.points += 1
            while let t = openTimes.first, t <= time {
                openTimes.removeFirst()
                for k in opening[t]! { open(k, at: time) }
            }
            while let t = closeTimes.first, t + btcMs - 1 <= time {
                closeTimes.removeFirst()
                for k in closing[t]! { close(k, at: time) }
            }
        }
        let end = stream.last?.time ?? startTime
        for since in pausedSince.values { result.pausedMs += end - since }
        result.liquidatedAccounts = liquidated.count
        result.stateHash = engine.stateHash()
        result.conservationGaps = engine.state.market.assets.indices.map { engine.state.conservationGap(of: $0).value ?? .max }
        return result
    }
}
