import PropertyBased
import SolventCore
import SolventRisk
import Testing

/// WholeDivisor's division equals FixedDecimal's half-even division by the same whole number
/// over the full decimal range (numerators of every bit length, both signs, ties).
@Suite struct WholeDivisorTests {
    /// A random Int128 of `bits` significant bits (0...127), with a random sign.
    static func value(bits: Int, using rng: inout some RandomNumberGenerator) -> Int128 {
        guard bits > 0 else { return 0 }
        let magnitude = UInt128(UInt64.random(in: .min ... .max, using: &rng)) << 64 | UInt128(UInt64.random(in: .min ... .max, using: &rng))
        let kept = (magnitude >> (128 - bits)) | (UInt128(1) << (bits - 1))
        let raw = Int128(truncatingIfNeeded: kept)
        return Bool.random(using: &rng) ? -raw : raw
    }

    @Test func equalsTheGeneralDivision() async {
        var checked = 0
        await propertyCheck(count: 400, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let divisorBits = Int.random(in: 1...64, using: &rng)
            var whole = UInt64.random(in: .min ... .max, using: &rng) >> (64 - divisorBits) | (1 << (divisorBits - 1))
            if seed % 5 == 0 { whole = [1, 2, 3, 5, 10, 20, 50, 100, 125][Int(seed / 5 % 9)] }
            let divisor = WholeDivisor(whole: whole)
            let decimal = FixedDecimal(raw: Int128(whole) * FixedDecimal.unitRaw)
            #expect(WholeDivisor(decimal)?.whole == whole)
            for _ in 0..<50 {
                var x = FixedDecimal(raw: Self.value(bits: Int.random(in: 0...127, using: &rng), using: &rng))
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    // A tie or a neighbour of one: x = (k + 1/2)·L·10^-18 ± 0/1 unit.
                    let k = Int128(Int64.random(in: 0 ... .max, using: &rng))
                    if whole % 2 == 0 { x = FixedDecimal(raw: k * Int128(whole) + Int128(whole / 2) + Int128(Int.random(in: -1...1, using: &rng))) }
                }
                let expected = x.divided(by: decimal, rounding: .halfEven)
                #expect(divisor.divide(x) == expected, "\(x) / \(whole)")
                checked += 1
            }
        }
        #expect(checked == 400 * 50)
        #expect(WholeDivisor(FixedDecimal("2.5")!) == nil)
        #expect(WholeDivisor(.zero) == nil)
        #expect(WholeDivisor(-FixedDecimal(3)) == nil)
    }
}
