public import SolventCore
public import SolventRisk

extension Engine {
    /// Conservative price bands for every instrument the account holds: while every
    /// mark stays strictly inside its band, no pool can cross the next threshold of its
    /// procedure in either direction.
    ///
    /// For a pool at threshold ratio `k`, `h = k·equity − MM` must keep its sign. Each
    /// position moves `h` by at most `Q·(1 + mmr_max)` per unit of price (linear) or of
    /// `1/price` (inverse), so giving each of the pool's `n` instruments `slack / n`
    /// bounds the joint move of all marks.
    func bands(_ a: Int, _ evaluation: AccountEvaluation, _ pools: [(PoolKey, PoolEvaluation)]) -> [PriceBand] {
        if usesOptionBands(a) { return portfolioBands(a) }  // portfolio accounts and option holders: Engine+Portfolio.swift
        let record = state.accounts[a]
        let policy = state.parameters.policy
        var result: [PriceBand] = []
        result.reserveCapacity(record.account.positions.count)
        for (key, pool) in pools where pool.positionCount > 0 {
            let procedure = record.procedures[key] ?? .normal
            var slack: FixedDecimal
            let equity = pool.equity, mm = pool.maintenanceMargin
            switch procedure {
            case .normal: slack = equity * policy.warningRatio - mm
            case .warning:
                slack = FixedDecimal.minimum(equity * policy.callRatio - mm, mm - equity * (policy.warningRatio - state.parameters.hysteresis))
            case .called: slack = FixedDecimal.minimum(equity - mm, mm - equity * policy.restoreRatio)
            case .liquidating: slack = .zero
            }
            // The pool's positions, counted then visited in place (no filtered copy per pool).
            var members = 0
            for position in record.account.positions where record.pool(of: position.instrument) == key { members += 1 }
            let count = FixedDecimal(members)
            for position in record.account.positions where record.pool(of: position.instrument) == key {
                let i = position.instrument
                guard let mark = state.market.marks[i] else { continue }
                let instrument = state.market.instruments[i]
                guard slack.isPositive else {
                    result.append(PriceBand(instrument: i, low: mark, high: mark))
                    continue
                }
                let size = position.quantity.magnitude * instrument.contractSize
                let rateMax = instrument.brackets.brackets[instrument.brackets.brackets.count - 1].maintenanceMarginRate
                let slope = size * (FixedDecimal.one + rateMax)
                guard let share = slack.divided(by: count, rounding: .down),
                      let step = share.divided(by: slope, rounding: .down), step.isPositive else {
                    result.append(PriceBand(instrument: i, low: mark, high: mark))
                    continue
                }
                if instrument.isInverse {
                    let x = FixedDecimal.one.divided(by: mark, rounding: .halfEven)!
                    let low = FixedDecimal.one.divided(by: x + step, rounding: .up) ?? mark
                    let high: FixedDecimal? = step < x ? FixedDecimal.one.divided(by: x - step, rounding: .down) : nil
                    result.append(PriceBand(instrument: i, low: FixedDecimal.minimum(low, mark), high: high.map { FixedDecimal.maximum($0, mark) }))
                } else {
                    result.append(PriceBand(instrument: i, low: mark - step, high: mark + step))
                }
            }
        }
        return result
    }
}
