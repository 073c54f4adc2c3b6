/// Why a text is not a decimal.
public enum DecimalParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not of the form `[-]digits[.digits]`.
    case malformed(String)
    /// More than 18 significant fractional digits.
    case tooPrecise(String)
    /// Beyond the representable range.
    case outOfRange(String)

    public var description: String {
        switch self {
        case .malformed(let text): return "not a decimal: \(quoted(text))"
        case .tooPrecise(let text): return "more than 18 fractional digits: \(quoted(text))"
        case .outOfRange(let text): return "out of range (beyond ±1.7e20): \(quoted(text))"
        }
    }
}

/// A JSON-style quoted rendering of `text`, cut at 40 characters.
func quoted(_ text: String) -> String {
    var shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
    shown = shown.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    return "\"" + shown + "\""
}

extension StringProtocol {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension FixedDecimal: CustomStringConvertible, LosslessStringConvertible {
    /// Parses `[-|+]digits[.digits]` exactly. No exponents, no spaces, no thousands
    /// separators; at least one digit before or after the point; at most 18
    /// fractional digits unless the extra digits are zeros.
    public init(parsing text: some StringProtocol) throws(DecimalParseError) {
        var string = String(text)
        let result: Result<FixedDecimal, DecimalParseError> = string.withUTF8 { utf8 in
            do throws(DecimalParseError) {
                return .success(try FixedDecimal.parse(utf8, text: { String(decoding: utf8, as: UTF8.self) }))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Parses ASCII digits from a UTF-8 buffer (no allocation on success).
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, text: () -> String) throws(DecimalParseError) -> FixedDecimal {
        var negative = false
        var index = 0
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        var integer: UInt128 = 0
        var fraction: UInt128 = 0
        var fractionDigits = 0
        var digitsSeen = 0
        var sawPoint = false
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            if byte == UInt8(ascii: ".") {
                if sawPoint { throw .malformed(text()) }
                sawPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw .malformed(text()) }
            let digit = UInt128(byte - UInt8(ascii: "0"))
            digitsSeen += 1
            if sawPoint {
                if fractionDigits == FixedDecimal.scale {
                    if digit != 0 { throw .tooPrecise(text()) }
                    continue
                }
                fraction = fraction * 10 + digit
                fractionDigits += 1
            } else {
                let (times10, o1) = integer.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 || next > UInt128(Int128.max) / UInt128(FixedDecimal.unitRaw) + 1 { throw .outOfRange(text()) }
                integer = next
            }
        }
        if digitsSeen == 0 { throw .malformed(text()) }
        for _ in fractionDigits..<FixedDecimal.scale { fraction *= 10 }
        let (scaled, o1) = integer.multipliedReportingOverflow(by: UInt128(FixedDecimal.unitRaw))
        let (magnitude, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2, let value = FixedDecimal.signed(magnitude, negative: negative) else { throw .outOfRange(text()) }
        return value
    }

    /// Parses like ``init(parsing:)``; `nil` when the text is not a decimal.
    public init?(_ description: String) {
        guard let value = try? FixedDecimal(parsing: description) else { return nil }
        self = value
    }

    /// The exact canonical text: `-` when negative, no trailing fractional zeros,
    /// no point when the value is an integer (`"0"`, `"65000.5"`, `"-0.000000000000000001"`).
    public var description: String {
        let negative = raw < 0
        let magnitude = raw.magnitude
        let unit = UInt128(FixedDecimal.unitRaw)
        let integer = magnitude / unit
        var fraction = magnitude % unit
        var text = negative ? "-" : ""
        text += String(integer)
        if fraction != 0 {
            var digits = FixedDecimal.scale
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let body = String(fraction)
            text += "." + String(repeating: "0", count: digits - body.count) + body
        }
        return text
    }

    /// Appends the canonical text (the same bytes as ``description``) to a byte buffer,
    /// without building a `String` (the output path of `evaluate` writes millions).
    public func appendCanonicalText(to bytes: inout [UInt8]) {
        let magnitude = raw.magnitude
        let unit = UInt128(FixedDecimal.unitRaw)
        let integerPart = magnitude / unit
        guard integerPart <= UInt128(UInt64.max) else {
            bytes.append(contentsOf: Array(description.utf8))
            return
        }
        if raw < 0 { bytes.append(UInt8(ascii: "-")) }
        var integer = UInt64(integerPart)
        var fraction = UInt64(magnitude % unit)
        // Integer digits, most significant first.
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var n = 0
            repeat {
                buffer[19 - n] = UInt8(truncatingIfNeeded: integer % 10) + 0x30
                integer /= 10
                n += 1
            } while integer != 0
            bytes.append(contentsOf: buffer[(20 - n)...])
        }
        guard fraction != 0 else { return }
        bytes.append(UInt8(ascii: "."))
        var width = FixedDecimal.scale
        while fraction % 10 == 0 { fraction /= 10; width -= 1 }
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor != 0 {
            bytes.append(UInt8(truncatingIfNeeded: (fraction / divisor) % 10) + 0x30)
            divisor /= 10
        }
    }

    /// Text with exactly `digits` fractional digits, rounded half-even (for display).
    public func formatted(digits: Int) -> String {
        let rounded = self.rounded(toDigits: digits)
        var text = rounded.description
        guard digits > 0 else { return text }
        if let point = text.firstIndex(of: ".") {
            let have = text.distance(from: point, to: text.endIndex) - 1
            text += String(repeating: "0", count: digits - have)
        } else {
            text += "." + String(repeating: "0", count: digits)
        }
        return text
    }
}

extension FixedDecimal: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self.init(value) }
}

extension FixedDecimal: Codable {
    /// Decodes from a JSON string holding an exact decimal.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try FixedDecimal(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes as a JSON string with the canonical text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
