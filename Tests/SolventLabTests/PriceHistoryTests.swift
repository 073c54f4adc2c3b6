import SolventCore
import SolventLab
import Testing

@Suite struct PriceHistoryTests {
    /// Bars parse exactly; a bar with open above high (as in one source row) is kept and flagged;
    /// a gap (a missing hour) is left as a gap, never filled.
    @Test func parsesAndFlags() throws {
        let text = """
            timestamp,open,high,low,close,volume
            2021-01-04T04:00:00Z,33000.1,33200,32900.5,33100,12.5
            2021-01-04T05:00:00Z,33287.7,33128.82,32800,33000,10
            2021-01-04T07:00:00Z,33000,33050,32950,33010,3
            """
        let bars = try PriceHistory.parse(text)
        #expect(bars.count == 3)
        #expect(bars[0].open == FixedDecimal("33000.1"))
        #expect(bars[1].isConsistent == false)
        #expect(bars[2].time - bars[1].time == 2 * 3_600_000)
    }

    /// Bad rows name the line and the column.
    @Test func rejectsBadRows() {
        #expect(throws: InputError(path: "line 1", reason: "expected header timestamp,open,high,low,close,volume")) {
            try PriceHistory.parse("time,open\n")
        }
        #expect(throws: InputError(path: "line 2.close", reason: "not a decimal: \"x\"")) {
            try PriceHistory.parse("timestamp,open,high,low,close,volume\n2021-01-01T00:00:00Z,1,1,1,x,1\n")
        }
        #expect(throws: InputError(path: "line 3.timestamp", reason: "not after the previous bar")) {
            try PriceHistory.parse("timestamp,open,high,low,close,volume\n2021-01-01T01:00:00Z,1,1,1,1,1\n2021-01-01T00:00:00Z,1,1,1,1,1\n")
        }
    }
}
