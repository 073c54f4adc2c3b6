import PropertyBased
import SolventCore
import SolventRisk
import Testing

/// ScaledDecimal's exact products and divisions equal FixedDecimal's own (half-even) results
/// whenever they answer, and answer for the short decimals of prices and quantities.
@Suite struct ScaledDecimalTests {
    /// A decimal with `digits` fractional digits and a mantissa of up to `bits` bits, random sign.
    static func decimal(digits: Int, bits: Int, using rng: inout some RandomNumberGenerator) -> FixedDecimal {
        let mantissa = Int128(UInt64.random(in: 0 ... .max, using: &rng) >> (64 - bits))
        var scale: Int128 = 1
        for _ in 0..<(18 - digits) { scale *= 10 }
        let (raw, overflow) = mantissa.multipliedReportingOverflow(by: scale)
        let value = FixedDecimal(raw: overflow ? mantissa : raw)
        return Bool.random(using: &rng) ? -value : value
    }

    @Test func productsAndDivisionsEqualFixedDecimal() async {
        var products = 0, divisions = 0, fastProducts = 0, fastDivisions = 0
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<40 {
                let a = Self.decimal(digits: Int.random(in: 0...18, using: &rng), bits: Int.random(in: 1...64, using: &rng), using: &rng)
                let b = Self.decimal(digits: Int.random(in: 0...18, using: &rng), bits: Int.random(in: 1...64, using: &rng), using: &rng)
                guard let sa = ScaledDecimal(a), let sb = ScaledDecimal(b) else { continue }
                #expect(ScaledDecimal.value(mantissa: Int128(sa.mantissa), exponent: sa.exponent) == a)
                products += 1
                if let p = ScaledDecimal.multiply(sa, sb) {
                    #expect(p == a.multiplied(by: b, rounding: .halfEven), "\(a) × \(b)")
                    fastProducts += 1
                }
                if sb.mantissa != 0 {
                    divisions += 1
                    let expected = a.divided(by: b, rounding: .halfEven)
                    let got = ScaledDecimal.divide(a, by: sb)
                    #expect(got == expected, "\(a) / \(b)")
                    if got != nil { fastDivisions += 1 }
                    // A full-width numerator (any digits) by the short divisor.
                    let n = FixedDecimal(raw: Int128(truncatingIfNeeded: UInt128(UInt64.random(in: 0 ... .max, using: &rng)) << 63 | UInt128(UInt64.random(in: 0 ... .max, using: &rng))))
                    #expect(ScaledDecimal.divide(n, by: sb) == n.divided(by: b, rounding: .halfEven), "\(n) / \(b)")
                    // Ties: n = (k + 1/2)·d for an even mantissa.
                    if sb.mantissa % 2 == 0 {
                        let k = Int128(Int32.random(in: .min ... .max, using: &rng))
                        let tie = FixedDecimal(raw: k * Int128(sb.mantissa) + Int128(sb.mantissa / 2))
                        let scaledDivisor = ScaledDecimal(mantissa: sb.mantissa, exponent: 18)
                        #expect(ScaledDecimal.divide(tie, by: scaledDivisor) == tie.divided(by: FixedDecimal(Int(sb.mantissa)), rounding: .halfEven),
                                "tie \(tie) / \(sb.mantissa)")
                    }
                }
            }
        }
        #expect(products > 5_000 && fastProducts > 1_000, "\(products) products, \(fastProducts) exact")
        #expect(divisions > 5_000 && fastDivisions > 1_000, "\(divisions) divisions, \(fastDivisions) in range")
        // Prices and quantities of a few decimals take the exact path.
        let size = ScaledDecimal(FixedDecimal("123.456")!)!, mark = ScaledDecimal(FixedDecimal("45678.5")!)!
        #expect(ScaledDecimal.multiply(size, mark) == FixedDecimal("5639284.896")!)
        #expect(ScaledDecimal(FixedDecimal("0.000000000000000001")!)?.exponent == 0)
        #expect(ScaledDecimal(.zero) == ScaledDecimal(mantissa: 0, exponent: 18))
    }
}
