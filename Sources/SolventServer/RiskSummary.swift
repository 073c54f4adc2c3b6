import Foundation
import SolventCore
import SolventEngine
import SolventRisk

/// What the service keeps beside the engine for the risk summary: a volatility estimate per
/// instrument (EWMA of mark log-returns, for distances in σ) and the insurance fund over time.
/// Service-side statistics: they never feed back into the engine, so its determinism holds.
struct RiskTracker: Sendable {
    /// EWMA decay per observation (RiskMetrics' 0.94).
    static let lambda = 0.94
    static let dayMilliseconds = 86_400_000.0
    /// Fund history kept for the dashboard: halved (every other point) when it reaches this.
    static let historyLimit = 4000

    /// Last mark and time per instrument, and variance per millisecond of log-returns.
    private(set) var lastMark: [Double?]
    private(set) var lastTime: [Int64]
    private(set) var variancePerMillisecond: [Double?]
    /// (journal sequence, engine time ms, fund balance per asset) when the fund changed.
    private(set) var fundHistory: [(sequence: Int64, time: Int64, balances: [FixedDecimal])] = []

    init(instruments: Int) {
        lastMark = [Double?](repeating: nil, count: instruments)
        lastTime = [Int64](repeating: 0, count: instruments)
        variancePerMillisecond = [Double?](repeating: nil, count: instruments)
    }

    /// Folds the engine's current marks and fund into the estimates.
    mutating func observe(_ state: EngineState, sequence: Int64) {
        for k in state.markSources.indices {
            guard let mark = state.markSources[k]?.price, mark > .zero else { continue }
            let price = DoubleBoundary.double(mark)
            guard let previous = lastMark[k], previous > 0 else {
                lastMark[k] = price
                lastTime[k] = state.time
                continue
            }
            // A return needs a new price and elapsed time; commands that leave the mark alone change nothing.
            guard price != previous, state.time > lastTime[k] else { continue }
            let r = Foundation.log(price / previous)
            let sample = r * r / Double(state.time - lastTime[k])
            variancePerMillisecond[k] = variancePerMillisecond[k].map { Self.lambda * $0 + (1 - Self.lambda) * sample } ?? sample
            lastMark[k] = price
            lastTime[k] = state.time
        }
        let balances = state.totals.map(\.insuranceFund)
        if fundHistory.last?.balances != balances {
            fundHistory.append((sequence, state.time, balances))
            if fundHistory.count >= Self.historyLimit {
                fundHistory = fundHistory.enumerated().filter { $0.offset % 2 == 0 || $0.offset == fundHistory.count - 1 }.map(\.element)
            }
        }
    }

    /// One-day σ of instrument `k`'s log-returns (nil before two distinct marks).
    func dailySigma(_ k: Int) -> Double? {
        variancePerMillisecond[k].map { ($0 * Self.dayMilliseconds).squareRoot() }
    }
}

/// The risk summary (docs/service.md): accounts by status and procedure, the accounts closest
/// to liquidation, open margin calls with deadlines, liquidations in progress, the insurance
/// fund, breakers, marks and σ. JSON members without the enclosing braces.
enum RiskSummary {
    /// Accounts listed in `closest`.
    static let closestCount = 20

    static func members(engine: Engine, tracker: RiskTracker, includeHistory: Bool) -> String {
        let state = engine.state
        let market = state.market
        var byStatus = [Int](repeating: 0, count: MarginStatus.allCases.count)
        var procedureCounts: [String: Int] = ["normal": 0, "warning": 0, "margin_call": 0, "liquidating": 0]
        struct Candidate { var index: Int; var pool: PoolEvaluation; var evaluation: AccountEvaluation; var procedure: String }
        var candidates: [Candidate] = []
        var calls: [(account: String, pool: String, amount: FixedDecimal, deadline: Int64)] = []
        var liquidating: [(account: String, pool: String)] = []
        for (index, record) in state.accounts.enumerated() {
            // Statuses and ratios only: liquidation prices are computed below for the listed few.
            let evaluation = engine.evaluateAccount(record, prices: false)
            byStatus[evaluation.status.rawValue] += 1
            var worst: String = "normal"
            for (key, procedure) in record.procedures {
                switch procedure {
                case .normal: break
                case .warning: if worst == "normal" { worst = "warning" }
                case .called(let deadline, let amount):
                    if worst != "liquidating" { worst = "margin_call" }
                    calls.append((record.id, engine.poolName(key), amount, deadline))
                case .liquidating:
                    worst = "liquidating"
                    liquidating.append((record.id, engine.poolName(key)))
                }
            }
            procedureCounts[worst, default: 0] += 1
            // The pool nearest to liquidation: no ratio (equity ≤ 0) first, then the highest ratio.
            guard let pool = evaluation.pools.filter({ $0.positionCount > 0 }).max(by: { Self.closer($1, than: $0) }) else { continue }
            candidates.append(Candidate(index: index, pool: pool, evaluation: evaluation, procedure: worst))
        }
        candidates.sort { a, b in
            if Self.closer(a.pool, than: b.pool) { return true }
            if Self.closer(b.pool, than: a.pool) { return false }
            return state.accounts[a.index].id < state.accounts[b.index].id
        }

        var w = JSONWriter(reservingCapacity: 8192)
        w.beginObject()
        w.key("time"); w.integer(state.time)
        w.member("time_iso", Timestamp.formatISO8601(state.time))
        w.key("accounts"); w.integer(Int64(state.accounts.count))
        w.key("by_status"); w.beginObject()
        for status in MarginStatus.allCases { w.key(status.name); w.integer(Int64(byStatus[status.rawValue])) }
        w.endObject()
        w.key("procedures"); w.beginObject()
        for name in ["normal", "warning", "margin_call", "liquidating"] { w.key(name); w.integer(Int64(procedureCounts[name] ?? 0)) }
        w.endObject()
        w.key("closest"); w.beginArray()
        for var candidate in candidates.prefix(closestCount) {
            let record = state.accounts[candidate.index]
            candidate.evaluation = engine.evaluateAccount(record)
            let pool = candidate.pool
            w.beginObject()
            w.member("account", record.id)
            w.member("status", pool.status.name)
            w.member("procedure", candidate.procedure)
            w.member("pool", pool.pool.name { market.instruments[record.account.positions[$0].instrument].symbol })
            w.key("margin_ratio"); w.optionalDecimal(pool.marginRatio?.rounded(toDigits: 4))
            w.member("equity", pool.equity.rounded(toDigits: 2))
            w.member("maintenance_margin", pool.maintenanceMargin.rounded(toDigits: 2))
            let largest = candidate.evaluation.positions.indices
                .filter { candidate.evaluation.positions[$0].pool == pool.pool }
                .max { candidate.evaluation.positions[$0].notional.magnitude < candidate.evaluation.positions[$1].notional.magnitude }
            if let k = largest {
                let position = record.account.positions[k]
                let instrument = position.instrument
                let long = position.quantity > .zero
                let mark = state.markSources[instrument]?.price
                let liquidation = candidate.evaluation.positions[k].liquidationPrice
                w.member("symbol", market.instruments[instrument].symbol)
                w.member("side", long ? "long" : "short")
                w.key("mark"); w.optionalDecimal(mark)
                w.key("liquidation_price"); w.optionalDecimal(liquidation?.rounded(toDigits: 2))
                if let mark, let liquidation, mark > .zero {
                    let move = long ? mark - liquidation : liquidation - mark
                    // Checked: a tiny position's liquidation price can be ~1e19 (the percentage then
                    // leaves the decimal range and is shown as null).
                    let percent = move.multiplied(by: FixedDecimal(100), rounding: .halfEven)?.divided(by: mark, rounding: .halfEven)
                    w.key("distance_pct"); w.optionalDecimal(percent?.rounded(toDigits: 2))
                    if let sigma = tracker.dailySigma(instrument), sigma > 0, liquidation > .zero {
                        let logDistance = abs(Foundation.log(DoubleBoundary.double(liquidation) / DoubleBoundary.double(mark)))
                        let signed = (move < .zero ? -1.0 : 1.0) * logDistance / sigma
                        w.key("distance_sigma"); w.optionalDecimal(DoubleBoundary.decimal(signed)?.rounded(toDigits: 2))
                    } else {
                        w.key("distance_sigma"); w.null()
                    }
                } else {
                    w.key("distance_pct"); w.null()
                    w.key("distance_sigma"); w.null()
                }
            }
            w.endObject()
        }
        w.endArray()
        w.key("margin_calls"); w.beginArray()
        for call in calls.sorted(by: { ($0.deadline, $0.account) < ($1.deadline, $1.account) }) {
            w.beginObject()
            w.member("account", call.account)
            w.member("pool", call.pool)
            w.member("amount", call.amount)
            w.key("deadline"); w.integer(call.deadline)
            w.member("deadline_iso", Timestamp.formatISO8601(call.deadline))
            w.key("seconds_left"); w.integer(max(0, (call.deadline - state.time) / 1000))
            w.endObject()
        }
        w.endArray()
        w.key("liquidating"); w.beginArray()
        for entry in liquidating.sorted(by: { ($0.account, $0.pool) < ($1.account, $1.pool) }) {
            w.beginObject(); w.member("account", entry.account); w.member("pool", entry.pool); w.endObject()
        }
        w.endArray()
        w.key("insurance_fund"); w.beginObject()
        for (a, asset) in market.assets.enumerated() { w.member(asset.symbol, state.totals[a].insuranceFund) }
        w.endObject()
        if includeHistory {
            w.key("insurance_fund_history"); w.beginArray()
            for point in tracker.fundHistory {
                w.beginObject()
                w.key("sequence"); w.integer(point.sequence)
                w.key("time"); w.integer(point.time)
                w.key("balances"); w.beginObject()
                for (a, asset) in market.assets.enumerated() { w.member(asset.symbol, point.balances[a]) }
                w.endObject()
                w.endObject()
            }
            w.endArray()
        }
        w.key("backlog"); w.integer(Int64(state.backlog.count))
        w.key("breakers"); w.beginArray()
        for (k, instrument) in market.instruments.enumerated() {
            let breaker = state.breakers[k]
            w.beginObject()
            w.member("symbol", instrument.symbol)
            w.key("paused"); w.bool(!breaker.pausedReasons.isEmpty)
            w.key("reasons"); w.beginArray(); for reason in breaker.pausedReasons { w.string(reason) }; w.endArray()
            w.member("cap_used", breaker.capUsed)
            w.endObject()
        }
        w.endArray()
        writeMarks(state, into: &w)
        w.key("volatility"); w.beginObject()
        for (k, instrument) in market.instruments.enumerated() {
            if let sigma = tracker.dailySigma(k), let value = DoubleBoundary.decimal(sigma) { w.member(instrument.symbol, value.rounded(toDigits: 6)) }
        }
        w.endObject()
        w.endObject()
        // Members only: the stream wraps them in its own message object.
        return String(w.string.dropFirst().dropLast())
    }

    /// Whether pool `a` is closer to liquidation than `b` (no ratio, equity ≤ 0, is closest).
    static func closer(_ a: PoolEvaluation, than b: PoolEvaluation) -> Bool {
        switch (a.marginRatio, b.marginRatio) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case let (x?, y?): return x > y
        }
    }

    /// `"marks":{symbol: price}` for the instruments with a mark.
    static func writeMarks(_ state: EngineState, into w: inout JSONWriter) {
        w.key("marks"); w.beginObject()
        for (k, instrument) in state.market.instruments.enumerated() { if let mark = state.markSources[k]?.price { w.member(instrument.symbol, mark) } }
        w.endObject()
    }
}
