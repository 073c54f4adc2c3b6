public import SolventCore

extension ScaledDecimal {
    /// `5^e`'s inverse modulo 2^128 and `⌊(2^128 − 1) / 5^e⌋` for `e = 0 … 18` (index `e`).
    static let fiveInverses: [UInt128] = (0...18).map { e in
        var five: UInt128 = 1
        for _ in 0..<e { five &*= 5 }
        // Newton's iteration for the inverse of an odd number modulo 2^128: x ← x·(2 − a·x)
        // doubles the correct low bits; x = a is correct to 3 bits (a² ≡ 1 mod 8).
        var x = five
        for _ in 0..<6 { x = x &* (2 &- five &* x) }
        return x
    }
    static let fiveLimits: [UInt128] = (0...18).map { e in
        var five: UInt128 = 1
        for _ in 0..<e { five *= 5 }
        return UInt128.max / five
    }

    /// A short form `m·10^e` of any decimal (raw `= m·10^e`, `|m| < 2^63`), not necessarily
    /// with every trailing zero stripped, found without a division: the largest `e ≤ 18` with
    /// `10^e | raw`, tested from the binary trailing zeros down by the exact-division test for
    /// odd divisors (`x` is a multiple of `5^e` iff `x·(5^e)⁻¹ mod 2^128 ≤ ⌊(2^128−1)/5^e⌋`,
    /// and then that product is the quotient: Granlund & Montgomery, "Division by invariant
    /// integers using multiplication", PLDI 1994, §9). Nil when the mantissa exceeds 63 bits.
    /// For the columnar margin ratio `MM / equity` by ``divide(_:by:)`` (a 192/64-bit division)
    /// instead of the 256/128-bit one. ScaledShortFormTests prove it over the full range.
    @inlinable
    public static func shortForm(_ value: FixedDecimal) -> ScaledDecimal? {
        shortForm(raw: value.raw)
    }

    @usableFromInline
    static func shortForm(raw: Int128) -> ScaledDecimal? {
        let x = raw.magnitude
        if x == 0 { return ScaledDecimal(mantissa: 0, exponent: 18) }
        var e = Swift.min(x.trailingZeroBitCount, 18)
        while e > 0 {
            let q = (x &>> e) &* fiveInverses[e]
            if q <= fiveLimits[e] {
                guard q <= UInt128(Int64.max) else { return nil }
                return ScaledDecimal(mantissa: raw < 0 ? -Int64(q) : Int64(q), exponent: e)
            }
            e -= 1
        }
        guard x <= UInt128(Int64.max) else { return nil }
        return ScaledDecimal(mantissa: raw < 0 ? -Int64(x) : Int64(x), exponent: 0)
    }
}
