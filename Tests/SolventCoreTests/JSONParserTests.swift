import PropertyBased
import SolventCore
import Testing

@Suite struct JSONParserTests {
    /// Objects keep member order; numbers keep their text.
    @Test func parsesDocument() throws {
        let value = try JSONParser.parse(#"{"b": [1, 2.50, -3], "a": {"x": null, "y": true, "z": "h\u00e9\n"}}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a"])
        #expect(value["b"] == .array([.number("1"), .number("2.50"), .number("-3")]))
        #expect(value["a"]?["z"] == .string("hé\n"))
        #expect(value["a"]?["x"] == .null)
    }

    /// Surrogate pairs decode to one scalar.
    @Test func surrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    /// Malformed documents are rejected with an offset.
    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "tru", "{\"a\":1} x", "[1 2]", "\"\\x\""])
    func rejectsMalformed(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }

    /// Nesting beyond the limit is an error, not a stack overflow.
    @Test func nestingLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }

    /// The writer escapes and the parser reads it back.
    @Test func writerRoundTrip() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("text", "quote \" backslash \\ tab \t")
        writer.member("price", FixedDecimal("65000.5")!)
        writer.key("none")
        writer.null()
        writer.endObject()
        let parsed = try JSONParser.parse(writer.bytes)
        #expect(parsed["text"] == .string("quote \" backslash \\ tab \t"))
        #expect(parsed["price"] == .string("65000.5"))
    }
}

@Suite struct DecimalTextBytesTests {
    /// The byte writer gives exactly `description` for every value, including the extremes.
    @Test func bytesMatchDescription() async {
        let samples: [Int128] = [0, 1, -1, 10, 1_000_000_000_000_000_000, -1_500_000_000_000_000_000, .max, .min,
                                 Int128(UInt64.max) * FixedDecimal.unitRaw, 123_456_789_000_000_000_000_000_001]
        for raw in samples {
            var bytes: [UInt8] = []
            FixedDecimal(raw: raw).appendCanonicalText(to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == FixedDecimal(raw: raw).description)
        }
        await propertyCheck(input: Gen.int128(in: Int128.min...Int128.max)) { raw in
            var bytes: [UInt8] = []
            FixedDecimal(raw: raw).appendCanonicalText(to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == FixedDecimal(raw: raw).description)
        }
    }
}
