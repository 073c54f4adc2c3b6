/// Account identifiers: one pattern everywhere an id enters (REST bodies, path and query
/// parameters, scenario and evaluate documents): 1 to 128 ASCII characters among letters,
/// digits and `_ . : -` (`^[A-Za-z0-9_.:-]{1,128}$`, the OpenAPI document's `AccountID`).
///
/// Checked on the UTF-8 bytes, never with `String` equality: Swift compares strings by
/// canonical equivalence, so `"cafe\u{301}"` == `"caf\u{e9}"` and two different byte
/// sequences would name one account. ASCII ids have exactly one spelling.
public enum AccountID {
    /// The pattern, as in the OpenAPI document.
    public static let pattern = "^[A-Za-z0-9_.:-]{1,128}$"
    /// Longest id, in characters (= bytes: ASCII only).
    public static let maximumLength = 128

    /// Whether `id` matches the pattern.
    public static func isValid(_ id: String) -> Bool { problem(id) == nil }

    /// Why `id` is not a valid account id, or nil when it is.
    public static func problem(_ id: String) -> String? {
        let bytes = id.utf8
        if bytes.isEmpty { return "an account id is 1 to \(maximumLength) characters (\(pattern))" }
        if bytes.count > maximumLength { return "an account id is at most \(maximumLength) characters (\(pattern))" }
        for byte in bytes where !allowed(byte) {
            let shown = byte < 0x80 && byte >= 0x20 ? "\"\(Character(Unicode.Scalar(byte)))\"" : hexByte(byte)
            return "an account id is ASCII letters, digits and _ . : - only (\(pattern)); found \(shown)"
        }
        return nil
    }

    /// Throws an `InputError` at `path` when `id` is not a valid account id.
    public static func validate(_ id: String, path: String) throws(InputError) {
        if let problem = problem(id) { throw InputError(path: path, reason: problem) }
    }

    static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-"): return true
        default: return false
        }
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "byte 0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
    }
}
