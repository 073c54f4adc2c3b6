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

    /// Each account is checked against the page cited in `source` (title and address; docs/lab.md
    /// lists what each supports). Where the venue's own page was not found, the report cited says so.
    public static let library: [Incident] = [
        Incident(id: "2020-03-12", name: "Black Thursday 2020-03-12/13",
                 account: "BTC fell about half in a day (Binance USD-M low 3,621.81 at 02:16 UTC on the 13th); BitMEX was hit by two DDoS attacks (02:16 and 12:56 UTC on the 13th) that delayed or blocked orders at the bottom, and at MakerDAO delayed, congested auctions were won by zero bids, a deficit covered by minting and auctioning MKR",
                 source: "BitMEX, \"How We Are Responding to Last Week's DDoS Attacks\" (https://blog.bitmex.com/how-we-are-responding-to-last-weeks-ddos-attacks/); MakerDAO, \"The Market Collapse of March 12-13, 2020: How It Impacted MakerDAO\" (2020-04-15, https://blog.makerdao.com/il-collasso-del-mercato-del-12-13-marzo-2020-come-ha-impattato-makerdao/, Italian edition); Blockonomi on the MKR auction (https://blockonomi.com/makerdao-emergency-5-million-dai-raised/)",
                 files: ["minute/binanceusdm-BTCUSDT-1m-2020-03-12T0858_2020-03-13T0419.csv.gz", "Examples/data/BTCUSDT-1h-2020-03-crash.csv"],
                 from: "2020-03-11T00:00:00Z", to: "2020-03-14T00:00:00Z", synthetic: false),
        Incident(id: "2021-05-19", name: "2021-05-19 sell-off",
                 account: "BTC fell from about 43,000 to 30,000 intraday (Binance spot low 30,000 at 13:10 UTC) with about $8.6B of futures liquidated across venues; Binance futures users could not close positions during the drop, and a Binance Futures executive posted a compensation claim form, later deleted (no Binance post-mortem found)",
                 source: "Forkast, \"Binance users burned by outage band together to take legal action\" (https://forkast.news/binance-users-burned-by-outage-unite-legal-action/amp)",
                 files: ["minute/binance-BTCUSDT-1m-2021-04-20_2021-05-20.csv.gz", "data/binance-usdm-1h/BTCUSDT.csv.gz"],
                 from: "2021-05-18T00:00:00Z", to: "2021-05-20T12:00:00Z", synthetic: false),
        Incident(id: "2022-05-luna", name: "LUNA/UST collapse 2022-05",
                 account: "UST lost its peg from 8 May and LUNA went to almost zero within days; the Luna Foundation Guard spent nearly all of its 80,394 BTC defending the peg, Binance Futures settled and delisted LUNA perpetuals on 12 May, and BTC fell from about 36,000 to 26,700",
                 source: "Luna Foundation Guard, reserve statement on X (2022-05-16), as quoted in \"LFG ... fail UST revival\" (https://gadgets360.com/cryptocurrency/news/lfg-luna-foundation-guard-fail-ust-revival-bitcoin-reserve-3-billion-2983053); \"Binance delists LUNA while Terra proposes token burn\" (https://www.fxstreet.com/cryptocurrencies/news/binance-delists-luna-while-terra-proposes-token-burn-to-save-ust-202205121308)",
                 files: ["minute/binance-BTCUSDT-5m-2022-04-25_2022-05-31.csv.gz", "Examples/data/BTCUSDT-1h-2022-05-luna.csv"],
                 from: "2022-05-07T00:00:00Z", to: "2022-05-14T00:00:00Z", synthetic: false),
        Incident(id: "2022-11-ftx", name: "FTX collapse 2022-11",
                 account: "After about $6B of withdrawals in 72 hours FTX effectively paused withdrawals on 8 November, Binance dropped its rescue on the 9th, and the FTX group filed for Chapter 11 on the 11th; BTC fell to 15,588 on Binance",
                 source: "The Block, \"FTX effectively paused withdrawals\" (https://www.theblock.co/post/184315/ftx-effectively-paused-withdrawals-ceo-sam-bankman-fried-tells-employees); John J. Ray III, testimony to the House Financial Services Committee, 2022-12-13 (https://www.marketsmedia.com/testimony-of-john-ray-iii-ceo-ftx-debtors/)",
                 files: ["minute/binance-BTCUSDT-5m-2022-10-25_2022-11-30.csv.gz"],
                 from: "2022-11-06T00:00:00Z", to: "2022-11-12T00:00:00Z", synthetic: false),
        Incident(id: "2025-10-10", name: "2025-10-10: collateral de-peg at the venue's book price, price cascade, ADL",
                 account: "About $19B of positions were liquidated across venues in 24 hours; on Binance, USDe (below 0.66), wBETH (about 430 against ETH above 3,800) and BNSOL, accepted as futures collateral and priced on Binance's own spot books, de-pegged between 21:36 and 22:16 UTC and Binance compensated the affected Futures, Margin and Loan users; Hyperliquid ran its first cross-margin ADL in over two years, with no bad debt",
                 source: "Binance compensation terms for the USDE, BNSOL and WBETH de-peg, as published on Binance Square (https://www.binance.bh/fr-AF/square/post/30952419865713); CoinDesk, \"Binance to Compensate Users Affected by Crash in wBETH, BNSOL, and Ethena's USDe\" (2025-10-12, mirror https://australianews.pages.dev/crypto-news-coindesk.com/tr/markets/2025/10/12/binance-to-compensate-users-affected-by-crash-in-wbeth-bnsol-and-ethena-s-usde); Hyperliquid founder's statement, as reported on Binance Square (https://www.binance.bh/en/square/post/30898806158562); the 24-hour liquidation total (CoinGlass), as reported on Binance Square (https://www.binance.bh/en-AE/square/post/30850840862433)",
                 files: ["minute/binancecm-BTCUSD_PERP-priceklines-1m-2025-10-09_2025-10-10.csv.gz", "Examples/data/binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz"],
                 from: "2025-10-10T00:00:00Z", to: "2025-10-11T00:00:00Z", synthetic: false),
        Incident(id: "2025-10-10-redemption", name: "2025-10-10 again, collateral at redemption value (counterfactual)",
                 account: "The same replay with USDe priced at 1 and wBETH at the ETH price (redemption value), the conversion-ratio pricing Binance announced after the event: what pricing collateral off the venue's own book cost",
                 source: "CoinDesk, \"Binance to Compensate Users Affected by Crash in wBETH, BNSOL, and Ethena's USDe\" (2025-10-12, mirror https://australianews.pages.dev/crypto-news-coindesk.com/tr/markets/2025/10/12/binance-to-compensate-users-affected-by-crash-in-wbeth-bnsol-and-ethena-s-usde)",
                 files: ["minute/binancecm-BTCUSD_PERP-priceklines-1m-2025-10-09_2025-10-10.csv.gz", "Examples/data/binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz"],
                 from: "2025-10-10T00:00:00Z", to: "2025-10-11T00:00:00Z", synthetic: false),
        Incident(id: "mango-kind", name: "Oracle manipulation in a thin market (Mango kind, synthetic, a 2.3x pump)",
                 account: "On 2022-10-11 an attacker funded an account with 5M USDC, took a large MNGO-PERP long and bought MNGO on thin spot markets, pumping the price (and Mango's oracle) from about 0.03 to as high as 0.91 in minutes, then borrowed about $116M against the inflated profit, draining the protocol",
                 source: "Cointelegraph, \"How low liquidity led to Mango Markets losing over $116 million\" (https://cointelegraph.com/news/how-low-liquidity-led-to-mango-markets-losing-over-116-million/amp)",
                 files: [], from: "2022-10-11T00:00:00Z", to: "2022-10-12T12:00:00Z", synthetic: true),
        Incident(id: "jelly-kind", name: "Illiquid squeeze (JELLY kind, synthetic)",
                 account: "On 2025-03-26 a trader self-traded a 4M USDC JELLY position at 0.0095, the price then rose more than 4x and the HLP backstop liquidated the short into its vault; validators voted to delist JELLY and settled the market at 0.0095, the Foundation refunding other users",
                 source: "Hyperliquid's statement, as reposted (https://tglist.com/ru/channel/vIeNxn); Blockworks, \"A perp too far: Hyperliquid's 'validator put'\" (https://blockworks.co/news/hyperliquid-decentralization-validator-put)",
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
        /// What else the replay measured, in one line (the de-peg: collateral converted,
        /// liquidated accounts with de-pegged collateral, breaker reasons); empty when nothing.
        public var notes = ""
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
        if incident.id.hasPrefix("2025-10-10") { return replayDepeg(incident, bars: bars, dataName: dataName, config: config) }
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

    /// The files next to the 2025-10-10 BTC marks (the research data's minute folder) that the
    /// de-peg replay also uses when present, in order of preference.
    static let depegCompanions = (
        btcIndex: ["gemini-BTCUSD-1m-2025-10-10_from-trades.csv.gz"],
        btcVolume: ["binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz"],
        eth: ["binance-ETHUSDT-5m-2025-09-25_2025-10-31.csv.gz", "gemini-ETHUSD-1m-2025-10-10_from-trades.csv.gz"],
        ethIndex: ["gemini-ETHUSD-1m-2025-10-10_from-trades.csv.gz"])

    /// 2025-10-10 through `CollateralDepeg`: `bars` are the BTC marks; ETH marks, the other
    /// venue's index and the perpetual's volume (for depth) come from files next to `dataName`
    /// when there (the shipped five-minute perpetual file for the volume otherwise).
    static func replayDepeg(_ incident: Incident, bars: [Bar], dataName: String, config: Config) -> Outcome {
        let from = Timestamp.parseISO8601(incident.from)!, to = Timestamp.parseISO8601(incident.to)!
        let folder = LabData.folder(of: dataName)
        var names: [String] = []
        func load(_ candidates: [String]) -> [Bar]? {
            for name in candidates {
                let path = folder.isEmpty ? name : folder + "/" + name
                guard path != dataName, let all = LabData.bars(path) else { continue }
                let window = all.filter { $0.time >= from && $0.time < to }
                if window.count >= 2 { names.append(name); return window }
            }
            return nil
        }
        var series = CollateralDepeg.Series(btc: bars)
        series.btcIndex = load(depegCompanions.btcIndex)
        series.btcVolume = load(depegCompanions.btcVolume)
        if series.btcVolume == nil, bars.allSatisfy({ $0.volume.isZero }) {
            series.btcVolume = LabData.bars("Examples/data/binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz")?.filter { $0.time >= from && $0.time < to }
        }
        series.eth = load(depegCompanions.eth)
        if let eth = names.last, eth.hasPrefix("binance-ETHUSDT") { series.ethIndex = load(depegCompanions.ethIndex) }
        var c = CollateralDepeg.Config()
        c.accounts = config.accounts
        c.seed = config.seed
        c.insuranceFund = config.insuranceFund
        c.pricing = incident.id.hasSuffix("redemption") ? .redemption : .venueBook
        let r = CollateralDepeg.run(series, config: c)
        func money(_ v: Double) -> String { String(Int(v.rounded())) }
        var notes = "\(r.instruments.joined(separator: " + ")); \(r.liquidatedAccounts) accounts liquidated, \(r.liquidatedWithDepegCollateral) of them on USDe or wBETH collateral"
        if !r.converted.isEmpty {
            notes += "; collateral sold at its haircut price to settle closed positions' losses (USDT): " + r.converted.keys.sorted().map { "\($0) \(money(r.converted[$0]!))" }.joined(separator: ", ")
        }
        if r.pauses > 0 {
            notes += "; liquidations paused \(r.pauses)× for \(r.pausedMs / 60_000) instrument-minutes in all (" + r.pauseReasons.keys.sorted().map { "\($0) \(r.pauseReasons[$0]!)" }.joined(separator: ", ") + ")"
        }
        if !names.isEmpty { notes += "; also read: " + names.joined(separator: ", ") }
        return Outcome(incident: incident, dataName: dataName, bars: bars.count, worstMove: r.worstMove, liquidations: r.liquidations,
                       fundUsed: r.fundDraws, adlEvents: r.adlEvents, adlCovered: r.adlCovered, socialized: r.socialized, badDebt: r.badDebt,
                       breakersTripped: r.pauses, stateHash: r.stateHash, notes: notes)
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
            + outcomes.filter { !$0.notes.isEmpty }.map { "\($0.incident.id): \($0.notes)\n" }.joined()
    }
}
