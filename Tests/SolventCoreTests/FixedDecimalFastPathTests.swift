import SolventCore
import Testing

/// The two shortcuts of `FixedDecimal`'s rounded arithmetic (issue 18, the crossing tick's
/// evaluation) against the 256-bit path they skip:
/// - a division by a whole number `L·10^18` (a leverage, a count) as one 128-bit division
///   `x / L`, the remainder compared with `L` instead of `r·10^18` with `L·10^18`;
/// - a product with exactly 1 (a haircut of 0, a contract size of 1) returned as is.
///
/// The reference is `multiplied(by:dividedBy:rounding:)`, which always takes the 256-bit
/// path: `x·10^18 / d` is the old `x.divided(by: d)` step for step (the same product, the same
/// range guard, the same rounding), and `x·y / 10^18` the old `x.multiplied(by: y)`.
@Suite struct FixedDecimalFastPathTests {
    static let rules: [RoundingRule] = [.halfEven, .towardZero, .awayFromZero, .down, .up]

    /// Raw values of every width and both signs, the range's ends included.
    static func value(_ g: inout SplitMix64) -> FixedDecimal {
        let magnitude = (UInt128(g.next()) << 64 | UInt128(g.next())) >> UInt128(g.next() % 128)
        let raw = Int128(truncatingIfNeeded: magnitude)
        return FixedDecimal(raw: g.next() % 2 == 0 ? raw : (raw == .min ? raw : -raw))
    }

    static let edges: [FixedDecimal] = [.zero, .one, -.one, .ulp, -.ulp, .max, FixedDecimal(raw: .min), FixedDecimal(raw: .min + 1),
                                        FixedDecimal(raw: FixedDecimal.unitRaw / 2), FixedDecimal(raw: FixedDecimal.unitRaw + 1),
                                        FixedDecimal(raw: 3 * FixedDecimal.unitRaw / 2), FixedDecimal(raw: 5), FixedDecimal(raw: -15)]

    @Test func wholeDivisorMatchesTheWidePath() {
        var g = SplitMix64(seed: 18)
        var checked = 0, whole = 0
        func check(_ x: FixedDecimal, _ d: FixedDecimal) {
            for rule in Self.rules {
                let fast = x.divided(by: d, rounding: rule)
                let wide = x.multiplied(by: .one, dividedBy: d, rounding: rule)
                #expect(fast == wide, "\(x.raw) / \(d.raw) \(rule)")
                checked += 1
            }
            if d.raw % FixedDecimal.unitRaw == 0 { whole += 1 }
        }
        // Whole divisors 1 ... 1.7e20 of both signs, and divisors with 18 low zero bits that are
        // not whole (the shortcut's test must send them on to the 256-bit path).
        let divisors: [Int128] = [1, 2, 3, 5, 10, 20, 50, 75, 100, 125, 1_000, 1 << 40, 170_141_183_460_469_231_731]
        for x in Self.edges {
            for l in divisors {
                let d = l * FixedDecimal.unitRaw
                check(x, FixedDecimal(raw: d)); check(x, FixedDecimal(raw: -d))
                check(x, FixedDecimal(raw: l << 18))
            }
        }
        for _ in 0..<20_000 {
            let x = Self.value(&g)
            let l = Int128(g.next() >> (g.next() % 64)) % 170_141_183_460_469_231_731 + 1  // 1 ... 1.7e20
            let sign: Int128 = g.next() % 2 == 0 ? 1 : -1
            check(x, FixedDecimal(raw: sign * l * FixedDecimal.unitRaw))
            check(x, FixedDecimal(raw: sign * (Int128(g.next() >> 20) << 18 | 1 << 18)))  // 18 low zero bits, odd above: not whole unless a multiple of 5^18
            // Remainders at half the divisor: halfEven's tie, in both parities of the quotient.
            let q = Int128(g.next() >> 8)
            if l % 2 == 0, l < 1 << 66 { check(FixedDecimal(raw: (2 * q + 1) * (l / 2)), FixedDecimal(raw: l * FixedDecimal.unitRaw)) }
        }
        #expect(checked > 100_000)
        #expect(whole > 20_000)
    }

    @Test func productWithOneMatchesTheWidePath() {
        var g = SplitMix64(seed: 1_018)
        var checked = 0
        func check(_ x: FixedDecimal, _ y: FixedDecimal) {
            for rule in Self.rules {
                #expect(x.multiplied(by: y, rounding: rule) == x.multiplied(by: y, dividedBy: .one, rounding: rule), "\(x.raw) × \(y.raw) \(rule)")
                checked += 1
            }
        }
        for x in Self.edges {
            check(x, .one); check(.one, x); check(x, -.one); check(-.one, x)
        }
        for _ in 0..<20_000 {
            let x = Self.value(&g)
            check(x, .one); check(.one, x)
            check(x, Self.value(&g))  // and the general path, unchanged
        }
        #expect(checked > 250_000)
    }

    /// Hand-computed: 12,345.678 / 20 = 617.2839; −1 / 3 at 18 digits; 2.5 / 2 = 1.25; a tie
    /// 0.000000000000000005 / 2 (half-even keeps 2, up rounds to 3).
    @Test func handValues() {
        #expect(FixedDecimal(raw: 12_345_678_000_000_000_000_000).divided(by: FixedDecimal(20), rounding: .halfEven) == FixedDecimal(raw: 617_283_900_000_000_000_000))
        #expect((-FixedDecimal.one).divided(by: FixedDecimal(3), rounding: .halfEven) == FixedDecimal(raw: -333_333_333_333_333_333))
        #expect((-FixedDecimal.one).divided(by: FixedDecimal(3), rounding: .down) == FixedDecimal(raw: -333_333_333_333_333_334))
        #expect(FixedDecimal(raw: 2_500_000_000_000_000_000).divided(by: FixedDecimal(2), rounding: .halfEven) == FixedDecimal(raw: 1_250_000_000_000_000_000))
        #expect(FixedDecimal(raw: 5).divided(by: FixedDecimal(2), rounding: .halfEven) == FixedDecimal(raw: 2))
        #expect(FixedDecimal(raw: 5).divided(by: FixedDecimal(2), rounding: .up) == FixedDecimal(raw: 3))
        #expect(FixedDecimal(raw: 7).divided(by: FixedDecimal(2), rounding: .halfEven) == FixedDecimal(raw: 4))
        #expect(FixedDecimal(raw: .min).multiplied(by: .one, rounding: .halfEven) == nil)  // −2^127·10^-18 is outside the range both ways
    }
}
