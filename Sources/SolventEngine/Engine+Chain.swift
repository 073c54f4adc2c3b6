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
        try requirePortfolioCollateral(a, asset: asset, field: "asset")  // a coin-settled portfolio: Engine+InverseOptions.swift
        var record = ChainDeposit(account: a, asset: asset, amount: amount, chain: chain, height: height, blockHash: hash,
                                  sequence: state.commandsApplied, credited: .zero, isFinal: false)
        let provisional = state.parameters.unconfirmedHaircut.map { amount * (FixedDecimal.one - $0) } ?? .zero
        adjustCredit(&record, to: provisional)
        state.chainDeposits.append(record)
        emit(.chainDepositSeen, account: a, [("chain", .text(chain)), ("height", .integer(height)), ("block_hash", .text(hash)),
                                             ("amount", .decimal(amount)), ("counted", .decimal(provisional))])
        // Finalizing may credit earlier deposits of this chain, of any account (e.g. after a
        // change of the finality depth): every account whose credit changed is re-evaluated.
        let finalized = finalizeDeposits(chain)
        return [a] + finalized.filter { $0 != a }
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

    /// Credits in full every deposit of `chain` with `tip − height + 1 ≥ finality_depth`;
    /// returns the accounts whose credit changed (each must be re-evaluated).
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
        // What the reorganization cost each account; payouts already made stay made, so a
        // balance may now be negative: a deficit handled as any other.
        for a in Set(orphaned.map(\.account)).sorted() {
            for asset in Set(orphaned.filter { $0.account == a }.map(\.asset)).sorted() {
                let lost = orphaned.filter { $0.account == a && $0.asset == asset }.reduce(FixedDecimal.zero) { $0 + $1.credited }
                reportReorganizationCost(a, asset: asset, orphaned: lost, kept: .zero, reversed: .zero,
                                         balanceBefore: state.accounts[a].balance(asset) + lost)
            }
            settleDebtWithoutPositions(a)
        }
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
        // The replay is over (an outer replay, if this notice was itself replayed, goes on).
        state.replayNotice = old.state.replayNotice
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
        // Payouts are facts: every withdrawal the old history paid out since the first orphaned
        // deposit stays paid (debited now, even into a negative balance) when the replay refused
        // it, and a withdrawal only the replay made is undone (it never left).
        let earliest = orphaned.map(\.sequence).min() ?? state.commandsApplied
        let oldPayouts = old.state.payouts.filter { $0.sequence >= earliest }
        let newPayouts = state.payouts.filter { $0.sequence >= earliest }
        var kept: [String: [Int: FixedDecimal]] = [:], reversed: [String: [Int: FixedDecimal]] = [:]
        for p in oldPayouts where !newPayouts.contains(p) {
            let settle = old.state.accountIndex[p.account].map { old.state.accounts[$0].account.settle } ?? p.asset
            guard let a = try? openAccountIfNeeded(p.account, settle: state.market.assets[settle].symbol, defaultSettle: settle) else { continue }
            state.accounts[a].credit(p.asset, -p.amount)
            state.totals[p.asset].withdrawn += p.amount
            state.payouts.append(p)
            kept[p.account, default: [:]][p.asset, default: .zero] += p.amount
        }
        for p in newPayouts where !oldPayouts.contains(p) {
            guard let a = state.accountIndex[p.account] else { continue }
            state.accounts[a].credit(p.asset, p.amount)
            state.totals[p.asset].withdrawn -= p.amount
            state.payouts.removeAll { $0 == p }
            reversed[p.account, default: [:]][p.asset, default: .zero] += p.amount
        }
        state.payouts.sort { $0.sequence < $1.sequence }
        var costed = Set(orphaned.map { old.state.accounts[$0.account].id })
        costed.formUnion(kept.keys)
        costed.formUnion(reversed.keys)
        for id in costed.sorted() {
            guard let a = state.accountIndex[id] else { continue }
            var assets = Set(orphaned.filter { old.state.accounts[$0.account].id == id }.map(\.asset))
            if let k = kept[id] { assets.formUnion(k.keys) }
            if let r = reversed[id] { assets.formUnion(r.keys) }
            for asset in assets.sorted() {
                let lost = orphaned.filter { old.state.accounts[$0.account].id == id && $0.asset == asset }.reduce(FixedDecimal.zero) { $0 + $1.credited }
                let before = old.state.accountIndex[id].map { old.state.accounts[$0].balance(asset) } ?? .zero
                reportReorganizationCost(a, asset: asset, orphaned: lost, kept: kept[id]?[asset] ?? .zero, reversed: reversed[id]?[asset] ?? .zero,
                                         balanceBefore: before)
            }
        }
        // A call restated by the reorganization (one the old history did not have on that pool)
        // gets a deadline no earlier than the notice plus the grace period: its holder learns of
        // it now. A liquidation the replay started on such an unannounced deadline becomes that call.
        let floor = notice.time + state.parameters.gracePeriodMs
        for a in state.accounts.indices {
            let known = old.state.accountIndex[state.accounts[a].id].map { old.state.accounts[$0].procedures } ?? [:]
            for key in state.accounts[a].procedures.keys.sorted() {
                let procedure = state.accounts[a].procedures[key]!
                let wasKnown: Bool
                switch known[key] {
                case .called?, .liquidating?: wasKnown = true
                default: wasKnown = false
                }
                guard !wasKnown else { continue }
                switch procedure {
                case .called(let deadline, let amount) where deadline < floor:
                    state.accounts[a].procedures[key] = .called(deadline: floor, amount: amount)
                case .liquidating(untilCured: true):
                    let evaluation = evaluateAccount(state.accounts[a], prices: false)
                    if let pool = Self.poolsByKey(state.accounts[a], evaluation).first(where: { $0.0 == key })?.1, pool.status < .liquidatable {
                        state.accounts[a].procedures[key] = .called(deadline: floor, amount: pool.callAmount)
                        state.calledAccounts.insert(a)
                    }
                default: break
                }
            }
        }
        for record in old.state.accounts {
            let was = old.evaluateAccount(record, prices: false)
            guard let a = state.accountIndex[record.id] else {
                emit(.marginRestated, [("account", .text(record.id)), ("status_before", .text(was.status.name)),
                                       ("status_after", .text("no_account")), ("reason", .text("opened by an orphaned deposit"))])
                continue
            }
            let now = evaluateAccount(state.accounts[a])
            let proceduresBefore = record.procedures.sorted { $0.key < $1.key }.map { "\($0.value.name)" }
            let proceduresAfter = state.accounts[a].procedures.sorted { $0.key < $1.key }.map { "\($0.value.name)" }
            guard was.status != now.status || proceduresBefore != proceduresAfter || was.cross.equity != now.cross.equity else { continue }
            let deadlines = state.accounts[a].procedures.sorted { $0.key < $1.key }.compactMap { entry -> String? in
                if case .called(let deadline, _) = entry.value { return "\(poolName(entry.key, account: a)):\(deadline)" } else { return nil }
            }
            emit(.marginRestated, account: a, [("status_before", .text(was.status.name)), ("status_after", .text(now.status.name)),
                                               ("equity_before", .decimal(was.cross.equity)), ("equity_after", .decimal(now.cross.equity)),
                                               ("maintenance_margin", .decimal(now.cross.maintenanceMargin)),
                                               ("procedures_before", .text(proceduresBefore.joined(separator: ","))),
                                               ("procedures_after", .text(proceduresAfter.joined(separator: ","))),
                                               ("deadlines", .text(deadlines.joined(separator: ",")))])
        }
        for id in costed.sorted() { if let a = state.accountIndex[id] { settleDebtWithoutPositions(a) } }
        var touched = Array(state.accounts.indices)
        applyDueParameterChanges(&touched)
        refreshBreakers()
        reevaluate(touched)
        drainLiquidations()
        return events
    }
}

extension Engine {
    /// Marks the engine as replaying history for a reorganization notice at `notice` whose
    /// orphaned deposits belonged to `affected` (account ids), the first of them at command
    /// number `from` (default: the next command): their calls opened from there on are not
    /// liquidated on deadlines inside the replay (`completeReorganization` restates them at
    /// the notice); calls opened before it run as they did.
    public mutating func beginReplay(notice: Int64, affected: Set<String>, from: Int64? = nil) {
        state.replayNotice = ReplayNotice(time: notice, accounts: affected, from: from ?? state.commandsApplied + 1)
    }

    /// `reorganization_cost`: what a reorganization did to one asset of one account — the
    /// orphaned credit, the payouts kept although the corrected history could not fund them,
    /// withdrawals only the replay made (undone), the balance before and after, and the debt.
    mutating func reportReorganizationCost(_ a: Int, asset: Int, orphaned: FixedDecimal, kept: FixedDecimal, reversed: FixedDecimal,
                                           balanceBefore: FixedDecimal) {
        let after = state.accounts[a].balance(asset)
        emit(.reorganizationCost, account: a, [("asset", .text(state.market.assets[asset].symbol)), ("orphaned_credit", .decimal(orphaned)),
                                               ("payouts_kept", .decimal(kept)), ("replayed_payouts_undone", .decimal(reversed)),
                                               ("balance_before", .decimal(balanceBefore)), ("balance_after", .decimal(after)),
                                               ("cost", .decimal(balanceBefore - after)),
                                               ("deficit", .decimal(FixedDecimal.maximum(.zero, -after)))])
    }

    /// An account whose cross pool is left without a position and with a negative settle balance
    /// (its deposit was orphaned after it withdrew, or a trader's fill or ADL closed its last
    /// cross position at a loss; callers see to it that a fill on an isolated position, whose
    /// opening margin may overdraw the wallet, does not come here):
    /// the deficit is handled as that of an emptied cross pool —
    /// other collateral converted, the insurance fund, then bad debt. Socialized loss is for the
    /// deficit a liquidated bankrupt position leaves, so none here. With cross positions the
    /// margin procedure handles it (call, liquidation, then the waterfall).
    mutating func settleDebtWithoutPositions(_ a: Int) {
        let record = state.accounts[a]
        guard record.balance(record.account.settle).isNegative,
              !record.account.positions.contains(where: { record.pool(of: $0.instrument) == .cross }) else { return }
        settleEmptyPool(a, instrument: nil)
    }
}
