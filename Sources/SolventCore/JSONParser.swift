/// A fast, strict JSON parser over UTF-8 bytes (RFC 8259), with a nesting limit.
///
/// It exists because large evaluation inputs (a million positions, ~150 MB) must parse
/// in seconds; it allocates only for containers and for strings longer than the
/// small-string size.
public struct JSONParser {
    /// The deepest nesting accepted.
    public static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private let refusesDuplicateNames: Bool
    private var index = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, refusesDuplicateNames: Bool) {
        self.bytes = bytes
        self.refusesDuplicateNames = refusesDuplicateNames
    }

    /// Parses one JSON document (surrounding whitespace allowed). An object with two members of
    /// one name is a syntax error naming the member (see `contains`).
    public static func parse(_ data: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        try parse(data, refusingDuplicateNames: true)
    }

    /// Parses a document that an earlier version may have stored with a repeated member name
    /// (a journal's genesis is the scenario as the client sent it, written back by `JSONWriter`;
    /// before duplicate names were refused, such a scenario was accepted with the first value
    /// read by every lookup). Only recovery of stored journals uses it, so those journals keep
    /// replaying as they did; every input from outside goes through `parse`.
    public static func parseStored(_ data: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        try parse(data, refusingDuplicateNames: false)
    }

    private static func parse(_ data: some Collection<UInt8>, refusingDuplicateNames: Bool) throws(JSONSyntaxError) -> JSONValue {
        let array = Array(data)
        let result: Result<JSONValue, JSONSyntaxError> = array.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer, refusesDuplicateNames: refusingDuplicateNames)
            do {
                parser.skipWhitespace()
                let value = try parser.parseValue()
                parser.skipWhitespace()
                if parser.index != buffer.count { throw parser.error("unexpected data after the document") }
                return .success(value)
            } catch let error as JSONSyntaxError {
                return .failure(error)
            } catch {
                return .failure(JSONSyntaxError(offset: 0, reason: "\(error)"))
            }
        }
        return try result.get()
    }

    /// Parses a document from a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, reason: reason) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { throw error("invalid literal") }
        index += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth)") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var names: Set<String> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let keyOffset = index
            let key = try parseString()
            if refusesDuplicateNames, Self.contains(members, key, &names) {
                throw JSONSyntaxError(offset: keyOffset, reason: "duplicate member name \"\(key)\"")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw error("expected ',' or '}'")
        }
        depth -= 1
        return .object(members)
    }

    /// Whether `members` already has a member named `key` (names compare as Swift strings, so
    /// canonically equivalent spellings count as one name, as every later lookup would).
    /// RFC 8259 §4 leaves duplicate names' meaning to the implementation ("the names within an
    /// object SHOULD be unique"), so two readers of one body can disagree on which value
    /// counts — a parser differential an attacker can use (one layer routes or authorizes by
    /// the first value, another applies the last). Solvent refuses such a body outright.
    /// Small objects (a command's members) are scanned; from 16 members on, the names go into
    /// `names` so a large map stays linear.
    private static func contains(_ members: [(key: String, value: JSONValue)], _ key: String, _ names: inout Set<String>) -> Bool {
        if members.count < 16 {
            for member in members where member.key == key { return true }
            return false
        }
        if names.isEmpty { names = Set(members.lazy.map(\.key)) }
        return !names.insert(key).inserted
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw error("expected ',' or ']'")
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ parser: inout JSONParser) -> Int {
            let begin = parser.index
            while parser.index < parser.bytes.count, parser.bytes[parser.index] >= 0x30, parser.bytes[parser.index] <= 0x39 { parser.index += 1 }
            return parser.index - begin
        }
        let integerDigits = digits(&self)
        if integerDigits == 0 { throw error("expected a digit") }
        if integerDigits > 1, bytes[start + (bytes[start] == UInt8(ascii: "-") ? 1 : 0)] == UInt8(ascii: "0") { throw error("leading zero in a number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            if digits(&self) == 0 { throw error("expected a digit after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if digits(&self) == 0 { throw error("expected a digit in the exponent") }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        var simple = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") { simple = false; index += 2; continue }
            if byte < 0x20 { throw error("control character in a string") }
            index += 1
        }
        guard index < bytes.count else { throw error("unterminated string") }
        let end = index
        index += 1
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if simple {
            guard let text = String(validating: slice, as: UTF8.self) else { throw JSONSyntaxError(offset: start, reason: "invalid UTF-8 in a string") }
            return text
        }
        return try unescape(slice, offset: start)
    }

    private func unescape(_ slice: UnsafeBufferPointer<UInt8>, offset: Int) throws(JSONSyntaxError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var i = 0
        func hex4(_ at: Int) throws(JSONSyntaxError) -> UInt32 {
            guard at + 4 <= slice.count else { throw JSONSyntaxError(offset: offset + at, reason: "short \\u escape") }
            var value: UInt32 = 0
            for k in 0..<4 {
                let c = slice[at + k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw JSONSyntaxError(offset: offset + at + k, reason: "bad hex digit in \\u escape")
                }
                value = value * 16 + d
            }
            return value
        }
        while i < slice.count {
            let byte = slice[i]
            guard byte == UInt8(ascii: "\\") else { out.append(byte); i += 1; continue }
            guard i + 1 < slice.count else { throw JSONSyntaxError(offset: offset + i, reason: "bad escape") }
            let code = slice[i + 1]
            i += 2
            switch code {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= slice.count, slice[i] == UInt8(ascii: "\\"), slice[i + 1] == UInt8(ascii: "u") else {
                        throw JSONSyntaxError(offset: offset + i, reason: "unpaired surrogate")
                    }
                    let low = try hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw JSONSyntaxError(offset: offset + i, reason: "unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw JSONSyntaxError(offset: offset + i, reason: "invalid code point") }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: throw JSONSyntaxError(offset: offset + i - 1, reason: "bad escape")
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw JSONSyntaxError(offset: offset, reason: "invalid UTF-8 in a string") }
        return text
    }
}
