/// Reads a fuzzer's byte string as a stream of choices: each read consumes bytes and yields a
/// value; past the end every read yields 0 (so any byte string is a complete input).
public struct FuzzInput {
    let bytes: [UInt8]
    var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether input is left.
    public var hasMore: Bool { offset < bytes.count }

    /// The next byte (0 past the end).
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// An index in `0..<count` (count ≥ 1).
    public mutating func pick(_ count: Int) -> Int { Int(byte()) % count }

    /// One of `choices`.
    public mutating func choose<T>(_ choices: [T]) -> T { choices[pick(choices.count)] }

    /// A 32-bit number from four bytes.
    public mutating func uint32() -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 { value = value << 8 | UInt32(byte()) }
        return value
    }

    /// Decimal text: a boundary value of the range contract, or digits made from the input
    /// (possibly malformed or out of range on purpose).
    public mutating func decimalText() -> String {
        switch pick(4) {
        case 0, 1:
            return choose(Self.boundaryDecimals)
        case 2:
            let whole = uint32() % 200_000
            let fraction = uint32() % 1_000_000
            return (byte() & 1 == 0 ? "" : "-") + "\(whole).\(fraction)"
        default:
            let digits = Int(byte() % 24) + 1
            var text = byte() & 1 == 0 ? "" : "-"
            for k in 0..<digits {
                text.append(Character(Unicode.Scalar(UInt8(ascii: "0") + byte() % 10)))
                if k == digits / 2, byte() & 3 == 0 { text.append(".") }
            }
            return text
        }
    }

    /// Values at and beyond every bound of the range contract (docs/range-contract.md).
    public static let boundaryDecimals = [
        "0", "1", "-1", "2", "0.5", "10", "20", "50", "100", "125", "1000", "1001",
        "0.000000000000000001", "-0.000000000000000001", "0.00000001", "0.000000009", "0.0001",
        "48400", "49000", "50000", "51000", "65000", "100000000", "100000001",
        "1000000000", "1000000001", "999999999999999.999999999999999999",
        "1000000000000000", "1000000000000001", "-1000000000000000", "170141183460469231731",
        "0.999999999999999999", "0.004", "0.01", "0.05", "0.1", "0.3", "0.7", "0.85",
        "1e3", "", "-", ".", "NaN", "1.0000000000000000001",
    ]
}
