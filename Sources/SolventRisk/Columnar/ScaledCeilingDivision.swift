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
        precondition(d.mantissa != 0, "division by zero")
        let negative = (n.raw < 0) != (d.mantissa < 0)
        let m = d.mantissa.magnitude
        let scale = powers[18 - d.exponent]
        let x = n.raw.magnitude
        let p0 = UInt64(truncatingIfNeeded: x).multipliedFullWidth(by: scale)
        let p1 = UInt64(truncatingIfNeeded: x >> 64).multipliedFullWidth(by: scale)
        let (limb1, carry) = p0.high.addingReportingOverflow(p1.low)
        let limb2 = p1.high &+ (carry ? 1 : 0)
        guard limb2 < m else { return nil }  // the quotient needs more than 128 bits
        let (q1, r1) = m.dividingFullWidth((high: limb2, low: limb1))
        let (q0, r) = m.dividingFullWidth((high: r1, low: p0.low))
        var q = UInt128(q1) << 64 | UInt128(q0)
        if !negative, r != 0 {
            guard q != .max else { return nil }
            q += 1
        }
        guard q <= UInt128(Int128.max) else { return nil }
        return FixedDecimal(raw: negative ? -Int128(q) : Int128(q))
    }
}
