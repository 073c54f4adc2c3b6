import SolventCore

/// The liquidation price's search over a bracket table, shared by the one-position path
/// (`PositionMath.liquidationPrice`) and the columnar rescan's (`ColumnarPrices`,
/// `ColumnarLinearPrices`), which differ only in how they solve a bracket and read its bounds.
///
/// Each bracket `i` has its own solution `candidate(i)` (the price at which the pool's equity
/// meets the maintenance margin of bracket `i`, docs/evaluate.md); the liquidation price is the
/// solution that lies in its own bracket by `notional(price)`, floors inclusive and caps
/// exclusive, the last bracket unbounded above.
/// - A fast walk from `start` toward the solution (one or two solves usually), stopped when the
///   direction turns back.
/// - Otherwise every bracket's solution, the highest bracket that holds its own solution first
///   (hand-set maintenance amounts can allow several); when none does, the nearest within 10^-15
///   of its bracket (rounding can put an exact boundary solution one unit outside both).
/// Nil when no bracket's solution qualifies. `count ≥ 1`, `start` in `0..<count`.
@inline(__always)
func bracketSearch(count: Int, start: Int, candidate: (Int) -> FixedDecimal?, notional: (FixedDecimal) -> FixedDecimal,
                   floor: (Int) -> FixedDecimal, cap: (Int) -> FixedDecimal) -> FixedDecimal? {
    var index = start
    var lastDirection = 0
    for _ in 0..<count {
        guard let price = candidate(index) else { break }
        var direction = 0
        let n = notional(price)
        if n < floor(index), index > 0 { direction = -1 }
        else if index < count - 1, n >= cap(index) { direction = 1 }
        if direction == 0 { return price }
        if lastDirection != 0, direction != lastDirection { break }
        lastDirection = direction
        index += direction
    }
    var nearest: (price: FixedDecimal, distance: FixedDecimal)? = nil
    for index in stride(from: count - 1, through: 0, by: -1) {
        guard let price = candidate(index) else { continue }
        let n = notional(price)
        let low = floor(index), high = cap(index)
        if n >= low && (index == count - 1 || n < high) { return price }
        let distance = n < low ? low - n : n - high
        if nearest == nil || distance < nearest!.distance { nearest = (price, distance) }
    }
    if let nearest, nearest.distance <= FixedDecimal(raw: 1_000) { return nearest.price }
    return nil
}
