import SolventCore

/// The accounts' part of the canonical state text (`Engine.writeCanonicalState`, the state
/// hash), written by hand into a raw buffer: the same bytes `JSONWriter` wrote for them, byte for
/// byte (the state hash definition is fixed: journals record it), at a fraction of the cost —
/// no uniqueness and capacity check per appended byte, member names as pre-quoted constants,
/// decimals by one reciprocal division by 10^18 (`FixedDecimal.divide(_:_:byNormalized:reciprocal:)`,
/// Möller & Granlund 2011) instead of two `UInt128` divisions. One account's text:
///
///     {"id":"a1","settle":0,"balances":[0,"100.5"],"positions":[[0,"-2","60000","20",null]],
///      "leverage":[0,"20"],"isolated":[],"orders":["o1"],"procedures":[-1,"called",5,"3"],
///      "socialized_loss":"0","bad_debt":"0","written_off":"0"}
///
/// (`,"mode":"portfolio"` before the closing brace for a portfolio account; accounts separated by
/// commas). CanonicalAccountWriterTests compare it with the `JSONWriter` text it replaced on
/// every field kind, escaped ids and order ids, decimals across the whole range and every example
/// scenario's state.
struct CanonicalAccountWriter {
    /// The pending bytes (RawByteBuffer: one capacity check per value).
    private var out: RawByteBuffer

    init(capacity: Int) {
        out = RawByteBuffer(capacity: max(capacity, 256))
    }

    /// The bytes written and not yet flushed, counted.
    var count: Int { out.count }

    /// Frees the buffer (the writer is not used afterwards).
    func deallocate() { out.deallocate() }

    /// The text of `accounts` (comma-separated, no brackets) handed to `sink` in pieces of about
    /// `piece` bytes.
    static func write(_ accounts: [EngineAccount], piece: Int, _ sink: (UnsafeBufferPointer<UInt8>) -> Void) {
        var writer = CanonicalAccountWriter(capacity: piece + 4096)
        for (a, record) in accounts.enumerated() {
            if a > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.account(record)
            if writer.count >= piece { writer.flush(sink) }
        }
        writer.flush(sink)
        writer.deallocate()
    }

    /// Hands the pending bytes to `sink` and empties the buffer.
    mutating func flush(_ sink: (UnsafeBufferPointer<UInt8>) -> Void) {
        if out.count > 0 { sink(out.bytes) }
        out.count = 0
    }

    /// The bytes written and not yet flushed.
    var pending: [UInt8] { Array(out.bytes) }

    @inline(__always) mutating func byte(_ value: UInt8) { out.byte(value) }

    /// ASCII text as it is (member names with their quotes and colon, punctuation).
    @inline(__always) mutating func text(_ value: StaticString) { out.append(value) }

    /// As `JSONWriter.integer` for a value that fits in 64 bits.
    @inline(__always) mutating func integer(_ value: Int) {
        out.reserve(21)
        if value < 0 { out.reservedByte(UInt8(ascii: "-")) }
        digits(UInt64(value.magnitude))
    }

    /// The decimal digits of `value`, most significant first (room reserved by the caller).
    @inline(__always) private mutating func digits(_ value: UInt64) {
        var v = value
        let start = out.count
        repeat {
            out.reservedByte(UInt8(truncatingIfNeeded: v % 10) &+ 0x30)
            v /= 10
        } while v != 0
        let base = out.base
        var i = start, j = out.count - 1
        while i < j {
            let t = base[i]
            base[i] = base[j]
            base[j] = t
            i += 1
            j -= 1
        }
    }

    /// `10^18 · 16` (the normalized divisor: top bit set) and its reciprocal
    /// `⌊(2^128 − 1)/d⌋ − 2^64`, as `FixedDecimal`'s own rescale uses them.
    static let scaleNormalized: UInt64 = 16_000_000_000_000_000_000
    static let scaleReciprocal: UInt64 = 2_820_903_858_849_102_350
    /// `10^18 · 2^64`: magnitudes from here on have more than 64 bits of integer part.
    static let wideMagnitude = UInt128(1_000_000_000_000_000_000) << 64

    /// As `JSONWriter.decimal`: the canonical text (`FixedDecimal.appendCanonicalText`) in quotes
    /// — sign, the integer digits, and the fraction without trailing zeros, if any.
    mutating func decimal(_ value: FixedDecimal) {
        let magnitude = value.raw.magnitude
        guard magnitude < Self.wideMagnitude else {
            var text: [UInt8] = []
            value.appendCanonicalText(to: &text)
            byte(UInt8(ascii: "\""))
            text.withUnsafeBufferPointer { out.append($0) }
            byte(UInt8(ascii: "\""))
            return
        }
        out.reserve(44)  // quotes, sign, 20 integer digits, point, 18 fraction digits
        out.reservedByte(UInt8(ascii: "\""))
        if value.raw < 0 { out.reservedByte(UInt8(ascii: "-")) }
        // (16·m) / (16·10^18): the quotient is the integer part, the remainder 16 × the fraction.
        let shifted = magnitude << 4
        let (integer, remainder) = FixedDecimal.divide(UInt64(truncatingIfNeeded: shifted >> 64), UInt64(truncatingIfNeeded: shifted),
                                                       byNormalized: Self.scaleNormalized, reciprocal: Self.scaleReciprocal)
        digits(integer)
        var fraction = remainder >> 4
        if fraction != 0 {
            let point = out.base + out.count
            point[0] = UInt8(ascii: ".")
            // 18 digits, then the trailing zeros dropped.
            var last = -1
            for k in stride(from: 17, through: 0, by: -1) {
                let digit = UInt8(truncatingIfNeeded: fraction % 10)
                fraction /= 10
                point[1 + k] = digit &+ 0x30
                if last < 0 && digit != 0 { last = k }
            }
            out.count += 2 + last
        }
        out.reservedByte(UInt8(ascii: "\""))
    }

    /// As `JSONWriter.string`: quoted, with `"`, `\` and control characters escaped.
    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            out.reserve(utf8.count + 2)
            out.reservedByte(UInt8(ascii: "\""))
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(utf8)
            } else {
                for b in utf8 { escaped(b) }
            }
            byte(UInt8(ascii: "\""))
        }
    }

    private mutating func escaped(_ b: UInt8) {
        switch b {
        case UInt8(ascii: "\""): byte(0x5C); byte(b)
        case UInt8(ascii: "\\"): byte(0x5C); byte(b)
        case 0x0A: byte(0x5C); byte(UInt8(ascii: "n"))
        case 0x0D: byte(0x5C); byte(UInt8(ascii: "r"))
        case 0x09: byte(0x5C); byte(UInt8(ascii: "t"))
        case 0..<0x20:
            let hex: StaticString = "0123456789abcdef"
            text("\\u00")
            byte(hex.utf8Start[Int(b >> 4)])
            byte(hex.utf8Start[Int(b & 0xF)])
        default: byte(b)
        }
    }

    /// One account's object (see the type's documentation).
    mutating func account(_ record: EngineAccount) {
        let account = record.account
        text("{\"id\":")
        string(account.id)
        text(",\"settle\":")
        integer(account.settle)
        text(",\"balances\":[")
        for (k, c) in account.collateral.enumerated() {
            if k > 0 { byte(UInt8(ascii: ",")) }
            integer(c.asset)
            byte(UInt8(ascii: ","))
            decimal(c.amount)
        }
        text("],\"positions\":[")
        for (k, p) in account.positions.enumerated() {
            text(k > 0 ? ",[" : "[")
            integer(p.instrument)
            byte(UInt8(ascii: ","))
            decimal(p.quantity)
            byte(UInt8(ascii: ","))
            decimal(p.entryPrice)
            byte(UInt8(ascii: ","))
            if let leverage = p.leverage { decimal(leverage) } else { text("null") }
            byte(UInt8(ascii: ","))
            if case .isolated(let margin) = p.marginMode { decimal(margin) } else { text("null") }
            byte(UInt8(ascii: "]"))
        }
        text("],\"leverage\":[")
        var first = true
        for (i, l) in record.leverage {  // ascending instrument order
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            integer(i)
            byte(UInt8(ascii: ","))
            decimal(l)
        }
        text("],\"isolated\":[")
        if !record.isolated.isEmpty {
            for (k, i) in record.isolated.sorted().enumerated() {
                if k > 0 { byte(UInt8(ascii: ",")) }
                integer(i)
            }
        }
        text("],\"orders\":[")
        for (k, o) in record.orders.enumerated() {
            if k > 0 { byte(UInt8(ascii: ",")) }
            string(o)
        }
        text("],\"procedures\":[")
        if !record.procedures.isEmpty {
            for (k, (key, p)) in record.procedures.sorted(by: { $0.key < $1.key }).enumerated() {
                if k > 0 { byte(UInt8(ascii: ",")) }
                switch key {
                case .cross: integer(-1)
                case .isolated(let i): integer(i)
                }
                byte(UInt8(ascii: ","))
                switch p {
                case .called(let deadline, let amount):
                    text("\"called\",")
                    integer(Int(deadline))
                    byte(UInt8(ascii: ","))
                    decimal(amount)
                default:
                    string(p.name)
                }
            }
        }
        text("],\"socialized_loss\":")
        decimal(record.socializedLoss)
        text(",\"bad_debt\":")
        decimal(record.badDebt)
        text(",\"written_off\":")
        decimal(record.writtenOff)
        if record.isPortfolio { text(",\"mode\":\"portfolio\"") }  // portfolio accounts only (Engine+Portfolio.swift)
        byte(UInt8(ascii: "}"))
    }
}
