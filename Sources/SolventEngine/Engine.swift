public import SolventCore
public import SolventRisk

/// The deterministic margin engine. `apply` is the only way its state changes; time
/// arrives in commands. The same commands always give the same events and state hash.
public struct Engine: Sendable {
    public internal(set) var state: EngineState
    /// When true, every account is re-evaluated after every command (the oracle the
    /// at-risk index is tested against); when false, only touched and flagged accounts.
    public var fullRescan: Bool
    var index: AtRiskIndex
    var events: [EngineEvent] = []
    /// Test oracle: pick each liquidation step by scanning the whole backlog (the order the
    /// heap of `drainLiquidations` must reproduce). Not part of the state.
    public var referenceLiquidationOrder = false
    /// While a liquidation drain runs: accounts whose backlog membership was re-decided (not
    /// part of the state; nil outside a drain).
    var backlogDecisions: [Int]? = nil
    /// The backlog's severities kept across commands (BacklogSeverities.swift; not part of the state).
    var severities = BacklogSeverities()
    /// Benchmark switch (not part of the state): false ranks the liquidation backlog by a fresh
    /// evaluation per account on every command, as before the memo; the results are the same.
    public var keepsBacklogSeverities = true
    /// In a sharded engine, the liquidation step being settled (Engine+Shards.swift; not part of the state).
    var shardStep: ShardStep? = nil
    /// Each account's cross pool numbers of its last evaluation, for the pre-trade check (PoolNumbersCache.swift; derived, not part of the state).
    var poolCache = PoolNumbersCache()
    /// The re-evaluation's evaluation, reused from account to account (`evaluateAndAdvance`: its arrays keep their capacity; derived, not part of the state).
    var evaluationScratch = Engine.emptyEvaluation
    /// Each instrument's bracket-boundary continuity for the bands (BracketContinuity.swift; derived, not part of the state).
    var bracketContinuity = BracketContinuity()
    /// The account a deposit, withdrawal, order or fill names, looked up once for the command (Engine+CommandAccount.swift; nil outside `apply`, not part of the state).
    var commandAccount: (id: String, index: Int)? = nil

    public init(market: Market, parameters: EngineParameters = .exchange, fullRescan: Bool = false) {
        precondition(parameters.validationError() == nil, "invalid engine parameters")
        state = EngineState(market: market, parameters: parameters)
        self.fullRescan = fullRescan
        index = AtRiskIndex(instruments: market.instruments.count)
    }

    /// The evaluator over the current market and policy: the one evaluation path.
    public var evaluator: MarginEvaluator { MarginEvaluator(market: state.market, policy: state.parameters.policy) }

    /// Adds an account with opening balances and positions (scenario start state). Its
    /// balances count as `opening` in the totals.
    public mutating func openAccount(_ account: Account, leverage: [Int: FixedDecimal] = [:], mode: AccountMode = .standard) throws(RejectReason) {
        guard state.accountIndex[account.id] == nil else { throw RejectReason(.invalidInput, field: "id", "duplicate account \"\(account.id)\"") }
        // The engine keeps one position per instrument per account (one-way mode).
        var seen = Set<Int>()
        for (k, position) in account.positions.enumerated() where !seen.insert(position.instrument).inserted {
            throw RejectReason(.invalidInput, field: "positions[\(k)].symbol", "a second position in \(state.market.instruments[position.instrument].symbol): the engine holds one position per instrument")
        }
        // A position holds a quantity: a zero one has no side, and its liquidation price traps.
        for (k, position) in account.positions.enumerated() where position.quantity.isZero {
            throw RejectReason(.invalidInput, field: "positions[\(k)].quantity", "must not be zero")
        }
        try requireTradablePositions(account, mode: mode)  // Engine+Expiry.swift
        if mode == .portfolio { try requirePortfolioCollateral(account) }  // Engine+InverseOptions.swift
        var record = EngineAccount(account: account)
        if mode == .portfolio { record.mode = .portfolio }
        for position in account.positions where !position.marginMode.isCross { record.isolated.insert(position.instrument) }
        for position in account.positions { if let l = position.leverage { record.leverage[position.instrument] = l } }
        record.leverage.merge(leverage) { $1 }
        for balance in account.collateral { state.totals[balance.asset].opening += balance.amount }
        for position in account.positions {
            if case .isolated(let margin) = position.marginMode { state.totals[account.settle].opening += margin }
        }
        state.accountIndex[account.id] = state.accounts.count
        state.accounts.append(record)
        let a = state.accounts.count - 1
        payOpeningPremiums(a)  // options: Engine+Options.swift
        _ = evaluateAndAdvance(a, emit: false)
    }

    /// Adds `amount` (≥ 0) of asset `asset` to the insurance fund as opening money (scenario
    /// and backtest start state).
    public mutating func fundInsurance(asset: Int, amount: FixedDecimal) {
        precondition(!amount.isNegative, "an opening insurance fund is not negative")
        state.totals[asset].insuranceFund += amount
        state.totals[asset].opening += amount
    }

    /// Applies one command and returns the events it caused (a rejection is an event).
    public mutating func apply(_ timed: TimedCommand) -> [EngineEvent] {
        events = []
        resolveCommandAccount(timed.command)  // one hash of the account id per command (Engine+CommandAccount.swift)
        defer { commandAccount = nil }
        if timed.time < state.time {
            reject(RejectReason(.timeWentBackwards, field: "time", "\(timed.time) is before engine time \(state.time)"))
            state.commandsApplied += 1
            return events
        }
        if let problem = rangeProblem(timed) {
            reject(problem)
            state.commandsApplied += 1
            return events
        }
        let previousTime = state.time
        state.time = timed.time
        state.commandsApplied += 1
        var touched: [Int] = settleExpiries(since: previousTime)  // Engine+Expiry.swift
        let charged = chargeInterest()  // hours started since the last command (Engine+Interest.swift)
        if !charged.isEmpty { touched += charged }  // (empty appends cost ≈ 140 instructions each: issue 18)
        do {
            let executed = try execute(timed.command)
            if touched.isEmpty { touched = executed } else { touched += executed }
        } catch {
            reject(error)
        }
        applyDueParameterChanges(&touched)
        refreshBreakers()
        reevaluate(touched)
        if isSharded, case .markPrice(let symbol, _, _) = timed.command, let i = state.market.instruments.firstIndex(where: { $0.symbol == symbol }) {
            sendAdlCandidates(i)  // a non-fund shard's ranking at the new mark, before its liquidations (Engine+Shards.swift)
        }
        drainLiquidations()
        checkInvariantsInDebug()  // debug and test builds only (Engine+Invariants.swift)
        return events
    }

    mutating func emit(_ kind: EventKind, account: Int? = nil, _ fields: [(String, EventValue)]) {
        state.eventSequence += 1
        events.append(EngineEvent(sequence: state.eventSequence, time: state.time, kind: kind,
                                  account: account.map { state.accounts[$0].id }, fields: fields))
    }

    mutating func reject(_ reason: RejectReason) {
        emit(.rejected, [("code", .integer(Int64(reason.code.rawValue))), ("field", .text(reason.field)), ("reason", .text(reason.message))])
    }

    // MARK: lookups

    func accountIndex(_ id: String, field: String = "account") throws(RejectReason) -> Int {
        guard let a = knownAccount(id) else { throw RejectReason(.unknownAccount, field: field, "unknown account \"\(id)\"") }
        return a
    }

    func instrumentIndex(_ symbol: String, field: String = "symbol") throws(RejectReason) -> Int {
        guard let i = state.market.instruments.firstIndex(where: { $0.symbol == symbol }) else {
            throw RejectReason(.unknownInstrument, field: field, "unknown instrument \"\(symbol)\"")
        }
        return i
    }

    func assetIndex(_ symbol: String, field: String = "asset") throws(RejectReason) -> Int {
        guard let i = state.market.assets.firstIndex(where: { $0.symbol == symbol }) else {
            throw RejectReason(.unknownAsset, field: field, "unknown asset \"\(symbol)\"")
        }
        return i
    }

    func mark(_ instrument: Int) throws(RejectReason) -> FixedDecimal {
        guard let mark = state.market.marks[instrument] else {
            throw RejectReason(.noMark, field: "symbol", "no mark price for \(state.market.instruments[instrument].symbol) yet")
        }
        return mark
    }

    /// Whether the instrument's mark is older than the staleness limit.
    public func isStale(_ instrument: Int) -> Bool {
        guard let source = state.markSources[instrument] else { return true }
        return state.time - source.sourceTime > state.parameters.markStalenessMs
    }
}
