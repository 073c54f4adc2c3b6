public import SolventCore
import SolventEngine

extension BinaryStateCoding {
    /// Decodes a body written by `encode`: checks the magic and the CRC-32C first, so a damaged
    /// body throws instead of decoding to a wrong value.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard isBinary(bytes) else { throw corrupt("not a binary state body (no SOLVBIN1 magic)") }
        var stored: UInt32 = 0
        for k in 0..<4 { stored |= UInt32(bytes[8 + k]) << (8 * UInt32(k)) }
        let crc = bytes.withUnsafeBufferPointer { CRC32C.checksum(UnsafeBufferPointer(rebasing: $0[12...])) }
        guard crc == stored else { throw corrupt("checksum mismatch") }
        var tableOffset: UInt64 = 0
        for k in 0..<8 { tableOffset |= UInt64(bytes[12 + k]) << (8 * UInt64(k)) }
        guard tableOffset >= UInt64(headerSize), tableOffset < UInt64(bytes.count) else { throw corrupt("key table offset out of range") }
        let core = BinaryDecodingCore(bytes: bytes)
        var p = Int(tableOffset)
        let count = try core.varint(&p)
        guard count <= UInt64(maxInternedKeys) else { throw corrupt("key table too large") }
        for _ in 0..<count {
            let length = try core.length(&p)
            guard p + length <= bytes.count else { throw corrupt("key table truncated") }
            core.keys.append(String(decoding: bytes[p..<(p + length)], as: UTF8.self))
            p += length
        }
        return try core.decodeValue(type, at: headerSize).value
    }

    static func corrupt(_ message: String) -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(codingPath: [], debugDescription: "binary state: \(message)"))
    }
}

final class BinaryDecodingCore {
    typealias Tag = BinaryStateCoding.Tag
    let bytes: [UInt8]
    var keys: [String] = []
    /// The end of the last container that was read to its end byte: `(start, end)` (a hint
    /// that saves re-parsing a value to find where it ends).
    var lastEnd: (start: Int, end: Int) = (-1, -1)
    /// Key-table ids of `EngineAccount`'s field names (BinaryAccountCoding.swift), once computed.
    var accountKeyIDs: [Int]? = nil

    init(bytes: [UInt8]) { self.bytes = bytes }

    @inline(__always) func byte(_ p: Int) throws -> UInt8 {
        guard p < bytes.count else { throw BinaryStateCoding.corrupt("truncated at \(p)") }
        return bytes[p]
    }

    @inline(__always) func varint(_ p: inout Int) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte(p)
            p += 1
            guard shift < 64 else { throw BinaryStateCoding.corrupt("varint too long at \(p)") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always) func fixed64(_ p: Int) throws -> UInt64 {
        guard p + 8 <= bytes.count else { throw BinaryStateCoding.corrupt("truncated at \(p)") }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[p + k]) << (8 * UInt64(k)) }
        return v
    }

    /// A length prefix (of a string or a key) at `p`: a varint no larger than the body, so
    /// neither its conversion to `Int` nor an offset plus it can trap on a hostile body.
    @inline(__always) func length(_ p: inout Int) throws -> Int {
        let at = p
        let v = try varint(&p)
        guard v <= UInt64(bytes.count) else { throw BinaryStateCoding.corrupt("length \(v) beyond the body at \(at)") }
        return Int(v)
    }

    /// Deepest nesting of containers `skip` follows (the engine state nests far less; a hostile
    /// body nesting deeper would exhaust the stack).
    static let maxSkipDepth = 256

    /// The offset just past the key at `p`.
    func skipKey(_ p: Int) throws -> Int {
        var q = p
        let v = try varint(&q)
        switch v & 3 {
        case 0: return q
        case 1: return q + Int(v >> 2)
        case 2: _ = try varint(&q); return q
        default: throw BinaryStateCoding.corrupt("bad key at \(p)")
        }
    }

    /// The offset just past the value at `p`.
    func skip(_ p: Int, depth: Int = 0) throws -> Int {
        guard depth < Self.maxSkipDepth else { throw BinaryStateCoding.corrupt("containers nested deeper than \(Self.maxSkipDepth) at \(p)") }
        var q = p + 1
        switch try byte(p) {
        case Tag.null, Tag.falseValue, Tag.trueValue: return q
        case Tag.signed, Tag.unsigned: _ = try varint(&q); return q
        case Tag.string: let n = try length(&q); return q + n
        case Tag.double: return q + 8
        case Tag.float: return q + 4
        case Tag.decimal, Tag.int128, Tag.uint128: return q + 16
        case Tag.keyed:
            while try byte(q) != Tag.end { q = try skip(skipKey(q), depth: depth + 1) }
            return q + 1
        case Tag.unkeyed:
            while try byte(q) != Tag.end { q = try skip(q, depth: depth + 1) }
            return q + 1
        default: throw BinaryStateCoding.corrupt("unknown tag at \(p)")
        }
    }

    /// Whether the key at `p` is `key`, and where its value starts.
    @inline(__always) func matches(_ p: Int, _ key: some CodingKey) throws -> (Bool, Int) {
        var q = p
        let v = try varint(&q)
        switch v & 3 {
        case 0:
            let id = Int(v >> 2)
            guard id < keys.count else { throw BinaryStateCoding.corrupt("key id out of range at \(p)") }
            return (BinaryStateCoding.integerKey(key) == nil && keys[id] == key.stringValue, q)
        case 1:
            let n = Int(v >> 2)
            guard q + n <= bytes.count else { throw BinaryStateCoding.corrupt("truncated key at \(p)") }
            let match = BinaryStateCoding.integerKey(key) == nil && key.stringValue.utf8.elementsEqual(bytes[q..<(q + n)])
            return (match, q + n)
        case 2:
            let z = try varint(&q)
            let int = Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
            return (key.intValue.map { Int64($0) == int } ?? false, q)
        default: throw BinaryStateCoding.corrupt("bad key at \(p)")
        }
    }

    /// The key at `p` as a `Key`, and where its value starts.
    func key<Key: CodingKey>(_ p: Int, as type: Key.Type) throws -> (Key?, Int) {
        var q = p
        let v = try varint(&q)
        switch v & 3 {
        case 0:
            let id = Int(v >> 2)
            guard id < keys.count else { throw BinaryStateCoding.corrupt("key id out of range at \(p)") }
            return (Key(stringValue: keys[id]), q)
        case 1:
            let n = Int(v >> 2)
            guard q + n <= bytes.count else { throw BinaryStateCoding.corrupt("truncated key at \(p)") }
            return (Key(stringValue: String(decoding: bytes[q..<(q + n)], as: UTF8.self)), q + n)
        case 2:
            let z = try varint(&q)
            let int = Int(truncatingIfNeeded: Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
            return (Key(intValue: int) ?? Key(stringValue: String(int)), q)
        default: throw BinaryStateCoding.corrupt("bad key at \(p)")
        }
    }

    func mismatch(_ type: Any.Type, _ p: Int) -> DecodingError {
        DecodingError.typeMismatch(type, DecodingError.Context(codingPath: [], debugDescription: "binary state: unexpected tag \(p < bytes.count ? Int(bytes[p]) : -1) at \(p)"))
    }

    func signed(_ p: Int) throws -> (Int64, Int) {
        var q = p + 1
        switch try byte(p) {
        case Tag.signed:
            let z = try varint(&q)
            return (Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))), q)
        case Tag.unsigned:
            let u = try varint(&q)
            guard u <= UInt64(Int64.max) else { throw mismatch(Int64.self, p) }
            return (Int64(u), q)
        default: throw mismatch(Int64.self, p)
        }
    }

    func unsigned(_ p: Int) throws -> (UInt64, Int) {
        var q = p + 1
        switch try byte(p) {
        case Tag.unsigned: return (try varint(&q), q)
        case Tag.signed:
            let (s, end) = try signed(p)
            guard s >= 0 else { throw mismatch(UInt64.self, p) }
            return (UInt64(s), end)
        default: throw mismatch(UInt64.self, p)
        }
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type, _ p: Int) throws -> (I, Int) {
        if I.isSigned {
            let (v, end) = try signed(p)
            guard let x = I(exactly: v) else { throw mismatch(I.self, p) }
            return (x, end)
        }
        let (v, end) = try unsigned(p)
        guard let x = I(exactly: v) else { throw mismatch(I.self, p) }
        return (x, end)
    }

    func string(_ p: Int) throws -> (String, Int) {
        guard try byte(p) == Tag.string else { throw mismatch(String.self, p) }
        var q = p + 1
        let n = try length(&q)
        guard q + n <= bytes.count else { throw BinaryStateCoding.corrupt("truncated string at \(p)") }
        return (String(decoding: bytes[q..<(q + n)], as: UTF8.self), q + n)
    }

    func bool(_ p: Int) throws -> (Bool, Int) {
        switch try byte(p) {
        case Tag.trueValue: return (true, p + 1)
        case Tag.falseValue: return (false, p + 1)
        default: throw mismatch(Bool.self, p)
        }
    }

    func wide(_ tag: UInt8, _ p: Int) throws -> (low: UInt64, high: UInt64, end: Int) {
        guard try byte(p) == tag else { throw mismatch(Int128.self, p) }
        return (try fixed64(p + 1), try fixed64(p + 9), p + 17)
    }

    func double(_ p: Int) throws -> (Double, Int) {
        guard try byte(p) == Tag.double else { throw mismatch(Double.self, p) }
        return (Double(bitPattern: try fixed64(p + 1)), p + 9)
    }

    func float(_ p: Int) throws -> (Float, Int) {
        guard try byte(p) == Tag.float, p + 5 <= bytes.count else { throw mismatch(Float.self, p) }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[p + 1 + k]) << (8 * UInt32(k)) }
        return (Float(bitPattern: v), p + 5)
    }

    /// Decodes the value at `p` and returns it with the offset just past it.
    func decodeValue<T: Decodable>(_ type: T.Type, at p: Int) throws -> (value: T, end: Int) {
        if T.self == FixedDecimal.self {
            let w = try wide(Tag.decimal, p)
            let raw = Int128(bitPattern: UInt128(w.high) << 64 | UInt128(w.low))
            // Int128.min is no decimal (docs/range-contract.md): its magnitude traps.
            guard raw != Int128.min else { throw BinaryStateCoding.corrupt("decimal Int128.min at \(p)") }
            return (unsafeBitCast(FixedDecimal(raw: raw), to: T.self), w.end)
        }
        if T.self == String.self { let (s, end) = try string(p); return (unsafeBitCast(s, to: T.self), end) }
        if T.self == Int.self { let (v, end) = try integer(Int.self, p); return (unsafeBitCast(v, to: T.self), end) }
        if T.self == Int64.self { let (v, end) = try signed(p); return (unsafeBitCast(v, to: T.self), end) }
        if T.self == Bool.self { let (v, end) = try bool(p); return (unsafeBitCast(v, to: T.self), end) }
        if T.self == EngineAccount.self, let (account, end) = fastAccount(at: p) { return (unsafeBitCast(account, to: T.self), end) }  // else the generic path decides
        if T.self == [EngineAccount].self, let (accounts, end) = fastAccounts(at: p) { return (unsafeBitCast(accounts, to: T.self), end) }  // BinaryBulkCoding.swift
        if T.self == [String: Int].self, let (index, end) = fastStringIntDictionary(at: p) { return (unsafeBitCast(index, to: T.self), end) }  // else the generic path decides
        lastEnd = (-1, -1)
        let value = try T(from: BinaryDecoder(core: self, position: p))
        let end = lastEnd.start == p ? lastEnd.end : try skip(p)
        return (value, end)
    }
}

struct BinaryDecoder: Decoder {
    let core: BinaryDecodingCore
    let position: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard try core.byte(position) == BinaryStateCoding.Tag.keyed else { throw core.mismatch([String: Any].self, position) }
        return KeyedDecodingContainer(BinaryKeyedReader<Key>(core: core, start: position))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard try core.byte(position) == BinaryStateCoding.Tag.unkeyed else { throw core.mismatch([Any].self, position) }
        return BinaryUnkeyedReader(core: core, start: position)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { BinarySingleReader(core: core, position: position) }
}

/// A keyed container: entries are found at a cursor when read in the order they were written
/// (the usual case), else by a scan of the container.
final class BinaryKeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let core: BinaryDecodingCore
    /// Offset of the container's tag.
    let start: Int
    /// Offset of the next entry in writing order (a hint).
    var cursor: Int
    var codingPath: [any CodingKey] { [] }

    init(core: BinaryDecodingCore, start: Int) {
        self.core = core
        self.start = start
        cursor = start + 1
        noteEnd()
    }

    @inline(__always) func noteEnd() {
        if cursor < core.bytes.count, core.bytes[cursor] == BinaryStateCoding.Tag.end { core.lastEnd = (start, cursor + 1) }
    }

    /// Where the value of `key` starts (nil: absent).
    func find(_ key: Key) throws -> Int? {
        if try core.byte(cursor) != BinaryStateCoding.Tag.end {
            let (match, value) = try core.matches(cursor, key)
            if match { return value }
        }
        var p = start + 1
        while try core.byte(p) != BinaryStateCoding.Tag.end {
            let (match, value) = try core.matches(p, key)
            if match { return value }
            p = try core.skip(value)
        }
        return nil
    }

    func require(_ key: Key) throws -> Int {
        guard let p = try find(key) else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: [], debugDescription: "binary state: no entry \"\(key.stringValue)\""))
        }
        return p
    }

    var allKeys: [Key] {
        var keys: [Key] = []
        var p = start + 1
        while let b = try? core.byte(p), b != BinaryStateCoding.Tag.end {
            guard let (key, value) = try? core.key(p, as: Key.self), let next = try? core.skip(value) else { break }
            if let key { keys.append(key) }
            p = next
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { (try? find(key)) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        let p = try require(key)
        guard try core.byte(p) == BinaryStateCoding.Tag.null else { return false }
        // Past the nil, so the next key is found at the cursor (else every read after an absent
        // optional scanned the container from its start: the whole account array of a state).
        cursor = p + 1
        noteEnd()
        return true
    }

    @inline(__always) func read<T>(_ key: Key, _ body: (Int) throws -> (T, Int)) throws -> T {
        let p = try require(key)
        let (value, end) = try body(p)
        cursor = end
        noteEnd()
        return value
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try read(key, core.bool) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try read(key, core.string) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try read(key, core.double) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try read(key, core.float) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try read(key) { try core.integer(Int.self, $0) } }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try read(key) { try core.integer(Int8.self, $0) } }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try read(key) { try core.integer(Int16.self, $0) } }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try read(key) { try core.integer(Int32.self, $0) } }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try read(key, core.signed) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try read(key) { try core.integer(UInt.self, $0) } }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try read(key) { try core.integer(UInt8.self, $0) } }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try read(key) { try core.integer(UInt16.self, $0) } }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try read(key) { try core.integer(UInt32.self, $0) } }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try read(key, core.unsigned) }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 {
        try read(key) { p in let w = try core.wide(BinaryStateCoding.Tag.int128, p); return (Int128(bitPattern: UInt128(w.high) << 64 | UInt128(w.low)), w.end) }
    }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 {
        try read(key) { p in let w = try core.wide(BinaryStateCoding.Tag.uint128, p); return (UInt128(w.high) << 64 | UInt128(w.low), w.end) }
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try read(key) { try core.decodeValue(T.self, at: $0) } }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try BinaryDecoder(core: core, position: try require(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try BinaryDecoder(core: core, position: try require(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        var p = start + 1
        while try core.byte(p) != BinaryStateCoding.Tag.end {
            let (match, value) = try core.matches(p, BinarySuperKey.super)
            if match { return BinaryDecoder(core: core, position: value) }
            p = try core.skip(value)
        }
        throw DecodingError.keyNotFound(BinarySuperKey.super, DecodingError.Context(codingPath: [], debugDescription: "binary state: no super entry"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { BinaryDecoder(core: core, position: try require(key)) }
}

final class BinaryUnkeyedReader: UnkeyedDecodingContainer {
    let core: BinaryDecodingCore
    let start: Int
    var cursor: Int
    var currentIndex = 0
    var codingPath: [any CodingKey] { [] }
    var count: Int? { nil }

    init(core: BinaryDecodingCore, start: Int) {
        self.core = core
        self.start = start
        cursor = start + 1
    }

    var isAtEnd: Bool {
        guard cursor < core.bytes.count else { return true }
        if core.bytes[cursor] == BinaryStateCoding.Tag.end {
            core.lastEnd = (start, cursor + 1)
            return true
        }
        return false
    }

    @inline(__always) func read<T>(_ body: (Int) throws -> (T, Int)) throws -> T {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(T.self, DecodingError.Context(codingPath: [], debugDescription: "binary state: unkeyed container at its end"))
        }
        let (value, end) = try body(cursor)
        cursor = end
        currentIndex += 1
        return value
    }

    func decodeNil() throws -> Bool {
        guard !isAtEnd, core.bytes[cursor] == BinaryStateCoding.Tag.null else { return false }
        cursor += 1
        currentIndex += 1
        return true
    }

    func decode(_ type: Bool.Type) throws -> Bool { try read(core.bool) }
    func decode(_ type: String.Type) throws -> String { try read(core.string) }
    func decode(_ type: Double.Type) throws -> Double { try read(core.double) }
    func decode(_ type: Float.Type) throws -> Float { try read(core.float) }
    func decode(_ type: Int.Type) throws -> Int { try read { try core.integer(Int.self, $0) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try read { try core.integer(Int8.self, $0) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try read { try core.integer(Int16.self, $0) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try read { try core.integer(Int32.self, $0) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try read(core.signed) }
    func decode(_ type: UInt.Type) throws -> UInt { try read { try core.integer(UInt.self, $0) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read { try core.integer(UInt8.self, $0) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read { try core.integer(UInt16.self, $0) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read { try core.integer(UInt32.self, $0) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read(core.unsigned) }
    func decode(_ type: Int128.Type) throws -> Int128 {
        try read { p in let w = try core.wide(BinaryStateCoding.Tag.int128, p); return (Int128(bitPattern: UInt128(w.high) << 64 | UInt128(w.low)), w.end) }
    }
    func decode(_ type: UInt128.Type) throws -> UInt128 {
        try read { p in let w = try core.wide(BinaryStateCoding.Tag.uint128, p); return (UInt128(w.high) << 64 | UInt128(w.low), w.end) }
    }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try read { try core.decodeValue(T.self, at: $0) } }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try read { p in (try BinaryDecoder(core: core, position: p).container(keyedBy: type), try core.skip(p)) }
    }

    func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try read { p in (try BinaryDecoder(core: core, position: p).unkeyedContainer(), try core.skip(p)) }
    }

    func superDecoder() throws -> any Decoder {
        try read { p in (BinaryDecoder(core: core, position: p) as any Decoder, try core.skip(p)) }
    }
}

struct BinarySingleReader: SingleValueDecodingContainer {
    let core: BinaryDecodingCore
    let position: Int
    var codingPath: [any CodingKey] { [] }

    @inline(__always) func read<T>(_ body: (Int) throws -> (T, Int)) throws -> T {
        let (value, end) = try body(position)
        core.lastEnd = (position, end)
        return value
    }

    func decodeNil() -> Bool { position < core.bytes.count && core.bytes[position] == BinaryStateCoding.Tag.null }
    func decode(_ type: Bool.Type) throws -> Bool { try read(core.bool) }
    func decode(_ type: String.Type) throws -> String { try read(core.string) }
    func decode(_ type: Double.Type) throws -> Double { try read(core.double) }
    func decode(_ type: Float.Type) throws -> Float { try read(core.float) }
    func decode(_ type: Int.Type) throws -> Int { try read { try core.integer(Int.self, $0) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try read { try core.integer(Int8.self, $0) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try read { try core.integer(Int16.self, $0) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try read { try core.integer(Int32.self, $0) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try read(core.signed) }
    func decode(_ type: UInt.Type) throws -> UInt { try read { try core.integer(UInt.self, $0) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read { try core.integer(UInt8.self, $0) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read { try core.integer(UInt16.self, $0) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read { try core.integer(UInt32.self, $0) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read(core.unsigned) }
    func decode(_ type: Int128.Type) throws -> Int128 {
        try read { p in let w = try core.wide(BinaryStateCoding.Tag.int128, p); return (Int128(bitPattern: UInt128(w.high) << 64 | UInt128(w.low)), w.end) }
    }
    func decode(_ type: UInt128.Type) throws -> UInt128 {
        try read { p in let w = try core.wide(BinaryStateCoding.Tag.uint128, p); return (UInt128(w.high) << 64 | UInt128(w.low), w.end) }
    }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try read { try core.decodeValue(T.self, at: $0) } }
}
