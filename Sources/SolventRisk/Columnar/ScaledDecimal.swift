public import SolventCore

/// A decimal as a 64-bit mantissa times a power of ten: `raw = mantissa · 10^exponent`
/// (`0 ≤ exponent ≤ 18`, trailing zeros stripped), for exact products without the 256-bit
/// rescale.
///
/// Why it is the same number: FixedDecimal's product is `round(a.raw·b.raw / 10^18)`. When
/// `a.raw = m_a·10^e_a`, `b.raw = m_b·10^e_b` and `e_a + e_b ≥ 18`, the division is exact
/// (remainder 0), so the rounded product is `m_a·m_b·10^(e_a+e_b−18)` under every rounding
/// rule — two 64-bit multiplications. Prices and quantities with a few decimals (every
/// exchange's tick and lot sizes) take this path; anything else (more digits, a mantissa
/// beyond 64 bits, a result beyond the range) returns nil and the caller uses FixedDecimal's
/// own product. ScaledDecimalTests prove the equality over random and edge values.
public struct ScaledDecimal: Sendable, Hashable {
    public var mantissa: Int64
    public var exponent: Int

    /// Powers of ten 10^0 … 10^18.
    @usableFromInline static let powers: [UInt64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
    ]

    /// `value` with its trailing zeros (at most 18) stripped, or nil when the mantissa does not fit 64 bits.
    public init?(_ value: FixedDecimal) {
        var m = value.raw, e = 0
        if m == 0 { self.init(mantissa: 0, exponent: 18); return }
        while e < 18, m % 10 == 0 { m /= 10; e += 1 }
        guard let small = Int64(exactly: m) else { return nil }
        self.init(mantissa: small, exponent: e)
    }

    @inlinable public init(mantissa: Int64, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// `m · 10^e` as a decimal, nil when beyond the range or `e` outside 0…18.
    @inlinable @inline(__always)
    public static func value(mantissa m: Int128, exponent e: Int) -> FixedDecimal? {
        guard e >= 0, e <= 18, let small = UInt64(exactly: m.magnitude) else { return nil }
        let product = small.multipliedFullWidth(by: powers[e])
        guard product.high >> 63 == 0 else { return nil }
        let magnitude = Int128(product.high) << 64 | Int128(product.low)
        return FixedDecimal(raw: m < 0 ? -magnitude : magnitude)
    }

    /// The exact product's mantissa and exponent (`raw = mantissa · 10^exponent`), or nil when
    /// it needs rounding (`e_a + e_b < 18`).
    @inlinable @inline(__always)
    public static func product(_ a: ScaledDecimal, _ b: ScaledDecimal) -> (mantissa: Int128, exponent: Int)? {
        let e = a.exponent + b.exponent - 18
        guard e >= 0 else { return nil }
        let p = a.mantissa.multipliedFullWidth(by: b.mantissa)
        return (Int128(p.high) << 64 | Int128(p.low), e)
    }

    /// `|n·10^18 / d|` truncated, with its remainder: with `d = m·10^e`, `n·10^(18−e) / m` by
    /// one 192-by-64-bit division (the 128-bit magnitude times `10^(18−e)` in three limbs, then two
    /// 128/64 steps). Returns the quotient's magnitude `q`, the remainder `r < m`, `m = |d's
    /// mantissa|` and the quotient's sign; nil when the quotient needs more than 128 bits. The
    /// rounding steps of ``divide(_:by:)`` and ``divideUp(_:by:)`` start from it. `d` ≠ 0.
    @inlinable @inline(__always)
    static func truncatedQuotient(_ n: FixedDecimal, by d: ScaledDecimal) -> (q: UInt128, r: UInt64, m: UInt64, negative: Bool)? {
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
        let q = UInt128(q1) << 64 | UInt128(q0)
        return (q, r, m, negative)
    }

    /// `n / d` rounded half-even, equal to `n.divided(by: d's value, rounding: .halfEven)`
    /// (nil when the quotient is beyond the range; `d` must not be zero): with
    /// `d = m·10^e`, `n·10^18 / d = n·10^(18−e) / m`, one 192-by-64-bit division, whose
    /// remainder `r` decides the rounding as the general path's `r·10^e` against `m·10^e` does.
    @inlinable
    public static func divide(_ n: FixedDecimal, by d: ScaledDecimal) -> FixedDecimal? {
        guard let (quotient, r, m, negative) = truncatedQuotient(n, by: d) else { return nil }
        var q = quotient
        let rest = m - r
        if r > rest || (r == rest && q & 1 == 1) {
            guard q != .max else { return nil }
            q += 1
        }
        guard q <= UInt128(Int128.max) else { return nil }
        return FixedDecimal(raw: negative ? -Int128(q) : Int128(q))
    }

    /// `a · b` exactly (equal to `a * b` of FixedDecimal), or nil when that needs rounding or
    /// leaves the fast range.
    @inlinable @inline(__always)
    public static func multiply(_ a: ScaledDecimal, _ b: ScaledDecimal) -> FixedDecimal? {
        guard let p = product(a, b) else { return nil }
        return value(mantissa: p.mantissa, exponent: p.exponent)
    }
}
