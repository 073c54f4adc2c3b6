public import SolventCore
public import SolventRisk

extension Engine {
    /// Re-evaluates the touched accounts (or all, in full-rescan mode), advances every
    /// pool's margin-call procedure, and re-registers the accounts in the at-risk index.
    mutating func reevaluate(_ touched: [Int]) {
        var list = touched
        // Expired calls: deadlines are checked on every command (time moved).
        for a in state.calledAccounts {
            for procedure in state.accounts[a].procedures.values {
                if case .called(let deadline, _) = procedure, state.time > deadline { list.append(a) }
            }
        }
        if fullRescan { list = Array(state.accounts.indices) }
        // In index order, each account once (sorted in place: no set built per command). A list
        // of one is sorted already: not sorted, so not copied from the caller's (issue 18).
        if list.count > 1 { list.sort() }
        var previous = -1
        for a in list where a != previous {
            previous = a
            _ = evaluateAndAdvance(a, emit: true)
        }
    }

    /// Evaluates account `a`, advances each pool's procedure (emitting transitions),
    /// updates the backlog and the index. Returns the evaluation.
    @discardableResult
    mutating func evaluateAndAdvance(_ a: Int, emit shouldEmit: Bool) -> AccountEvaluation {
        // A copy of the record: a method of `self` called with a projection of `self` (`state.accounts[a]`) as its argument copies the whole engine.
        let record = state.accounts[a]
        let standard = isPoolCacheable(record)  // not portfolio-margined, no option: the standard evaluation and the linear/inverse bands
        // Pool numbers and statuses (the procedure, the events and the bands read no liquidation
        // price), into the engine's scratch evaluation: no result arrays allocated per account
        // (the copy below shares its arrays and is gone before the next account's evaluation,
        // unless a caller keeps the returned one: then the next fill copies on write).
        if standard {
            MarginEvaluator.evaluate(record.account, market: state.market, policy: state.parameters.policy, prices: false, into: &evaluationScratch)
        } else {
            evaluationScratch = evaluateAccount(record, prices: false)
        }
        let evaluation = evaluationScratch
        cachePoolNumbers(a, record, evaluation, cacheable: standard)  // for the pre-trade check (PoolNumbersCache.swift)
        let previous = record.procedures
        var liquidating = false, called = false
        var next: [PoolKey: ProcedureState] = [:]
        for n in evaluation.pools.indices {  // the pools under the engine's keys, as `poolsByKey` lists them (no array built)
            guard let key = poolKey(a, evaluation, n) else { continue }
            let current = previous[key] ?? .normal
            let updated = advance(a, key, evaluation.pools[n], evaluation, from: current, emit: shouldEmit)
            if updated != .normal { next[key] = updated }
            if updated.isLiquidating { liquidating = true }
            if case .called = updated { called = true }
        }
        // Pools that disappeared (isolated position closed) end their procedure quietly.
        state.accounts[a].procedures = next
        if liquidating {
            state.backlog.insert(a)
            rememberSeverity(a, evaluation, cacheable: standard)  // the drain ranks it without evaluating it again (BacklogSeverities.swift; `severityIsCacheable` is `isPoolCacheable`)
        } else {
            if !state.backlog.isEmpty { state.backlog.remove(a) }  // no hashing when empty (the common case of a tick)
            if !severities.entries.isEmpty { severities.entries.removeValue(forKey: a) }
        }
        backlogDecisions?.append(a)
        if called {
            state.calledAccounts.insert(a)
        } else if !state.calledAccounts.isEmpty {
            state.calledAccounts.remove(a)
        }
        state.accounts[a].indexVersion += 1
        var newBands = index.takeBands(a)  // the previous band array, refilled in place (no allocation per re-registration)
        if standard {  // the linear bands read each boundary's continuity flag (BracketContinuity.swift)
            for position in record.account.positions { bracketContinuity.refresh(position.instrument, state.market.instruments[position.instrument].brackets.brackets) }
        }
        bands(a, evaluation, optionBands: !standard, into: &newBands)
        index.register(a, version: state.accounts[a].indexVersion, bands: newBands)
        return evaluation
    }

    /// The engine's key of pool `n` of account `a`'s evaluation, as `poolsByKey` lists them: the
    /// first pool is the cross pool, an isolated pool is keyed by its position's instrument; nil
    /// for a pool `poolsByKey` leaves out.
    func poolKey(_ a: Int, _ evaluation: AccountEvaluation, _ n: Int) -> PoolKey? {
        if n == 0 { return .cross }
        if case .isolated(let k) = evaluation.pools[n].pool { return .isolated(instrument: state.accounts[a].account.positions[k].instrument) }
        return nil
    }

    /// One step of the procedure for one pool (DESIGN.md "The margin-call procedure").
    mutating func advance(_ a: Int, _ key: PoolKey, _ pool: PoolEvaluation, _ evaluation: AccountEvaluation,
                          from current: ProcedureState, emit shouldEmit: Bool) -> ProcedureState {
        let policy = state.parameters.policy
        let equity = pool.equity, mm = pool.maintenanceMargin
        func atLeast(_ ratio: FixedDecimal) -> Bool { FixedDecimal.compareProducts(mm, .one, equity, ratio) >= 0 }
        func report(_ kind: EventKind, _ extra: ProcedureEventExtra) {
            guard shouldEmit else { return }
            // A compact record, rendered by the event's readers (ProcedureEventRecord.swift): the
            // same members as `pool` + `appendExplanation` + the extra fields, the same bytes.
            emitProcedureEvent(kind, a, key, pool, evaluation, extra)
        }
        func openCall() -> ProcedureState {
            let deadline = state.time + state.parameters.gracePeriodMs
            if state.replayNotice != nil, let replay = state.replayNotice, replay.accounts.contains(state.accounts[a].id), state.commandsApplied >= replay.from {
                state.replayNotice!.restated.insert("\(state.accounts[a].id) \(poolName(key))")
            }
            report(.marginCall, .call(amount: pool.callAmount, deadline: deadline, gracePeriodMs: state.parameters.gracePeriodMs))
            return .called(deadline: deadline, amount: pool.callAmount)
        }
        if pool.positionCount == 0 && !(key == .cross && hasLiveDebt(a) && !isWorthlessDebtPool(pool)) {  // a loan is margined without positions (Engine+Loans.swift)
            if case .called = current { report(.marginCallCured, .reason("no positions left")) }
            if current.isLiquidating { report(.liquidationEnded, .reason("no positions left")) }
            return .normal
        }
        if pool.status >= .liquidatable {
            if case .liquidating(let untilCured) = current { return .liquidating(untilCured: untilCured) }
            report(.liquidationStarted, .reason(pool.status == .bankrupt ? "equity_not_positive" : "ratio_at_or_above_1"))
            return .liquidating(untilCured: false)
        }
        let cured = FixedDecimal.compareProducts(mm, .one, equity, policy.restoreRatio) <= 0
        let belowWarning = !atLeast(policy.warningRatio)
        switch current {
        case .called(let deadline, _):
            if cured {
                report(.marginCallCured, .none)
                return belowWarning ? .normal : .warning
            }
            if state.time > deadline {
                // Inside a reorganization's replay, a holder of an orphaned deposit has not heard
                // of this call yet: it is restated at the notice with its grace period.
                if let replay = state.replayNotice, replay.restated.contains("\(state.accounts[a].id) \(poolName(key))") { return current }
                report(.liquidationStarted, .reasonAndDeadline("margin_call_deadline_passed", deadline: deadline))
                return .liquidating(untilCured: true)
            }
            return current
        case .liquidating(let untilCured):
            if untilCured {
                guard cured else { return current }
                report(.liquidationEnded, .reason("margin call cured by the liquidation"))
                return belowWarning ? .normal : .warning
            }
            report(.liquidationEnded, .reason("pool back above maintenance"))
            if atLeast(policy.callRatio) { return openCall() }
            return belowWarning ? .normal : .warning
        case .normal, .warning:
            if atLeast(policy.callRatio) { return openCall() }
            if !belowWarning {
                if current == .normal { report(.marginWarning, .none) }
                return .warning
            }
            if current == .warning {
                if atLeast(policy.warningRatio - state.parameters.hysteresis) { return .warning }
                report(.warningCleared, .none)
            }
            return .normal
        }
    }

    /// Everything an account holder needs to recompute a transition: equity, MM, ratio,
    /// the thresholds, and per position its MM, mark and the mark's source time.
    func explanation(_ a: Int, _ key: PoolKey, _ pool: PoolEvaluation, _ evaluation: AccountEvaluation) -> [(String, EventValue)] {
        var fields: [(String, EventValue)] = []
        appendExplanation(to: &fields, a, key, pool, evaluation)
        return fields
    }

    /// Appends `explanation(a, key, pool, evaluation)` to `fields` in place (the event path).
    func appendExplanation(to fields: inout [(String, EventValue)], _ a: Int, _ key: PoolKey, _ pool: PoolEvaluation, _ evaluation: AccountEvaluation) {
        let policy = state.parameters.policy
        let record = state.accounts[a]
        var positions: [[(String, EventValue)]] = []
        positions.reserveCapacity(record.account.positions.count)
        for (k, position) in record.account.positions.enumerated() where record.pool(of: position.instrument) == key {
            let i = position.instrument
            positions.append([("symbol", .text(state.market.instruments[i].symbol)), ("quantity", .decimal(position.quantity)),
                              ("entry_price", .decimal(position.entryPrice)), ("mark", .optionalDecimal(state.market.marks[i])),
                              ("mark_source_time", .integer(state.markSources[i]?.sourceTime ?? 0)),
                              ("maintenance_margin", .decimal(evaluation.positions[k].maintenanceMargin)),
                              ("unrealized_pnl", .decimal(evaluation.positions[k].unrealizedPnl))])
        }
        fields.append(("equity", .decimal(pool.equity)))
        fields.append(("maintenance_margin", .decimal(pool.maintenanceMargin)))
        fields.append(("margin_ratio", .optionalDecimal(pool.marginRatio)))
        fields.append(("status", .text(pool.status.name)))
        fields.append(("warning_ratio", .decimal(policy.warningRatio)))
        fields.append(("call_ratio", .decimal(policy.callRatio)))
        fields.append(("restore_ratio", .decimal(policy.restoreRatio)))
        fields.append(("positions", .list(positions)))
    }
}
