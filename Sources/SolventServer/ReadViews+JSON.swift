import SolventCore
import SolventEngine
import SolventRisk

// The JSON of the typed reads (docs/service.md), one renderer per type, used by the routes
// (SolventAPI.swift) and the stream (EventHub): decimals as strings, fields in the documented order.

extension AccountView {
    /// `GET /v1/accounts/{id}`: `{"account": <the contract's evaluation object>, "state": {balances,
    /// procedures, loans (when any), engine_sequence}}`.
    public var json: String {
        var w = JSONWriter()
        EvaluateOutput.write(account, evaluation, market: market, into: &w)
        // Balances and procedure states alongside the contract's evaluation object.
        var extra = JSONWriter()
        extra.beginObject()
        extra.key("balances"); extra.beginObject()
        for balance in account.collateral { extra.member(market.assets[balance.asset].symbol, balance.amount) }
        extra.endObject()
        extra.key("procedures"); extra.beginObject()
        for procedure in procedures { extra.member(procedure.pool, procedure.state) }
        extra.endObject()
        if !loans.isEmpty {
            // Principal and accrued interest per asset (docs/loans.md).
            extra.key("loans"); extra.beginObject()
            for (asset, loan) in loans {
                extra.key(asset); extra.beginObject()
                extra.member("principal", loan.principal); extra.member("interest", loan.interest); extra.member("owed", loan.owed)
                extra.endObject()
            }
            extra.endObject()
        }
        extra.key("engine_sequence"); extra.integer(engineSequence)
        extra.endObject()
        return "{\"account\":\(w.string),\"state\":\(extra.string)}"
    }
}

extension InsuranceFundView {
    /// `GET /v1/insurance-fund`: `{asset: balance}`.
    public var json: String {
        var w = JSONWriter()
        write(into: &w)
        return w.string
    }

    func write(into w: inout JSONWriter) {
        w.beginObject()
        for balance in balances { w.member(balance.asset, balance.amount) }
        w.endObject()
    }
}

extension MarksView {
    /// The members of the stream's `prices` message: `"time":…,"marks":{symbol: price}`.
    var streamMembers: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("time"); w.integer(time)
        writeMarks(into: &w)
        w.endObject()
        return String(w.string.dropFirst().dropLast())
    }

    /// `"marks":{symbol: price}` for the instruments with a mark.
    func writeMarks(into w: inout JSONWriter) {
        w.key("marks"); w.beginObject()
        for mark in marks { w.member(mark.symbol, mark.price) }
        w.endObject()
    }
}

extension RiskSummary {
    /// `GET /v1/risk`: `{"sequence": …, <members>}`.
    public var json: String { "{\"sequence\":\(sequence)," + streamMembers + "}" }

    /// The summary's members without the enclosing braces: the stream's `risk` message wraps
    /// them in its own object (`type`, `stream_seq`, `sequence`).
    var streamMembers: String {
        var w = JSONWriter(reservingCapacity: 8192)
        w.beginObject()
        w.key("time"); w.integer(time)
        w.member("time_iso", Timestamp.formatISO8601(time))
        w.key("accounts"); w.integer(Int64(accounts))
        w.key("by_status"); w.beginObject()
        for (status, count) in byStatus { w.key(status.name); w.integer(Int64(count)) }
        w.endObject()
        w.key("procedures"); w.beginObject()
        for (name, count) in procedures { w.key(name); w.integer(Int64(count)) }
        w.endObject()
        w.key("closest"); w.beginArray()
        for row in closest {
            w.beginObject()
            w.member("account", row.account)
            w.member("status", row.status.name)
            w.member("procedure", row.procedure)
            w.member("pool", row.pool)
            w.key("margin_ratio"); w.optionalDecimal(row.marginRatio)
            w.member("equity", row.equity)
            w.member("maintenance_margin", row.maintenanceMargin)
            if let largest = row.largest {
                w.member("symbol", largest.symbol)
                w.member("side", largest.long ? "long" : "short")
                w.key("mark"); w.optionalDecimal(largest.mark)
                w.key("liquidation_price"); w.optionalDecimal(largest.liquidationPrice)
                w.key("distance_pct"); w.optionalDecimal(largest.distancePercent)
                w.key("distance_sigma"); w.optionalDecimal(largest.distanceSigma)
            }
            w.endObject()
        }
        w.endArray()
        w.key("margin_calls"); w.beginArray()
        for call in marginCalls {
            w.beginObject()
            w.member("account", call.account)
            w.member("pool", call.pool)
            w.member("amount", call.amount)
            w.key("deadline"); w.integer(call.deadline)
            w.member("deadline_iso", Timestamp.formatISO8601(call.deadline))
            w.key("seconds_left"); w.integer(call.secondsLeft)
            w.endObject()
        }
        w.endArray()
        w.key("liquidating"); w.beginArray()
        for entry in liquidating {
            w.beginObject(); w.member("account", entry.account); w.member("pool", entry.pool); w.endObject()
        }
        w.endArray()
        w.key("insurance_fund"); insuranceFund.write(into: &w)
        if let history = insuranceFundHistory {
            w.key("insurance_fund_history"); w.beginArray()
            for point in history {
                w.beginObject()
                w.key("sequence"); w.integer(point.sequence)
                w.key("time"); w.integer(point.time)
                w.key("balances"); w.beginObject()
                for balance in point.balances { w.member(balance.asset, balance.amount) }
                w.endObject()
                w.endObject()
            }
            w.endArray()
        }
        w.key("backlog"); w.integer(Int64(backlog))
        w.key("breakers"); w.beginArray()
        for breaker in breakers {
            w.beginObject()
            w.member("symbol", breaker.symbol)
            w.key("paused"); w.bool(!breaker.reasons.isEmpty)
            w.key("reasons"); w.beginArray(); for reason in breaker.reasons { w.string(reason) }; w.endArray()
            w.member("cap_used", breaker.capUsed)
            w.endObject()
        }
        w.endArray()
        marks.writeMarks(into: &w)
        w.key("volatility"); w.beginObject()
        for (symbol, sigma) in volatility { w.member(symbol, sigma) }
        w.endObject()
        w.endObject()
        return String(w.string.dropFirst().dropLast())
    }
}
