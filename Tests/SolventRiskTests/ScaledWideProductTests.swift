import PropertyBased
import SolventCore
import SolventRisk
import Testing

/// `ScaledDecimal.multiply(_:_:divisor:)` (a short decimal times any decimal, the columnar
/// liquidation-price bracket check's `Q·P`) equals FixedDecimal's half-even product whenever it
/// answers, over the full range of the wide factor (every bit length, both signs, ties), and
/// answers for the bench book's sizes and prices.
@Suite struct ScaledWideProductTests {
    @Test func equalsTheGeneralProduct() async {
        var checked = 0, fast = 0, ties = 0
        await propertyCheck(count: 400, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<50 {
                let digits = Int.random(in: 0...18, using: &rng)
                let a = ScaledDecimalTests.decimal(digits: digits, bits: Int.random(in: 1...64, using: &rng), using: &rng)
                guard let sa = ScaledDecimal(a) else { continue }
                let divisor = ScaledDecimal.powerDivisors[18 - sa.exponent]
                var x = FixedDecimal(raw: WholeDivisorTests.value(bits: Int.random(in: 0...127, using: &rng), using: &rng))
                if Int.random(in: 0..<4, using: &rng) == 0, sa.exponent < 18, sa.mantissa != 0 {
                    // A tie of the rescale: m·x = (j + 1/2)·10^k exactly (x = (2j + 1)·10^k / (2m) when whole).
                    let k = 18 - sa.exponent
                    let power = Int128(ScaledDecimal.powerDivisors[k].whole), half = power / 2
                    let j = Int128(Int32.random(in: 0 ... .max, using: &rng))
                    let target = j * power + half
                    let m = Int128(sa.mantissa.magnitude)
                    if target % m == 0 { x = FixedDecimal(raw: target / m); ties += 1 }
                }
                let expected = a.multiplied(by: x, rounding: .halfEven)
                checked += 1
                if let got = ScaledDecimal.multiply(sa, x, divisor: divisor) {
                    #expect(got == expected, "\(a) × \(x)")
                    fast += 1
                }
            }
        }
        #expect(checked > 15_000, "\(checked) products checked")
        #expect(fast > 5_000, "only \(fast) products on the short path")
        #expect(ties > 0, "no rescale tie constructed")
        // The bench book's shape: a size of 3 decimals times an 18-digit price.
        let size = ScaledDecimal(FixedDecimal("123.456")!)!
        let price = FixedDecimal(raw: 45_678_123_456_789_012_345_678)
        let product = ScaledDecimal.multiply(size, price, divisor: ScaledDecimal.powerDivisors[18 - size.exponent])
        #expect(product != nil)
        #expect(product == FixedDecimal("123.456")!.multiplied(by: price, rounding: .halfEven))
    }
}
