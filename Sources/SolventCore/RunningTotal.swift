/// An exact running total that never overflows: `carry·10^19 + rest`, with `rest` in
/// [0, 10^19) a `FixedDecimal` and `carry` a count of 10^19 units.
///
/// The venue's money totals (deposited, withdrawn, fees, external flows, socialized loss) grow
/// with every command for the life of the venue; each addition is a `FixedDecimal` (at most
/// ±1.7 × 10^20, so `carry` moves by at most 18 per addition and `Int64` carries more than
/// 10^17 additions' worth), and the total stays exact where a `FixedDecimal` sum would leave
/// its range (docs/range-contract.md). Its text and JSON encoding are those of a `FixedDecimal`
/// when the value fits one (so state hashes and snapshots of ordinary states do not change),
/// and the exact decimal beyond.
public struct RunningTotal: Sendable, Hashable {
    /// 10^19 as a raw `FixedDecimal` value (10^37).
    static let stepRaw: Int128 = 10_000_000_000_000_000_000 * FixedDecimal.unitRaw
    /// Multiples of 10^19.
    public private(set) var carry: Int64
    /// The rest, in [0, 10^19).
    public private(set) var rest: FixedDecimal

    public init(_ value: FixedDecimal = .zero) {
        carry = 0
        rest = .zero
        self += value
    }

    public static let zero = RunningTotal()

    /// Adds `value` exactly.
    public static func += (total: inout RunningTotal, value: FixedDecimal) {
        var (q, r) = value.raw.quotientAndRemainder(dividingBy: stepRaw)
        if r < 0 {
            r += stepRaw
            q -= 1
        }
        var rest = total.rest.raw + r  // < 2·10^37: fits
        if rest >= stepRaw {
            rest -= stepRaw
            q += 1
        }
        total.carry += Int64(q)  // |q| ≤ 18 per addition
        total.rest = FixedDecimal(raw: rest)
    }

    /// Subtracts `value` exactly.
    public static func -= (total: inout RunningTotal, value: FixedDecimal) {
        total += -value
    }

    /// The sum of two totals.
    public static func + (a: RunningTotal, b: RunningTotal) -> RunningTotal {
        var sum = a
        sum.carry += b.carry
        sum += b.rest
        return sum
    }

    /// The sum of a total and a decimal.
    public static func + (a: RunningTotal, b: FixedDecimal) -> RunningTotal {
        var sum = a
        sum += b
        return sum
    }

    /// The difference of two totals.
    public static func - (a: RunningTotal, b: RunningTotal) -> RunningTotal {
        var difference = a
        difference.carry -= b.carry
        difference -= b.rest
        return difference
    }

    /// The value as a `FixedDecimal`, or nil beyond its range.
    public var value: FixedDecimal? {
        let (high, overflow) = Int128(carry).multipliedReportingOverflow(by: Self.stepRaw)
        guard !overflow, let sum = try? FixedDecimal(raw: high).addingChecked(rest) else { return nil }
        return sum
    }

    public var isZero: Bool { carry == 0 && rest.isZero }
    public var isNegative: Bool { carry < 0 }
}

extension RunningTotal: CustomStringConvertible, Codable {
    /// The exact canonical decimal text (`FixedDecimal`'s when the value fits one).
    public var description: String {
        if let value { return value.description }
        // |value| = |carry|·10^19 ± rest, written as the integer part of 10^19 units then the rest.
        let negative = carry < 0
        var units = carry.magnitude
        var restRaw = rest.raw
        if negative, restRaw > 0 {
            units -= 1
            restRaw = Self.stepRaw - restRaw
        }
        let restText = FixedDecimal(raw: restRaw).description
        let integerPart = restText.split(separator: ".", maxSplits: 1)
        let digits = String(integerPart[0])
        let fraction = integerPart.count > 1 ? "." + integerPart[1] : ""
        return (negative ? "-" : "") + String(units) + String(repeating: "0", count: 19 - digits.count) + digits + fraction
    }

    /// Parses the text `description` writes.
    public init?(parsing text: String) {
        if let value = try? FixedDecimal(parsing: text) {
            self.init(value)
            return
        }
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        // Digits only (an empty text, "-", "." or a second sign is no total; a snapshot may be
        // hostile: attacks/README.md 25), and a carry far inside Int64 so sums of totals cannot trap.
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = String(parts[0])
        guard integer.count > 19, integer.allSatisfy({ $0.isASCII && $0.isNumber }), let units = Int64(integer.dropLast(19)), units < 1 << 61,
              let rest = try? FixedDecimal(parsing: String(integer.suffix(19)) + (parts.count > 1 ? "." + parts[1] : "")) else { return nil }
        var total = RunningTotal()
        total.carry = negative ? -units : units
        if negative { total -= rest } else { total += rest }
        self = total
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let total = RunningTotal(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a decimal: \(text)")
        }
        self = total
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension RunningTotal {
    /// `decimal + total`.
    public static func + (a: FixedDecimal, b: RunningTotal) -> RunningTotal { b + a }
}

extension JSONWriter {
    /// A running total as a JSON string: the same bytes as ``decimal(_:)`` when it fits a `FixedDecimal`.
    public mutating func decimal(_ total: RunningTotal) {
        if let value = total.value { return decimal(value) }
        string(total.description)
    }

    /// Writes `"name": "decimal"` for a running total.
    public mutating func member(_ name: String, _ total: RunningTotal) { key(name); decimal(total) }
}

extension RunningTotal {
    /// Whether the total equals a decimal exactly.
    public static func == (a: RunningTotal, b: FixedDecimal) -> Bool { a == RunningTotal(b) }
    /// Whether a decimal equals the total exactly.
    public static func == (a: FixedDecimal, b: RunningTotal) -> Bool { RunningTotal(a) == b }
}
