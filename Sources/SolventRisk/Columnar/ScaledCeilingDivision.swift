public import SolventCore

extension ScaledDecimal {
    /// `n / d` rounded toward +∞, equal to `n.divided(by: d's value, rounding: .up)` (nil when
    /// the quotient is beyond the range; `d` must not be zero): the 192/64-bit division of
    /// ``divide(_:by:)`` (`n·10^18 / (m·10^e) = n·10^(18−e) / m`), then one up when the result
    /// is positive and the remainder is not zero (a negative quotient toward +∞ is its
    /// truncation). For the columnar call amount `MM / restore ratio` (the margin call's demand,
    /// rounded up: paying it always cures). ScaledCeilingDivisionTests prove it over the full range.
    @inlinable
    public static func divideUp(_ n: FixedDecimal, by d: ScaledDecimal) -> FixedDecimal? {
        guard let (quotient, r, _, negative) = truncatedQuotient(n, by: d) else { return nil }
        var q = quotient
        if !negative, r != 0 {
            guard q != .max else { return nil }
            q += 1
        }
        guard q <= UInt128(Int128.max) else { return nil }
        return FixedDecimal(raw: negative ? -Int128(q) : Int128(q))
    }
}
