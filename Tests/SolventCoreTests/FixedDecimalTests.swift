import PropertyBased
import SolventCore
import Testing

private func d(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

@Suite struct FixedDecimalParsingTests {
    /// Canonical text round-trips exactly through parse and print.
    @Test(arguments: ["0", "1", "-1", "65000.5", "0.00000001", "0.0000123", "-0.000000000000000001",
                      "170141183460469231731.687303715884105727", "-170141183460469231731.687303715884105727", "123456789.123456789"])
    func roundTrip(text: String) throws {
        #expect(try FixedDecimal(parsing: text).description == text)
    }

    /// Non-canonical spellings parse to the same value and print canonically.
    @Test func canonicalForm() throws {
        #expect(try FixedDecimal(parsing: "+1.50").description == "1.5")
        #expect(try FixedDecimal(parsing: ".5").description == "0.5")
        #expect(try FixedDecimal(parsing: "5.").description == "5")
        #expect(try FixedDecimal(parsing: "-0").description == "0")
        #expect(try FixedDecimal(parsing: "0.1000000000000000000000").description == "0.1")
    }

    /// Exponents, blanks, separators and empty strings are rejected with a reason.
    @Test(arguments: ["", "-", ".", "6e4", "6e4x", "1,000", " 1", "1 ", "1..2", "0x10", "NaN", "--1", "1-"])
    func malformed(text: String) {
        #expect(throws: DecimalParseError.malformed(text)) { try FixedDecimal(parsing: text) }
    }

    /// More than 18 significant fractional digits is an error, not a silent rounding.
    @Test func tooPrecise() {
        #expect(throws: DecimalParseError.tooPrecise("0.0000000000000000001")) { try FixedDecimal(parsing: "0.0000000000000000001") }
    }

    /// Values beyond ±1.7e20 are out of range.
    @Test func outOfRange() {
        #expect(throws: DecimalParseError.outOfRange("170141183460469231732")) { try FixedDecimal(parsing: "170141183460469231732") }
        #expect(throws: DecimalParseError.outOfRange("99999999999999999999999999")) { try FixedDecimal(parsing: "99999999999999999999999999") }
    }

    /// Parsing any printed value gives the value back (property).
    @Test func printParseProperty() async {
        await propertyCheck(input: Gen.int128(in: Int128.min...Int128.max)) { raw in
            let value = FixedDecimal(raw: raw)
            #expect(FixedDecimal(value.description) == value)
        }
    }
}

@Suite struct FixedDecimalArithmeticTests {
    /// Sums and differences are exact.
    @Test func addSubtract() {
        #expect(d("0.1") + d("0.2") == d("0.3"))
        #expect(d("65000.5") - d("65010") == d("-9.5"))
    }

    /// Products are rounded once, half to even, at the 18th digit.
    @Test func multiplyHalfEven() {
        // 0.000000001 × 0.0000000005 = 5e-19: a tie between 0 and 1e-18 → 0 (even).
        #expect(d("0.000000001") * d("0.0000000005") == .zero)
        // 0.000000001 × 0.0000000015 = 1.5e-18 → 2e-18 (even).
        #expect(d("0.000000001") * d("0.0000000015") == d("0.000000000000000002"))
        // 0.000000001 × 0.0000000025 = 2.5e-18 → 2e-18 (even).
        #expect(d("0.000000001") * d("0.0000000025") == d("0.000000000000000002"))
        // Negative ties round to even too: -2.5e-18 → -2e-18.
        #expect(d("-0.000000001") * d("0.0000000025") == d("-0.000000000000000002"))
        #expect(d("65000") * d("0.004") == d("260"))
        #expect(d("1.5") * d("-2") == d("-3"))
    }

    /// Quotients are rounded half to even.
    @Test func divideHalfEven() {
        #expect(d("1") / d("3") == d("0.333333333333333333"))
        #expect(d("2") / d("3") == d("0.666666666666666667"))
        #expect(d("-2") / d("3") == d("-0.666666666666666667"))
        // 1e-18 / 2 = 5e-19: a tie → 0.
        #expect(d("0.000000000000000001") / d("2") == .zero)
        // 3e-18 / 2 = 1.5e-18 → 2e-18.
        #expect(d("0.000000000000000003") / d("2") == d("0.000000000000000002"))
        #expect(d("1") / d("65000") == d("0.000015384615384615"))
    }

    /// Every rounding rule on a positive and a negative inexact quotient.
    @Test func roundingRules() {
        let third = d("1")
        let three = d("3")
        #expect(third.divided(by: three, rounding: .towardZero) == d("0.333333333333333333"))
        #expect(third.divided(by: three, rounding: .awayFromZero) == d("0.333333333333333334"))
        #expect(third.divided(by: three, rounding: .up) == d("0.333333333333333334"))
        #expect(third.divided(by: three, rounding: .down) == d("0.333333333333333333"))
        #expect((-third).divided(by: three, rounding: .up) == d("-0.333333333333333333"))
        #expect((-third).divided(by: three, rounding: .down) == d("-0.333333333333333334"))
        #expect(d("2.5").rounded(toDigits: 0) == d("2"))
        #expect(d("3.5").rounded(toDigits: 0) == d("4"))
        #expect(d("-2.5").rounded(toDigits: 0) == d("-2"))
        #expect(d("1.23456").formatted(digits: 2) == "1.23")
        #expect(d("7").formatted(digits: 2) == "7.00")
    }

    /// Overflow is reported by the checked variants and never wraps.
    @Test func overflowDetection() throws {
        let big = d("100000000000000000000")
        #expect(throws: DecimalError.overflow) { try big.addingChecked(big) }
        #expect(throws: DecimalError.overflow) { try (-big).subtractingChecked(big) }
        #expect(throws: DecimalError.overflow) { try big.multipliedChecked(by: d("2")) }
        #expect(throws: DecimalError.overflow) { try big.dividedChecked(by: d("0.1")) }
        #expect(throws: DecimalError.divisionByZero) { try big.dividedChecked(by: .zero) }
        #expect(big.multiplied(by: big, rounding: .halfEven) == nil)
        #expect(try big.multipliedChecked(by: d("1.5")) == d("150000000000000000000"))
    }

    /// Exact comparison of products decides ties that a rounded ratio could not.
    @Test func compareProducts() {
        #expect(FixedDecimal.compareProducts(d("0.7"), d("1000"), d("700"), .one) == 0)
        #expect(FixedDecimal.compareProducts(d("0.7"), d("1000"), d("700.000000000000000001"), .one) == -1)
        #expect(FixedDecimal.compareProducts(d("-1"), d("5"), d("1"), d("-4")) == -1)
    }

    /// Multiplication agrees with exact integer arithmetic on small operands (property).
    @Test func multiplyMatchesIntegers() async {
        await propertyCheck(input: Gen.int64(in: -1_000_000_000...1_000_000_000), Gen.int64(in: -1_000_000_000...1_000_000_000)) { a, b in
            let product = FixedDecimal(Int(a)) * FixedDecimal(Int(b))
            #expect(product == FixedDecimal(raw: Int128(a) * Int128(b) * FixedDecimal.unitRaw))
        }
    }

    /// (a / b) · b is within one unit of the last digit times |b| of a (property).
    @Test func divisionInverse() async {
        await propertyCheck(input: Gen.int64(in: -1_000_000_000_000...1_000_000_000_000), Gen.int64(in: 1...1_000_000_000)) { a, b in
            let x = FixedDecimal(raw: Int128(a) * 1_000_000)
            let y = FixedDecimal(raw: Int128(b) * 1_000_000_000)
            let back = (x / y) * y
            #expect((back - x).magnitude <= y + .ulp)
        }
    }
}
