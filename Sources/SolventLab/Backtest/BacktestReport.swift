public import SolventCore
import SolventRisk

extension BacktestResult {
    /// The result as one JSON object (daily series included when `days` is true).
    public func json(sizing: InsuranceFundSizing, days includeDays: Bool) -> String {
        var w = JSONWriter()
        write(into: &w, sizing: sizing, days: includeDays)
        return w.string
    }

    public func write(into w: inout JSONWriter, sizing: InsuranceFundSizing, days includeDays: Bool) {
        func number(_ key: String, _ value: Double) { w.member(key, DoubleBoundary.shortestText((value * 1e6).rounded() / 1e6)) }
        w.beginObject()
        w.member("model", model.rawValue)
        if label != model.rawValue && !label.isEmpty { w.member("label", label) }
        w.key("bars"); w.integer(bars)
        w.key("accounts"); w.integer(accounts)
        w.key("traded"); w.integer(traded)
        w.key("rejected_opens"); w.integer(rejectedOpens)
        w.key("liquidations"); w.integer(liquidations)
        w.key("liquidated_accounts"); w.integer(liquidatedAccounts)
        number("coverage", coverage)
        number("liquidated_notional", liquidatedNotional)
        w.key("margin_calls"); w.integer(calls)
        w.key("cures"); w.integer(cures)
        number("cure_rate", cureRate)
        number("fund_draws", fundDraws)
        number("fund_contributions", fundContributions)
        w.key("adl_events"); w.integer(adlEvents)
        number("adl_covered", adlCovered)
        w.key("socialized_loss_events"); w.integer(socializedEvents)
        number("socialized_loss", socialized)
        number("bad_debt", badDebt)
        number("total_shortfall", totalShortfall)
        number("minimum_fund", minimumFund)
        number("final_fund", finalFund)
        number("mean_maintenance_rate", meanMaintenanceRate)
        number("peak_maintenance_rate", peakMaintenanceRate)
        number("minimum_max_leverage", minimumMaxLeverage)
        w.key("insurance_fund_sizing"); w.beginObject()
        number("confidence", sizing.confidence)
        number("daily_quantile", sizing.dailyQuantile)
        number("worst_day", sizing.worstDay)
        number("worst_30_days", sizing.worst30Days)
        number("cover_2", sizing.cover2)
        w.member("cover_2_day", Timestamp.formatISO8601(cover2Time))
        number("worst_24h_fall", worstFall)
        number("worst_24h_rise", worstRise)
        number("recommended", sizing.recommended)
        w.endObject()
        w.member("state_hash", stateHash)
        if includeDays {
            w.key("days"); w.beginArray()
            for d in days {
                w.beginObject()
                w.member("time", Timestamp.formatISO8601(d.time))
                number("close", d.close); number("low", d.low); number("high", d.high)
                w.key("liquidations"); w.integer(d.liquidations)
                w.key("calls"); w.integer(d.calls)
                w.key("cures"); w.integer(d.cures)
                number("shortfall", d.shortfall); number("fund", d.fund); number("maintenance_rate", d.maintenanceRate)
                w.key("open_accounts"); w.integer(d.openAccounts)
                number("median_ratio", d.medianRatio); number("p90_ratio", d.p90Ratio)
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
    }
}

/// The model comparison as a fixed-width text table.
public enum BacktestTable {
    public static func render(_ results: [BacktestResult]) -> String {
        let header = ["model", "mean MMR", "liquidations", "coverage", "calls", "cured", "shortfall", "fund min", "ADL", "socialized", "bad debt"]
        var rows = [header]
        func money(_ v: Double) -> String { v >= 1_000_000 ? "\(Int(v / 1000))K" : "\(Int(v.rounded()))" }
        for r in results {
            rows.append([r.label.isEmpty ? r.model.rawValue : r.label, "\(DoubleBoundary.shortestText((r.meanMaintenanceRate * 10_000).rounded() / 100))%", "\(r.liquidations)",
                         "\(DoubleBoundary.shortestText((r.coverage * 1000).rounded() / 10))%", "\(r.calls)", "\(r.cures)", money(r.totalShortfall),
                         money(r.minimumFund), "\(r.adlEvents)", money(r.socialized), money(r.badDebt)])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in row.enumerated().map { c, cell in c == 0 ? cell + String(repeating: " ", count: widths[c] - cell.count) : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ") }
            .joined(separator: "\n") + "\n"
    }
}
