/// Appends compact JSON to a byte buffer. Decimals are written as JSON strings.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] = []
    /// Whether the innermost open container (or the document) needs a comma before its next
    /// value; the enclosing containers' flags wait in `outerNeedsComma` (a scalar for the
    /// innermost: `separator` runs for every value, millions of times in the state hash).
    private var needsComma = false
    private var outerNeedsComma: [Bool] = []

    public init(reservingCapacity capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    /// The document as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); outerNeedsComma.append(needsComma); needsComma = false }
    public mutating func endObject() { needsComma = outerNeedsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); outerNeedsComma.append(needsComma); needsComma = false }
    public mutating func endArray() { needsComma = outerNeedsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// Writes a member name; the next value written is its value.
    public mutating func key(_ name: String) {
        separator()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) { separator(); appendQuoted(value) }
    public mutating func decimal(_ value: FixedDecimal) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        value.appendCanonicalText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }
    public mutating func optionalDecimal(_ value: FixedDecimal?) { if let value { decimal(value) } else { null() } }
    public mutating func integer<T: BinaryInteger>(_ value: T) {
        separator()
        // Digits written in place (no String per integer: the state hash writes millions); the
        // same text as `String(value)`, which wider types still use.
        guard let v = Int64(exactly: value) else { bytes.append(contentsOf: String(value).utf8); return }
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits at most, 8 per word
        let count = withUnsafeMutableBytes(of: &digits) { buffer -> Int in
            var k = 0
            repeat {
                buffer[k] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
                k += 1
            } while magnitude > 0
            return k
        }
        withUnsafeBytes(of: &digits) { buffer in
            for k in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[k]) }
        }
    }
    public mutating func bool(_ value: Bool) { separator(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8) }

    /// Writes `"name": "decimal"`.
    public mutating func member(_ name: String, _ value: FixedDecimal) { key(name); decimal(value) }
    /// Writes `"name": "text"`.
    public mutating func member(_ name: String, _ value: String) { key(name); string(value) }

    /// Ends a JSON-lines record: a newline, and the next value starts a new document.
    public mutating func endLine() {
        bytes.append(0x0A)
        needsComma = false
        outerNeedsComma = []
    }

    /// Writes an already-encoded JSON value verbatim.
    public mutating func raw(_ json: String) { separator(); bytes.append(contentsOf: Array(json.utf8)) }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Fast path: nothing to escape (ids, symbols, numbers), one bulk copy.
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 { appendEscaped(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(byte)
        case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(byte)
        case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        default: bytes.append(byte)
        }
    }
}

extension JSONWriter {
    /// Writes a parsed JSON value back out (members in their order; numbers as written).
    public mutating func value(_ json: JSONValue) {
        switch json {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let text): raw(text)
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements { value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                value(member.value)
            }
            endObject()
        }
    }
}
