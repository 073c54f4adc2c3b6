import PropertyBased
@testable import SolventCore
import Testing

/// The hand-written 128×128→256 multiply against the standard library's generic one.
@Suite struct WideArithmeticTests {
    @Test func multiplyMatchesStandardLibrary() async {
        let edges: [UInt128] = [0, 1, 2, UInt128(UInt64.max), UInt128(UInt64.max) + 1, .max, .max - 1, UInt128(1) << 127, 1_000_000_000_000_000_000]
        for a in edges {
            for b in edges {
                let product = UInt256.multiply(a, b)
                let expected = a.multipliedFullWidth(by: b)
                #expect(product.high == expected.high && product.low == expected.low, "\(a) × \(b)")
            }
        }
        await propertyCheck(count: 2_000, input: Gen.uint64(), Gen.uint64(), Gen.uint64(), Gen.uint64()) { a0, a1, b0, b1 in
            let a = UInt128(a1) << 64 | UInt128(a0), b = UInt128(b1 >> UInt64(a0 % 64)) << 64 | UInt128(b0)
            let product = UInt256.multiply(a, b)
            let expected = a.multipliedFullWidth(by: b)
            #expect(product.high == expected.high && product.low == expected.low)
        }
    }
}

/// The hand-written 256/128 division against the standard library's generic one.
@Suite struct WideDivisionTests {
    private func check(_ high: UInt128, _ low: UInt128, _ divisor: UInt128) {
        guard divisor != 0, high < divisor else { return }
        let ours = UInt256(high: high, low: low).divided(by: divisor)
        let theirs = divisor.dividingFullWidth((high: high, low: low))
        #expect(ours.quotient == theirs.quotient && ours.remainder == theirs.remainder, "(\(high), \(low)) / \(divisor)")
    }

    @Test func edges() {
        let values: [UInt128] = [0, 1, 2, 3, UInt128(UInt64.max), UInt128(UInt64.max) + 1, UInt128(UInt64.max) << 64, .max, .max - 1,
                                 UInt128(1) << 127, (UInt128(1) << 127) - 1, 1_000_000_000_000_000_000, UInt128(1) << 64 | 1]
        for high in values { for low in values { for divisor in values { check(high, low, divisor) } } }
    }

    @Test func random() async {
        await propertyCheck(count: 5_000, input: Gen.uint64(), Gen.uint64(), Gen.uint64(), Gen.uint64(), Gen.uint64(), Gen.uint64()) { h1, h0, l1, l0, d1, d0 in
            // Divisors of every width: shift the top limb away at random.
            let divisor = UInt128(d1 >> (d0 % 65 == 64 ? 63 : d0 % 64)) << 64 | UInt128(d0)
            let high = (UInt128(h1) << 64 | UInt128(h0)) % max(divisor, 1)
            check(high, UInt128(l1) << 64 | UInt128(l0), divisor)
            // And one-limb divisors.
            let small = UInt128(max(d0, 1))
            check((UInt128(h0) % small), UInt128(l1) << 64 | UInt128(l0), small)
        }
    }
}

/// Division of a 256-bit product by 10^18, against the standard library.
@Suite struct ScaleDivisionTests {
    @Test func matchesStandardLibrary() async {
        let scale = UInt128(1_000_000_000_000_000_000)
        for low in [UInt128(0), 1, scale - 1, scale, scale + 1, UInt128(UInt64.max), .max, .max - 1, UInt128(1) << 127] {
            let ours = UInt256(high: 0, low: low).dividedByScale()
            let theirs = low.quotientAndRemainder(dividingBy: scale)
            #expect(ours.quotient == theirs.quotient && ours.remainder == theirs.remainder)
        }
        await propertyCheck(count: 3_000, input: Gen.uint64(), Gen.uint64()) { a, b in
            let low = UInt128(a) << 64 | UInt128(b)
            let ours = UInt256(high: 0, low: low).dividedByScale()
            let theirs = low.quotientAndRemainder(dividingBy: scale)
            #expect(ours.quotient == theirs.quotient && ours.remainder == theirs.remainder)
        }
    }
}

/// The reciprocal division by 10^18 against two independent references over the full 256-bit
/// range: the hardware-division path and Knuth's algorithm D (itself checked against the
/// standard library above).
@Suite struct ReciprocalScaleDivisionTests {
    static let scale = UInt128(1_000_000_000_000_000_000)

    func check(_ high: UInt128, _ low: UInt128) {
        let number = UInt256(high: high, low: low)
        let ours = number.dividedByScale()
        let hardware = number.dividedByScaleWithHardwareDivision()
        #expect(ours.quotient == hardware.quotient && ours.remainder == hardware.remainder, "(\(high), \(low))")
        if high < Self.scale {
            let knuth = number.divided(by: Self.scale)
            #expect(ours.quotient == knuth.quotient && ours.remainder == knuth.remainder, "(\(high), \(low))")
        } else {
            #expect(ours.quotient == nil, "(\(high), \(low)) has a quotient beyond 128 bits")
        }
    }

    @Test func edges() {
        let values: [UInt128] = [0, 1, 2, Self.scale - 1, Self.scale, Self.scale + 1, UInt128(UInt64.max), UInt128(UInt64.max) + 1,
                                 UInt128(UInt64.max) << 64, .max, .max - 1, UInt128(1) << 127, (UInt128(1) << 127) - 1,
                                 Self.scale * Self.scale - 1, Self.scale * Self.scale]
        for high in values { for low in values { check(high, low) } }
    }

    @Test func random() async {
        await propertyCheck(count: 20_000, input: Gen.uint64(), Gen.uint64(), Gen.uint64(), Gen.uint64()) { h1, h0, l1, l0 in
            // Numerators of every width: shift the top limbs away at random.
            let high = (UInt128(h1 >> (l0 % 64)) << 64 | UInt128(h0)) >> (h0 % 129 == 128 ? 127 : h0 % 128)
            check(high, UInt128(l1) << 64 | UInt128(l0))
            check(high % Self.scale, UInt128(l1) << 64 | UInt128(l0))
        }
    }

    /// Products as the arithmetic forms them: every raw value times every raw value.
    @Test func products() async {
        await propertyCheck(count: 20_000, input: Gen.uint64(), Gen.uint64(), Gen.uint64(), Gen.uint64()) { a1, a0, b1, b0 in
            let a = UInt128(a1 >> (b0 % 64)) << 64 | UInt128(a0), b = UInt128(b1 >> (a0 % 64)) << 64 | UInt128(b0)
            let product = UInt256.multiply(a, b)
            check(product.high, product.low)
        }
    }
}

/// `RunningTotal`: exact sums beyond the decimal range, with `FixedDecimal`'s text inside it.
@Suite struct RunningTotalTests {
    @Test func sumsPastTheRangeStayExact() throws {
        var total = RunningTotal()
        let step = try FixedDecimal(parsing: "170141183460469231731.687303715884105727")  // FixedDecimal.max
        for _ in 0..<3 { total += step }
        #expect(total.value == nil)
        #expect(total.description == "510423550381407695195.061911147652317181")
        for _ in 0..<3 { total -= step }
        #expect(total.isZero)
        total -= step
        total -= step
        #expect(total.description == "-340282366920938463463.374607431768211454")
        #expect(RunningTotal(parsing: total.description) == total)
    }

    @Test func matchesFixedDecimalInsideTheRange() async {
        await propertyCheck(count: 3_000, input: Gen.int64(), Gen.int64(), Gen.int(in: 0...18)) { a, b, k in
            var x = FixedDecimal(raw: Int128(a)), y = FixedDecimal(raw: Int128(b))
            for _ in 0..<k { x = FixedDecimal(raw: x.raw * 10); y = FixedDecimal(raw: y.raw * 10) }
            var total = RunningTotal(x)
            total += y
            let sum = x + y
            #expect(total.value == sum)
            #expect(total.description == sum.description)
            #expect(RunningTotal(parsing: total.description) == total)
            total -= y
            #expect(total == x)
        }
    }

    /// Many additions of the largest value, then the same subtractions, in mixed order: exact.
    @Test func longRandomWalkReturnsToZero() async {
        await propertyCheck(count: 200, input: Gen.int64().array(of: 1...60)) { draws in
            var total = RunningTotal()
            var reference: [FixedDecimal] = []
            for d in draws {
                let value = FixedDecimal(raw: Int128(d) * 18_446_744_073_709_551_615)
                total += value
                reference.append(value)
            }
            for value in reference.reversed() { total -= value }
            #expect(total.isZero)
        }
    }
}

/// `rounded(toDigits:)` is total: next to ±max, rounding away from zero falls back toward zero.
@Suite struct TotalRoundingTests {
    @Test func roundingNearTheRangeEndDoesNotTrap() {
        #expect(FixedDecimal.max.rounded(toDigits: 2, rule: .up) == FixedDecimal.max.rounded(toDigits: 2, rule: .towardZero))
        #expect((-FixedDecimal.max).rounded(toDigits: 0, rule: .down) == (-FixedDecimal.max).rounded(toDigits: 0, rule: .towardZero))
        #expect(FixedDecimal("1.005")!.rounded(toDigits: 2, rule: .up) == FixedDecimal("1.01")!)
    }
}
