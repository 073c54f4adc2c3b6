public import SolventCore

/// Liquidation and bankruptcy prices of a linear position for ``ColumnarEvaluator``: the
/// algorithm of ``PositionMath/liquidationPrice(rest:side:size:entry:inverse:brackets:startBracket:)``
/// and ``PositionMath/bankruptcyPrice(rest:side:size:entry:inverse:)`` step for step (the
/// same bracket walk, the same exhaustive fallback, the same roundings), with two exact
/// shortcuts that change no result:
///
/// - `Q·entry` and `Q·mmr` by ``ScaledDecimal`` when exact (equal to the rounded products);
/// - the division `P = numerator / denominator` is skipped when the signs already say that
///   `P ≤ 0` (zero numerator, or numerator and denominator of opposite signs): the general
///   path divides and then discards the non-positive quotient, so both return nil;
/// - the same sign argument for the whole table at once (``noPrice(_:instrument:)``): when
///   every rate lies in `0 ..< 1`, every bracket's denominator `Q·rate − s·Q` has the sign of
///   `−s` (or is 0), so when `rest + amount − s·Q·EP` has the sign of `s` (or is 0) for the
///   smallest (long) or largest (short) maintenance amount, it does for every bracket: every
///   candidate is nil, and so is the walk's and the exhaustive search's result — one test
///   instead of the walk plus a solve per bracket;
/// - the bracket check's notional `Q·P` by ``ScaledDecimal/multiply(_:_:divisor:)`` (a
///   64×128-bit product divided by `10^(18−e_Q)`, equal to the rounded general product).
///
/// Inverse positions use PositionMath itself.
struct ColumnarPrices {
    let rest: FixedDecimal
    let side: Int
    let size: FixedDecimal
    let sizeScaled: ScaledDecimal?
    /// Raw `Q·entry` when exact, else ``ColumnarResults/absent``.
    let sizeTimesEntry: Int128
    let entry: FixedDecimal
    /// The position's instrument (its bracket table's summary columns in the book).
    let instrument: Int

    /// `Q·entry` rounded half-even (nil beyond the range), as PositionMath.solve computes it.
    @inline(__always)
    func value() -> FixedDecimal? {
        sizeTimesEntry != ColumnarResults.absent ? FixedDecimal(raw: sizeTimesEntry) : size.multiplied(by: entry, rounding: .halfEven)
    }

    /// `Q·rate` rounded half-even (nil beyond the range).
    @inline(__always)
    func margin(rate: FixedDecimal, scaled: ScaledDecimal?) -> FixedDecimal? {
        if let a = sizeScaled, let b = scaled, let product = ScaledDecimal.multiply(a, b) { return product }
        return size.multiplied(by: rate, rounding: .halfEven)
    }

    /// PositionMath.solve, linear: `P = (rest − s·Q·EP) / (Q·rate − s·Q)`, positive or nil.
    @inline(__always)
    func solve(rest: FixedDecimal, rate: FixedDecimal, scaled: ScaledDecimal?) -> FixedDecimal? {
        guard let value = value(),
              let numerator = try? rest.subtractingChecked(side < 0 ? -value : value) else { return nil }
        let denominator: FixedDecimal
        var small: ScaledDecimal? = nil
        if let a = sizeScaled, let b = scaled, let p = ScaledDecimal.product(a, b),
           let margin = ScaledDecimal.value(mantissa: p.mantissa, exponent: p.exponent) {
            guard let d = try? margin.subtractingChecked(side < 0 ? -size : size) else { return nil }
            denominator = d
            // The denominator's mantissa at the product's exponent: Q·rate − s·Q = (m_p − s·m_Q·10^(e_Q − e_p))·10^e_p.
            let sizeMantissa = Int128(a.mantissa) &* Int128(ScaledDecimal.powers[a.exponent - p.exponent])
            if let m = Int64(exactly: p.mantissa &- (side < 0 ? -sizeMantissa : sizeMantissa)), m != 0 {
                small = ScaledDecimal(mantissa: m, exponent: p.exponent)
            }
        } else {
            guard let margin = size.multiplied(by: rate, rounding: .halfEven),
                  let d = try? margin.subtractingChecked(side < 0 ? -size : size) else { return nil }
            denominator = d
        }
        guard !denominator.isZero else { return nil }
        // The quotient is ≤ 0 (so nil below) when the numerator is 0 or the signs differ.
        if numerator.isZero || numerator.isNegative != denominator.isNegative { return nil }
        let quotient = small.map { ScaledDecimal.divide(numerator, by: $0) } ?? numerator.divided(by: denominator, rounding: .halfEven)
        guard let price = quotient, price.isPositive else { return nil }
        return price
    }

    /// PositionMath.bankruptcyPrice, linear: ``solve(rest:rate:scaled:)`` at rate 0, whose
    /// denominator is `0 − s·Q` exactly, so with a short size the division is by
    /// `(−s·m_Q)·10^e_Q` directly and the sign test needs no denominator (the same steps).
    func bankruptcyPrice(restWithoutMaintenance rest: FixedDecimal) -> FixedDecimal? {
        if let q = sizeScaled, q.mantissa > 0, side == 1 || side == -1 {
            guard let value = value(), let numerator = try? rest.subtractingChecked(side < 0 ? -value : value) else { return nil }
            // The denominator −s·Q is negative for a long: a positive price needs a numerator of its sign.
            if numerator.isZero || numerator.isNegative != (side > 0) { return nil }
            let denominator = ScaledDecimal(mantissa: side < 0 ? q.mantissa : -q.mantissa, exponent: q.exponent)
            guard let price = ScaledDecimal.divide(numerator, by: denominator), price.isPositive else { return nil }
            return price
        }
        return solve(rest: rest, rate: .zero, scaled: ScaledDecimal(mantissa: 0, exponent: 18))
    }

    /// Whether every bracket's candidate of instrument `i` is nil by the signs alone (see the
    /// type's notes): rates in `0 ..< 1`, and `rest + amount − s·Q·EP` of the sign of `s` or 0
    /// at the amount that makes it smallest in magnitude toward `−s` (no overflow on the way;
    /// false whenever in doubt, and the walk decides).
    @inline(__always)
    func noPrice(_ book: ColumnarBook, instrument i: Int) -> Bool {
        guard book.ratesBelowOne[i], let value = value() else { return false }
        if side > 0 {
            // Long: denominators ≤ 0; every numerator ≥ 0 when rest + min(amount) ≥ Q·EP.
            guard let shifted = try? rest.addingChecked(book.minimumAmount[i]) else { return false }
            return shifted >= value
        }
        // Short: denominators > 0; every numerator ≤ 0 when rest + max(amount) + Q·EP ≤ 0.
        guard let shifted = try? rest.addingChecked(book.maximumAmount[i]),
              let numerator = try? shifted.addingChecked(value) else { return false }
        return !numerator.isPositive
    }

    /// PositionMath.liquidationPrice, linear, over the book's flat bracket columns
    /// `first ..< end` of the instrument, starting at the bracket `start` (book index).
    func liquidationPrice(_ book: ColumnarBook, first: Int, end: Int, start: Int) -> FixedDecimal? {
        precondition(side == 1 || side == -1, "side must be ±1")
        precondition(size.isPositive, "size must be positive")
        if noPrice(book, instrument: instrument) { return nil }
        let count = end - first
        func candidate(_ index: Int) -> FixedDecimal? {
            guard let shifted = try? rest.addingChecked(book.bracketAmount[first + index]) else { return nil }
            return solve(rest: shifted, rate: book.bracketRate[first + index], scaled: book.bracketRateScaled[first + index])
        }
        let divisor = sizeScaled.map { ScaledDecimal.powerDivisors[18 - $0.exponent] }
        func notional(_ price: FixedDecimal) -> FixedDecimal {
            if let s = sizeScaled, let divisor, let n = ScaledDecimal.multiply(s, price, divisor: divisor) { return n }
            return size.multiplied(by: price, rounding: .halfEven) ?? .max
        }
        return bracketSearch(count: count, start: start - first, candidate: candidate, notional: notional,
                             floor: { book.bracketFloor[first + $0] }, cap: { book.bracketCap[first + $0] })
    }
}
