public import SolventCore

/// The one place where exact decimals and `Double` meet (DESIGN.md principle 1): option
/// pricing and statistics work in `Double`; money stays `FixedDecimal`.
public enum DoubleBoundary {
    /// A decimal as the nearest `Double`.
    public static func double(_ value: FixedDecimal) -> Double {
        Double(value.raw) / 1e18
    }

    /// A `Double` rounded half-even to 18 fractional digits; nil when not finite or out of range.
    public static func decimal(_ value: Double) -> FixedDecimal? {
        guard value.isFinite, abs(value) < 1.7e20 else { return nil }
        let scaled = (value * 1e18).rounded(.toNearestOrEven)
        guard let raw = Int128(exactly: scaled) else { return nil }
        return FixedDecimal(raw: raw)
    }

    /// The shortest text that reads back as the same `Double`, positional for magnitudes in
    /// [1e-6, 1e21) and scientific beyond (`"2.4186368569490687e-211"`), as JavaScript's
    /// `Number.prototype.toString` does: for statistics a person reads (a p-value of 1e-211 is
    /// not printed with 211 zeros). Python's `float`, `Fraction` and `Decimal` read both forms.
    public static func shortestText(_ value: Double) -> String {
        precondition(value.isFinite, "only finite values have a text")
        if value != 0, value.magnitude < 1e-6 || value.magnitude >= 1e21 { return "\(value)" }
        return text(value)
    }

    /// The shortest text that reads back as the same `Double`, written without an exponent
    /// (`1.5e-07` → `"0.00000015"`): the evaluate contract's decimal strings (docs/evaluate.md).
    public static func text(_ value: Double) -> String {
        precondition(value.isFinite, "only finite values have a decimal text")
        let shortest = "\(value)"
        guard let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return shortest.hasSuffix(".0") ? String(shortest.dropLast(2)) : shortest
        }
        let mantissa = shortest[..<e]
        let exponent = Int(shortest[shortest.index(after: e)...])!
        let negative = mantissa.hasPrefix("-")
        let unsigned = negative ? mantissa.dropFirst() : mantissa[...]
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var point = parts[0].count + exponent
        while digits.hasSuffix("0"), digits.count > max(point, 1) { digits.removeLast() }
        var text: String
        if point <= 0 {
            text = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            text = digits + String(repeating: "0", count: point - digits.count)
        } else {
            text = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            point = 0
        }
        if text.hasSuffix(".") { text.removeLast() }
        return (negative ? "-" : "") + text
    }
}
