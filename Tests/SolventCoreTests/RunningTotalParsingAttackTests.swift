import SolventCore
import Testing

/// Texts a hostile snapshot can hold where a `RunningTotal` is decoded (found by the FuzzSnapshot
/// harness, attacks/README.md 25): an empty text, a lone sign or point indexed an empty split
/// (trap), a second sign made `-Int64.min` (trap). Each is refused; valid totals still parse.
@Suite struct RunningTotalParsingAttackTests {
    @Test func hostileTextsAreRefused() {
        let hostile = ["", "-", ".", "-.", "..", "--9223372036854775808" + String(repeating: "0", count: 19),
                       "-+5" + String(repeating: "0", count: 19), "9223372036854775807" + String(repeating: "0", count: 19)]
        var checked = 0
        for text in hostile {
            #expect(RunningTotal(parsing: text) == nil, "\(text)")
            checked += 1
        }
        #expect(checked == hostile.count)
    }

    @Test func validTotalsStillParse() {
        var big = RunningTotal(FixedDecimal(100_000_000_000_000_000))
        for _ in 0..<2_000 { big += FixedDecimal(100_000_000_000_000_000) }  // 2.001e20: beyond FixedDecimal
        #expect(big.value == nil)
        var negative = RunningTotal.zero
        for _ in 0..<2_001 { negative -= FixedDecimal(100_000_000_000_000_000) }
        var checked = 0
        for total in [big, negative, RunningTotal(FixedDecimal(raw: 5)), RunningTotal.zero] {
            #expect(RunningTotal(parsing: total.description) == total, "\(total)")
            checked += 1
        }
        #expect(checked == 4)
    }
}
