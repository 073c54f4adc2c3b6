public import SolventCore
public import SolventRisk

/// Everything the risk-committee report shows.
public struct RiskReportInput: Sendable {
    public var dataName: String
    public var bars: [Bar]
    public var accounts: Int
    public var seed: UInt64
    public var results: [BacktestResult]
    public var sizings: [InsuranceFundSizing]
    public var calibration: DynamicMargin
    public var staticRates: [Double]
    public var coverage: Double
    /// Exceedance flags of the dynamic first bracket and of the static first-bracket rate.
    public var dynamicExceedances: [Bool]
    public var staticExceedances: [Bool]
    public var cascade: [Cascade.Outcome]
    public var cascadeAccounts: Int
    /// The capital-against-shortfall frontier (empty: no section) and the fund it is read for.
    public var frontier: [Frontier.Point] = []
    public var fund: Double = 1_000_000
    /// The calibration's anti-procyclicality add-on (nil: `calibration` is the older fixed model
    /// with APC built in) and its exceedances.
    public var withAPC: DynamicMargin? = nil
    public var apcExceedances: [Bool] = []
    /// Incident replays (empty: no section).
    public var incidents: [Incidents.Outcome] = []

    public init(dataName: String, bars: [Bar], accounts: Int, seed: UInt64, results: [BacktestResult], sizings: [InsuranceFundSizing],
                calibration: DynamicMargin, staticRates: [Double], coverage: Double, dynamicExceedances: [Bool], staticExceedances: [Bool],
                cascade: [Cascade.Outcome], cascadeAccounts: Int) {
        self.dataName = dataName
        self.bars = bars
        self.accounts = accounts
        self.seed = seed
        self.results = results
        self.sizings = sizings
        self.calibration = calibration
        self.staticRates = staticRates
        self.coverage = coverage
        self.dynamicExceedances = dynamicExceedances
        self.staticExceedances = staticExceedances
        self.cascade = cascade
        self.cascadeAccounts = cascadeAccounts
    }
}

/// One self-contained HTML file (inline CSS and SVG, no external assets) for a risk committee.
public enum RiskReport {
    static let colors = ["static": "#c0392b", "dynamic": "#1f6fb2", "dynamic_raw": "#e69f00", "calibrated": "#009e73",
                         "none": "#c0392b", "throttle": "#e69f00", "band": "#1f6fb2", "breaker": "#009e73", "all": "#6a3d9a"]

    public static func html(_ input: RiskReportInput) -> String {
        let e = SVGChart.escape
        func pct(_ v: Double, _ digits: Int = 2) -> String { DoubleBoundary.text((v * 100 * pow10(digits)).rounded() / pow10(digits)) + "%" }
        func money(_ v: Double) -> String { SVGChart.compact(v) }
        func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { a, _ in a * 10 } }
        func color(_ name: String) -> String { colors[name] ?? "#555" }
        let first = input.bars[0], last = input.bars[input.bars.count - 1]
        let closes = input.bars.map { DoubleBoundary.double($0.close) }
        let peak = closes.max() ?? 0, trough = closes.min() ?? 0
        var body = ""

        // Summary.
        let best = input.results.min { $0.totalShortfall < $1.totalShortfall }
        body += "<section><h2>Summary</h2><ul>"
        body += "<li>History: <b>\(e(input.dataName))</b>, \(input.bars.count) bars from \(Timestamp.formatISO8601(first.time)) to \(Timestamp.formatISO8601(last.time)); close from \(money(trough)) to \(money(peak)); worst 24-hour fall \(pct(input.results.first?.worstFall ?? 0, 1)), rise \(pct(input.results.first?.worstRise ?? 0, 1)).</li>"
        body += "<li>Book: \(input.accounts) synthetic traders (seed \(input.seed)), replayed through the engine under \(input.results.count) margin models.</li>"
        for r in input.results {
            body += "<li><b>\(e(r.model.rawValue))</b>: \(r.liquidations) liquidations, coverage \(pct(r.coverage, 1)), \(r.calls) margin calls (\(r.cures) cured), shortfall beyond bankruptcy \(money(r.totalShortfall)) USDT, ADL events \(r.adlEvents), mean maintenance rate \(pct(r.meanMaintenanceRate)).</li>"
        }
        if let best { body += "<li>Least shortfall: <b>\(e(best.model.rawValue))</b>.</li>" }
        body += "</ul></section>"

        // Price path.
        let pricePoints = input.bars.map { (x: Double($0.time), y: DoubleBoundary.double($0.close)) }
        let lows = input.bars.map { (x: Double($0.time), y: DoubleBoundary.double($0.low)) }
        body += "<section><h2>Price path</h2>"
        body += SVGChart(id: "price", title: "Close and bar low (USDT)", yLabel: "USDT",
                         series: [.init(name: "close", color: "#222", points: pricePoints), .init(name: "low", color: "#c0392b", points: lows)]).render()
        body += "</section>"

        // Margin ratios, liquidations, fund.
        func daily(openOnly: Bool = false, _ value: (BacktestDay) -> Double) -> [SVGChart.Series] {
            input.results.map { r in
                .init(name: r.model.rawValue, color: color(r.model.rawValue),
                      points: r.days.filter { !openOnly || $0.openAccounts > 0 }.map { (x: Double($0.time), y: value($0)) })
            }
        }
        body += "<section><h2>Margin ratios of open accounts</h2><p>Maintenance margin over equity, sampled daily (1 = liquidation). Median and 90th percentile per model.</p>"
        body += SVGChart(id: "margin-ratio-median", title: "Median margin ratio", yLabel: "MM / equity", series: daily(openOnly: true, \.medianRatio), percent: true).render()
        body += SVGChart(id: "margin-ratio-p90", title: "90th percentile margin ratio", yLabel: "MM / equity", series: daily(openOnly: true) { min($0.p90Ratio, 1.5) }, percent: true).render()
        body += "</section>"
        body += "<section><h2>Liquidations</h2>"
        body += SVGChart(id: "liquidations", title: "Liquidations started per day", yLabel: "count", series: daily { Double($0.liquidations) }, style: .bars).render()
        body += "</section>"
        body += "<section><h2>Insurance fund</h2>"
        body += SVGChart(id: "fund", title: "Insurance fund balance at the end of each day (USDT)", yLabel: "USDT", series: daily(\.fund)).render()
        body += SVGChart(id: "maintenance-rate", title: "First-bracket maintenance rate in force", yLabel: "MMR", series: daily(\.maintenanceRate), percent: true).render()
        body += "</section>"

        // Coverage table.
        body += "<section><h2>Model comparison</h2><table><thead><tr><th>model</th><th>mean MMR</th><th>liquidations</th><th>coverage</th><th>margin calls</th><th>cured</th><th>shortfall</th><th>fund low</th><th>ADL</th><th>socialized</th><th>bad debt</th></tr></thead><tbody>"
        for r in input.results {
            body += "<tr><td>\(e(r.model.rawValue))</td><td>\(pct(r.meanMaintenanceRate))</td><td>\(r.liquidations)</td><td>\(pct(r.coverage, 1))</td><td>\(r.calls)</td><td>\(r.cures)</td><td>\(money(r.totalShortfall))</td><td>\(money(r.minimumFund))</td><td>\(r.adlEvents)</td><td>\(money(r.socialized))</td><td>\(money(r.badDebt))</td></tr>"
        }
        body += "</tbody></table><p class=\"note\">Coverage: share of liquidated accounts closed before bankruptcy (no fund draw, ADL or socialized loss). Shortfall: fund draws + ADL + socialized loss + uncovered bad debt.</p></section>"

        // Fund sizing.
        body += "<section><h2>Insurance-fund sizing</h2><table><thead><tr><th>model</th><th>daily \(pct(input.sizings.first?.confidence ?? 0.99, 0)) quantile</th><th>worst day</th><th>worst 30 days</th><th>Cover-2</th><th>recommended</th></tr></thead><tbody>"
        for (r, s) in zip(input.results, input.sizings) {
            body += "<tr><td>\(e(r.model.rawValue))</td><td>\(money(s.dailyQuantile))</td><td>\(money(s.worstDay))</td><td>\(money(s.worst30Days))</td><td>\(money(s.cover2))</td><td><b>\(money(s.recommended))</b></td></tr>"
        }
        body += "</tbody></table><p class=\"note\">Cover-2: the two largest stress losses of open accounts on any day, under the history's worst 24-hour move against each side. Recommended: the larger of the worst 30 days and Cover-2.</p></section>"

        // Calibration and tests.
        let dyn = input.dynamicExceedances, sta = input.staticExceedances
        body += "<section><h2>Calibration and backtesting statistics</h2>"
        if let apc = input.withAPC {
            let ks = input.calibration.steps.count
            body += "<p>Calibrated, not only conservative: EWMA volatility (slow and fast, the larger), first-bracket horizon \(RangeVolatility.formatHorizon(input.calibration.horizonSeconds[0])) on \(RangeVolatility.formatHorizon(Double(input.calibration.barMs) / 1000)) bars\(input.calibration.subBar ? " (below one bar: Parkinson ranges with a Student t(4) tail)" : ""), multiplier chosen walk-forward as the lowest meeting \(pct(input.coverage, 1)) coverage with neither Kupiec (both tails) nor Christoffersen rejecting at 5 %; anti-procyclicality is an add-on shown apart (\(ks) steps).</p>"
            body += "<table><thead><tr><th>notional floor</th><th>horizon</th><th>calibrated MMR</th><th>with APC add-on</th><th>static MMR</th></tr></thead><tbody>"
            let lastStep = input.calibration.steps[input.calibration.steps.count - 1], apcStep = apc.steps[apc.steps.count - 1]
            for i in input.calibration.bracketFloors.indices {
                body += "<tr><td>\(money(input.calibration.bracketFloors[i]))</td><td>\(RangeVolatility.formatHorizon(input.calibration.horizonSeconds[i]))</td><td>\(pct(lastStep.rates[i], 3))</td><td>\(pct(apcStep.rates[i], 3))</td><td>\(pct(input.staticRates[i], 3))</td></tr>"
            }
            body += "</tbody></table>"
        } else {
            body += "<p>Dynamic margin: EWMA volatility, quantile z = \(DoubleBoundary.text((input.calibration.z * 1000).rounded() / 1000)) (normal \(DoubleBoundary.text((input.calibration.zNormal * 1000).rounded() / 1000)), empirical \(DoubleBoundary.text((input.calibration.zEmpirical * 1000).rounded() / 1000))), coverage \(pct(input.coverage, 1)) of the absolute one-bar move, with anti-procyclicality.</p>"
            body += "<table><thead><tr><th>notional floor</th><th>horizon (bars)</th><th>proposed MMR</th><th>raw MMR</th><th>static MMR</th></tr></thead><tbody>"
            let lastStep = input.calibration.steps[input.calibration.steps.count - 1]
            for i in input.calibration.bracketFloors.indices {
                body += "<tr><td>\(money(input.calibration.bracketFloors[i]))</td><td>\(DoubleBoundary.text((input.calibration.horizons[i] * 100).rounded() / 100))</td><td>\(pct(lastStep.rates[i], 3))</td><td>\(pct(lastStep.raw[i], 3))</td><td>\(pct(input.staticRates[i], 3))</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "<table><thead><tr><th>first bracket</th><th>observations</th><th>exceedances</th><th>rate</th><th>Kupiec LR</th><th>Kupiec p</th><th>Christoffersen LR</th><th>Christoffersen p</th><th>verdict at 5 %</th></tr></thead><tbody>"
        let rows = input.withAPC == nil ? [("dynamic", dyn), ("static", sta)] : [("calibrated", dyn), ("with APC add-on", input.apcExceedances), ("static", sta)]
        for (name, series) in rows where series.count >= 2 {
            let x = series.filter { $0 }.count
            let kupiec = BacktestStatistics.kupiec(observations: series.count, exceedances: x, coverage: input.coverage)
            let independence = BacktestStatistics.christoffersenIndependence(series)
            let rate = series.isEmpty ? 0 : Double(x) / Double(series.count)
            let verdict = kupiec.pValue < 0.05 ? (rate > 1 - input.coverage ? "under-covers" : "over-covers") : (independence.pValue < 0.05 ? "covers, clustered" : "covers")
            body += "<tr><td>\(name)</td><td>\(series.count)</td><td>\(x)</td><td>\(pct(rate, 3))</td><td>\(SVGChart.compact(kupiec.statistic))</td><td>\(Self.pValue(kupiec.pValue))</td><td>\(SVGChart.compact(independence.statistic))</td><td>\(Self.pValue(independence.pValue))</td><td>\(verdict)</td></tr>"
        }
        body += "</tbody></table>"
        let stride = max(1, input.calibration.steps.count / 1500)
        let ratePath = Swift.stride(from: 0, to: input.calibration.steps.count, by: stride).map { input.calibration.steps[$0] }
        if let apc = input.withAPC {
            let apcPath = Swift.stride(from: 0, to: apc.steps.count, by: stride).map { apc.steps[$0] }
            body += SVGChart(id: "calibration", title: "First-bracket rate: calibrated and with the APC add-on", yLabel: "MMR",
                             series: [.init(name: "with APC", color: "#e69f00", points: apcPath.map { (x: Double($0.time), y: $0.rates[0]) }),
                                      .init(name: "calibrated", color: "#1f6fb2", points: ratePath.map { (x: Double($0.time), y: $0.rates[0]) })], percent: true).render()
        } else {
            body += SVGChart(id: "calibration", title: "First-bracket rate: proposed (with APC) and raw", yLabel: "MMR",
                             series: [.init(name: "raw", color: "#e69f00", points: ratePath.map { (x: Double($0.time), y: $0.raw[0]) }),
                                      .init(name: "proposed", color: "#1f6fb2", points: ratePath.map { (x: Double($0.time), y: $0.rates[0]) })], percent: true).render()
        }
        body += "</section>"

        // Frontier.
        if !input.frontier.isEmpty {
            let points = input.frontier
            body += "<section><h2>Capital against shortfall: the frontier</h2><p>Every model and parameter set on the same history, book and fund (\(money(input.fund)) USDT): the capital it locks (mean first-bracket maintenance rate; peak rate and the lowest leverage cap it imposed in the table) against what it lets through (shortfall beyond bankruptcy: fund draws + ADL + socialized loss + bad debt). Dashed: the Pareto frontier (no other point locks less and lets through no more).</p>"
            let front = points.filter(\.onFrontier).sorted { $0.meanRate < $1.meanRate }
            var series: [SVGChart.Series] = [.init(name: "frontier", color: "#555", points: front.map { (x: $0.meanRate, y: $0.shortfall) }, connect: true)]
            for family in ["static", "calibrated", "dynamic"] {
                let members = points.filter { $0.variant.family == family && !$0.variant.industry }
                if !members.isEmpty {
                    series.append(.init(name: family, color: color(family), points: members.map { (x: $0.meanRate, y: $0.shortfall) }, labels: members.map(\.variant.label)))
                }
            }
            let industry = points.filter(\.variant.industry)
            if !industry.isEmpty {
                series.append(.init(name: "industry tiers", color: "#111", points: industry.map { (x: $0.meanRate, y: $0.shortfall) }, labels: industry.map { _ in "industry (Binance-like)" }))
            }
            var chart = SVGChart(id: "frontier", title: "Shortfall beyond bankruptcy against mean maintenance rate", yLabel: "shortfall (USDT)", series: series, style: .scatter, timeAxis: false)
            chart.xPercent = true
            chart.xLabel = "mean first-bracket maintenance rate"
            chart.height = 340
            body += chart.render()
            body += "<table><thead><tr><th>model</th><th>mean MMR</th><th>peak MMR</th><th>max leverage</th><th>liquidations</th><th>shortfall</th><th>fund draws</th><th>ADL</th><th>socialized</th><th>bad debt</th><th>frontier</th></tr></thead><tbody>"
            for p in points {
                body += "<tr><td>\(e(p.variant.label))</td><td>\(pct(p.meanRate, 3))</td><td>\(pct(p.peakRate, 2))</td><td>\(DoubleBoundary.text(p.maxLeverage))×</td><td>\(p.liquidations)</td><td>\(money(p.shortfall))</td><td>\(money(p.fundDraws))</td><td>\(money(p.adl))</td><td>\(money(p.socialized))</td><td>\(money(p.badDebt))</td><td>\(p.onFrontier ? "●" : "")</td></tr>"
            }
            body += "</tbody></table>"
            if let pick = Frontier.recommend(points, fund: input.fund) {
                body += "<p><b>Recommendation for a fund of \(money(input.fund)) USDT:</b> \(e(pick.variant.label)): mean rate \(pct(pick.meanRate, 3)) (peak \(pct(pick.peakRate, 2)), leverage capped at \(DoubleBoundary.text(pick.maxLeverage))× at worst), shortfall \(money(pick.shortfall)) USDT, within half the fund: the least capital on the frontier that this fund can carry alone (no ADL, no socialized loss).</p>"
            } else {
                body += "<p><b>Recommendation for a fund of \(money(input.fund)) USDT:</b> no model on the frontier keeps its shortfall within half the fund: a larger fund or higher margins are needed.</p>"
            }
            body += "<table><thead><tr><th>insurance fund</th><th>recommended model</th><th>mean MMR</th><th>peak MMR</th><th>shortfall</th></tr></thead><tbody>"
            for share in [0.01, 0.05, 0.2, 1.0] {
                let size = input.fund * share
                if let pick = Frontier.recommend(points, fund: size) {
                    body += "<tr><td>\(money(size))</td><td>\(e(pick.variant.label))</td><td>\(pct(pick.meanRate, 3))</td><td>\(pct(pick.peakRate, 2))</td><td>\(money(pick.shortfall))</td></tr>"
                } else {
                    body += "<tr><td>\(money(size))</td><td>none on the frontier</td><td></td><td></td><td></td></tr>"
                }
            }
            body += "</tbody></table>"
            body += "<p class=\"note\">Industry tiers: the Binance-like BTCUSDT table (0.4 % first bracket). Calibrated: walk-forward lowest multiplier meeting 99.5 % coverage without Kupiec or Christoffersen rejecting, at the liquidation horizon shown (sub-bar horizons from bar ranges, Parkinson with a t(4) tail), re-set hourly when the rate moves more than 10 %. The backtest liquidates at the data's own speed (its marks), so horizons shorter than that step are optimistic here.</p></section>"
        }

        // Incidents.
        if !input.incidents.isEmpty {
            body += "<section><h2>Incident library</h2><p>Reconstructed market failures replayed through the engine (same book model); real prices where the data has them, synthetic scenarios labelled so. 2025-10-10 is a collateral de-peg (USDe, wBETH priced on the venue's book) on two markets, with the engine's own breakers against another venue's index, and again with the collateral at redemption value.</p>"
            body += "<table><thead><tr><th>incident</th><th>data</th><th>move</th><th>liquidations</th><th>fund used</th><th>ADL</th><th>socialized</th><th>bad debt</th><th>breakers</th></tr></thead><tbody>"
            for o in input.incidents {
                body += "<tr><td>\(e(o.incident.name))</td><td>\(e(o.incident.synthetic ? "synthetic" : String(o.dataName.split(separator: "/").last ?? "")))</td><td>\(pct(o.worstMove, 1))</td><td>\(o.liquidations)</td><td>\(money(o.fundUsed))</td><td>\(o.adlEvents)</td><td>\(money(o.socialized))</td><td>\(money(o.badDebt))</td><td>\(o.breakersTripped)</td></tr>"
            }
            body += "</tbody></table><ul class=\"note\">"
            for o in input.incidents {
                body += "<li><b>\(e(o.incident.name))</b>: \(e(o.incident.account)) (\(e(o.incident.source)))"
                    + (o.notes.isEmpty ? "" : " <i>Replay: \(e(o.notes)).</i>") + "</li>"
            }
            body += "</ul></section>"
        }

        // Cascades.
        if !input.cascade.isEmpty {
            let controls = Array(Set(input.cascade.map(\.controls))).sorted { $0.rawValue < $1.rawValue }
            body += "<section><h2>Liquidation cascades</h2><p>\(input.cascadeAccounts) traders at one price; the index falls by the shock, liquidations sell into a thin book and move this venue's mark, which can trigger more liquidations.</p>"
            body += SVGChart(id: "cascade", title: "Final price move against the initial shock", yLabel: "move", series: controls.map { c in
                .init(name: c.rawValue, color: color(c.rawValue), points: input.cascade.filter { $0.controls == c }.map { (x: $0.shock, y: -$0.finalMove) })
            }, timeAxis: false, percent: true).render()
            body += "<table><thead><tr><th>controls</th><th>shock</th><th>liquidations</th><th>notional</th><th>final move</th><th>amplification</th><th>fund used</th><th>ADL</th><th>still queued</th></tr></thead><tbody>"
            for o in input.cascade {
                body += "<tr\(o.fundBroke ? " class=\"broke\"" : "")><td>\(o.controls.rawValue)</td><td>\(pct(o.shock, 1))</td><td>\(o.liquidations)</td><td>\(money(o.liquidatedNotional))</td><td>\(pct(o.finalMove, 2))</td><td>\(DoubleBoundary.text((o.amplification * 100).rounded() / 100))</td><td>\(money(o.fundUsed))</td><td>\(o.adlEvents)</td><td>\(o.backlog)</td></tr>"
            }
            body += "</tbody></table><p class=\"note\">Rows in red: the insurance fund broke (ADL, socialized loss or bad debt).</p></section>"
        }

        body += "<section><h2>Method</h2><p>Synthetic traders: leverage mostly 5–25× (some to 125×, capped by the tier in force), log-normal notional (median 5,000 USDT), 55 % long, holding time exponential (mean 72 h); half answer margin calls by depositing the call amount after a random delay. Each bar is replayed as open → nearer extreme → other extreme → close, with a book of five levels per side within ±2 % holding a fixed share of the bar's volume. Margin models: <i>static</i> Binance-like tiers; <i>dynamic</i> EWMA margin with anti-procyclicality (stressed weight, buffer, speed limits), re-set daily; <i>dynamic_raw</i> the same without anti-procyclicality. Everything is deterministic for the seed; statistics are cross-checked against scipy in the test suite. Details: docs/lab.md, docs/dynamic-margin.md.</p></section>"

        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Solvent risk report: \(e(input.dataName))</title>
            <style>
            body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;background:#f6f7f9;color:#1c1f24}
            header{background:#14213d;color:#fff;padding:20px 32px}header h1{margin:0;font-size:22px}header p{margin:6px 0 0;color:#c9d1e0;font-size:13px}
            main{max-width:980px;margin:0 auto;padding:8px 24px 40px}
            section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:14px 20px;margin:16px 0}
            h2{font-size:17px;margin:4px 0 10px;color:#14213d}
            table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}th,td{padding:5px 8px;border-bottom:1px solid #e6e9ee;text-align:right}
            th:first-child,td:first-child{text-align:left}th{background:#f0f2f5;font-weight:600}tr.broke td{color:#b03a2e}
            .note{font-size:12px;color:#5b6270}
            svg.chart{width:100%;height:auto;margin:6px 0}.chart-title{font-size:13px;font-weight:600;fill:#1c1f24}
            .tick{font-size:10px;fill:#5b6270}.axis{font-size:11px;fill:#5b6270}.legend{font-size:11px;fill:#1c1f24}
            .grid{stroke:#e6e9ee;stroke-width:1}.axis-line{stroke:#9aa1ad;stroke-width:1}
            </style></head>
            <body><header><h1>Solvent risk report</h1><p>\(e(input.dataName)) · \(Timestamp.formatISO8601(first.time)) – \(Timestamp.formatISO8601(last.time)) · \(input.accounts) traders · seed \(input.seed)</p></header>
            <main>
            \(body)
            </main></body></html>

            """
    }

    static func pValue(_ p: Double) -> String { p < 1e-4 ? "< 0.0001" : DoubleBoundary.text((p * 10_000).rounded() / 10_000) }
}
