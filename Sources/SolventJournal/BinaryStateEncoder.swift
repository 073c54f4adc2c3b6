public import SolventCore
import SolventEngine

/// A compact binary `Encoder` for `Codable` values (the engine state's snapshots), driven by the
/// types' own `Codable` conformances, so every field any type adds is covered without a
/// hand-written layout. `BinaryStateDecoder` reads it back.
///
/// Layout (little-endian, LEB128 varints): the 8-byte magic `SOLVBIN1`, a `UInt32` CRC-32C of
/// every byte after the first 12, a `UInt64` offset of the key table, the root value, then the
/// key table (`count`, then `length`, UTF-8 bytes per key). A value is a tag byte and its payload:
/// nil, false, true, a signed (zigzag varint) or unsigned (varint) integer, a string (length,
/// UTF-8), a float or double (IEEE bits), a `FixedDecimal` (its 16-byte raw `Int128`, not its text),
/// a 128-bit integer, a keyed container (entries of key and value, then an end byte) or an unkeyed
/// container (values, then an end byte, 15). A key is a varint `v`: `v & 3 == 0` names entry `v >> 2`
/// of the key table (field names, interned), `1` is followed by `v >> 2` bytes of UTF-8 (keys
/// beyond the table's 4,096 entries, e.g. the account ids keying a dictionary), `2` by a zigzag
/// varint (an integer key).
///
/// Containers are written as a stream, so a value's containers must be used in nesting order
/// (every `Codable` conformance in Solvent and the standard library does so); a write to a
/// container after one of its siblings was opened throws instead of writing a wrong layout.
public enum BinaryStateCoding {
    /// The integer a key is written as, or nil when it is written as its string: only a key whose
    /// text is its `intValue`'s own (an `Int`-keyed dictionary's key, or a `String` key "42").
    /// `Dictionary<String, _>` codes its keys with `_DictionaryCodingKey(stringValue:)`, which
    /// carries `intValue: Int(key)`; writing "007" (or "+7", "-0") as 7 would decode it as "7",
    /// merging two account ids or order ids (found in session 16; such keys were lossy before).
    /// Bodies written before still decode as they did.
    @inline(__always) static func integerKey(_ key: some CodingKey) -> Int? {
        guard let int = key.intValue, String(int) == key.stringValue else { return nil }
        return int
    }

    /// The first 8 bytes of every body.
    public static let magic: [UInt8] = Array("SOLVBIN1".utf8)
    /// Bytes before the root value: magic, checksum, key-table offset.
    static let headerSize = 20
    /// Field names interned in the key table (more distinct keys are written inline).
    static let maxInternedKeys = 4096

    enum Tag {
        static let null: UInt8 = 0, falseValue: UInt8 = 1, trueValue: UInt8 = 2, signed: UInt8 = 3, unsigned: UInt8 = 4
        static let string: UInt8 = 5, double: UInt8 = 6, float: UInt8 = 7, decimal: UInt8 = 8, keyed: UInt8 = 9, unkeyed: UInt8 = 10
        static let int128: UInt8 = 11, uint128: UInt8 = 12
        /// Ends a container. 15 = 0b1111 is no value tag and, as a key's first byte, the unused key kind 3
        /// (a longer varint's first byte has its high bit set), so it never reads as a key or a value.
        static let end: UInt8 = 15
    }

    /// Whether `bytes` start with the binary layout's magic (otherwise: a JSON body).
    public static func isBinary(_ bytes: [UInt8]) -> Bool { bytes.count >= headerSize && Array(bytes[0..<8]) == magic }

    /// Encodes `value`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let core = BinaryEncodingCore()
        core.bytes.append(contentsOf: magic)
        core.bytes.append(contentsOf: [UInt8](repeating: 0, count: headerSize - magic.count))
        try core.writeValue(value)
        core.closeAll()
        let tableOffset = UInt64(core.bytes.count)
        core.writeVarint(UInt64(core.keyTable.count))
        for key in core.keyTable {
            var key = key
            key.withUTF8 { utf8 in
                core.writeVarint(UInt64(utf8.count))
                core.bytes.append(contentsOf: utf8)
            }
        }
        for k in 0..<8 { core.bytes[12 + k] = UInt8(truncatingIfNeeded: tableOffset >> (8 * UInt64(k))) }
        let crc = core.bytes.withUnsafeBufferPointer { CRC32C.checksum(UnsafeBufferPointer(rebasing: $0[12...])) }
        for k in 0..<4 { core.bytes[8 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        return core.bytes
    }
}

final class BinaryEncodingCore {
    typealias Tag = BinaryStateCoding.Tag
    var bytes: [UInt8] = []
    var keyIDs: [String: Int] = [:]
    var keyTable: [String] = []
    /// Open containers, innermost last.
    var stack: [Int] = []
    var nextContainer = 0
    /// Interned ids of `EngineAccount`'s field names once written (−1: not yet; BinaryAccountCoding.swift).
    var accountKeyIDs = [Int](repeating: -1, count: BinaryAccountField.allCases.count)

    /// Scratch buffer of the hand-written account path (BinaryAccountCoding.swift), reused for every account.
    var scratch = RawByteBuffer(capacity: 4096)

    init() { bytes.reserveCapacity(1 << 16) }

    deinit { scratch.deallocate() }

    @inline(__always) func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always) func writeSigned(_ value: Int64) {
        bytes.append(Tag.signed)
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) func writeUnsigned(_ value: UInt64) {
        bytes.append(Tag.unsigned)
        writeVarint(value)
    }

    func writeString(_ value: String) {
        bytes.append(Tag.string)
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    @inline(__always) func write128(_ tag: UInt8, _ low: UInt64, _ high: UInt64) {
        bytes.append(tag)
        withUnsafeBytes(of: low.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: high.littleEndian) { bytes.append(contentsOf: $0) }
    }

    func writeKey(_ key: some CodingKey) {
        if let int = BinaryStateCoding.integerKey(key) {
            writeVarint(2)
            writeVarint(UInt64(bitPattern: (Int64(int) << 1) ^ (Int64(int) >> 63)))
            return
        }
        let name = key.stringValue
        if let id = keyIDs[name] {
            writeVarint(UInt64(id) << 2)
        } else if keyTable.count < BinaryStateCoding.maxInternedKeys {
            keyIDs[name] = keyTable.count
            writeVarint(UInt64(keyTable.count) << 2)
            keyTable.append(name)
        } else {
            var name = name
            name.withUTF8 { utf8 in
                writeVarint(UInt64(utf8.count) << 2 | 1)
                bytes.append(contentsOf: utf8)
            }
        }
    }

    /// Opens a container (its tag written at the current position).
    func open(_ tag: UInt8) -> Int {
        bytes.append(tag)
        nextContainer += 1
        stack.append(nextContainer)
        return nextContainer
    }

    /// Closes the containers opened inside `container` before it is written to again.
    @inline(__always) func enter(_ container: Int) throws {
        if stack.last == container { return }
        while let top = stack.last, top != container {
            stack.removeLast()
            bytes.append(Tag.end)
        }
        guard !stack.isEmpty else {
            throw EncodingError.invalidValue(container, EncodingError.Context(codingPath: [], debugDescription: "binary state encoding: a container was written to after it was closed (containers must be used in nesting order)"))
        }
    }

    func closeAll() {
        while !stack.isEmpty {
            stack.removeLast()
            bytes.append(Tag.end)
        }
    }

    /// Writes one value at the current position.
    func writeValue<T: Encodable>(_ value: T) throws {
        if T.self == FixedDecimal.self {
            let raw = unsafeBitCast(value, to: FixedDecimal.self).raw
            write128(Tag.decimal, UInt64(truncatingIfNeeded: raw), UInt64(truncatingIfNeeded: raw >> 64))
            return
        }
        if T.self == String.self { writeString(unsafeBitCast(value, to: String.self)); return }
        if T.self == Int.self { writeSigned(Int64(unsafeBitCast(value, to: Int.self))); return }
        if T.self == Int64.self { writeSigned(unsafeBitCast(value, to: Int64.self)); return }
        if T.self == Bool.self { bytes.append(unsafeBitCast(value, to: Bool.self) ? Tag.trueValue : Tag.falseValue); return }
        if T.self == EngineAccount.self { writeAccount(unsafeBitCast(value, to: EngineAccount.self)); return }  // the bulk type, by hand (BinaryAccountCoding.swift)
        if T.self == [EngineAccount].self { writeAccounts(unsafeBitCast(value, to: [EngineAccount].self)); return }  // BinaryBulkCoding.swift
        if T.self == [String: Int].self { writeStringIntDictionary(unsafeBitCast(value, to: [String: Int].self)); return }  // the account index (BinaryBulkCoding.swift)
        let before = bytes.count
        try value.encode(to: BinaryEncoder(core: self))
        if bytes.count == before {  // encoded nothing: an empty keyed container
            bytes.append(Tag.keyed)
            bytes.append(Tag.end)
        }
    }
}

struct BinaryEncoder: Encoder {
    let core: BinaryEncodingCore
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(BinaryKeyedWriter<Key>(core: core, id: core.open(BinaryStateCoding.Tag.keyed)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        BinaryUnkeyedWriter(core: core, id: core.open(BinaryStateCoding.Tag.unkeyed))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { BinarySingleWriter(core: core) }
}

struct BinaryKeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let core: BinaryEncodingCore
    let id: Int
    var codingPath: [any CodingKey] { [] }

    @inline(__always) func begin(_ key: Key) throws {
        try core.enter(id)
        core.writeKey(key)
    }

    mutating func encodeNil(forKey key: Key) throws { try begin(key); core.bytes.append(BinaryStateCoding.Tag.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try begin(key); core.bytes.append(value ? 2 : 1) }
    mutating func encode(_ value: String, forKey key: Key) throws { try begin(key); core.writeString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try begin(key); core.bytes.append(BinaryStateCoding.Tag.double); withUnsafeBytes(of: value.bitPattern.littleEndian) { core.bytes.append(contentsOf: $0) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { try begin(key); core.bytes.append(BinaryStateCoding.Tag.float); withUnsafeBytes(of: value.bitPattern.littleEndian) { core.bytes.append(contentsOf: $0) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { try begin(key); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try begin(key); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try begin(key); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try begin(key); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try begin(key); core.writeSigned(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try begin(key); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try begin(key); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try begin(key); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try begin(key); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try begin(key); core.writeUnsigned(value) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { try begin(key); core.write128(BinaryStateCoding.Tag.int128, UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try begin(key); core.write128(BinaryStateCoding.Tag.uint128, UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try begin(key); try core.writeValue(value) }

    // Absent optionals are written as nil (not omitted), so that reading them back finds
    // their entry at the cursor instead of scanning the container.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        try? begin(key)
        return KeyedEncodingContainer(BinaryKeyedWriter<NestedKey>(core: core, id: core.open(BinaryStateCoding.Tag.keyed)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        try? begin(key)
        return BinaryUnkeyedWriter(core: core, id: core.open(BinaryStateCoding.Tag.unkeyed))
    }

    mutating func superEncoder() -> any Encoder {
        try? core.enter(id)
        core.writeKey(BinarySuperKey.super)
        return BinaryEncoder(core: core)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        try? begin(key)
        return BinaryEncoder(core: core)
    }
}

enum BinarySuperKey: String, CodingKey { case `super` }

struct BinaryUnkeyedWriter: UnkeyedEncodingContainer {
    let core: BinaryEncodingCore
    let id: Int
    var count = 0
    var codingPath: [any CodingKey] { [] }

    init(core: BinaryEncodingCore, id: Int) {
        self.core = core
        self.id = id
    }

    @inline(__always) mutating func begin() throws {
        try core.enter(id)
        count += 1
    }

    mutating func encodeNil() throws { try begin(); core.bytes.append(BinaryStateCoding.Tag.null) }
    mutating func encode(_ value: Bool) throws { try begin(); core.bytes.append(value ? 2 : 1) }
    mutating func encode(_ value: String) throws { try begin(); core.writeString(value) }
    mutating func encode(_ value: Double) throws { try begin(); core.bytes.append(BinaryStateCoding.Tag.double); withUnsafeBytes(of: value.bitPattern.littleEndian) { core.bytes.append(contentsOf: $0) } }
    mutating func encode(_ value: Float) throws { try begin(); core.bytes.append(BinaryStateCoding.Tag.float); withUnsafeBytes(of: value.bitPattern.littleEndian) { core.bytes.append(contentsOf: $0) } }
    mutating func encode(_ value: Int) throws { try begin(); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try begin(); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try begin(); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try begin(); core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try begin(); core.writeSigned(value) }
    mutating func encode(_ value: UInt) throws { try begin(); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try begin(); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try begin(); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try begin(); core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try begin(); core.writeUnsigned(value) }
    mutating func encode(_ value: Int128) throws { try begin(); core.write128(BinaryStateCoding.Tag.int128, UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)) }
    mutating func encode(_ value: UInt128) throws { try begin(); core.write128(BinaryStateCoding.Tag.uint128, UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try begin(); try core.writeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        try? begin()
        return KeyedEncodingContainer(BinaryKeyedWriter<NestedKey>(core: core, id: core.open(BinaryStateCoding.Tag.keyed)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        try? begin()
        return BinaryUnkeyedWriter(core: core, id: core.open(BinaryStateCoding.Tag.unkeyed))
    }

    mutating func superEncoder() -> any Encoder {
        try? begin()
        return BinaryEncoder(core: core)
    }
}

struct BinarySingleWriter: SingleValueEncodingContainer {
    let core: BinaryEncodingCore
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { core.bytes.append(BinaryStateCoding.Tag.null) }
    mutating func encode(_ value: Bool) throws { core.bytes.append(value ? 2 : 1) }
    mutating func encode(_ value: String) throws { core.writeString(value) }
    mutating func encode(_ value: Double) throws { core.bytes.append(BinaryStateCoding.Tag.double); withUnsafeBytes(of: value.bitPattern.littleEndian) { core.bytes.append(contentsOf: $0) } }
    mutating func encode(_ value: Float) throws { core.bytes.append(BinaryStateCoding.Tag.float); withUnsafeBytes(of: value.bitPattern.littleEndian) { core.bytes.append(contentsOf: $0) } }
    mutating func encode(_ value: Int) throws { core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int8) throws { core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int16) throws { core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int32) throws { core.writeSigned(Int64(value)) }
    mutating func encode(_ value: Int64) throws { core.writeSigned(value) }
    mutating func encode(_ value: UInt) throws { core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { core.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { core.writeUnsigned(value) }
    mutating func encode(_ value: Int128) throws { core.write128(BinaryStateCoding.Tag.int128, UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)) }
    mutating func encode(_ value: UInt128) throws { core.write128(BinaryStateCoding.Tag.uint128, UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try core.writeValue(value) }
}
