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

    /// A repeated member name is refused with the name and the offset of the second one, in
    /// small objects (scanned) and large ones (hashed from 16 members on), at any depth; the
    /// same names in different objects, and canonically distinct names, are fine. Stored
    /// documents (`parseStored`, journal recovery) keep the old reading: first value wins.
    @Test func duplicateNamesAreRefused() throws {
        let cases: [(text: String, name: String, offset: Int)] = [
            (#"{"amount":"100","amount":"5"}"#, "amount", 16),
            (#"{"a":1,"b":{"c":2,"c":3}}"#, "c", 18),
            (#"[{"x":1},{"y":2,"y":2}]"#, "y", 16),
        ]
        var refused = 0
        for (text, name, offset) in cases {
            do {
                _ = try JSONParser.parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.reason == "duplicate member name \"\(name)\"", "\(text)")
                #expect(error.offset == offset, "\(text)")
                refused += 1
            }
        }
        // 40 distinct members (the hashed path) accepted; the same 40 plus a repeat of the 3rd refused.
        let members = (0..<40).map { "\"m\($0)\":\($0)" }
        #expect(try JSONParser.parse("{" + members.joined(separator: ",") + "}")["m39"] == .number("39"))
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{" + (members + ["\"m2\":0"]).joined(separator: ",") + "}") }
        // A repeat past the 16th member, of a member after the 16th.
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{" + (members + ["\"m30\":0"]).joined(separator: ",") + "}") }
        // Same names in sibling objects are not repeats.
        #expect(try JSONParser.parse(#"[{"a":1},{"a":2}]"#) == .array([.object([("a", .number("1"))]), .object([("a", .number("2"))])]))
        // "é" precomposed and decomposed are one Swift name, so one member.
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(#"{"caf\u00e9":1,"cafe\u0301":2}"#) }
        // Journal recovery reads what older versions stored: the first value, as lookups did.
        #expect(try JSONParser.parseStored(Array(#"{"amount":"100","amount":"5"}"#.utf8))["amount"] == .string("100"))
        #expect(refused == 3)
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
