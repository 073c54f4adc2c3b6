public import SolventCore
import SolventRisk

/// The engine side of shards (docs/cluster.md, "Stage 2 — accounts over shards"): the outbox
/// messages a shard sends for the cross-shard effects of the liquidation waterfall, and the
/// `deliver` command that applies one, once per message id.
///
/// In a sharded engine (`N > 1`) every shard runs the same waterfall with three changes:
/// - a liquidation's book walk is not bounded by the insurance fund (no shard but 0 knows it):
///   every fill inside the price band is taken, and the deficit the pool is left with is booked
///   as a `fund_receivable` and claimed by `fund_draw` (the account closes at once);
/// - a liquidation fee goes to the fund by `fund_credit`;
/// - the fund shard, applying a `fund_draw`, replays the single-node book walk over the step's
///   fills with the fund it holds: the fills beyond the fund's reach are what a single node would
///   have given to ADL (or the backstop). For them it sends `adl_reduce` to the counterparties'
///   shards (the last ranking each sent, `adl_candidates`), at the bankruptcy price, and the
///   clearing side — which took those fills in the book — covers their loss; the fund pays what
///   is left, then `socialize` charges profitable holders in every shard, then bad debt (the
///   clearing side's).
/// A shard sends its ADL ranking of an instrument after each `mark` of that instrument that
/// changed it. Messages to the shard itself (the fund shard's own accounts) apply at once.
extension Engine {
    /// This engine's shard (`.single` unless configured).
    public var shardConfiguration: ShardConfiguration { state.shardStorage?.configuration ?? .single }

    /// Whether the venue is split over more than one shard.
    var isSharded: Bool { state.shardStorage?.configuration.isSharded ?? false }

    /// Makes this engine shard `configuration.index` of `configuration.count` (at genesis, before
    /// any command). `1 of 1` keeps no shard state: the engine stays byte-identical to today's.
    public mutating func configureShard(_ configuration: ShardConfiguration) {
        precondition(configuration.problem() == nil, "invalid shard configuration")
        if configuration == .single && state.shardStorage == nil { return }
        state.shardStorage = ShardState(configuration: configuration, assets: state.market.assets.count)
    }

    /// The number `n` of message id `s<from>-<n>`, or nil when the id has another shape.
    static func messageNumber(_ id: String, from: Int) -> Int64? {
        let prefix = "s\(from)-"
        guard id.hasPrefix(prefix), let n = Int64(id.dropFirst(prefix.count)), n >= 1, "\(prefix)\(n)" == id else { return nil }
        return n
    }

    // MARK: sending

    /// Sends `body` to shard `to`: an `outbox_message` event (ids `s<index>-<n>`), and the money
    /// it moves leaves (or, for a claim, enters) this shard's books. To this shard itself: applied
    /// at once, no message. Returns the accounts a local application touched.
    @discardableResult
    mutating func send(_ body: OutboxBody, to: Int) -> [Int] {
        guard var shard = state.shardStorage else { return [] }
        if to == shard.configuration.index { return applyBody(body, from: nil) }
        shard.messagesSent += 1
        if let (asset, amount) = body.transfer, let s = state.market.assets.firstIndex(where: { $0.symbol == asset }) {
            shard.transfers[s] -= amount
        }
        let message = OutboxMessage(id: OutboxMessage.id(shard: shard.configuration.index, number: shard.messagesSent),
                                    from: shard.configuration.index, to: to, body: body)
        state.shardStorage = shard
        emit(.outboxMessage, message.eventFields)
        return []
    }

    /// The waterfall's claim on the fund (`coverDeficit` in a sharded engine): the whole deficit
    /// is covered at once (the account closes) and claimed by `fund_draw`; the fund shard's own
    /// claim is applied at once. Returns the deficit (all of it is covered here).
    mutating func claimFromFund(_ a: Int, _ deficit: FixedDecimal, settle: Int, instrument: Int?) -> FixedDecimal {
        var draw = FundDraw(asset: state.market.assets[settle].symbol, amount: deficit, account: state.accounts[a].id)
        if let i = instrument, let step = shardStep, step.instrument == i {
            draw.symbol = state.market.instruments[i].symbol
            draw.side = step.side
            draw.bankruptcyPrice = step.bankruptcyPrice
            draw.fills = step.fills
        } else if let i = instrument {
            draw.symbol = state.market.instruments[i].symbol
        }
        state.shardStorage!.fundReceivable[settle] += deficit
        // A delivery carries at most 1e18 (`deliveryRangeProblem`), and a cross pool's deficit
        // (up to 100 positions' losses of ≤ 1e17 each) can pass it: a larger claim goes in
        // parts of ≤ 1e18, in order, the step's fills with the first. The fund shard pays the
        // parts as one draw (the fund first, then socialized loss, then bad debt: a part left
        // uncovered has emptied the fund), except that each part is socialized up to the
        // holders' whole profit (a single node caps one deficit's charges at it once) — a
        // deviation only past 1e18 of deficit. A single claim the fund shard refused was money
        // created: the account was credited, and the fund never paid (AttackSession17Tests).
        var left = deficit
        while left.isPositive {
            draw.amount = FixedDecimal.minimum(left, Self.tradingBalanceLimit)
            left -= draw.amount
            send(.fundDraw(draw), to: ShardConfiguration.fundShard)
            draw.fills = []
        }
        return deficit
    }

    /// A liquidation fee for the fund (`chargeLiquidationFee` in a non-fund shard): `fund_credit`.
    mutating func creditFund(_ a: Int, asset: Int, amount: FixedDecimal) {
        send(.fundCredit(asset: state.market.assets[asset].symbol, amount: amount, account: state.accounts[a].id), to: ShardConfiguration.fundShard)
    }

    /// After a `mark` of instrument `i` in a non-fund shard: its ADL ranking, when it changed.
    mutating func sendAdlCandidates(_ i: Int) {
        guard let shard = state.shardStorage, shard.configuration.isSharded, !shard.configuration.isFundShard else { return }
        let symbol = state.market.instruments[i].symbol
        let ranking = adlCandidates(i)
        guard shard.sentCandidates[symbol] ?? [] != ranking else { return }
        state.shardStorage!.sentCandidates[symbol] = ranking
        send(.adlCandidates(symbol: symbol, candidates: ranking), to: ShardConfiguration.fundShard)
    }

    /// This shard's ADL ranking of instrument `i` (`adlRanking`), with each position's profit.
    func adlCandidates(_ i: Int) -> [AdlCandidate] {
        guard let mark = state.market.marks[i] else { return [] }
        let definition = state.market.instruments[i]
        return adlRanking(i).map { entry in
            let record = state.accounts[entry.account]
            let position = record.account.positions[record.positionIndex(i)!]
            let profit = PositionMath.unrealizedPnl(side: position.side, size: PositionMath.size(position, definition),
                                                    entry: position.entryPrice, mark: mark, inverse: definition.kind.settlement == .inverse)
            return AdlCandidate(account: record.id, quantity: position.quantity, score: entry.score, profit: profit,
                                settle: state.market.assets[record.account.settle].symbol)
        }
    }

    // MARK: delivering

    /// `deliver`: validates the message (this shard, its sender, its body) before changing
    /// anything; a message id already applied changes nothing (`message_ignored`).
    mutating func deliver(_ id: String, fromShard: Int, _ body: OutboxBody) throws(RejectReason) -> [Int] {
        guard let shard = state.shardStorage, shard.configuration.isSharded else {
            throw RejectReason(.invalidInput, field: "type", "deliver needs a sharded engine (shard K of N, N > 1); this engine is 1 of 1")
        }
        let c = shard.configuration
        guard fromShard >= 0, fromShard < c.count, fromShard != c.index else {
            throw RejectReason(.invalidInput, field: "from_shard", "must be another shard in 0..<\(c.count) than this one (\(c.index)), got \(fromShard)")
        }
        guard let n = Self.messageNumber(id, from: fromShard) else {
            throw RejectReason(.invalidInput, field: "message_id", "must be s\(fromShard)-<n> (n ≥ 1) for a message from shard \(fromShard), got \"\(id)\"")
        }
        if body.isForFundShard {
            guard c.isFundShard else {
                throw RejectReason(.invalidInput, field: "body.type", "a \(body.typeName) is delivered to the fund shard \(ShardConfiguration.fundShard), not to shard \(c.index)")
            }
        } else if fromShard != ShardConfiguration.fundShard {
            throw RejectReason(.invalidInput, field: "from_shard", "a \(body.typeName) comes from the fund shard \(ShardConfiguration.fundShard), not from shard \(fromShard)")
        }
        try validateBody(body, shard: c)
        if shard.delivered[fromShard]?.contains(n) ?? false {
            emit(.messageIgnored, [("message_id", .text(id)), ("from_shard", .integer(Int64(fromShard))), ("body", .text(body.typeName)),
                                   ("reason", .text("already applied"))])
            return []
        }
        state.shardStorage!.delivered[fromShard, default: DeliveredMessages()].insert(n)
        if let (asset, amount) = body.transfer, let s = state.market.assets.firstIndex(where: { $0.symbol == asset }) {
            state.shardStorage!.transfers[s] += amount
        }
        emit(.messageApplied, [("message_id", .text(id)), ("from_shard", .integer(Int64(fromShard))), ("body", .text(body.typeName))])
        return applyBody(body, from: fromShard)
    }

    /// The body's names (assets, instruments, accounts of this shard) and amounts, checked.
    func validateBody(_ body: OutboxBody, shard c: ShardConfiguration) throws(RejectReason) {
        func asset(_ symbol: String) throws(RejectReason) { _ = try assetIndex(symbol, field: "body.asset") }
        func owned(_ account: String, field: String) throws(RejectReason) {
            let home = ShardAssignment.shard(of: account, count: c.count)
            guard home == c.index else { throw RejectReason(.invalidInput, field: field, "account \"\(account)\" belongs to shard \(home), not to shard \(c.index)") }
        }
        switch body {
        case .fundDraw(let d):
            try asset(d.asset)
            if !d.symbol.isEmpty { _ = try instrumentIndex(d.symbol, field: "body.symbol") }
            guard d.amount.isPositive else { throw RejectReason(.invalidInput, field: "body.amount", "must be positive") }
        case let .fundCredit(a, amount, _):
            try asset(a)
            guard amount.isPositive else { throw RejectReason(.invalidInput, field: "body.amount", "must be positive") }
        case let .adlReduce(account, symbol, quantity, price, _, _):
            try owned(account, field: "body.account")
            _ = try instrumentIndex(symbol, field: "body.symbol")
            guard !quantity.isZero else { throw RejectReason(.invalidInput, field: "body.quantity", "must not be zero") }
            guard price.isPositive else { throw RejectReason(.invalidInput, field: "body.price", "must be positive") }
        case let .socialize(a, symbol, _, charges):
            try asset(a)
            if !symbol.isEmpty { _ = try instrumentIndex(symbol, field: "body.symbol") }
            for (k, charge) in charges.enumerated() {
                try owned(charge.account, field: "body.charges[\(k)].account")
                guard charge.amount.isPositive else { throw RejectReason(.invalidInput, field: "body.charges[\(k)].amount", "must be positive") }
            }
        case .adlCandidates(let symbol, _):
            _ = try instrumentIndex(symbol, field: "body.symbol")
        }
    }

    /// The range contract on a delivered body (Engine+RangeContract.swift): prices in the price
    /// range; contract quantities (each, and a step's fills together) at most a size
    /// |q|·contract_size of 10^9 (`RangeContract.maxPositionSize`); amounts (each, and a `socialize`'s together) at most 10^18
    /// (`tradingBalanceLimit`: a sender booked them, so the 10^15 of client input does not apply).
    /// So the fund shard's replay (`loss · quantity` ≤ contract_size · 10^8 · quantity ≤ 10^17) and every sum stay in range.
    func deliveryRangeProblem(_ body: OutboxBody) -> RejectReason? {
        func amount(_ field: String, _ v: FixedDecimal) -> RejectReason? {
            v.magnitude > Self.tradingBalanceLimit ? RejectReason(.outOfRange, field: field, "out of range: magnitude above 1e18, got \(v)") : nil
        }
        // A quantity of contracts of `symbol`, bounded as a position's size |q|·contract_size
        // (≤ 1e9), not as a count of contracts: a contract of 0.01 holds 1e11 contracts inside
        // the contract, and a shard's honest message about it was refused (AttackSession17Tests).
        func size(_ field: String, _ v: FixedDecimal, _ symbol: String) -> RejectReason? {
            let contractSize = state.market.instruments.first { $0.symbol == symbol }?.contractSize ?? .one
            guard let problem = RangeContract.sizeProblem(v.magnitude.multiplied(by: contractSize, rounding: .halfEven)) else { return nil }
            return RejectReason(.outOfRange, field: field, "\(problem), got \(v) contracts")
        }
        func price(_ field: String, _ v: FixedDecimal) -> RejectReason? { RangeContract.priceProblem(v).map { RejectReason(.outOfRange, field: field, $0) } }
        switch body {
        case .fundDraw(let d):
            if let problem = amount("body.amount", d.amount) { return problem }
            if let bp = d.bankruptcyPrice, let problem = price("body.bankruptcy_price", bp) { return problem }
            var total = FixedDecimal.zero
            for (k, fill) in d.fills.enumerated() {
                if let problem = price("body.fills[\(k)].price", fill.price) ?? size("body.fills[\(k)].quantity", fill.quantity, d.symbol) { return problem }
                guard let sum = try? total.addingChecked(fill.quantity) else {
                    return RejectReason(.outOfRange, field: "body.fills", "out of range: the fills' quantities sum beyond the decimal range")
                }
                total = sum
                if let problem = size("body.fills", total, d.symbol) { return problem }
            }
        case let .fundCredit(_, v, _):
            return amount("body.amount", v)
        case let .adlReduce(_, symbol, quantity, p, _, covered):
            return price("body.price", p) ?? size("body.quantity", quantity, symbol) ?? amount("body.deficit_covered", covered)
        case let .socialize(_, _, _, charges):
            var total = FixedDecimal.zero
            for (k, charge) in charges.enumerated() {
                if let problem = amount("body.charges[\(k)].amount", charge.amount) { return problem }
                total += charge.amount
                if let problem = amount("body.charges", total) { return problem }
            }
        case let .adlCandidates(symbol, candidates):
            for (k, c) in candidates.enumerated() {
                if let problem = size("body.candidates[\(k)].quantity", c.quantity, symbol) ?? amount("body.candidates[\(k)].profit", c.profit) { return problem }
            }
        }
        return nil
    }

    /// Applies a validated body (from shard `from`, or nil for this shard's own). Returns the accounts touched.
    mutating func applyBody(_ body: OutboxBody, from: Int?) -> [Int] {
        switch body {
        case .fundDraw(let draw): return applyFundDraw(draw, from: from)
        case let .fundCredit(asset, amount, account):
            let s = state.market.assets.firstIndex { $0.symbol == asset }!
            state.totals[s].insuranceFund += amount
            emit(.insuranceFundContribution, [("amount", .decimal(amount)), ("fund", .decimal(state.totals[s].insuranceFund)),
                                              ("liquidated_account", .text(account)), ("from_shard", .integer(Int64(from ?? shardConfiguration.index)))])
            return []
        case let .adlReduce(account, symbol, quantity, price, bankrupt, covered):
            return applyAdlReduce(account, symbol, quantity: quantity, price: price, bankrupt: bankrupt, covered: covered)
        case let .socialize(asset, symbol, bankrupt, charges):
            return applySocialize(asset, symbol, bankrupt: bankrupt, charges: charges)
        case let .adlCandidates(symbol, candidates):
            if let from { state.shardStorage!.candidates[symbol, default: [:]][from] = candidates }
            return []
        }
    }
}

/// The liquidation step a sharded engine is settling (not state: set and cleared inside one step).
struct ShardStep {
    var instrument: Int
    var side: Int
    var bankruptcyPrice: FixedDecimal
    var fills: [BookLevel]
}

extension Engine {
    /// The shard state in the canonical state (`canonicalState`): configuration, message counter,
    /// applied message numbers by sender, per-asset transfers and memos, received and sent rankings.
    func writeShard(_ shard: ShardState, into w: inout JSONWriter) {
        w.key("shard"); w.beginArray()
        w.integer(Int64(shard.configuration.index)); w.integer(Int64(shard.configuration.count)); w.integer(shard.messagesSent)
        w.string("delivered")
        for (from, d) in shard.delivered.sorted(by: { $0.key < $1.key }) {
            w.integer(Int64(from)); w.integer(d.through); w.integer(Int64(d.beyond.count))
            for n in d.beyond.sorted() { w.integer(n) }
        }
        w.string("assets")
        for a in shard.transfers.indices {
            w.decimal(shard.transfers[a]); w.decimal(shard.fundReceivable[a]); w.decimal(shard.adlCovered[a]); w.decimal(shard.badDebt[a])
        }
        func write(_ list: [AdlCandidate]) {
            w.integer(Int64(list.count))
            for c in list { w.string(c.account); w.decimal(c.quantity); w.decimal(c.score); w.decimal(c.profit); w.string(c.settle) }
        }
        w.string("candidates")
        for (symbol, byShard) in shard.candidates.sorted(by: { $0.key < $1.key }) {
            for (from, list) in byShard.sorted(by: { $0.key < $1.key }) { w.string(symbol); w.integer(Int64(from)); write(list) }
        }
        w.string("sent")
        for (symbol, list) in shard.sentCandidates.sorted(by: { $0.key < $1.key }) { w.string(symbol); write(list) }
        w.endArray()
    }

    /// The shard state's invariants (Engine+Invariants.swift): a valid configuration, one entry per
    /// asset, applied message numbers above their contiguous prefix, and only the fund shard
    /// holding received rankings.
    func shardViolation() -> String? {
        guard let shard = state.shardStorage else { return nil }
        if let problem = shard.configuration.problem() { return "shard configuration: \(problem.field) \(problem.reason)" }
        let n = state.market.assets.count
        if shard.transfers.count != n || shard.fundReceivable.count != n || shard.adlCovered.count != n || shard.badDebt.count != n {
            return "shard state keeps \(shard.transfers.count) assets, the market has \(n)"
        }
        for (from, d) in shard.delivered {
            if from == shard.configuration.index || from < 0 || from >= shard.configuration.count { return "messages applied from shard \(from)" }
            if d.through < 0 || d.beyond.contains(where: { $0 <= d.through + 1 }) { return "applied messages from shard \(from) are not compact" }
        }
        if !shard.configuration.isFundShard && !shard.candidates.isEmpty { return "shard \(shard.configuration.index) holds ADL rankings" }
        return nil
    }
}
