public import SolventCore
public import SolventRisk

/// One threshold a pool's procedure must not reach inside its bands: `c = σ·(MM − k·equity)`
/// must stay positive (σ = −1: the ratio must stay below `k`; σ = +1: it must stay at or above
/// `k`), and `slack` is `c` at the current marks.
struct BandThreshold {
    /// True for σ = −1 (`k·equity − MM > 0` must hold), false for σ = +1 (`MM − k·equity > 0`).
    var staysBelow: Bool
    var ratio: FixedDecimal
    var slack: FixedDecimal
}

extension Engine {
    /// Price bands for every instrument the account holds: while every mark stays strictly
    /// inside its band, no pool can cross the next threshold of its procedure in either
    /// direction (`AtRiskIndex` re-evaluates the account when a mark reaches an edge).
    ///
    /// For a pool whose procedure waits on a threshold ratio `k`, `c = σ·(MM − k·equity)` must
    /// keep its sign. Each of the pool's `n` positions gets `(c − allowance) / n` of it:
    ///
    /// - Linear position (`Q = |q|·cs`, side `s`): equity moves by `s·Q` per unit of price and
    ///   MM by `Q·mmr` of the bracket the notional is in (`notional·mmr − amount`, Binance
    ///   "leverage bracket"). Moving up, the notional can only enter brackets of a rate in
    ///   `[mmr_b, mmr_top]`, moving down one in `[mmr_bottom, mmr_b]`, as long as MM is
    ///   continuous at the boundaries passed (derived amounts: `amount_i = amount_{i−1} +
    ///   floor_i·(mmr_i − mmr_{i−1})`); the band stops at the first boundary where it is not.
    ///   In each direction the worst rate gives the exact worst slope of `c`, `Q·(mmr − k·s)`
    ///   or `Q·(k·s − mmr)`; a direction in which `c` cannot fall is unbounded (no edge).
    /// - Inverse position: the conservative `Q·(1 + mmr_max)` per unit of `1/price`, both ways,
    ///   stopped at the first boundary on either side where MM is not continuous.
    ///
    /// The allowance (a few units of 10^-18 per position and per bracket boundary) covers the
    /// evaluator's half-even roundings of uPnL, notional, MM and `k·equity`, so the bound holds
    /// for the computed numbers and not only for the exact ones. Edges are rounded inward.
    ///
    /// `optionBands`: whether the account needs the option bands (`usesOptionBands(a)`), when
    /// the caller already knows it.
    func bands(_ a: Int, _ evaluation: AccountEvaluation, optionBands: Bool? = nil) -> [PriceBand] {
        var result: [PriceBand] = []
        bands(a, evaluation, optionBands: optionBands, into: &result)
        return result
    }

    /// `bands(a, evaluation, optionBands:)` written into `result` (emptied first, its capacity
    /// kept): the re-evaluation passes the account's previous band array, taken out of the index
    /// (`AtRiskIndex.takeBands`), so a re-registration allocates no array.
    func bands(_ a: Int, _ evaluation: AccountEvaluation, optionBands: Bool? = nil, into result: inout [PriceBand]) {
        result.removeAll(keepingCapacity: true)
        if optionBands ?? usesOptionBands(a) { result = portfolioBands(a); return }  // portfolio accounts and option holders: Engine+Portfolio.swift
        // The record's fields read in place (a copy of the whole record retained and released each of its references).
        let positions = state.accounts[a].account.positions
        let policy = state.parameters.policy
        result.reserveCapacity(positions.count)
        for n in evaluation.pools.indices {  // the pools under the engine's keys (`poolKey`)
            guard let key = poolKey(a, evaluation, n), evaluation.pools[n].positionCount > 0 else { continue }
            let pool = evaluation.pools[n]
            let procedure = state.accounts[a].procedures[key] ?? .normal
            let equity = pool.equity, mm = pool.maintenanceMargin
            func below(_ k: FixedDecimal) -> BandThreshold? {  // k·equity − MM > 0
                guard let product = equity.multiplied(by: k, rounding: .halfEven), let slack = try? product.subtractingChecked(mm) else { return nil }
                return BandThreshold(staysBelow: true, ratio: k, slack: slack)
            }
            func atOrAbove(_ k: FixedDecimal) -> BandThreshold? {  // MM − k·equity > 0
                guard let product = equity.multiplied(by: k, rounding: .halfEven), let slack = try? mm.subtractingChecked(product) else { return nil }
                return BandThreshold(staysBelow: false, ratio: k, slack: slack)
            }
            var first: BandThreshold?, second: BandThreshold? = nil
            switch procedure {
            case .normal: first = below(policy.warningRatio)
            case .warning:
                first = below(policy.callRatio)
                second = atOrAbove(policy.warningRatio - state.parameters.hysteresis)
            case .called:
                first = below(.one)
                second = atOrAbove(policy.restoreRatio)
            case .liquidating: first = nil
            }
            var members = 0, boundaries = 0
            for position in positions where state.accounts[a].pool(of: position.instrument) == key {
                members += 1
                boundaries += state.market.instruments[position.instrument].brackets.brackets.count
            }
            // Rounding allowance in units of 10^-18, scaled by the largest ratio (≥ 1).
            let ratioScale = Int128(max(1, Int(truncatingIfNeeded: (FixedDecimal.maximum(first?.ratio ?? .one, second?.ratio ?? .one).raw
                                                                    / FixedDecimal.unitRaw) + 1)))
            let allowance = FixedDecimal(raw: (Int128(16 * members + 16) + Int128(4 * boundaries)) * ratioScale)
            let count = FixedDecimal(members)
            func share(_ threshold: BandThreshold?) -> FixedDecimal? {
                guard let threshold, let net = try? threshold.slack.subtractingChecked(allowance), net.isPositive,
                      let share = net.divided(by: count, rounding: .down), share.isPositive else { return nil }
                return share
            }
            let firstShare = share(first)
            let secondShare = second == nil ? nil : share(second)
            let closed = firstShare == nil || (second != nil && secondShare == nil)
            for (k, position) in positions.enumerated() where state.accounts[a].pool(of: position.instrument) == key {
                let i = position.instrument
                guard let mark = state.market.marks[i] else { continue }
                let instrument = state.market.instruments[i]
                guard !closed, let firstShare else {
                    result.append(PriceBand(instrument: i, low: mark, high: mark))
                    continue
                }
                if instrument.kind.settlement == .inverse {
                    result.append(inverseBand(i, mark: mark, position: position, instrument: instrument,
                                              share: FixedDecimal.minimum(firstShare, secondShare ?? firstShare)))
                    continue
                }
                var band = LinearBand(mark: mark, position: position, instrument: instrument, bracket: evaluation.positions[k].bracket,
                                      continuity: bracketContinuity.flags(i, instrument.brackets.brackets))
                band.limit(by: first!, share: firstShare)
                if let second, let secondShare { band.limit(by: second, share: secondShare) }
                result.append(PriceBand(instrument: i, low: band.low ?? .zero, high: band.high))
            }
        }
    }

    /// `bands(a, evaluation)` for callers holding the evaluation's pools under the engine's keys
    /// (`poolsByKey(record, evaluation)`: the same pools `bands` reads through `poolKey`).
    func bands(_ a: Int, _ evaluation: AccountEvaluation, _ pools: [(PoolKey, PoolEvaluation)]) -> [PriceBand] {
        bands(a, evaluation)
    }

    /// The conservative band of an inverse position: `share / (Q·(1 + mmr_max))` either way in
    /// `x = 1/price`, edges rounded inward.
    func inverseBand(_ i: Int, mark: FixedDecimal, position: Position, instrument: Instrument, share: FixedDecimal) -> PriceBand {
        let size = position.quantity.magnitude * instrument.contractSize
        let rateMax = instrument.brackets.brackets[instrument.brackets.brackets.count - 1].maintenanceMarginRate
        guard let slope = size.multiplied(by: FixedDecimal.one + rateMax, rounding: .up), slope.isPositive,
              let step = share.divided(by: slope, rounding: .down), step.isPositive,
              let x = FixedDecimal.one.divided(by: mark, rounding: .halfEven), let far = try? x.addingChecked(step) else {
            return PriceBand(instrument: i, low: mark, high: mark)
        }
        var low = FixedDecimal.one.divided(by: far, rounding: .up) ?? mark
        var high: FixedDecimal? = step < x ? FixedDecimal.one.divided(by: x - step, rounding: .down) : nil
        // The bound assumes MM continuous in the notional `Q/price`: stop at the first boundary
        // on either side where it jumps (a falling price raises the notional).
        let tiers = instrument.brackets.brackets
        let b = instrument.brackets.index(forNotional: size / mark)
        var j = b + 1
        while j < tiers.count {
            if !LinearBand.continuous(tiers[j - 1], tiers[j]) {
                // price > Q/(floor_j − 10^-18) keeps Q/price, and its rounding, below floor_j.
                let edge = size.divided(by: tiers[j].notionalFloor - .ulp, rounding: .up) ?? mark
                low = FixedDecimal.maximum(low, edge)
                break
            }
            j += 1
        }
        j = b
        while j > 0 {
            if !LinearBand.continuous(tiers[j - 1], tiers[j]) {
                // price < Q/floor_j keeps Q/price above floor_j.
                let edge = size.divided(by: tiers[j].notionalFloor, rounding: .down) ?? mark
                high = high.map { FixedDecimal.minimum($0, edge) } ?? edge
                break
            }
            j -= 1
        }
        return PriceBand(instrument: i, low: FixedDecimal.minimum(low, mark), high: high.map { FixedDecimal.maximum($0, mark) })
    }
}

/// The band of one linear position, narrowed threshold by threshold (`Engine.bands`).
struct LinearBand {
    let mark: FixedDecimal
    /// `Q = |q|·cs`, the same rounded product the evaluator uses.
    let size: FixedDecimal
    let side: FixedDecimal
    /// The rate of the position's bracket, the highest rate reachable moving up, the lowest moving down.
    let rate: FixedDecimal, rateUp: FixedDecimal, rateDown: FixedDecimal
    /// Re-evaluate at or below `low` (nil: never), at or above `high` (nil: never).
    var low: FixedDecimal?
    var high: FixedDecimal?

    /// `continuity`: the instrument's flags of `continuous` per boundary (`BracketContinuity`),
    /// when the caller holds them for this bracket table; nil computes each test.
    init(mark: FixedDecimal, position: Position, instrument: Instrument, bracket b: Int, continuity: [Bool]? = nil) {
        self.mark = mark
        size = position.quantity.magnitude * instrument.contractSize
        side = position.quantity.isNegative ? -.one : .one
        let tiers = instrument.brackets.brackets
        rate = tiers[b].maintenanceMarginRate
        var up = rate, down = rate
        var low: FixedDecimal? = nil, high: FixedDecimal? = nil
        // Moving up: boundaries b+1, b+2, … while MM stays continuous across them.
        var j = b + 1
        while j < tiers.count {
            guard continuity?[j] ?? Self.continuous(tiers[j - 1], tiers[j]) else {
                // Stop before the notional reaches floor_j: price < (floor_j − 10^-18)/Q keeps the rounded notional below it.
                high = (tiers[j].notionalFloor - .ulp).divided(by: size, rounding: .up) ?? mark
                break
            }
            up = tiers[j].maintenanceMarginRate
            j += 1
        }
        // Moving down: boundaries b, b−1, … (between tier j−1 and tier j).
        j = b
        while j > 0 {
            guard continuity?[j] ?? Self.continuous(tiers[j - 1], tiers[j]) else {
                // Stop before the notional falls below floor_j: price > floor_j/Q (rounded down) keeps it at or above.
                low = tiers[j].notionalFloor.divided(by: size, rounding: .down) ?? mark
                break
            }
            down = tiers[j - 1].maintenanceMarginRate
            j -= 1
        }
        rateUp = up
        rateDown = down
        self.low = low.map { FixedDecimal.minimum($0, mark) }
        self.high = high.map { FixedDecimal.maximum($0, mark) }
    }

    /// Whether MM is continuous (within 2·10^-18 of the rounded products) where `upper` starts.
    static func continuous(_ lower: MaintenanceBracket, _ upper: MaintenanceBracket) -> Bool {
        let floor = upper.notionalFloor
        guard let a = floor.multiplied(by: upper.maintenanceMarginRate, rounding: .halfEven),
              let b = floor.multiplied(by: lower.maintenanceMarginRate, rounding: .halfEven),
              let left = try? b.subtractingChecked(lower.maintenanceAmount),
              let right = try? a.subtractingChecked(upper.maintenanceAmount),
              let jump = try? right.subtractingChecked(left) else { return false }
        return jump.magnitude <= FixedDecimal(raw: 2)
    }

    /// Narrows the band so that the threshold's `c` falls by less than `share` inside it.
    ///
    /// Moving up by `d`: `ΔMM ∈ [Q·mmr_b·d, Q·rateUp·d]`, `Δequity = s·Q·d`; moving down:
    /// `ΔMM ∈ [−Q·mmr_b·d, −Q·rateDown·d]`, `Δequity = −s·Q·d`. With `c = σ·(MM − k·equity)`
    /// the worst slope is, for σ = +1, `Q·(mmr_b − k·s)` up and `Q·(k·s − mmr_b)` down; for
    /// σ = −1, `Q·(k·s − rateUp)` up and `Q·(rateDown − k·s)` down. A negative slope
    /// bounds that direction at `share / |slope|` (rounded down).
    mutating func limit(by threshold: BandThreshold, share: FixedDecimal) {
        let ks = threshold.ratio * side  // exact: side is ±1
        let upSlope = threshold.staysBelow ? ks - rateUp : rate - ks
        let downSlope = threshold.staysBelow ? rateDown - ks : ks - rate
        if upSlope.isNegative {
            if let step = Self.step(share, size, -upSlope) {
                if let edge = try? mark.addingChecked(step) { high = high.map { FixedDecimal.minimum($0, edge) } ?? edge }
            } else {
                high = mark
            }
        }
        if downSlope.isNegative {
            if let step = Self.step(share, size, -downSlope) {
                if let edge = try? mark.subtractingChecked(step) { low = low.map { FixedDecimal.maximum($0, edge) } ?? edge }
            } else {
                low = mark
            }
        }
    }

    /// `share / (Q·rate)` rounded down, `.max` when it is beyond the decimal range (no edge),
    /// nil when it is not positive (an edge at the mark).
    static func step(_ share: FixedDecimal, _ size: FixedDecimal, _ rate: FixedDecimal) -> FixedDecimal? {
        guard let slope = size.multiplied(by: rate, rounding: .up) else { return nil }
        guard slope.isPositive else { return .max }
        guard let step = share.divided(by: slope, rounding: .down) else { return .max }
        return step.isPositive ? step : nil
    }
}
