public import SolventCore
public import SolventRisk
import HeapModule

extension Engine {
    /// Works the liquidation backlog: at most `liquidationStepsPerCommand` steps, worst
    /// accounts first (highest MM / equity; non-positive equity first of all). Accounts
    /// on paused or throttled instruments wait, visibly, for a later command.
    mutating func drainLiquidations() {
        guard !state.backlog.isEmpty else { return }
        if referenceLiquidationOrder { return drainByScanning() }
        // Each step takes the account furthest under maintenance among the backlog minus the
        // accounts that could not act in this drain (ties: the lowest index). Severities are
        // cached for the drain: within one command prices do not move, so a step changes only
        // the stepped account and the counterparties it deleverages or socializes onto; those
        // are re-ranked, accounts new to the backlog are ranked, the rest keep their rank.
        // A max-heap with versioned entries gives that order in O(log n) a step instead of a
        // scan of the whole backlog (the same order as `worst` over the backlog each step).
        var version: [Int: Int] = [:]
        var cache: [Int: Severity] = [:]
        /// Accounts with a current (not stale, not yet popped) entry in the heap.
        var inHeap = Set<Int>()
        var waiting = Set<Int>()
        // The backlog ranked in one pass: one severity per account, the heap built in O(n)
        // (the order is total, ties by index, so it pops as n single inserts would).
        var initial: [RankedAccount] = []
        initial.reserveCapacity(state.backlog.count)
        version.reserveCapacity(state.backlog.count)
        cache.reserveCapacity(state.backlog.count)
        inHeap.reserveCapacity(state.backlog.count)
        for a in state.backlog {
            let severity = currentSeverity(a)  // kept across commands while its inputs are unchanged
            cache[a] = severity
            version[a] = 1
            inHeap.insert(a)
            initial.append(RankedAccount(index: a, severity: severity, version: 1))
        }
        var heap = Heap(initial)
        func rank(_ a: Int) {
            let severity = cache[a] ?? currentSeverity(a)
            cache[a] = severity
            let next = (version[a] ?? 0) + 1
            version[a] = next
            inHeap.insert(a)
            heap.insert(RankedAccount(index: a, severity: severity, version: next))
        }
        backlogDecisions = []
        defer { backlogDecisions = nil }
        var steps = 0
        while steps < state.parameters.liquidationStepsPerCommand, let top = heap.popMax() {
            let a = top.index
            guard version[a] == top.version else { continue }  // a stale rank
            inHeap.remove(a)
            guard state.backlog.contains(a), !waiting.contains(a) else { continue }  // left the backlog; its severity stays cached
            steps += 1
            let emitted = events.count
            backlogDecisions = []
            if !liquidationStep(a) { waiting.insert(a) }
            var changed: Set<Int> = [a]
            for event in events[emitted...] where event.kind == .autoDeleveraged || event.kind == .socializedLoss {
                if let id = event.account, let b = state.accountIndex[id] { changed.insert(b) }
            }
            for b in changed {
                cache[b] = nil
                version[b] = (version[b] ?? 0) + 1
                inHeap.remove(b)
            }
            // Every backlog account that may act needs a current rank: the changed ones (fresh
            // severities) and those that entered the backlog in this step (cached if known).
            for b in changed.union(backlogDecisions ?? []).sorted() where state.backlog.contains(b) && !waiting.contains(b) && !inHeap.contains(b) {
                rank(b)
            }
        }
    }

    /// The reference drain: each step scans the backlog for the worst account (cached severities,
    /// invalidated for the stepped account and its counterparties). O(backlog) per step.
    mutating func drainByScanning() {
        var steps = 0
        var waiting = Set<Int>()
        var cache: [Int: Severity] = [:]
        while steps < state.parameters.liquidationStepsPerCommand {
            guard let a = worst(state.backlog.subtracting(waiting), cache: &cache) else { break }
            steps += 1
            let emitted = events.count
            if !liquidationStep(a) { waiting.insert(a) }
            cache[a] = nil
            for event in events[emitted...] where event.kind == .autoDeleveraged || event.kind == .socializedLoss {
                if let id = event.account, let b = state.accountIndex[id] { cache[b] = nil }
            }
        }
    }

    /// A backlog account with its severity when ranked; `version` tells a current rank from a stale one.
    struct RankedAccount: Comparable {
        var index: Int
        var severity: Severity
        var version: Int

        /// Ordered so that the maximum is the worst account (ties: the lowest index).
        static func < (l: RankedAccount, r: RankedAccount) -> Bool {
            if r.severity.isWorse(than: l.severity) { return true }
            if l.severity.isWorse(than: r.severity) { return false }
            return r.index < l.index
        }

        static func == (l: RankedAccount, r: RankedAccount) -> Bool { l.index == r.index && l.version == r.version }
    }

    /// How far under maintenance an account is: bankrupt accounts (by deficit) before the others (by MM / equity).
    struct Severity {
        var bankrupt: Bool
        var value: FixedDecimal

        func isWorse(than other: Severity) -> Bool {
            bankrupt != other.bankrupt ? bankrupt : value > other.value
        }
    }

    func severity(_ a: Int) -> Severity {
        let pool = worstPool(a, evaluateAccount(state.accounts[a], prices: false))
        let bankrupt = !pool.equity.isPositive
        return Severity(bankrupt: bankrupt, value: bankrupt ? -pool.equity : (pool.maintenanceMargin.divided(by: pool.equity, rounding: .halfEven) ?? .max))
    }

    /// The account furthest under maintenance (ties: the lowest index).
    func worst(_ candidates: Set<Int>, cache: inout [Int: Severity]) -> Int? {
        var best: (index: Int, severity: Severity)? = nil
        for a in candidates {
            let s: Severity
            if let cached = cache[a] { s = cached } else { s = severity(a); cache[a] = s }
            if let b = best {
                if s.isWorse(than: b.severity) || (!b.severity.isWorse(than: s) && a < b.index) { best = (a, s) }
            } else {
                best = (a, s)
            }
        }
        return best?.index
    }

    func worstPool(_ a: Int, _ evaluation: AccountEvaluation) -> PoolEvaluation {
        evaluation.pools.max { l, r in l.status != r.status ? l.status < r.status : l.equity > r.equity } ?? evaluation.cross
    }

    /// One step of the waterfall for account `a`. Returns false when it cannot act now
    /// (paused instrument, throttle, no liquidity).
    mutating func liquidationStep(_ a: Int) -> Bool {
        // 1. Cancel open orders, release their margin, re-evaluate.
        if !state.accounts[a].orders.isEmpty {
            let ids = state.accounts[a].orders
            var released = FixedDecimal.zero
            for id in ids { released += state.openOrder(account: a, id: id)?.reservedMargin ?? .zero; removeOrder(a, id) }
            emit(.ordersCancelledForLiquidation, account: a, [("orders", .integer(Int64(ids.count))), ("released_margin", .decimal(released))])
            evaluateAndAdvance(a, emit: true)
            return true
        }
        let record = state.accounts[a]
        let evaluation = evaluateAccount(record)
        // The liquidating pools in order (cross first, then isolated by instrument): the first
        // one that can act takes the step, so a pool waiting on its instrument (paused,
        // throttled, no liquidity) never holds up another pool of the account.
        let keys = record.procedures.filter { $0.value.isLiquidating }.keys.sorted()
        guard !keys.isEmpty else {
            state.backlog.remove(a)
            return true
        }
        for key in keys where liquidatePool(a, key, record, evaluation) { return true }
        return false
    }

    /// One waterfall step on pool `key` of account `a`: its riskiest position (largest
    /// maintenance margin). Returns false when the pool cannot act now.
    mutating func liquidatePool(_ a: Int, _ key: PoolKey, _ record: EngineAccount, _ evaluation: AccountEvaluation) -> Bool {
        let members = record.account.positions.indices.filter { record.pool(of: record.account.positions[$0].instrument) == key }
        guard let k = members.max(by: { evaluation.positions[$0].maintenanceMargin < evaluation.positions[$1].maintenanceMargin }) else {
            // An isolated pool without its position no longer exists (its margin was settled when
            // the position closed); only the cross pool can be left to settle.
            if key == .cross, !liquidateLoanStep(a, bankrupt: !evaluation.cross.equity.isPositive) { settleEmptyPool(a, instrument: nil) }
            evaluateAndAdvance(a, emit: true)
            return true
        }
        // A pool holding options: risk cut per unit of cost, partial steps, delta hedge (Engine+OptionLiquidation.swift).
        if usesRiskCutOrder(record, key) { return liquidateOptionPool(a, record, evaluation) }
        let position = record.account.positions[k]
        let i = position.instrument
        let instrument = state.market.instruments[i]
        if !state.breakers[i].pausedReasons.isEmpty { return false }
        let pool = evaluation.pools.first { $0.pool == evaluation.positions[k].pool }!
        let mark = state.market.marks[i]!
        // 2. Step size: a fraction of the position, or all of it when the pool is bankrupt or the rest would be dust.
        var quantity = position.quantity.magnitude
        // Only positions above the first tier are reduced in steps (as venues do); small ones close whole.
        if pool.equity.isPositive, evaluation.positions[k].bracket > 0 {
            let part = (quantity * state.parameters.liquidationStepFraction).rounded(toDigits: 8, rule: .up)
            if part < quantity { quantity = part }
        }
        // Throttle: the notional cap per instrument per interval.
        if let cap = state.parameters.liquidationNotionalCap {
            let room = cap - state.breakers[i].capUsed
            let stepNotional = notional(quantity, instrument, price: mark)
            if stepNotional > room {
                // The most whole lots (10⁻⁸) whose notional fits the room, computed in one division.
                let perContract = notional(.one, instrument, price: mark)
                let fitting = room.isPositive && perContract.isPositive
                    ? FixedDecimal.minimum(quantity, (room.divided(by: perContract, rounding: .down) ?? .zero).rounded(toDigits: 8, rule: .down)) : .zero
                if fitting.isZero {
                    if !state.breakers[i].throttleReported {
                        state.breakers[i].throttleReported = true
                        emit(.liquidationThrottled, [("symbol", .text(instrument.symbol)), ("cap", .decimal(cap)),
                                                     ("backlog", .integer(Int64(state.backlog.count)))])
                    }
                    return false
                }
                quantity = fitting
            }
        }
        let bankruptcy = evaluation.positions[k].bankruptcyPrice
        return execute(a, k, quantity: quantity, bankruptcy: bankruptcy, mark: mark)
    }

    /// Loss per contract of closing at `price` instead of at the bankruptcy price (settle units; > 0 is a loss).
    func lossPerContract(side: Int, price: FixedDecimal, bankruptcy: FixedDecimal, instrument: Instrument) -> FixedDecimal {
        // Closing a long at price p realizes s·cs·(p − EP); versus at BP the difference is s·cs·(p − BP) (linear).
        let gain = PositionMath.unrealizedPnl(side: side, size: instrument.contractSize, entry: bankruptcy, mark: price, inverse: instrument.kind.settlement == .inverse)
        return -gain
    }

    /// Executes a liquidation step of `quantity` contracts: the book (levels within the price
    /// band) as far as the insurance fund can cover fills worse than bankruptcy (when ADL or the
    /// backstop can take the rest), auto-deleveraging for the rest, then the backstop, then the
    /// rest of the book at its own prices; then the fee (out of the pool's surplus) and the
    /// settlement of a pool left empty (isolated margin; cross deficit waterfall).
    mutating func execute(_ a: Int, _ k: Int, quantity: FixedDecimal, bankruptcy: FixedDecimal?, mark: FixedDecimal) -> Bool {
        let record = state.accounts[a]
        let position = record.account.positions[k]
        let i = position.instrument
        let instrument = state.market.instruments[i]
        let settle = record.account.settle
        let reference = state.indexPrices[i]?.price ?? mark
        let bandLow = reference * (FixedDecimal.one - state.parameters.priceBand)
        let bandHigh = reference * (FixedDecimal.one + state.parameters.priceBand)
        // Without a positive bankruptcy price a long cannot run a deficit at any price, and a
        // short is under water at every price: both are measured against (and taken at) the mark.
        // A bankruptcy price outside the contract's price range (a deep deficit, an inverse
        // position's near-zero solution) is not a tradable price: the step executes at the
        // nearest bound, and the deficit that leaves goes to the fund, socialized loss, bad debt.
        let bp = FixedDecimal.minimum(RangeContract.maxPrice, FixedDecimal.maximum(RangeContract.minPrice, bankruptcy ?? mark))
        let deficitPossible = bankruptcy != nil || !position.isLongSide
        let backstop = state.parameters.execution == .backstop || state.parameters.backstopEnabled
        var fills: [(price: FixedDecimal, quantity: FixedDecimal, executor: String)] = []
        var remaining = quantity
        // Sharded: no shard but the fund shard knows the fund; the fund shard replays this bound
        // over the step's fills (`fund_draw`, Engine+ShardWaterfall.swift).
        var fundLeft = isSharded ? FixedDecimal.max : state.totals[settle].insuranceFund
        var adlQuantity = FixedDecimal.zero
        var dryPrice = mark  // the book price at which the fund ran dry (what ADL spares the fund)
        // The book side the step sells into (bids for a long); only levels inside the band are
        // walked (a level outside it is skipped, not a stop), best first.
        var levels: [BookLevel] = []
        func inBand(_ level: BookLevel) -> Bool { level.price >= bandLow && level.price <= bandHigh }
        if state.parameters.execution == .depth {
            levels = position.isLongSide ? state.books[i].bids : state.books[i].asks
            var n = 0
            while remaining.isPositive, n < levels.count {
                guard inBand(levels[n]), levels[n].quantity.isPositive else { n += 1; continue }
                let level = levels[n]
                var take = FixedDecimal.minimum(remaining, level.quantity)
                let loss = deficitPossible ? lossPerContract(side: position.side, price: level.price, bankruptcy: bp, instrument: instrument) : .zero
                if loss.isPositive && (state.parameters.adlEnabled || backstop) {
                    // A fill worse than bankruptcy only as far as the fund can pay the difference;
                    // the rest to ADL, then the backstop (then the rest of the book).
                    // A quotient beyond the decimal range (a loss per contract of a few units of
                    // 10^-18) is more than the level can take: the fund pays for all of it.
                    let affordable = fundLeft.divided(by: loss, rounding: .halfEven)?.rounded(toDigits: 8, rule: .down) ?? take
                    if affordable < take {
                        take = affordable
                        adlQuantity = remaining - take
                        dryPrice = level.price
                    }
                    fundLeft -= take * loss
                }
                if take.isPositive { fills.append((level.price, take, "depth")) }
                remaining -= take
                levels[n].quantity -= take
                if adlQuantity.isPositive { remaining = .zero; break }
                if levels[n].quantity.isZero { n += 1 }
            }
        }
        if remaining.isPositive && backstop {
            fills.append((bp, remaining, "backstop"))
            remaining = .zero
        }
        var closedNotional = FixedDecimal.zero
        let key = record.pool(of: i)
        // The margin left in an isolated pool whose position this step closed: the fee comes out
        // of it, then a surplus returns to the wallet and a deficit goes to the fund (never the wallet).
        var closedMargin: FixedDecimal? = nil
        var acted = false
        func fill(_ price: FixedDecimal, _ amount: FixedDecimal, _ executor: String) {
            let outcome = trade(a, i, quantity: position.isLongSide ? -amount : amount, price: price)
            if let m = outcome.closedIsolatedMargin { closedMargin = m }
            closedNotional += notional(amount, instrument, price: price)
            acted = true
            emit(.liquidationFill, account: a, [("symbol", .text(instrument.symbol)), ("quantity", .decimal(position.isLongSide ? -amount : amount)),
                                                ("price", .decimal(price)), ("executor", .text(executor)),
                                                ("bankruptcy_price", .optionalDecimal(bankruptcy)), ("realized_pnl", .decimal(outcome.realized))])
        }
        for f in fills { fill(f.price, f.quantity, f.executor) }
        if adlQuantity.isPositive {
            let adl = state.parameters.adlEnabled ? autoDeleverage(a, i, quantity: adlQuantity, price: bp, worstBookPrice: dryPrice) : (taken: .zero, closedMargin: nil)
            if let m = adl.closedMargin { closedMargin = m }
            if adl.taken.isPositive { acted = true }
            // What no counterparty took: the backstop at the bankruptcy price when enabled, else
            // the rest of the book inside the band at its own prices (the deficit goes to the
            // fund, socialized loss, bad debt); what the book cannot take stays for a later step.
            var left = adlQuantity - adl.taken
            if left.isPositive && backstop {
                fill(bp, left, "backstop")
                left = .zero
            }
            var n = 0
            while left.isPositive, n < levels.count {
                guard inBand(levels[n]), levels[n].quantity.isPositive else { n += 1; continue }
                let take = FixedDecimal.minimum(left, levels[n].quantity)
                fill(levels[n].price, take, "depth_after_adl")
                levels[n].quantity -= take
                left -= take
            }
        }
        if state.parameters.execution == .depth {
            let rest = levels.filter { $0.quantity.isPositive }
            if position.isLongSide { state.books[i].bids = rest } else { state.books[i].asks = rest }
        }
        if !acted {
            emit(.liquidationThrottled, account: a, [("symbol", .text(instrument.symbol)), ("reason", .text("no liquidity within the price band")),
                                                     ("band_low", .decimal(bandLow)), ("band_high", .decimal(bandHigh))])
            return false
        }
        state.breakers[i].capUsed += closedNotional
        if isSharded {  // what a deficit's `fund_draw` carries (Engine+Shards.swift)
            shardStep = ShardStep(instrument: i, side: position.side, bankruptcyPrice: bp, fills: fills.map { BookLevel(price: $0.price, quantity: $0.quantity) })
        }
        defer { shardStep = nil }
        chargeLiquidationFee(a, i, key: key, closedNotional: closedNotional, closedMargin: &closedMargin)
        if let m = closedMargin { releaseIsolatedPool(a, i, margin: m) }
        if key == .cross, !state.accounts[a].account.positions.contains(where: { state.accounts[a].pool(of: $0.instrument) == .cross }) {
            settleEmptyPool(a, instrument: i)
        }
        evaluateAndAdvance(a, emit: true)
        return true
    }

    /// The liquidation fee (a fraction of the closed notional) goes to the insurance fund,
    /// out of the liquidated pool's surplus only: never more than the pool's equity after the
    /// step, so never pushing it below zero. An isolated pool pays from its own margin (from
    /// `closedMargin` when the step closed its position), never from the cross wallet; the
    /// cross pool pays from the settle balance, up to the cross equity.
    mutating func chargeLiquidationFee(_ a: Int, _ i: Int, key: PoolKey, closedNotional: FixedDecimal, closedMargin: inout FixedDecimal?) {
        let settle = state.accounts[a].account.settle
        let k = state.accounts[a].positionIndex(i)
        let surplus: FixedDecimal
        if let m = closedMargin {
            surplus = m
        } else if case .isolated = key {
            guard let k else { return }
            surplus = evaluateAccount(state.accounts[a], prices: false).pools.first { $0.pool == .isolated(position: k) }?.equity ?? .zero
        } else {
            surplus = evaluateAccount(state.accounts[a], prices: false).cross.equity
        }
        let fee = FixedDecimal.minimum(closedNotional * state.parameters.liquidationFeeRate, FixedDecimal.maximum(.zero, surplus))
        guard fee.isPositive else { return }
        if let m = closedMargin {
            closedMargin = m - fee
        } else if case .isolated = key, let k, case .isolated(let margin) = state.accounts[a].account.positions[k].marginMode {
            state.accounts[a].account.positions[k].marginMode = .isolated(margin: margin - fee)
        } else {
            state.accounts[a].credit(settle, -fee)
        }
        if isSharded && !shardConfiguration.isFundShard { return creditFund(a, asset: settle, amount: fee) }  // `fund_credit`
        state.totals[settle].insuranceFund += fee
        emit(.insuranceFundContribution, account: a, [("amount", .decimal(fee)), ("fund", .decimal(state.totals[settle].insuranceFund)),
                                                      ("pool", .text(poolName(key, account: a))), ("pool_surplus", .decimal(surplus))])
    }

    /// Closes opposite positions in instrument `i` (never the bankrupt's side, never another
    /// instrument), highest ADL rank first, at the bankruptcy price, only as much as needed and
    /// never more than a counterparty holds. Returns the quantity taken and the margin left in
    /// the bankrupt account's isolated pool when this closed its position (for the caller to settle).
    /// `deficit_covered` in each event: what the taken quantity would have cost the fund at
    /// `worstBookPrice` (the book price at which the fund ran dry) instead of the bankruptcy price.
    mutating func autoDeleverage(_ a: Int, _ i: Int, quantity: FixedDecimal, price: FixedDecimal,
                                 worstBookPrice: FixedDecimal) -> (taken: FixedDecimal, closedMargin: FixedDecimal?) {
        var closedMargin: FixedDecimal? = nil
        let instrument = state.market.instruments[i]
        let bankruptSide = state.accounts[a].account.positions[state.accounts[a].positionIndex(i)!].side
        var remaining = quantity
        for (counterparty, _) in adlRanking(i) where counterparty != a {
            guard remaining.isPositive else { break }
            let k = state.accounts[counterparty].positionIndex(i)!
            let theirs = state.accounts[counterparty].account.positions[k]
            guard theirs.side == -bankruptSide else { continue }
            let take = FixedDecimal.minimum(remaining, theirs.quantity.magnitude)
            let covered = FixedDecimal.maximum(.zero, lossPerContract(side: bankruptSide, price: worstBookPrice, bankruptcy: price, instrument: instrument)) * take
            if let m = trade(a, i, quantity: bankruptSide > 0 ? -take : take, price: price).closedIsolatedMargin { closedMargin = m }
            let realized = applyTrade(counterparty, i, quantity: bankruptSide > 0 ? take : -take, price: price)
            if state.accounts[counterparty].pool(of: i) == .cross { settleDebtWithoutPositions(counterparty) }
            remaining -= take
            emit(.autoDeleveraged, account: counterparty, [("symbol", .text(instrument.symbol)), ("quantity", .decimal(bankruptSide > 0 ? take : -take)),
                                                          ("price", .decimal(price)), ("bankrupt_account", .text(state.accounts[a].id)),
                                                          ("realized_pnl", .decimal(realized)), ("deficit_covered", .decimal(covered))])
            evaluateAndAdvance(counterparty, emit: true)
        }
        return (quantity - remaining, closedMargin)
    }

    /// ADL ranking of positions in instrument `i`: profitable positions by
    /// `PnL% × effective leverage`, then losing ones by `PnL% / effective leverage`;
    /// highest first, ties by account order. Effective leverage = notional / pool equity.
    public func adlRanking(_ i: Int) -> [(account: Int, score: FixedDecimal)] {
        guard let mark = state.market.marks[i] else { return [] }
        let instrument = state.market.instruments[i]
        var scored: [(Int, FixedDecimal)] = []
        for a in holders(of: i) {
            let record = state.accounts[a]
            let k = record.positionIndex(i)!
            let position = record.account.positions[k]
            let evaluation = evaluateAccount(record, prices: false)
            let pool = evaluation.pools.first { $0.pool == evaluation.positions[k].pool }!
            let cost = notional(position.quantity, instrument, price: position.entryPrice)
            guard cost.isPositive, pool.equity.isPositive else { continue }
            // Saturating arithmetic: a near-zero equity gives a huge leverage, never a trap.
            let pnlPercent = evaluation.positions[k].unrealizedPnl.divided(by: cost, rounding: .halfEven) ?? .max
            let leverage = notional(position.quantity, instrument, price: mark).divided(by: pool.equity, rounding: .halfEven) ?? .max
            let score = pnlPercent.isPositive
                ? (pnlPercent.multiplied(by: leverage, rounding: .halfEven) ?? .max)
                : (pnlPercent.divided(by: leverage, rounding: .halfEven) ?? .zero)
            scored.append((a, score))
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }

    /// The ADL quantile (1 = last to be deleveraged … 5 = first) of every position in `i`.
    public func adlQuantiles(_ i: Int) -> [String: Int] {
        let ranking = adlRanking(i)
        var result: [String: Int] = [:]
        for (rank, entry) in ranking.enumerated() {
            result[state.accounts[entry.account].id] = 5 - (rank * 5) / Swift.max(ranking.count, 1)
        }
        return result
    }

    /// The cross pool with no positions left: a negative settle balance is covered by
    /// converting the account's other collateral at its haircut price, then the insurance fund,
    /// then socialized loss (`socialize`); what remains is recorded as bad debt and stays on the
    /// account as a negative balance. `instrument` is the bankrupt position's instrument (the
    /// one whose close left the deficit), nil for a deficit no position left (e.g. a reorganization).
    mutating func settleEmptyPool(_ a: Int, instrument: Int?) {
        let settle = state.accounts[a].account.settle
        if state.accounts[a].account.positions.contains(where: { state.accounts[a].pool(of: $0.instrument) == .cross }) { return }
        defer { repayLoansFromHoldings(a) }  // what the settled account holds repays its loans (docs/loans.md; Engine+Borrowing.swift)
        // Only what lies beyond the debt already written off (still carried as a negative balance).
        var deficit = -state.accounts[a].balance(settle) - state.accounts[a].writtenOff
        guard deficit.isPositive else { return }
        // Convert other collateral at its haircut price (the buyer is outside the engine).
        for balance in state.accounts[a].account.collateral where balance.asset != settle && balance.amount.isPositive && deficit.isPositive {
            let asset = state.market.assets[balance.asset]
            let unitValue = asset.price * (FixedDecimal.one - asset.haircut) / state.market.assets[settle].price
            guard unitValue.isPositive else { continue }
            // What covers the deficit, never more than is held (a quotient beyond the decimal
            // range, for a unit worth a few units of 10^-18, is more than any balance).
            let sold = deficit.divided(by: unitValue, rounding: .halfEven).map { FixedDecimal.minimum(balance.amount, $0) } ?? balance.amount
            let proceeds = sold * unitValue
            state.accounts[a].credit(balance.asset, -sold)
            state.totals[balance.asset].external += sold
            state.accounts[a].credit(settle, proceeds)
            state.totals[settle].external -= proceeds
            deficit -= proceeds
            emit(.collateralConverted, account: a, [("asset", .text(asset.symbol)), ("sold", .decimal(sold)), ("proceeds", .decimal(proceeds))])
        }
        guard deficit.isPositive else { return }
        let covered = coverDeficit(a, deficit, settle: settle, instrument: instrument, pool: .cross)
        state.accounts[a].credit(settle, covered)
        state.accounts[a].writtenOff += deficit - covered
    }

    /// An isolated pool whose position is gone, with `margin` left in it: a surplus (≥ 0)
    /// returns to the wallet; a deficit is the pool's alone — the insurance fund, then socialized
    /// loss over the instrument's profitable holders, then bad debt borne by the clearing side
    /// (`external`) — and never reaches the cross wallet or the account's other collateral.
    mutating func releaseIsolatedPool(_ a: Int, _ i: Int, margin: FixedDecimal) {
        let settle = state.accounts[a].account.settle
        guard margin.isNegative else {
            state.accounts[a].credit(settle, margin)
            return
        }
        // The pool's negative margin left the balances with its position; what covers it
        // (fund, socialized loss) replaces it, and what nothing covers is the clearing side's loss.
        let deficit = -margin
        let covered = coverDeficit(a, deficit, settle: settle, instrument: i, pool: .isolated(instrument: i))
        state.totals[settle].external -= deficit - covered
    }

    /// Covers `deficit` of pool `pool` of account `a`: the insurance fund, then socialized loss;
    /// records and reports what remains as bad debt. Returns what was covered (fund + socialized);
    /// the caller puts it where the deficit is.
    mutating func coverDeficit(_ a: Int, _ deficit: FixedDecimal, settle: Int, instrument: Int?, pool: PoolKey) -> FixedDecimal {
        if isSharded { return claimFromFund(a, deficit, settle: settle, instrument: instrument) }  // `fund_draw` (Engine+Shards.swift)
        var left = deficit
        let draw = FixedDecimal.minimum(left, state.totals[settle].insuranceFund)
        if draw.isPositive {
            state.totals[settle].insuranceFund -= draw
            left -= draw
            emit(.insuranceFundDraw, account: a, [("amount", .decimal(draw)), ("fund", .decimal(state.totals[settle].insuranceFund)),
                                                  ("pool", .text(poolName(pool, account: a)))])
        }
        if left.isPositive { left -= socialize(left, from: a, settle: settle, instrument: instrument) }
        if left.isPositive {
            state.accounts[a].recordBadDebt(left)  // counted at most 1e20 (EngineAccount+Memos.swift)
            emit(.badDebt, account: a, [("amount", .decimal(left)), ("asset", .text(state.market.assets[settle].symbol)),
                                        ("pool", .text(poolName(pool, account: a)))])
        }
        return deficit - left
    }

    /// Charges `amount` pro rata to the policy's population; returns what was charged (the
    /// caller credits it to the bankrupt pool).
    ///
    /// - `profitable`: the holders (other accounts, same settle asset) of a profitable position
    ///   in `instrument`, the bankrupt position's instrument, weighted by that position's
    ///   unrealized PnL at the mark; profit in other instruments does not count. The charge comes
    ///   out of the pool that holds the position (its isolated margin, or the settle balance for
    ///   cross). At most the population's total profit is charged. With no instrument (a deficit
    ///   no position left), nothing is socialized.
    /// - `all`: every other account with a positive settle balance, weighted by that balance,
    ///   charged to the settle balance; at most the total of those balances.
    ///
    /// Shares are rounded down to 18 digits; the last account in account order takes the rest.
    mutating func socialize(_ amount: FixedDecimal, from bankrupt: Int, settle: Int, instrument: Int?) -> FixedDecimal {
        var weights: [(Int, FixedDecimal)] = []
        switch state.parameters.socializeOver {
        case .profitable:
            guard let i = instrument, let mark = state.market.marks[i] else { return .zero }
            let definition = state.market.instruments[i]
            for b in holders(of: i) where b != bankrupt && state.accounts[b].account.settle == settle {
                let position = state.accounts[b].account.positions[state.accounts[b].positionIndex(i)!]
                let profit = PositionMath.unrealizedPnl(side: position.side, size: PositionMath.size(position, definition),
                                                        entry: position.entryPrice, mark: mark, inverse: definition.kind.settlement == .inverse)
                if profit.isPositive { weights.append((b, profit)) }
            }
        case .all:
            for (b, record) in state.accounts.enumerated() where b != bankrupt && record.account.settle == settle {
                let balance = record.balance(settle)
                if balance.isPositive { weights.append((b, balance)) }
            }
        }
        // The population's total, with checked sums: weights summing past the decimal range
        // (thousands of holders near the contract's bounds) are shared in proportion to
        // weight / count instead (the same proportions; that total fits).
        var proportional = weights.map(\.1)
        var sum: FixedDecimal? = .zero
        for w in proportional { sum = sum.flatMap { try? $0.addingChecked(w) } }
        if sum == nil {
            let count = FixedDecimal(weights.count)
            proportional = proportional.map { $0.divided(by: count, rounding: .down) ?? .zero }
            sum = proportional.reduce(FixedDecimal.zero) { $0 + $1 }
        }
        let total = sum ?? .zero
        guard total.isPositive else { return .zero }
        let charged = FixedDecimal.minimum(amount, total)
        var left = charged
        for (n, (b, weight)) in weights.enumerated() {
            // charged · weight / total (≤ weight), on a 256-bit intermediate when the product
            // leaves the decimal range; the two roundings of the ordinary path are kept otherwise.
            let w = proportional[n]
            let part = charged.multiplied(by: w, rounding: .halfEven).flatMap { $0.divided(by: total, rounding: .halfEven) }
                ?? charged.multiplied(by: w, dividedBy: total, rounding: .down) ?? charged
            let share = n == weights.count - 1 ? left : FixedDecimal.minimum(left, part)
            guard share.isPositive else { continue }
            var pool = PoolKey.cross
            if state.parameters.socializeOver == .profitable, let i = instrument, let k = state.accounts[b].positionIndex(i),
               case .isolated(let margin) = state.accounts[b].account.positions[k].marginMode {
                state.accounts[b].account.positions[k].marginMode = .isolated(margin: margin - share)
                pool = .isolated(instrument: i)
            } else {
                state.accounts[b].credit(settle, -share)
            }
            state.accounts[b].recordSocializedLoss(share)  // counted at most 1e20 (EngineAccount+Memos.swift)
            left -= share
            emit(.socializedLoss, account: b, [("amount", .decimal(share)), ("bankrupt_account", .text(state.accounts[bankrupt].id)),
                                               ("base", .text(state.parameters.socializeOver.rawValue)), ("weight", .decimal(weight)),
                                               ("pool", .text(poolName(pool, account: b))),
                                               ("symbol", .text(instrument.map { state.market.instruments[$0].symbol } ?? ""))])
        }
        state.totals[settle].socializedLoss += charged
        for b in weights.map(\.0) { evaluateAndAdvance(b, emit: true) }
        return charged
    }
}

extension Position {
    /// Whether the position is long.
    var isLongSide: Bool { quantity.isPositive }
}
