public import SolventCore
import SolventRisk

extension Engine {
    /// An on-chain deposit: recorded with its block; credited at the unconfirmed haircut
    /// (when the policy has one) until final, in full once final.
    mutating func chainDeposit(_ id: String, _ assetSymbol: String, _ amount: FixedDecimal, _ settle: String?,
                               chain: String, height: Int64, hash: String) throws(RejectReason) -> [Int] {
        guard !chain.isEmpty else { throw RejectReason(.invalidInput, field: "chain", "must not be empty") }
        guard height >= 0 else { throw RejectReason(.invalidInput, field: "height", "must not be negative") }
        guard !hash.isEmpty else { throw RejectReason(.invalidInput, field: "block_hash", "must not be empty") }
        let identity = "\(chain):\(height):\(hash)"
        if state.chainDeposits.contains(where: { $0.identity == identity && $0.account == state.accountIndex[id] }) {
            throw RejectReason(.invalidInput, field: "block_hash", "deposit already recorded in block \(identity)")
        }
        let asset = try assetIndex(assetSymbol)
        guard amount.isPositive else { throw RejectReason(.invalidInput, field: "amount", "must be positive, got \(amount)") }
        let a = try openAccountIfNeeded(id, settle: settle, defaultSettle: asset)
        var record = ChainDeposit(account: a, asset: asset, amount: amount, chain: chain, height: height, blockHash: hash,
                                  sequence: state.commandsApplied, credited: .zero, isFinal: false)
        let provisional = state.parameters.unconfirmedHaircut.map { amount * (FixedDecimal.one - $0) } ?? .zero
        adjustCredit(&record, to: provisional)
        state.chainDeposits.append(record)
        emit(.chainDepositSeen, account: a, [("chain", .text(chain)), ("height", .integer(height)), ("block_hash", .text(hash)),
                                             ("amount", .decimal(amount)), ("counted", .decimal(provisional))])
        finalizeDeposits(chain)
        return [a]
    }

    /// Moves a deposit's credit to `target` (balance and deposited total together).
    mutating func adjustCredit(_ record: inout ChainDeposit, to target: FixedDecimal) {
        let delta = target - record.credited
        guard !delta.isZero else { return }
        state.accounts[record.account].credit(record.asset, delta)
        state.totals[record.asset].deposited += delta
        record.credited = target
    }

    mutating func chainTip(_ chain: String, _ height: Int64) throws(RejectReason) -> [Int] {
        guard !chain.isEmpty else { throw RejectReason(.invalidInput, field: "chain", "must not be empty") }
        if let tip = state.chainTips[chain], height < tip {
            throw RejectReason(.invalidInput, field: "height", "below the current tip \(tip) (a lower tip is a reorganization notice)")
        }
        state.chainTips[chain] = height
        return finalizeDeposits(chain)
    }

    /// Credits in full every deposit of `chain` with `tip − height + 1 ≥ finality_depth`.
    @discardableResult
    mutating func finalizeDeposits(_ chain: String) -> [Int] {
        guard let tip = state.chainTips[chain] else { return [] }
        var touched: [Int] = []
        for k in state.chainDeposits.indices where state.chainDeposits[k].chain == chain && !state.chainDeposits[k].isFinal {
            guard tip - state.chainDeposits[k].height + 1 >= state.parameters.finalityDepth else { continue }
            var record = state.chainDeposits[k]
            adjustCredit(&record, to: record.amount)
            record.isFinal = true
            state.chainDeposits[k] = record
            touched.append(record.account)
            emit(.chainDepositFinal, account: record.account, [("chain", .text(chain)), ("height", .integer(record.height)),
                                                                ("block_hash", .text(record.blockHash)), ("amount", .decimal(record.amount))])
        }
        return touched
    }

    /// The deposits a reorganization orphans: on `chain`, at or above the fork, whose block
    /// hash is not the new chain's hash at that height.
    public func orphans(chain: String, forkHeight: Int64, newHashes: [Int64: String]) -> [ChainDeposit] {
        state.chainDeposits.filter { $0.chain == chain && $0.height >= forkHeight && newHashes[$0.height] != $0.blockHash }
    }

    /// In-place reorganization: every orphaned deposit's credit is reversed (a final one in
    /// full: the balance may go negative, and the margin procedure reacts as to any loss).
    /// The journaled engine first rebuilds from before the fork without the orphaned
    /// deposits, so by then there is usually nothing left to reverse here.
    mutating func chainReorg(_ chain: String, _ forkHeight: Int64, _ newHashes: [Int64: String]) throws(RejectReason) -> [Int] {
        guard !chain.isEmpty else { throw RejectReason(.invalidInput, field: "chain", "must not be empty") }
        guard forkHeight >= 0 else { throw RejectReason(.invalidInput, field: "fork_height", "must not be negative") }
        if let bad = newHashes.keys.sorted().first(where: { $0 < forkHeight }) {
            throw RejectReason(.invalidInput, field: "new_hashes.\(bad)", "is below the fork height \(forkHeight)")
        }
        let orphaned = orphans(chain: chain, forkHeight: forkHeight, newHashes: newHashes)
        var touched: [Int] = []
        for var record in orphaned {
            adjustCredit(&record, to: .zero)
            state.orphanedDeposits.insert(record.identity)
            touched.append(record.account)
            emit(.chainDepositOrphaned, account: record.account, [("chain", .text(chain)), ("height", .integer(record.height)),
                                                                   ("block_hash", .text(record.blockHash)), ("amount", .decimal(record.amount)),
                                                                   ("was_final", .flag(record.isFinal))])
        }
        let identities = Set(orphaned.map(\.identity))
        state.chainDeposits.removeAll { identities.contains($0.identity) && $0.chain == chain }
        if let maxNew = newHashes.keys.max() { state.chainTips[chain] = maxNew } else { state.chainTips[chain] = forkHeight - 1 }
        emit(.chainReorganized, [("chain", .text(chain)), ("fork_height", .integer(forkHeight)),
                                 ("orphaned_deposits", .integer(Int64(orphaned.count)))])
        return touched
    }
}

extension Engine {
    /// Finishes a rollback-and-replay for a reorganization notice. `self` is the engine
    /// rebuilt from before the fork without the orphaned deposits, `old` the engine as it
    /// was. Event numbering continues from `old`; the orphaned deposits are reported, then
    /// the events the replay produced for the accounts that held them (warnings, calls,
    /// liquidations that happen without the deposits; marked `replayed` with their original
    /// time), every account whose margin status or procedure differs from before
    /// (`margin_restated`, with the numbers), then the notice is applied: time, chain tip,
    /// re-evaluation of every account and the liquidation waterfall, as for any command.
    public mutating func completeReorganization(replacing old: Engine, orphaned: [ChainDeposit], replayed: [EngineEvent],
                                                notice: TimedCommand) -> [EngineEvent] {
        guard case let .chainReorg(chain, forkHeight, newHashes) = notice.command else {
            preconditionFailure("completeReorganization needs a chain_reorg notice")
        }
        events = []
        state.eventSequence = Swift.max(state.eventSequence, old.state.eventSequence)
        state.orphanedDeposits.formUnion(old.state.orphanedDeposits)
        state.orphanedDeposits.formUnion(orphaned.map(\.identity))
        state.time = Swift.max(state.time, notice.time)
        state.commandsApplied += 1
        state.chainTips[chain] = newHashes.keys.max() ?? forkHeight - 1
        for record in orphaned {
            emit(.chainDepositOrphaned, [("account", .text(old.state.accounts[record.account].id)), ("chain", .text(chain)),
                                         ("height", .integer(record.height)), ("block_hash", .text(record.blockHash)),
                                         ("amount", .decimal(record.amount)), ("was_final", .flag(record.isFinal))])
        }
        emit(.chainReorganized, [("chain", .text(chain)), ("fork_height", .integer(forkHeight)),
                                 ("orphaned_deposits", .integer(Int64(orphaned.count))), ("rolled_back", .flag(true))])
        for event in replayed {
            emit(event.kind, account: event.account.flatMap { state.accountIndex[$0] },
                 event.fields + [("replayed", .flag(true)), ("original_time", .integer(event.time))])
        }
        let before = old.evaluator
        for record in old.state.accounts {
            let was = before.evaluate(record.account)
            guard let a = state.accountIndex[record.id] else {
                emit(.marginRestated, [("account", .text(record.id)), ("status_before", .text(was.status.name)),
                                       ("status_after", .text("no_account")), ("reason", .text("opened by an orphaned deposit"))])
                continue
            }
            let now = evaluator.evaluate(state.accounts[a].account)
            let proceduresBefore = record.procedures.sorted { $0.key < $1.key }.map { "\($0.value.name)" }
            let proceduresAfter = state.accounts[a].procedures.sorted { $0.key < $1.key }.map { "\($0.value.name)" }
            guard was.status != now.status || proceduresBefore != proceduresAfter || was.cross.equity != now.cross.equity else { continue }
            emit(.marginRestated, account: a, [("status_before", .text(was.status.name)), ("status_after", .text(now.status.name)),
                                               ("equity_before", .decimal(was.cross.equity)), ("equity_after", .decimal(now.cross.equity)),
                                               ("maintenance_margin", .decimal(now.cross.maintenanceMargin)),
                                               ("procedures_before", .text(proceduresBefore.joined(separator: ","))),
                                               ("procedures_after", .text(proceduresAfter.joined(separator: ",")))])
        }
        var touched = Array(state.accounts.indices)
        applyDueParameterChanges(&touched)
        refreshBreakers()
        reevaluate(touched)
        drainLiquidations()
        return events
    }
}
