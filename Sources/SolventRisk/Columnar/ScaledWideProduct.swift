public import SolventCore

extension ScaledDecimal {
    /// `10^k` as a ``WholeDivisor`` for `k = 0 … 18` (index `k`).
    public static let powerDivisors: [WholeDivisor] = powers.map { WholeDivisor(whole: $0) }

    /// `a · x` rounded half-even, equal to `a`'s value `.multiplied(by: x, rounding: .halfEven)`
    /// for every `x`, or nil when this short path does not apply (the caller then uses
    /// FixedDecimal's product; nil never means "beyond the range" here).
    ///
    /// Why it is the same number: with `a = m·10^e` (raw), the general product is
    /// `round(m·10^e·x / 10^18) = round(m·x / 10^(18−e))`: one 64×128-bit multiplication and,
    /// when `|m·x| < 2^127`, one division of a 128-bit magnitude by `10^(18−e)` with a
    /// precomputed reciprocal (``WholeDivisor``, half-even like the general path), instead of
    /// the 256-bit product and its rescale by `10^18`. `divisor` must be
    /// `powerDivisors[18 − a.exponent]` (passed in so that a loop reads the table once).
    /// ScaledWideProductTests prove the equality over the full range of `x`.
    @inlinable @inline(__always)
    public static func multiply(_ a: ScaledDecimal, _ x: FixedDecimal, divisor: WholeDivisor) -> FixedDecimal? {
        let negative = (a.mantissa < 0) != (x.raw < 0)
        let m = a.mantissa.magnitude
        let v = x.raw.magnitude
        let low = m.multipliedFullWidth(by: UInt64(truncatingIfNeeded: v))
        let high = m.multipliedFullWidth(by: UInt64(truncatingIfNeeded: v >> 64))
        let (middle, carry) = low.high.addingReportingOverflow(high.low)
        // The product must stay below 2^127 (a positive Int128): no third limb, no carry, top bit clear.
        guard high.high == 0, !carry, middle >> 63 == 0 else { return nil }
        let product = Int128(middle) << 64 | Int128(low.low)
        let magnitude = divisor.divide(FixedDecimal(raw: product))
        return negative ? FixedDecimal(raw: -magnitude.raw) : magnitude
    }
}
