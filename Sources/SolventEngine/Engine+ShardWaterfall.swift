public import SolventCore
import SolventRisk

/// The fund shard's half of a sharded waterfall (Engine+Shards.swift; docs/cluster.md stage 2).
extension Engine {
    /// Pays a claimed deficit (`fund_draw`), in the single-node waterfall's order:
    /// 1. the step's fills are walked as a single node would have walked the book with the fund
    ///    this shard holds (`execute`: a fill worse than bankruptcy only as far as the fund pays the
    ///    difference); the fills past that point are what a single node gives to ADL: for them,
    ///    `adl_reduce` at the bankruptcy price to the highest-ranked opposite positions of the last
    ///    rankings received, then (backstop enabled) the backstop. The clearing side, which took
    ///    those fills in the book, covers their loss against the bankruptcy price (`external`);
    /// 2. the insurance fund pays what is left, as far as it can;
    /// 3. `socialize` charges the rest to the profitable holders of the instrument in every shard
    ///    (policy `profitable`; with `all` nothing is socialized across shards — partial);
    /// 4. what remains is bad debt, borne by the clearing side.
    /// `from` is the sender (nil: this shard's own account, credited already).
    mutating func applyFundDraw(_ draw: FundDraw, from: Int?) -> [Int] {
        let s = state.market.assets.firstIndex { $0.symbol == draw.asset }!
        let i = draw.symbol.isEmpty ? nil : state.market.instruments.firstIndex { $0.symbol == draw.symbol }
        var touched: [Int] = []
        var rest = draw.amount
        let backstop = state.parameters.execution == .backstop || state.parameters.backstopEnabled
        if let i, draw.side != 0, let bp = draw.bankruptcyPrice, state.parameters.adlEnabled || backstop {
            let instrument = state.market.instruments[i]
            // 1. The fills the fund could not have paid for (the single node's `adlQuantity`).
            var fundLeft = state.totals[s].insuranceFund
            var overrun: [BookLevel] = []
            for fill in draw.fills {
                if !overrun.isEmpty { overrun.append(fill); continue }
                var take = fill.quantity
                let loss = lossPerContract(side: draw.side, price: fill.price, bankruptcy: bp, instrument: instrument)
                if loss.isPositive {
                    let affordable = fundLeft.divided(by: loss, rounding: .halfEven)?.rounded(toDigits: 8, rule: .down) ?? take
                    if affordable < take {
                        overrun.append(BookLevel(price: fill.price, quantity: take - affordable))
                        take = affordable
                    }
                    fundLeft -= take * loss
                }
            }
            // The loss against the bankruptcy price of the next `quantity` overrun contracts.
            var n = 0
            func consume(_ quantity: FixedDecimal) -> FixedDecimal {
                var left = quantity, covered = FixedDecimal.zero
                while left.isPositive, n < overrun.count {
                    let take = FixedDecimal.minimum(left, overrun[n].quantity)
                    covered += FixedDecimal.maximum(.zero, lossPerContract(side: draw.side, price: overrun[n].price, bankruptcy: bp, instrument: instrument)) * take
                    overrun[n].quantity -= take
                    left -= take
                    if overrun[n].quantity.isZero { n += 1 }
                }
                return covered
            }
            var remaining = overrun.reduce(FixedDecimal.zero) { $0 + $1.quantity }
            var covered = FixedDecimal.zero
            if state.parameters.adlEnabled && remaining.isPositive {
                for (shard, candidate) in mergedCandidates(i) where remaining.isPositive {
                    guard candidate.account != draw.account, candidate.quantity.signum == -draw.side else { continue }
                    let take = FixedDecimal.minimum(remaining, candidate.quantity.magnitude)
                    guard take.isPositive else { continue }
                    let part = consume(take)
                    covered += part
                    remaining -= take
                    takeFromCandidate(draw.symbol, shard: shard, account: candidate.account, quantity: take)
                    touched += send(.adlReduce(account: candidate.account, symbol: draw.symbol, quantity: draw.side > 0 ? take : -take,
                                               price: bp, bankruptAccount: draw.account, deficitCovered: part), to: shard)
                }
            }
            if backstop && remaining.isPositive { covered += consume(remaining) }
            covered = FixedDecimal.minimum(covered, rest)
            if covered.isPositive {
                state.totals[s].external -= covered
                state.shardStorage!.adlCovered[s] += covered
                rest -= covered
            }
        }
        // 2. The fund.
        let paid = FixedDecimal.minimum(rest, state.totals[s].insuranceFund)
        if paid.isPositive {
            state.totals[s].insuranceFund -= paid
            rest -= paid
            emit(.insuranceFundDraw, [("amount", .decimal(paid)), ("fund", .decimal(state.totals[s].insuranceFund)),
                                      ("bankrupt_account", .text(draw.account)), ("claimed", .decimal(draw.amount))])
        }
        // 3. Socialized loss over every shard's profitable holders.
        if rest.isPositive, let i, state.parameters.socializeOver == .profitable {
            let (charged, local) = socializeAcrossShards(rest, asset: s, instrument: i, bankrupt: draw.account)
            rest -= charged
            touched += local
        }
        // 4. Bad debt.
        if rest.isPositive {
            state.totals[s].external -= rest
            state.shardStorage!.badDebt[s] += rest
            emit(.badDebt, [("amount", .decimal(rest)), ("asset", .text(draw.asset)), ("bankrupt_account", .text(draw.account)), ("pool", .text("claimed"))])
        }
        return touched
    }

    /// Every shard's last ranking of instrument `i` (this shard's own live), highest score
    /// first; ties by shard, then rank within the shard.
    func mergedCandidates(_ i: Int) -> [(shard: Int, candidate: AdlCandidate)] {
        let symbol = state.market.instruments[i].symbol
        let own = shardConfiguration.index
        var all: [(shard: Int, rank: Int, candidate: AdlCandidate)] = adlCandidates(i).enumerated().map { (own, $0, $1) }
        for (shard, list) in state.shardStorage?.candidates[symbol] ?? [:] where shard != own {
            all += list.enumerated().map { (shard, $0, $1) }
        }
        all.sort { l, r in
            if l.candidate.score != r.candidate.score { return l.candidate.score > r.candidate.score }
            return l.shard != r.shard ? l.shard < r.shard : l.rank < r.rank
        }
        return all.map { ($0.shard, $0.candidate) }
    }

    /// Lowers a received candidate's quantity by what ADL took from it (until its shard ranks again).
    mutating func takeFromCandidate(_ symbol: String, shard: Int, account: String, quantity: FixedDecimal) {
        guard shard != shardConfiguration.index, var list = state.shardStorage?.candidates[symbol]?[shard],
              let k = list.firstIndex(where: { $0.account == account }) else { return }
        let q = list[k].quantity
        list[k].quantity = q.isNegative ? q + quantity : q - quantity
        state.shardStorage!.candidates[symbol]![shard] = list
    }

    /// Shares `amount` pro rata to the profit of every shard's profitable holders of instrument
    /// `i` (settled in `asset`), as `socialize` does on one node (shares rounded, the last
    /// holder takes the rest); charges this shard's own at once and sends the others. Returns
    /// what was charged and the local accounts touched.
    mutating func socializeAcrossShards(_ amount: FixedDecimal, asset s: Int, instrument i: Int, bankrupt: String) -> (FixedDecimal, [Int]) {
        let assetSymbol = state.market.assets[s].symbol
        var weights: [(shard: Int, account: String, weight: FixedDecimal)] = []
        // By shard, then rank (a stable order: the last holder takes the rounding rest).
        let ranked = mergedCandidates(i).enumerated().sorted { l, r in l.element.shard != r.element.shard ? l.element.shard < r.element.shard : l.offset < r.offset }
        for (_, (shard, candidate)) in ranked where candidate.account != bankrupt && candidate.settle == assetSymbol && candidate.profit.isPositive {
            weights.append((shard, candidate.account, candidate.profit))
        }
        var total: FixedDecimal? = .zero
        for w in weights { total = total.flatMap { try? $0.addingChecked(w.weight) } }
        guard let total, total.isPositive else { return (.zero, []) }
        let charged = FixedDecimal.minimum(amount, total)
        var left = charged
        var byShard: [Int: [SocializeCharge]] = [:]
        for (n, w) in weights.enumerated() {
            let part = charged.multiplied(by: w.weight, rounding: .halfEven).flatMap { $0.divided(by: total, rounding: .halfEven) }
                ?? charged.multiplied(by: w.weight, dividedBy: total, rounding: .down) ?? charged
            let share = n == weights.count - 1 ? left : FixedDecimal.minimum(left, part)
            guard share.isPositive else { continue }
            left -= share
            byShard[w.shard, default: []].append(SocializeCharge(account: w.account, amount: share))
        }
        var touched: [Int] = []
        let symbol = state.market.instruments[i].symbol
        for (shard, charges) in byShard.sorted(by: { $0.key < $1.key }) {
            touched += send(.socialize(asset: assetSymbol, symbol: symbol, bankruptAccount: bankrupt, charges: charges), to: shard)
        }
        return (charged - left, touched)
    }

    /// `adl_reduce`: the counterparty's leg of ADL, at the bankruptcy price, never more than it
    /// holds on the opposite side (what it no longer holds is not taken; the clearing side keeps it).
    mutating func applyAdlReduce(_ account: String, _ symbol: String, quantity: FixedDecimal, price: FixedDecimal,
                                 bankrupt: String, covered: FixedDecimal) -> [Int] {
        let i = state.market.instruments.firstIndex { $0.symbol == symbol }!
        guard let a = state.accountIndex[account], let k = state.accounts[a].positionIndex(i) else {
            emit(.autoDeleveraged, [("symbol", .text(symbol)), ("quantity", .decimal(.zero)), ("requested", .decimal(quantity)),
                                    ("price", .decimal(price)), ("bankrupt_account", .text(bankrupt)), ("missing_account", .text(account))])
            return []
        }
        let held = state.accounts[a].account.positions[k].quantity
        let take = held.signum == -quantity.signum ? FixedDecimal.minimum(quantity.magnitude, held.magnitude) : .zero
        let trade = quantity.isNegative ? -take : take
        var realized = FixedDecimal.zero
        if take.isPositive {
            realized = applyTrade(a, i, quantity: trade, price: price)
            if state.accounts[a].pool(of: i) == .cross { settleDebtWithoutPositions(a) }
        }
        emit(.autoDeleveraged, account: a, [("symbol", .text(symbol)), ("quantity", .decimal(trade)), ("price", .decimal(price)),
                                            ("bankrupt_account", .text(bankrupt)), ("realized_pnl", .decimal(realized)),
                                            ("deficit_covered", .decimal(covered)), ("requested", .decimal(quantity))])
        evaluateAndAdvance(a, emit: true)
        return [a]
    }

    /// `socialize`: each named account pays its share, out of the pool that holds its position in
    /// the instrument (isolated margin, or the settle balance); a share whose account is not here
    /// is borne by the clearing side.
    mutating func applySocialize(_ asset: String, _ symbol: String, bankrupt: String, charges: [SocializeCharge]) -> [Int] {
        let s = state.market.assets.firstIndex { $0.symbol == asset }!
        let i = symbol.isEmpty ? nil : state.market.instruments.firstIndex { $0.symbol == symbol }
        var touched: [Int] = []
        for charge in charges {
            state.totals[s].socializedLoss += charge.amount
            guard let b = state.accountIndex[charge.account] else {
                state.totals[s].external -= charge.amount
                continue
            }
            var pool = PoolKey.cross
            if let i, let k = state.accounts[b].positionIndex(i), case .isolated(let margin) = state.accounts[b].account.positions[k].marginMode {
                state.accounts[b].account.positions[k].marginMode = .isolated(margin: margin - charge.amount)
                pool = .isolated(instrument: i)
            } else {
                state.accounts[b].credit(s, -charge.amount)
            }
            state.accounts[b].recordSocializedLoss(charge.amount)  // counted at most 1e20 (EngineAccount+Memos.swift)
            emit(.socializedLoss, account: b, [("amount", .decimal(charge.amount)), ("bankrupt_account", .text(bankrupt)),
                                               ("base", .text(SocializationBase.profitable.rawValue)), ("pool", .text(poolName(pool, account: b))),
                                               ("symbol", .text(symbol))])
            touched.append(b)
        }
        for b in touched { evaluateAndAdvance(b, emit: true) }
        return touched
    }
}
