/// An exact fixed-point decimal number: `raw / 10^18`, stored in an `Int128`.
///
/// Money, prices, quantities and ratios in Solvent are all `FixedDecimal`. There are
/// exactly 18 fractional digits, so a price like `0.00000001` and a ratio like
/// `0.0000123` are exact. The range is symmetric, ±(2^127 − 1)·10^-18 (about ±1.7 × 10^20):
/// `Int128.min` is not a value (so `magnitude` and negation are total); the parser, the checked
/// operations and the rounding helpers never produce it.
///
/// - Addition and subtraction are exact and trap on overflow.
/// - Multiplication and division are computed on a 256-bit intermediate and rounded
///   once to 18 fractional digits with **round half to even** (banker's rounding).
/// - The operators trap on overflow (a programmer error: values from user input are
///   range-checked first, or go through the `throws` variants such as
///   ``multipliedChecked(by:)``, which report ``DecimalError/overflow``).
public struct FixedDecimal: Sendable, Hashable, Comparable {
    /// Number of fractional digits.
    public static let scale = 18
    /// `10^scale` as a raw value: the raw representation of `1`.
    public static let unitRaw: Int128 = 1_000_000_000_000_000_000

    /// The scaled integer: the value times `10^18`.
    public var raw: Int128

    /// Makes a decimal from its scaled integer (`raw / 10^18`).
    @inlinable public init(raw: Int128) { self.raw = raw }

    /// Makes a decimal from an integer; traps if it is out of range.
    @inlinable public init(_ integer: Int) { self.raw = Int128(integer) * Self.unitRaw }

    public static let zero = FixedDecimal(raw: 0)
    public static let one = FixedDecimal(raw: unitRaw)
    /// The smallest positive value, `10^-18`.
    public static let ulp = FixedDecimal(raw: 1)
    public static let max = FixedDecimal(raw: .max)
    public static let min = FixedDecimal(raw: -Int128.max)

    @inlinable public var isZero: Bool { raw == 0 }
    @inlinable public var isNegative: Bool { raw < 0 }
    @inlinable public var isPositive: Bool { raw > 0 }
    /// `-1`, `0` or `1`.
    @inlinable public var signum: Int { raw == 0 ? 0 : (raw < 0 ? -1 : 1) }
    @inlinable public var magnitude: FixedDecimal { FixedDecimal(raw: raw < 0 ? -raw : raw) }

    @inlinable public static func < (a: FixedDecimal, b: FixedDecimal) -> Bool { a.raw < b.raw }
    @inlinable public static func + (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal { FixedDecimal(raw: a.raw + b.raw) }
    @inlinable public static func - (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal { FixedDecimal(raw: a.raw - b.raw) }
    @inlinable public static prefix func - (a: FixedDecimal) -> FixedDecimal { FixedDecimal(raw: -a.raw) }
    @inlinable public static func += (a: inout FixedDecimal, b: FixedDecimal) { a.raw += b.raw }
    @inlinable public static func -= (a: inout FixedDecimal, b: FixedDecimal) { a.raw -= b.raw }

    /// Product rounded half-even to 18 digits; traps on overflow.
    @inlinable public static func * (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal {
        guard let product = a.multiplied(by: b, rounding: .halfEven) else {
            preconditionFailure("FixedDecimal overflow in \(a) * \(b)")
        }
        return product
    }

    /// Quotient rounded half-even to 18 digits; traps on overflow or division by zero.
    @inlinable public static func / (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal {
        precondition(!b.isZero, "FixedDecimal division by zero")
        guard let quotient = a.divided(by: b, rounding: .halfEven) else {
            preconditionFailure("FixedDecimal overflow in \(a) / \(b)")
        }
        return quotient
    }

    @inlinable public static func *= (a: inout FixedDecimal, b: FixedDecimal) { a = a * b }

    /// The larger of two values.
    @inlinable public static func maximum(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal { a < b ? b : a }
    /// The smaller of two values.
    @inlinable public static func minimum(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal { a < b ? a : b }
}

/// How an inexact result is brought to 18 fractional digits.
public enum RoundingRule: Sendable, Hashable {
    /// Nearest; ties to the even last digit (the default everywhere).
    case halfEven
    /// Toward zero.
    case towardZero
    /// Away from zero.
    case awayFromZero
    /// Toward negative infinity.
    case down
    /// Toward positive infinity.
    case up
}

/// Errors from decimal arithmetic on user-supplied values.
public enum DecimalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The result does not fit in the representable range (±1.7 × 10^20).
    case overflow
    /// A division by zero.
    case divisionByZero

    public var description: String {
        switch self {
        case .overflow: return "arithmetic overflow (beyond ±1.7e20)"
        case .divisionByZero: return "division by zero"
        }
    }
}

extension FixedDecimal {
    /// Sum; throws ``DecimalError/overflow`` instead of trapping.
    @inlinable public func addingChecked(_ other: FixedDecimal) throws(DecimalError) -> FixedDecimal {
        let (sum, overflow) = raw.addingReportingOverflow(other.raw)
        if overflow || sum == .min { throw .overflow }
        return FixedDecimal(raw: sum)
    }

    /// Difference; throws ``DecimalError/overflow`` instead of trapping.
    @inlinable public func subtractingChecked(_ other: FixedDecimal) throws(DecimalError) -> FixedDecimal {
        let (difference, overflow) = raw.subtractingReportingOverflow(other.raw)
        if overflow || difference == .min { throw .overflow }
        return FixedDecimal(raw: difference)
    }

    /// Product (half-even); throws ``DecimalError/overflow`` instead of trapping.
    @inlinable public func multipliedChecked(by other: FixedDecimal) throws(DecimalError) -> FixedDecimal {
        guard let product = multiplied(by: other, rounding: .halfEven) else { throw .overflow }
        return product
    }

    /// Quotient (half-even); throws instead of trapping.
    @inlinable public func dividedChecked(by other: FixedDecimal) throws(DecimalError) -> FixedDecimal {
        if other.isZero { throw .divisionByZero }
        guard let quotient = divided(by: other, rounding: .halfEven) else { throw .overflow }
        return quotient
    }

    /// Product rounded by `rule`, or `nil` when it does not fit.
    public func multiplied(by other: FixedDecimal, rounding rule: RoundingRule) -> FixedDecimal? {
        // A factor of exactly 1 (a haircut of 0, a contract size of 1): the product is the other
        // value, exact, as the 256-bit path gives it (which refuses only the magnitude 2^127).
        if other.raw == Self.unitRaw, raw != .min { return self }
        if raw == Self.unitRaw, other.raw != .min { return other }
        let negative = (raw < 0) != (other.raw < 0)
        let product = UInt256.multiply(raw.magnitude, other.raw.magnitude)
        let (quotient, remainder) = product.dividedByScale()
        guard let q = quotient else { return nil }
        let rounded = Self.round(quotient: q, remainder: remainder, divisor: UInt128(Self.unitRaw), negative: negative, rule: rule)
        return Self.signed(rounded, negative: negative)
    }

    /// Quotient rounded by `rule`, or `nil` when it does not fit (or `other` is zero).
    public func divided(by other: FixedDecimal, rounding rule: RoundingRule) -> FixedDecimal? {
        if other.isZero { return nil }
        let negative = (raw < 0) != (other.raw < 0)
        let divisor = other.raw.magnitude
        // A whole divisor `L` (a leverage, a count): `x·10^18 / (L·10^18)` is `x / L`, the
        // remainder scaled by 10^18 on both sides of every rounding comparison, so one 128-bit
        // division gives the same rounded quotient (never out of range: |x/L| ≤ |x|).
        // FixedDecimalWholeDivisionTests compares it with the 256-bit path.
        if divisor & 0x3FFFF == 0 {  // 10^18 = 2^18·5^18: any other divisor skips the remainder test
            let (whole, fraction) = divisor.quotientAndRemainder(dividingBy: UInt128(Self.unitRaw))
            if fraction == 0 {
                let (q, r) = raw.magnitude.quotientAndRemainder(dividingBy: whole)
                return Self.signed(Self.round(quotient: q, remainder: r, divisor: whole, negative: negative, rule: rule), negative: negative)
            }
        }
        let numerator = UInt256.multiply(raw.magnitude, UInt128(Self.unitRaw))
        guard numerator.high < divisor else { return nil }
        let (q, r) = numerator.divided(by: divisor)
        let rounded = Self.round(quotient: q, remainder: r, divisor: divisor, negative: negative, rule: rule)
        return Self.signed(rounded, negative: negative)
    }

    /// `self · factor / divisor` rounded once by `rule`, on a 256-bit intermediate (the product
    /// never overflows), or `nil` when the quotient does not fit (or `divisor` is zero).
    public func multiplied(by factor: FixedDecimal, dividedBy divisor: FixedDecimal, rounding rule: RoundingRule) -> FixedDecimal? {
        if divisor.isZero { return nil }
        let negative = ((raw < 0) != (factor.raw < 0)) != (divisor.raw < 0)
        let product = UInt256.multiply(raw.magnitude, factor.raw.magnitude)
        let d = divisor.raw.magnitude
        guard product.high < d else { return nil }
        let (q, r) = product.divided(by: d)
        let rounded = Self.round(quotient: q, remainder: r, divisor: d, negative: negative, rule: rule)
        return Self.signed(rounded, negative: negative)
    }

    /// This value rounded to `digits` fractional digits (0...18) by `rule`. Total: where rounding
    /// away from zero would leave the range (within one step of ±max), it rounds toward zero.
    public func rounded(toDigits digits: Int, rule: RoundingRule = .halfEven) -> FixedDecimal {
        precondition((0...Self.scale).contains(digits), "digits must be in 0...18")
        if digits == Self.scale { return self }
        var step: UInt128 = 1
        for _ in 0..<(Self.scale - digits) { step *= 10 }
        let negative = raw < 0
        let magnitude = raw.magnitude
        let (q, r) = magnitude.quotientAndRemainder(dividingBy: step)
        guard let rounded = Self.round(quotient: q, remainder: r, divisor: step, negative: negative, rule: rule),
              case let (product, overflow) = rounded.multipliedReportingOverflow(by: step), !overflow,
              let result = Self.signed(product, negative: negative) else {
            return Self.signed(q * step, negative: negative) ?? self
        }
        return result
    }

    @usableFromInline
    static func round(quotient q: UInt128, remainder r: UInt128, divisor: UInt128, negative: Bool, rule: RoundingRule) -> UInt128? {
        if r == 0 { return q }
        let up: Bool
        switch rule {
        case .towardZero: up = false
        case .awayFromZero: up = true
        case .down: up = negative
        case .up: up = !negative
        case .halfEven:
            let twice = r.multipliedReportingOverflow(by: 2)
            if twice.overflow || twice.partialValue > divisor { up = true }
            else if twice.partialValue < divisor { up = false }
            else { up = q & 1 == 1 }
        }
        if !up { return q }
        let (next, overflow) = q.addingReportingOverflow(1)
        return overflow ? nil : next
    }

    @usableFromInline
    static func signed(_ magnitude: UInt128?, negative: Bool) -> FixedDecimal? {
        guard let magnitude else { return nil }
        if negative {
            guard magnitude <= UInt128(Int128.max) else { return nil }
            return FixedDecimal(raw: -Int128(magnitude))
        }
        guard magnitude <= UInt128(Int128.max) else { return nil }
        return FixedDecimal(raw: Int128(magnitude))
    }
}

extension FixedDecimal {
    /// `(u1·2^64 + u0) / d` for `u1 < d` and a normalized `d` (top bit set) with its reciprocal
    /// `v = ⌊(2^128 − 1)/d⌋ − 2^64`: Möller & Granlund's Algorithm 4 (`UInt256.divide`), shared
    /// with SolventRisk's columnar divisions by a whole number (`WholeDivisor`).
    @inlinable @inline(__always)
    public static func divide(_ u1: UInt64, _ u0: UInt64, byNormalized d: UInt64, reciprocal v: UInt64) -> (quotient: UInt64, remainder: UInt64) {
        UInt256.divide(u1, u0, byNormalized: d, reciprocal: v)
    }
}

/// A 256-bit unsigned intermediate for exact products.
@usableFromInline
struct UInt256 {
    @usableFromInline var high: UInt128
    @usableFromInline var low: UInt128

    /// The full 256-bit product, from four 64×64→128 hardware multiplies (the standard
    /// library's generic `UInt128.multipliedFullWidth` is several times slower).
    @usableFromInline @inline(__always)
    static func multiply(_ a: UInt128, _ b: UInt128) -> UInt256 {
        let a0 = UInt64(truncatingIfNeeded: a), a1 = UInt64(truncatingIfNeeded: a >> 64)
        let b0 = UInt64(truncatingIfNeeded: b), b1 = UInt64(truncatingIfNeeded: b >> 64)
        let p00 = a0.multipliedFullWidth(by: b0)
        if a1 == 0 && b1 == 0 {
            return UInt256(high: 0, low: UInt128(p00.high) << 64 | UInt128(p00.low))
        }
        let p01 = a0.multipliedFullWidth(by: b1)
        let p10 = a1.multipliedFullWidth(by: b0)
        let p11 = a1.multipliedFullWidth(by: b1)
        var column = UInt128(p00.high) + UInt128(p01.low) + UInt128(p10.low)
        let r1 = UInt64(truncatingIfNeeded: column)
        column = (column >> 64) + UInt128(p01.high) + UInt128(p10.high) + UInt128(p11.low)
        let r2 = UInt64(truncatingIfNeeded: column)
        column = (column >> 64) + UInt128(p11.high)
        let r3 = UInt64(truncatingIfNeeded: column)
        return UInt256(high: UInt128(r3) << 64 | UInt128(r2), low: UInt128(r1) << 64 | UInt128(p00.low))
    }

    /// `self / divisor` and the remainder, for `high < divisor` (so the quotient fits 128 bits):
    /// Knuth's algorithm D on 64-bit limbs with hardware 128/64 divisions (the standard
    /// library's generic `UInt128.dividingFullWidth` is far slower).
    @usableFromInline
    func divided(by divisor: UInt128) -> (quotient: UInt128, remainder: UInt128) {
        precondition(divisor != 0 && high < divisor, "quotient must fit in 128 bits")
        let v1 = UInt64(truncatingIfNeeded: divisor >> 64), v0 = UInt64(truncatingIfNeeded: divisor)
        let u3 = UInt64(truncatingIfNeeded: high >> 64), u2 = UInt64(truncatingIfNeeded: high)
        let u1 = UInt64(truncatingIfNeeded: low >> 64), u0 = UInt64(truncatingIfNeeded: low)
        if v1 == 0 {
            // One-limb divisor: schoolbook, three hardware divisions (u3 == 0 since high < divisor).
            var r = u2
            let q1: UInt64, q0: UInt64
            (q1, r) = v0.dividingFullWidth((high: r, low: u1))
            (q0, r) = v0.dividingFullWidth((high: r, low: u0))
            return (UInt128(q1) << 64 | UInt128(q0), UInt128(r))
        }
        // Normalize so that the divisor's top bit is set.
        let shift = UInt64(v1.leadingZeroBitCount)
        let d1 = shift == 0 ? v1 : (v1 << shift) | (v0 >> (64 - shift))
        let d0 = v0 << shift
        var n0 = u0 << shift
        var n1 = shift == 0 ? u1 : (u1 << shift) | (u0 >> (64 - shift))
        var n2 = shift == 0 ? u2 : (u2 << shift) | (u1 >> (64 - shift))
        var n3 = shift == 0 ? u3 : (u3 << shift) | (u2 >> (64 - shift))
        var n4 = shift == 0 ? 0 : u3 >> (64 - shift)
        /// One quotient limb from the window (top, middle, bottom), which it reduces in place.
        func step(_ top: inout UInt64, _ middle: inout UInt64, _ bottom: inout UInt64) -> UInt64 {
            // Estimate q̂ from the top two limbs, then correct it (at most twice).
            var qhat: UInt64, rhat: UInt64
            var rhatOverflow = false
            if top >= d1 {
                qhat = .max
                (rhat, rhatOverflow) = middle.addingReportingOverflow(d1)
            } else {
                (qhat, rhat) = d1.dividingFullWidth((high: top, low: middle))
            }
            while !rhatOverflow {
                let product = qhat.multipliedFullWidth(by: d0)
                guard product.high > rhat || (product.high == rhat && product.low > bottom) else { break }
                qhat -= 1
                (rhat, rhatOverflow) = rhat.addingReportingOverflow(d1)
            }
            // window −= q̂·d.
            let p0 = qhat.multipliedFullWidth(by: d0), p1 = qhat.multipliedFullWidth(by: d1)
            let (t0, b0) = bottom.subtractingReportingOverflow(p0.low)
            var carry = UInt128(p0.high) + UInt128(p1.low) + (b0 ? 1 : 0)
            let (t1, b1) = middle.subtractingReportingOverflow(UInt64(truncatingIfNeeded: carry))
            carry = (carry >> 64) + UInt128(p1.high) + (b1 ? 1 : 0)
            let (t2, b2) = top.subtractingReportingOverflow(UInt64(truncatingIfNeeded: carry))
            bottom = t0
            middle = t1
            top = t2
            if b2 || (carry >> 64) != 0 {
                // q̂ was one too large: add the divisor back.
                qhat -= 1
                let (s0, c0) = bottom.addingReportingOverflow(d0)
                let (s1a, c1a) = middle.addingReportingOverflow(d1)
                let (s1, c1b) = s1a.addingReportingOverflow(c0 ? 1 : 0)
                bottom = s0
                middle = s1
                top = top &+ ((c1a || c1b) ? 1 : 0)
            }
            return qhat
        }
        // The quotient's top limb is zero because high < divisor; the window starting at n2 still
        // has to be reduced so that the remainder comes out right.
        _ = step(&n4, &n3, &n2)
        let q1 = step(&n3, &n2, &n1)
        let q0 = step(&n2, &n1, &n0)
        let quotient = (q1, q0)
        let remainderShifted = UInt128(n1) << 64 | UInt128(n0)
        return (UInt128(quotient.0) << 64 | UInt128(quotient.1), remainderShifted >> shift)
    }

    /// `10^18` shifted left until its top bit is set (the normalized divisor), and the shift.
    @usableFromInline static let scaleNormalized: UInt64 = 16_000_000_000_000_000_000
    @usableFromInline static let scaleShift: UInt64 = 4
    /// The reciprocal of `scaleNormalized`: `⌊(2^128 − 1) / d⌋ − 2^64`.
    @usableFromInline static let scaleReciprocal: UInt64 = 2_820_903_858_849_102_350

    /// One 128-by-64 division by the normalized `d` with its precomputed reciprocal `v`:
    /// `(u1·2^64 + u0) / d` for `u1 < d`, with two multiplications instead of a hardware
    /// division (Möller & Granlund, "Improved division by invariant integers", IEEE Trans.
    /// Computers 60(2), 2011, Algorithm 4; GMP's `udiv_qrnnd_preinv`). Inlinable: the columnar
    /// evaluator's divisions by a whole number (SolventRisk's `WholeDivisor`) inline it.
    @inlinable @inline(__always)
    static func divide(_ u1: UInt64, _ u0: UInt64, byNormalized d: UInt64, reciprocal v: UInt64) -> (quotient: UInt64, remainder: UInt64) {
        let product = v.multipliedFullWidth(by: u1)
        let (q0, carry) = product.low.addingReportingOverflow(u0)
        var q1 = product.high &+ u1 &+ (carry ? 1 : 0) &+ 1
        var r = u0 &- q1 &* d
        if r > q0 {
            q1 = q1 &- 1
            r = r &+ d
        }
        if r >= d {
            q1 = q1 &+ 1
            r = r &- d
        }
        return (q1, r)
    }

    /// Divides by `10^18`, returning the quotient (nil when it exceeds 128 bits) and the
    /// remainder: the numerator shifted by 4 bits, then one reciprocal step per 64-bit limb
    /// (`divide(_:_:byNormalized:reciprocal:)`), no hardware division. Proved against the
    /// generic division over the full 256-bit range by `ScaleDivisionTests`.
    @usableFromInline @inline(__always)
    func dividedByScale() -> (quotient: UInt128?, remainder: UInt128) {
        let d = Self.scaleNormalized, v = Self.scaleReciprocal, s = Self.scaleShift
        let n3 = UInt64(truncatingIfNeeded: high >> 64), n2 = UInt64(truncatingIfNeeded: high)
        let n1 = UInt64(truncatingIfNeeded: low >> 64), n0 = UInt64(truncatingIfNeeded: low)
        // The numerator shifted left by s (a fifth limb on top holds what leaves n3).
        let l0 = n0 << s
        let l1 = n1 << s | n0 >> (64 - s)
        var r: UInt64
        var q3: UInt64 = 0, q2: UInt64 = 0
        if high == 0 {
            r = n1 >> (64 - s)
        } else {
            let l2 = n2 << s | n1 >> (64 - s)
            let l3 = n3 << s | n2 >> (64 - s)
            (q3, r) = Self.divide(n3 >> (64 - s), l3, byNormalized: d, reciprocal: v)
            (q2, r) = Self.divide(r, l2, byNormalized: d, reciprocal: v)
        }
        let (q1, r1) = Self.divide(r, l1, byNormalized: d, reciprocal: v)
        let (q0, r0) = Self.divide(r1, l0, byNormalized: d, reciprocal: v)
        let remainder = UInt128(r0 >> s)
        guard q3 == 0, q2 == 0 else { return (nil, remainder) }
        return (UInt128(q1) << 64 | UInt128(q0), remainder)
    }

    /// The reference for `dividedByScale` (two steps of `10^9` with hardware divisions on
    /// 64-bit limbs): kept for the property test and the benchmark's A/B.
    @usableFromInline
    func dividedByScaleWithHardwareDivision() -> (quotient: UInt128?, remainder: UInt128) {
        var limbs: (UInt64, UInt64, UInt64, UInt64) = (
            UInt64(truncatingIfNeeded: high >> 64), UInt64(truncatingIfNeeded: high),
            UInt64(truncatingIfNeeded: low >> 64), UInt64(truncatingIfNeeded: low))
        let billion: UInt64 = 1_000_000_000
        func divide(_ l: inout (UInt64, UInt64, UInt64, UInt64), by d: UInt64) -> UInt64 {
            var r: UInt64 = 0
            (l.0, r) = d.dividingFullWidth((high: r, low: l.0))
            (l.1, r) = d.dividingFullWidth((high: r, low: l.1))
            (l.2, r) = d.dividingFullWidth((high: r, low: l.2))
            (l.3, r) = d.dividingFullWidth((high: r, low: l.3))
            return r
        }
        let r1 = divide(&limbs, by: billion)
        let r2 = divide(&limbs, by: billion)
        let remainder = UInt128(r2) * UInt128(billion) + UInt128(r1)
        guard limbs.0 == 0, limbs.1 == 0 else { return (nil, remainder) }
        return ((UInt128(limbs.2) << 64) | UInt128(limbs.3), remainder)
    }
}

extension FixedDecimal {
    /// Exact comparison of two products: the sign (-1, 0, 1) of `a·b − c·d`, with no rounding.
    ///
    /// Status thresholds use it so that "exactly at the warning ratio" is decided exactly,
    /// not after rounding a ratio.
    public static func compareProducts(_ a: FixedDecimal, _ b: FixedDecimal, _ c: FixedDecimal, _ d: FixedDecimal) -> Int {
        let left = a.raw.multipliedFullWidth(by: b.raw)
        let right = c.raw.multipliedFullWidth(by: d.raw)
        if left.high != right.high { return left.high < right.high ? -1 : 1 }
        if left.low != right.low { return left.low < right.low ? -1 : 1 }
        return 0
    }
}
