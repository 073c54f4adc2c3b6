import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// `ScaledDecimal.divideUp` (the columnar call amount's `MM / restore ratio`) equals
/// FixedDecimal's division rounded toward +∞ over the full range: numerators of every bit
/// length and both signs, divisors `m·10^e` of every mantissa length, sign and exponent, exact
/// quotients (remainder 0) and their ±1-unit neighbours, and quotients beyond the range (nil).
@Suite struct ScaledCeilingDivisionTests {
    @Test func equalsTheGeneralDivisionRoundedUp() async {
        var checked = 0, exact = 0, nils = 0
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<40 {
                let exponent = Int.random(in: 0...18, using: &rng)
                var mantissa = Int64.random(in: 1 ... (Int64.max >> Int.random(in: 0...62, using: &rng)), using: &rng)
                if Bool.random(using: &rng) { mantissa = -mantissa }
                let d = ScaledDecimal(mantissa: mantissa, exponent: exponent)
                let value = FixedDecimal(raw: Int128(mantissa) * (0..<exponent).reduce(Int128(1)) { p, _ in p * 10 })
                var n = FixedDecimal(raw: WholeDivisorTests.value(bits: Int.random(in: 0...127, using: &rng), using: &rng))
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    // An exact quotient k (n = k·d), then ±1 unit.
                    let k = FixedDecimal(raw: Int128(Int64.random(in: -(1 << 50) ... (1 << 50), using: &rng)))
                    if let product = k.multiplied(by: value, rounding: .halfEven),
                       product.divided(by: value, rounding: .halfEven) == k {
                        n = FixedDecimal(raw: product.raw + Int128(Int.random(in: -1...1, using: &rng)))
                        exact += 1
                    }
                }
                let expected = n.divided(by: value, rounding: .up)
                #expect(ScaledDecimal.divideUp(n, by: d) == expected, "\(n.raw) / \(mantissa)e\(exponent)")
                if expected == nil { nils += 1 }
                checked += 1
            }
        }
        #expect(checked == 300 * 40)
        #expect(exact > 1_000 && nils > 0 && nils < checked, "exact \(exact), beyond the range \(nils) of \(checked)")
    }
}
