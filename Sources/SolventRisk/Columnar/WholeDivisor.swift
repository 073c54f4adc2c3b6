public import SolventCore

/// Division of a decimal by a whole number `L` (1 ≤ L < 2^64: a leverage such as 20 or 125)
/// with a precomputed reciprocal: `x / L` rounded half-even, equal to
/// `x.divided(by: FixedDecimal(L), rounding: .halfEven)` for every `x` (WholeDivisorTests
/// prove it over the full range), with two multiplications per 64-bit limb instead of the
/// 256-by-128-bit long division.
///
/// Why it is the same number: `x / L` on 18-digit decimals is `round(x·10^18 / (L·10^18))`,
/// whose quotient is `⌊x / L⌋` and whose remainder is `(x mod L)·10^18`, so the rounding
/// decision `2·remainder ⋛ divisor` is the same as `2·(x mod L) ⋛ L`.
///
/// The division step is Möller & Granlund, "Improved division by invariant integers", IEEE
/// Trans. Computers 60(2), 2011, Algorithm 4 (GMP's `udiv_qrnnd_preinv`).
public struct WholeDivisor: Sendable, Hashable {
    /// `L`.
    public let whole: UInt64
    /// `L` shifted left until its top bit is set, and the shift.
    let normalized: UInt64
    let shift: UInt64
    /// `⌊(2^128 − 1) / normalized⌋ − 2^64`.
    let reciprocal: UInt64

    /// The divisor for `value` when it is a whole number in `1 ..< 2^64`, else nil.
    public init?(_ value: FixedDecimal) {
        guard value.isPositive, value.raw % FixedDecimal.unitRaw == 0 else { return nil }
        let whole = value.raw / FixedDecimal.unitRaw
        guard whole <= Int128(UInt64.max) else { return nil }
        self.init(whole: UInt64(whole))
    }

    /// The divisor `whole` (≥ 1).
    public init(whole: UInt64) {
        precondition(whole > 0, "a divisor is positive")
        self.whole = whole
        shift = UInt64(whole.leadingZeroBitCount)
        normalized = whole << shift
        reciprocal = normalized.dividingFullWidth((high: ~normalized, low: .max)).quotient
    }

    /// `(u1·2^64 + u0) / d` for `u1 < d` (Algorithm 4; `FixedDecimal.divide(_:_:byNormalized:reciprocal:)`).
    @inline(__always)
    static func step(_ u1: UInt64, _ u0: UInt64, _ d: UInt64, _ v: UInt64) -> (quotient: UInt64, remainder: UInt64) {
        FixedDecimal.divide(u1, u0, byNormalized: d, reciprocal: v)
    }

    /// `x / L` rounded half-even (never overflows: `|x / L| ≤ |x|`).
    @inline(__always)
    public func divide(_ x: FixedDecimal) -> FixedDecimal {
        let negative = x.raw < 0
        let n = x.raw.magnitude
        let n1 = UInt64(truncatingIfNeeded: n >> 64), n0 = UInt64(truncatingIfNeeded: n)
        // Masking shifts (s < 64 always): no out-of-range checks in the hot loop.
        let s = shift
        let u2 = s == 0 ? 0 : n1 &>> (64 &- s)
        let u1 = s == 0 ? n1 : (n1 &<< s) | (n0 &>> (64 &- s))
        let u0 = n0 &<< s
        let (q1, r1) = Self.step(u2, u1, normalized, reciprocal)
        let (q0, r0) = Self.step(r1, u0, normalized, reciprocal)
        let r = r0 &>> s
        var q = UInt128(q1) << 64 | UInt128(q0)
        // Half-even: up when r > L − r, or on the tie r == L − r when q is odd.
        let rest = whole - r
        if r > rest || (r == rest && q & 1 == 1) { q += 1 }
        let magnitude = Int128(truncatingIfNeeded: q)
        return FixedDecimal(raw: negative ? -magnitude : magnitude)
    }
}
