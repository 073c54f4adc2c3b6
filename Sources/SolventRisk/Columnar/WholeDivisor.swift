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
/// The quotient `⌊|x| / L⌋` is one multiply-high by a precomputed 128-bit magic number:
/// with `ℓ = ⌈log2 L⌉` and `m = ⌊2^(127+ℓ) / L⌋ + 1` (< 2^128), `⌊|x|·m / 2^(127+ℓ)⌋ = ⌊|x| / L⌋`
/// for every `|x| < 2^127` (Granlund & Montgomery, "Division by invariant integers using
/// multiplication", PLDI 1994, Theorem 4.2 with N = 127: `2^(N+ℓ) ≤ m·L ≤ 2^(N+ℓ) + 2^ℓ`):
/// four independent 64×64-bit products instead of a chain of dependent ones, and the remainder
/// `|x| − q·L` (< L < 2^64) from the low limbs alone. The one magnitude outside (`2^127`, of
/// `Int128.min`, no decimal value) takes the Möller–Granlund division ("Improved division by
/// invariant integers", IEEE Trans. Computers 60(2), 2011, Algorithm 4; GMP's `udiv_qrnnd_preinv`).
public struct WholeDivisor: Sendable, Hashable {
    /// `L`.
    public let whole: UInt64
    /// `m = ⌊2^(127+ℓ) / L⌋ + 1` and `ℓ = ⌈log2 L⌉`.
    let magic: UInt128
    let magicShift: UInt64

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
        let l = whole == 1 ? 0 : 64 - (whole - 1).leadingZeroBitCount  // ⌈log2 L⌉
        magicShift = UInt64(l)
        if l == 0 {
            magic = UInt128(1) << 127 + 1
        } else {
            // 2^(127+ℓ) = 2^(ℓ−1)·2^128, and 2^(ℓ−1) < L: a 128-bit quotient by two 128/64 divisions.
            let (q1, r1) = whole.dividingFullWidth((high: UInt64(1) << (l - 1), low: 0))
            let (q0, _) = whole.dividingFullWidth((high: r1, low: 0))
            magic = (UInt128(q1) << 64 | UInt128(q0)) + 1
        }
    }

    /// `⌊x / L⌋` and `x mod L` by the Möller–Granlund steps, for the magnitude `2^127` (cold).
    @inline(never)
    func longDivision(_ n: UInt128) -> (quotient: UInt128, remainder: UInt64) {
        let s = UInt64(whole.leadingZeroBitCount), d = whole << s
        let v = d.dividingFullWidth((high: ~d, low: .max)).quotient
        let n1 = UInt64(truncatingIfNeeded: n >> 64), n0 = UInt64(truncatingIfNeeded: n)
        let u2 = s == 0 ? 0 : n1 &>> (64 &- s)
        let u1 = s == 0 ? n1 : (n1 &<< s) | (n0 &>> (64 &- s))
        let (q1, r1) = FixedDecimal.divide(u2, u1, byNormalized: d, reciprocal: v)
        let (q0, r0) = FixedDecimal.divide(r1, n0 &<< s, byNormalized: d, reciprocal: v)
        return (UInt128(q1) << 64 | UInt128(q0), r0 &>> s)
    }

    /// `x / L` rounded half-even (never overflows: `|x / L| ≤ |x|`).
    @inline(__always)
    public func divide(_ x: FixedDecimal) -> FixedDecimal {
        let negative = x.raw < 0
        let n = x.raw.magnitude
        var q: UInt128, r: UInt64
        if n >> 127 == 0 {
            // The high 128 bits of n·m (a 255-bit product), then q = (n·m) >> (127 + ℓ).
            let n0 = UInt64(truncatingIfNeeded: n), n1 = UInt64(truncatingIfNeeded: n &>> 64)
            let m0 = UInt64(truncatingIfNeeded: magic), m1 = UInt64(truncatingIfNeeded: magic &>> 64)
            // 64×64→128-bit products as UInt128 multiplications of zero-extended limbs (one `mul`
            // each; the standard library's multipliedFullWidth is not always inlined here).
            let p00 = UInt128(n0) &* UInt128(m0), p01 = UInt128(n0) &* UInt128(m1)
            let p10 = UInt128(n1) &* UInt128(m0), p11 = UInt128(n1) &* UInt128(m1)
            let middle = (p00 &>> 64) &+ (p01 & UInt128(UInt64.max)) &+ (p10 & UInt128(UInt64.max))
            let high = p11 &+ (p01 &>> 64) &+ (p10 &>> 64) &+ (middle &>> 64)
            q = ((high &<< 1) | (middle &>> 63 & 1)) &>> magicShift
            r = n0 &- UInt64(truncatingIfNeeded: q) &* whole  // |x| − q·L < L < 2^64: its low limb
        } else {
            (q, r) = longDivision(n)
        }
        // Half-even: up when r > L − r, or on the tie r == L − r when q is odd.
        let rest = whole - r
        if r > rest || (r == rest && q & 1 == 1) { q += 1 }
        let magnitude = Int128(truncatingIfNeeded: q)
        return FixedDecimal(raw: negative ? -magnitude : magnitude)
    }
}
