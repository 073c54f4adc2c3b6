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

    /// The multiply-high quotient at its edges: divisors at and around powers of two (where
    /// `ℓ = ⌈log2 L⌉` steps), 1 and 2^64 − 1, against numerators at the range's ends
    /// (±Int128.max), at multiples of L and one unit either side, and at 2^k ± 1.
    @Test func edgesEqualTheGeneralDivision() {
        var wholes: [UInt64] = [1, 2, 3, 5, 7, 10, 125, UInt64.max, UInt64.max - 1, 1_000_000_000_000_000_000]
        for k in 1..<64 { wholes += [UInt64(1) << k, (UInt64(1) << k) - 1, (UInt64(1) << k) + 1] }
        var numerators: [Int128] = [0, 1, -1, Int128.max, -Int128.max, Int128.max - 1]
        for k in stride(from: 1, to: 127, by: 7) { numerators += [Int128(1) << k, (Int128(1) << k) - 1, (Int128(1) << k) + 1] }
        var checked = 0
        for whole in wholes {
            let divisor = WholeDivisor(whole: whole)
            let decimal = FixedDecimal(raw: Int128(whole) * FixedDecimal.unitRaw)
            var xs = numerators
            for base in [Int128.max / 3, Int128(UInt64.max), Int128(1) << 100] {
                let multiple = base / Int128(whole) * Int128(whole)
                xs += [multiple, multiple - 1, multiple + 1, multiple - Int128(whole / 2), multiple + Int128(whole / 2)]
            }
            for raw in xs {
                for x in [FixedDecimal(raw: raw), FixedDecimal(raw: -raw)] {
                    #expect(divisor.divide(x) == x.divided(by: decimal, rounding: .halfEven), "\(x.raw) / \(whole)")
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000, "only \(checked) cases")
    }
}
