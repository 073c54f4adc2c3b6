import Foundation
public import SolventCore
import SolventRisk

/// The documents the lab commands print (`solvent simulate-cascade`, `incidents`, `backtest`):
/// typed results in, the JSON document and the table out. The commands only parse their flags,
/// read the data and call these (docs/lab.md).
public enum CascadeReport {
    /// The JSON document of `solvent simulate-cascade`: the configuration, the first shock that
    /// breaks the fund per control set, every outcome (numbers rounded to 1e-6).
    public static func json(config: Cascade.Config, controls: [Cascade.Controls], outcomes: [Cascade.Outcome]) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("accounts"); w.integer(config.accounts)
        w.key("seed"); w.integer(config.seed)
        w.member("depth", DoubleBoundary.shortestText(config.depth))
        w.member("insurance_fund", config.insuranceFund)
        w.key("fund_breaks_at"); w.beginObject()
        for kind in controls {
            w.key(kind.rawValue)
            if let first = outcomes.first(where: { $0.controls == kind && $0.fundBroke }) { w.string(DoubleBoundary.shortestText(first.shock)) } else { w.null() }
        }
        w.endObject()
        w.key("outcomes"); w.beginArray()
        for o in outcomes { write(o, into: &w) }
        w.endArray()
        w.endObject()
        return w.string
    }

    static func write(_ o: Cascade.Outcome, into w: inout JSONWriter) {
        func number(_ key: String, _ v: Double) { w.member(key, DoubleBoundary.shortestText((v * 1e6).rounded() / 1e6)) }
        w.beginObject()
        number("shock", o.shock)
        w.member("controls", o.controls.rawValue)
        w.key("liquidations"); w.integer(o.liquidations)
        number("liquidated_notional", o.liquidatedNotional)
        number("final_move", o.finalMove)
        number("amplification", o.amplification)
        w.key("rounds"); w.integer(o.rounds)
        number("fund_used", o.fundUsed)
        number("fund_left", o.fundLeft)
        w.key("adl_events"); w.integer(o.adlEvents)
        number("socialized_loss", o.socialized)
        number("bad_debt", o.badDebt)
        w.key("backlog"); w.integer(o.backlog)
        w.key("fund_broke"); w.bool(o.fundBroke)
        w.endObject()
    }

    /// The comparison table: one line per (controls, shock).
    public static func table(_ outcomes: [Cascade.Outcome]) -> String {
        var lines = ["controls  shock  liquidations  notional      final move  amplification  fund used  ADL  backlog"]
        for o in outcomes {
            let cells = [o.controls.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                         String(format: "%5.1f%%", o.shock * 100), String(format: "%12d", o.liquidations),
                         String(format: "%12.0f", o.liquidatedNotional), String(format: "%10.2f%%", o.finalMove * 100),
                         String(format: "%13.2f", o.amplification), String(format: "%9.0f", o.fundUsed),
                         String(format: "%4d", o.adlEvents), String(format: "%8d", o.backlog)]
            lines.append(cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

public enum IncidentsReport {
    /// The JSON document of `solvent incidents`: the run's settings and one object per replayed
    /// incident (amounts rounded to cents).
    public static func json(dataRoot: String, config: Incidents.Config, outcomes: [Incidents.Outcome]) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.member("data_root", dataRoot)
        w.key("seed"); w.integer(config.seed)
        w.key("accounts"); w.integer(config.accounts)
        w.member("insurance_fund", config.insuranceFund)
        w.key("incidents"); w.beginArray()
        for o in outcomes {
            func number(_ key: String, _ value: Double) { w.member(key, DoubleBoundary.shortestText((value * 100).rounded() / 100)) }
            w.beginObject()
            w.member("id", o.incident.id)
            w.member("name", o.incident.name)
            w.key("synthetic"); w.bool(o.incident.synthetic)
            w.member("data", o.dataName)
            w.key("bars"); w.integer(o.bars)
            w.member("from", o.incident.from)
            w.member("to", o.incident.to)
            number("worst_move", o.worstMove)
            w.key("liquidations"); w.integer(o.liquidations)
            number("fund_used", o.fundUsed)
            w.key("adl_events"); w.integer(o.adlEvents)
            number("adl_covered", o.adlCovered)
            number("socialized_loss", o.socialized)
            number("bad_debt", o.badDebt)
            w.key("breakers_tripped"); w.integer(o.breakersTripped)
            w.member("account", o.incident.account)
            w.member("source", o.incident.source)
            // What the replay itself showed (the report's "Replay:" line; empty when nothing to add).
            w.member("replay_note", o.notes)
            w.member("state_hash", o.stateHash)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.string
    }
}

public enum BacktestDocument {
    /// The JSON document of `solvent backtest`: the window, the seed, the finer data and latency
    /// when used, and each model's result with its insurance-fund sizing at `confidence`.
    public static func json(dataName: String, bars: [Bar], seed: UInt64, minuteData: String?, stepSeconds: Double?,
                            results: [BacktestResult], confidence: Double, days: Bool) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.member("data", dataName)
        w.member("from", Timestamp.formatISO8601(bars[0].time))
        w.member("to", Timestamp.formatISO8601(bars[bars.count - 1].time))
        w.key("seed"); w.integer(seed)
        if let minuteData { w.member("minute_data", minuteData); w.key("bars_on_minute_path"); w.integer(results.first?.fineCoveredBars ?? 0) }
        if let stepSeconds { w.member("step_seconds", DoubleBoundary.shortestText(stepSeconds)) }
        w.key("models"); w.beginArray()
        for result in results { result.write(into: &w, sizing: InsuranceFundSizing(result: result, confidence: confidence), days: days) }
        w.endArray()
        w.endObject()
        return w.string
    }
}
