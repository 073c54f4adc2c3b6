public import SolventCore
import SolventRisk

/// The incident library (docs/lab.md): reconstructed market failures replayed through the engine
/// with the same synthetic book, real prices where the data has them, synthetic scenarios
/// labelled so. Each reports what Solvent's controls did: liquidations, insurance fund used, ADL,
/// socialized loss, bad debt, and how often a price-band breaker would have tripped.
public enum Incidents {
    /// One incident of the library.
    public struct Incident: Sendable, Hashable {
        public var id: String
        public var name: String
        /// What happened at the venue, in one line.
        public var account: String
        /// The public post-mortem or report the account comes from.
        public var source: String
        /// Data files to try, in order (relative to the data root, or to the repository when
        /// they start with `Examples/` or `data/`); the first present is used.
        public var files: [String]
        /// Replay window [from, to) (ISO 8601).
        public var from: String
        public var to: String
        /// Built synthetically (no data file).
        public var synthetic: Bool
    }

    public static let library: [Incident] = [
        Incident(id: "2020-03-12", name: "Black Thursday 2020-03-12/13",
                 account: "BTC fell about 50 % in a day (Binance futures low 3,621.81); BitMEX went offline for about 25 minutes at the bottom, and MakerDAO keepers won collateral auctions with zero bids, leaving about 5.7M DAI unbacked",
                 source: "MakerDAO, \"The Market Collapse of March 12-13, 2020: How It Impacted MakerDAO\" (blog.makerdao.com, 2020-03); BitMEX, post-mortem of the 13 March outage (blog.bitmex.com, 2020-03)",
                 files: ["minute/binanceusdm-BTCUSDT-1m-2020-03-12T0858_2020-03-13T0419.csv.gz", "Examples/data/BTCUSDT-1h-2020-03-crash.csv"],
                 from: "2020-03-11T00:00:00Z", to: "2020-03-14T00:00:00Z", synthetic: false),
        Incident(id: "2021-05-19", name: "2021-05-19 sell-off",
                 account: "BTC fell from about 43,000 to 30,000 intraday with billions of dollars of futures liquidated across venues; Binance futures users were locked out during the drop and Binance offered compensation for the outage",
                 source: "Binance, announcement on compensating futures users for the 2021-05-19 outage (binance.com, 2021-05)",
                 files: ["minute/binance-BTCUSDT-1m-2021-04-20_2021-05-20.csv.gz", "data/binance-usdm-1h/BTCUSDT.csv.gz"],
                 from: "2021-05-18T00:00:00Z", to: "2021-05-20T12:00:00Z", synthetic: false),
        Incident(id: "2022-05-luna", name: "LUNA/UST collapse 2022-05",
                 account: "UST lost its peg and LUNA went to zero within a week; venues delisted LUNA perpetuals mid-crash, and BTC fell from about 36,000 to 26,700 as the Luna Foundation Guard spent its BTC reserve defending the peg",
                 source: "Luna Foundation Guard, reserve-use statement (twitter.com/LFG_org, 2022-05-16); Binance, \"Binance will delist LUNA/USDT perpetual\" (2022-05-12)",
                 files: ["minute/binance-BTCUSDT-5m-2022-04-25_2022-05-31.csv.gz", "Examples/data/BTCUSDT-1h-2022-05-luna.csv"],
                 from: "2022-05-07T00:00:00Z", to: "2022-05-14T00:00:00Z", synthetic: false),
        Incident(id: "2022-11-ftx", name: "FTX collapse 2022-11",
                 account: "FTX halted withdrawals on 8 November and filed for bankruptcy on the 11th with an $8B customer shortfall; BTC fell to 15,588 on Binance",
                 source: "In re FTX Trading Ltd., First Interim Report of John J. Ray III (US Bankruptcy Court D. Del., 2023-04-09)",
                 files: ["minute/binance-BTCUSDT-5m-2022-10-25_2022-11-30.csv.gz"],
                 from: "2022-11-06T00:00:00Z", to: "2022-11-12T00:00:00Z", synthetic: false),
        Incident(id: "2025-10-10", name: "2025-10-10 cascade (collateral de-peg, ADL storm)",
                 account: "After a tariff announcement about $19B of positions were liquidated within a day; on Binance USDe, wBETH and BNSOL de-pegged as collateral (USDe near 0.65) and Binance compensated affected users, while Hyperliquid ran cross-margin auto-deleveraging for the first time",
                 source: "Binance, announcement on compensation for the USDe, BNSOL and wBETH de-peg (binance.com, 2025-10-11); Hyperliquid, statement on the 2025-10-10 auto-deleveraging (2025-10-11)",
                 files: ["Examples/data/binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz"],
                 from: "2025-10-09T00:00:00Z", to: "2025-10-12T00:00:00Z", synthetic: false),
        Incident(id: "mango-kind", name: "Oracle manipulation in a thin market (Mango kind, synthetic)",
                 account: "An attacker pumped MNGO's thinly traded spot price (and so the oracle) about 2.3× in minutes, borrowed $114M against the inflated unrealized profit and left the protocol insolvent",
                 source: "Mango Markets, \"Mango Markets exploit post-mortem\" (2022-10-12); US v. Eisenberg (SDNY, 2023)",
                 files: [], from: "2022-10-11T00:00:00Z", to: "2022-10-12T12:00:00Z", synthetic: true),
        Incident(id: "jelly-kind", name: "Illiquid squeeze (JELLY kind, synthetic)",
                 account: "A trader opened a large JELLY short on Hyperliquid, let it be liquidated into the HLP vault, then pumped JELLY several-fold on thin spot markets; validators delisted the market and settled it at the trader's entry price",
                 source: "Hyperliquid, \"JELLY incident\" statement (2025-03-26)",
                 files: [], from: "2025-03-26T00:00:00Z", to: "2025-03-27T00:00:00Z", synthetic: true),
    ]

    /// What the replay of one incident measured.
    public struct Outcome: Sendable {
        public var incident: Incident
        public var dataName: String
        public var bars: Int
        /// Largest fall (or, in a squeeze, rise) from the window's first close, as a fraction.
        public var worstMove: Double
        public var liquidations: Int
        public var fundUsed: Double
        public var adlEvents: Int
        public var adlCovered: Double
        public var socialized: Double
        public var badDebt: Double
        /// Times the mark left a ±`breakerBand` band around its reference (the price
        /// `breakerWindowMs` earlier; the external index in the oracle case).
        public var breakersTripped: Int
        public var stateHash: String
    }

    /// Settings of a replay.
    public struct Config: Sendable {
        public var accounts = 1_000
        public var seed: UInt64 = 1
        /// A small fund so that it can run out: then ADL and socialized loss show.
        public var insuranceFund = FixedDecimal(50_000)
        public var breakerBand = 0.05
        public var breakerWindowMs: Int64 = 5 * 60_000
        public init() {}
    }

    /// Synthetic bars of the two synthetic incidents (five-minute bars, deterministic).
    public static func syntheticBars(_ incident: Incident) -> (bars: [Bar], index: [Double]) {
        let start = Timestamp.parseISO8601(incident.from)!, end = Timestamp.parseISO8601(incident.to)!
        let step: Int64 = 5 * 60_000
        let n = Int((end - start) / step)
        var closes: [Double] = [], index: [Double] = [], volumes: [Double] = []
        for k in 0..<n {
            let hours = Double(k) * 5 / 60
            var price = 100.0, reference = 100.0, volume = 400.0
            // A small deterministic wobble so that volatility models have something to read.
            let wobble = 1 + 0.002 * Double((k * 7_919) % 11 - 5) / 5
            if incident.id == "mango-kind" {
                // Thin book: the traded price (and an oracle built on it) pumped 2.3× within 20
                // minutes at hour 18, held for an hour, then collapsed below the start; the
                // external index (other venues) barely moves.
                let t = hours - 18
                if t >= 0 && t < 1.0 / 3 { price = 100 * (1 + 1.3 * t * 3) }
                else if t >= 1.0 / 3 && t < 4.0 / 3 { price = 230 }
                else if t >= 4.0 / 3 && t < 2 { price = 230 - 150 * (t - 4.0 / 3) / (2.0 / 3) }
                else if t >= 2 { price = 80 }
                reference = t >= 2 ? 95 : 100
                volume = t >= 0 && t < 2 ? 120 : 60
            } else {
                // Illiquid squeeze: +400 % over three hours from hour 12 on a thin book, a plateau,
                // then a settlement back at the pre-pump price at hour 20.
                let t = hours - 12
                if t >= 0 && t < 3 { price = 100 * (1 + 4 * t / 3) }
                else if t >= 3 && t < 8 { price = 500 }
                else if t >= 8 { price = 100 }
                reference = price
                volume = 30
            }
            closes.append(price * wobble)
            index.append(reference)
            volumes.append(volume)
        }
        var bars: [Bar] = []
        for k in 0..<n {
            let open = k == 0 ? closes[0] : closes[k - 1], close = closes[k]
            func d(_ v: Double) -> FixedDecimal { DoubleBoundary.decimal((v * 10_000).rounded() / 10_000)! }
            bars.append(Bar(time: start + Int64(k) * step, open: d(open), high: d(max(open, close) * 1.001), low: d(min(open, close) * 0.999),
                            close: d(close), volume: d(volumes[k])))
        }
        return (bars, index)
    }

    /// Replays one incident on `bars` (the data's, or the synthetic ones) under the industry
    /// tiers; `index` is the external reference for the breaker (nil: the price 5 minutes earlier).
    public static func replay(_ incident: Incident, bars: [Bar], dataName: String, index: [Double]? = nil, config: Config = Config()) -> Outcome {
        var c = BacktestConfig()
        c.accounts = config.accounts
        c.seed = config.seed
        c.insuranceFund = config.insuranceFund
        c.meanHoldingHours = 24
        c.sampleRatios = false
        if incident.synthetic { c.depthFraction = 0.005 }
        let result = Backtest.run(bars: bars, model: .staticTiers, config: c)
        let closes = bars.map { DoubleBoundary.double($0.close) }
        let first = closes[0]
        let lows = bars.map { DoubleBoundary.double($0.low) }, highs = bars.map { DoubleBoundary.double($0.high) }
        let fall = 1 - (lows.min() ?? first) / first, rise = (highs.max() ?? first) / first - 1
        let worst = incident.id == "jelly-kind" || (incident.synthetic && rise > fall) ? rise : fall
        // Breakers: entries of the mark into the zone beyond the band around its reference.
        let barMs = DynamicMargin.barInterval(bars.map(\.time))
        let lag = max(1, Int(config.breakerWindowMs / barMs))
        var trips = 0, tripped = false
        for k in bars.indices {
            let reference = index?[k] ?? (k >= lag ? closes[k - lag] : closes[0])
            let out = max(highs[k] / reference - 1, 1 - lows[k] / reference) > config.breakerBand
            if out && !tripped { trips += 1 }
            tripped = out
        }
        return Outcome(incident: incident, dataName: dataName, bars: bars.count, worstMove: worst, liquidations: result.liquidations,
                       fundUsed: result.fundDraws, adlEvents: result.adlEvents, adlCovered: result.adlCovered, socialized: result.socialized,
                       badDebt: result.badDebt, breakersTripped: trips, stateHash: result.stateHash)
    }

    /// The incident table as fixed-width text.
    public static func table(_ outcomes: [Outcome]) -> String {
        let header = ["incident", "data", "bars", "move", "liquidations", "fund used", "ADL", "socialized", "bad debt", "breakers"]
        func money(_ v: Double) -> String { String(Int(v.rounded())) }
        var rows = [header]
        for o in outcomes {
            rows.append([o.incident.id, o.incident.synthetic ? "synthetic" : String(o.dataName.split(separator: "/").last ?? ""), String(o.bars),
                         DoubleBoundary.shortestText((o.worstMove * 1000).rounded() / 10) + "%", String(o.liquidations), money(o.fundUsed),
                         String(o.adlEvents), money(o.socialized), money(o.badDebt), String(o.breakersTripped)])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in row.enumerated().map { c, cell in c <= 1 ? cell + String(repeating: " ", count: widths[c] - cell.count) : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ") }
            .joined(separator: "\n") + "\n"
    }
}
