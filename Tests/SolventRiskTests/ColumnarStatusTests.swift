import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// The columnar status rule's ratio test (`MM ≥ equity·ratio` by two 128-bit products on the
/// ratio's short form) equals `FixedDecimal.compareProducts(MM, 1, equity, ratio) >= 0` over the
/// full range: values of every bit length and both signs, ratios with few and many digits, and
/// exact ties (`MM = equity·ratio`) with their ±1-unit neighbours; and the statuses equal
/// MarginEvaluator.status for the standard policy.
@Suite struct ColumnarStatusTests {
    static func pow10(_ e: Int) -> Int128 { (0..<e).reduce(Int128(1)) { p, _ in p * 10 } }

    @Test func ratioTestEqualsCompareProducts() async {
        var checked = 0, ties = 0, shortcut = 0
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<40 {
                // A ratio m·10^e: few digits (0.8, 0.95, 1.2) or up to 18 significant digits.
                let exponent = Int.random(in: 0...18, using: &rng)
                let mantissa = Int64.random(in: 1...(seed % 3 == 0 ? 999 : Int64.max >> Int.random(in: 0...60, using: &rng)), using: &rng)
                guard let ratioRaw = Int128(exactly: mantissa).map({ $0 * Self.pow10(exponent) }), ratioRaw <= Int128.max / 2 else { continue }
                let ratio = FixedDecimal(raw: ratioRaw)
                var equity = FixedDecimal(raw: WholeDivisorTests.value(bits: Int.random(in: 0...127, using: &rng), using: &rng))
                var mm = FixedDecimal(raw: WholeDivisorTests.value(bits: Int.random(in: 0...127, using: &rng), using: &rng))
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    // A tie: equity = k·10^(18−e'), MM = k·m' (ratio = m'·10^e' stripped), then ±0/1 unit.
                    let form = ScaledDecimal(ratio)!
                    let k = Int128(Int64.random(in: -(1 << 40) ... (1 << 40), using: &rng))
                    equity = FixedDecimal(raw: k * Self.pow10(18 - form.exponent))
                    mm = FixedDecimal(raw: k * Int128(form.mantissa) + Int128(Int.random(in: -1...1, using: &rng)))
                    ties += 1
                }
                let expected = FixedDecimal.compareProducts(mm, .one, equity, ratio) >= 0
                #expect(ColumnarStatusRule.maintenance(mm, atLeast: equity, times: ratio) == expected,
                        "MM \(mm.raw) equity \(equity.raw) ratio \(ratio.raw)")
                // Cases the 128-bit shortcut decides (the ratio's short form, neither product overflowing).
                if let form = ScaledDecimal(ratio), !mm.raw.multipliedReportingOverflow(by: Self.pow10(18 - form.exponent)).overflow,
                   !equity.raw.multipliedReportingOverflow(by: Int128(form.mantissa)).overflow { shortcut += 1 }
                checked += 1
            }
        }
        #expect(checked > 8_000 && ties > 2_000 && shortcut > 1_000, "checked \(checked), ties \(ties), shortcut \(shortcut)")
    }

    @Test func statusEqualsMarginEvaluator() async {
        var checked = 0
        var statuses = Set<MarginStatus>()
        let policy = MarginPolicy.standard
        let rule = ColumnarStatusRule(policy: policy)
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<50 {
                let equity = RandomBook.decimal(-1_000, 1_000_000, digits: Int.random(in: 0...12, using: &rng), using: &rng)
                let factor = RandomBook.decimal(0, 1.5, digits: Int.random(in: 1...6, using: &rng), using: &rng)
                let mm = (equity.magnitude * factor).rounded(toDigits: 18)
                let positions = Int.random(in: 0..<8, using: &rng) != 0
                let got = rule.status(equity: equity, maintenance: mm, hasPositions: positions)
                #expect(got == MarginEvaluator.status(equity: equity, maintenance: mm, policy: policy, hasPositions: positions))
                statuses.insert(got)
                checked += 1
            }
        }
        #expect(checked == 200 * 50)
        #expect(statuses.count == MarginStatus.allCases.count, "statuses reached: \(statuses)")
    }
}
