import Foundation
public import SolventCore
import SolventEngine
public import SolventRisk

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
/// fund, breakers, marks and σ. A typed value read from one state; rendered by
/// `RiskSummary.json` / `members` (ReadViews+JSON.swift).
public struct RiskSummary: Sendable {
    /// Accounts listed in `closest`.
    static let closestCount = 20
    /// Procedure names counted, in the order shown.
    static let procedureNames = ["normal", "warning", "margin_call", "liquidating"]

    /// One of the accounts closest to liquidation: its pool nearest to it.
    public struct Closest: Sendable {
        public var account: String
        public var status: MarginStatus
        /// The account's most advanced procedure (`normal`, `warning`, `margin_call`, `liquidating`).
        public var procedure: String
        public var pool: String
        /// Maintenance margin over equity, 4 digits (nil: equity ≤ 0).
        public var marginRatio: FixedDecimal?
        /// Quote currency, 2 digits.
        public var equity: FixedDecimal
        public var maintenanceMargin: FixedDecimal
        /// The pool's largest position by notional (nil: none found).
        public var largest: LargestPosition?
    }

    /// The largest position of a listed pool and its distance to liquidation.
    public struct LargestPosition: Sendable {
        public var symbol: String
        public var long: Bool
        public var mark: FixedDecimal?
        /// 2 digits.
        public var liquidationPrice: FixedDecimal?
        /// Adverse move to the liquidation price in percent of the mark, 2 digits (nil: unknown,
        /// or outside the decimal range).
        public var distancePercent: FixedDecimal?
        /// The same move as a signed log-distance in one-day σ (RiskTracker), 2 digits.
        public var distanceSigma: FixedDecimal?
    }

    public struct MarginCall: Sendable {
        public var account: String
        public var pool: String
        public var amount: FixedDecimal
        /// Engine time (ms since the epoch).
        public var deadline: Int64
        public var secondsLeft: Int64
    }

    public struct Breaker: Sendable {
        public var symbol: String
        public var reasons: [String]
        public var capUsed: FixedDecimal
    }

    /// One point of the fund's history: journal sequence, engine time, balance per asset.
    public struct FundPoint: Sendable {
        public var sequence: Int64
        public var time: Int64
        public var balances: [InsuranceFundView.Balance]
    }

    /// The engine's event sequence the summary describes.
    public var sequence: Int64
    /// Engine time (ms since the epoch).
    public var time: Int64
    public var accounts: Int
    public var byStatus: [(status: MarginStatus, count: Int)]
    public var procedures: [(name: String, count: Int)]
    public var closest: [Closest]
    public var marginCalls: [MarginCall]
    public var liquidating: [(account: String, pool: String)]
    public var insuranceFund: InsuranceFundView
    /// nil: not asked for.
    public var insuranceFundHistory: [FundPoint]?
    public var backlog: Int
    public var breakers: [Breaker]
    public var marks: MarksView
    /// One-day σ per instrument with an estimate, 6 digits.
    public var volatility: [(symbol: String, sigma: FixedDecimal)]

    init(engine: Engine, tracker: RiskTracker, includeHistory: Bool) {
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
                    calls.append((record.id, engine.poolName(key, account: index), amount, deadline))
                case .liquidating:
                    worst = "liquidating"
                    liquidating.append((record.id, engine.poolName(key, account: index)))
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

        sequence = state.eventSequence
        time = state.time
        accounts = state.accounts.count
        self.byStatus = MarginStatus.allCases.map { ($0, byStatus[$0.rawValue]) }
        procedures = Self.procedureNames.map { ($0, procedureCounts[$0] ?? 0) }
        closest = candidates.prefix(Self.closestCount).map { candidate in
            let record = state.accounts[candidate.index]
            let evaluation = engine.evaluateAccount(record)
            let pool = candidate.pool
            var row = Closest(account: record.id, status: pool.status, procedure: candidate.procedure,
                              pool: pool.pool.name { market.instruments[record.account.positions[$0].instrument].symbol },
                              marginRatio: pool.marginRatio?.rounded(toDigits: 4), equity: pool.equity.rounded(toDigits: 2),
                              maintenanceMargin: pool.maintenanceMargin.rounded(toDigits: 2))
            let largest = evaluation.positions.indices
                .filter { evaluation.positions[$0].pool == pool.pool }
                .max { evaluation.positions[$0].notional.magnitude < evaluation.positions[$1].notional.magnitude }
            if let k = largest {
                let position = record.account.positions[k]
                let instrument = position.instrument
                let long = position.quantity > .zero
                let mark = state.markSources[instrument]?.price
                let liquidation = evaluation.positions[k].liquidationPrice
                var view = LargestPosition(symbol: market.instruments[instrument].symbol, long: long, mark: mark,
                                           liquidationPrice: liquidation?.rounded(toDigits: 2))
                if let mark, let liquidation, mark > .zero {
                    let move = long ? mark - liquidation : liquidation - mark
                    // Checked: a tiny position's liquidation price can be ~1e19 (the percentage then
                    // leaves the decimal range and is shown as null).
                    let percent = move.multiplied(by: FixedDecimal(100), rounding: .halfEven)?.divided(by: mark, rounding: .halfEven)
                    view.distancePercent = percent?.rounded(toDigits: 2)
                    if let sigma = tracker.dailySigma(instrument), sigma > 0, liquidation > .zero {
                        let logDistance = abs(Foundation.log(DoubleBoundary.double(liquidation) / DoubleBoundary.double(mark)))
                        let signed = (move < .zero ? -1.0 : 1.0) * logDistance / sigma
                        view.distanceSigma = DoubleBoundary.decimal(signed)?.rounded(toDigits: 2)
                    }
                }
                row.largest = view
            }
            return row
        }
        marginCalls = calls.sorted(by: { ($0.deadline, $0.account) < ($1.deadline, $1.account) }).map {
            MarginCall(account: $0.account, pool: $0.pool, amount: $0.amount, deadline: $0.deadline,
                       secondsLeft: max(0, ($0.deadline - state.time) / 1000))
        }
        self.liquidating = liquidating.sorted(by: { ($0.account, $0.pool) < ($1.account, $1.pool) })
        insuranceFund = InsuranceFundView(state)
        insuranceFundHistory = includeHistory ? tracker.fundHistory.map { point in
            FundPoint(sequence: point.sequence, time: point.time,
                      balances: market.assets.enumerated().map { InsuranceFundView.Balance(asset: $1.symbol, amount: point.balances[$0]) })
        } : nil
        backlog = state.backlog.count
        breakers = market.instruments.enumerated().map { k, instrument in
            Breaker(symbol: instrument.symbol, reasons: state.breakers[k].pausedReasons, capUsed: state.breakers[k].capUsed)
        }
        marks = MarksView(state)
        volatility = market.instruments.enumerated().compactMap { k, instrument in
            guard let sigma = tracker.dailySigma(k), let value = DoubleBoundary.decimal(sigma) else { return nil }
            return (instrument.symbol, value.rounded(toDigits: 6))
        }
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
}
