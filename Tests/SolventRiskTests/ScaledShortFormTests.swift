import PropertyBased
import SolventCore
import SolventRisk
import Testing

/// `ScaledDecimal.shortForm` (the columnar margin ratio's divisor) is always an exact
/// representation of the value (`m·10^e = raw`, `|m| < 2^63`), over the full range (every bit
/// length, both signs, 0 to 18 trailing decimal zeros), and answers for the equities of a book.
@Suite struct ScaledShortFormTests {
    @Test func isAnExactRepresentation() async {
        var checked = 0, answered = 0
        await propertyCheck(count: 400, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<50 {
                // A random mantissa of any length times a random power of ten (within the range).
                let zeros = Int.random(in: 0...18, using: &rng)
                let power = Int128(ScaledDecimal.powerDivisors[zeros].whole)
                let raw = WholeDivisorTests.value(bits: Int.random(in: 0...127, using: &rng), using: &rng)
                let (scaled, overflow) = (raw / power).multipliedReportingOverflow(by: power)
                let value = FixedDecimal(raw: overflow ? raw : scaled)
                checked += 1
                guard let form = ScaledDecimal.shortForm(value) else {
                    // Nil only when no exponent ≤ 18 leaves a 63-bit mantissa.
                    #expect(value.raw.magnitude / UInt128(ScaledDecimal.powerDivisors[18].whole) > UInt128(Int64.max) || value.raw.magnitude % UInt128(ScaledDecimal.powerDivisors[18].whole) != 0,
                            "no short form for \(value)")
                    continue
                }
                answered += 1
                #expect(form.exponent >= 0 && form.exponent <= 18)
                #expect(ScaledDecimal.value(mantissa: Int128(form.mantissa), exponent: form.exponent) == value, "\(value) → \(form)")
                // The exponent is the largest ≤ 18 that divides: one more zero does not divide.
                if form.exponent < 18 {
                    #expect(form.mantissa % 10 != 0 || form.mantissa == 0, "\(value) → \(form) not maximal")
                }
            }
        }
        #expect(checked == 400 * 50)
        #expect(answered > 5_000, "only \(answered) short forms")
        #expect(ScaledDecimal.shortForm(FixedDecimal("5639284.89655")!) == ScaledDecimal(mantissa: 563_928_489_655, exponent: 13))
        #expect(ScaledDecimal.shortForm(-FixedDecimal("0.000000000000000001")!) == ScaledDecimal(mantissa: -1, exponent: 0))
        #expect(ScaledDecimal.shortForm(.zero) == ScaledDecimal(mantissa: 0, exponent: 18))
    }
}
