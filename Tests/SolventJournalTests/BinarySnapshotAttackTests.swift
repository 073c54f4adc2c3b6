import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

/// Hostile binary snapshot bodies with a valid CRC-32C (attacks/21-hostile-binary-snapshot.py):
/// each must be refused with a thrown error, never trap the process that recovers from it.
@Suite struct BinarySnapshotAttackTests {
    static let string: UInt8 = 5, decimal: UInt8 = 8, keyed: UInt8 = 9, unkeyed: UInt8 = 10, end: UInt8 = 15

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    /// A SOLVBIN1 body: root value then key table, with the right table offset and CRC-32C.
    static func body(root: [UInt8], table: [UInt8]) -> [UInt8] {
        let offset = UInt64(20 + root.count)
        var rest: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: offset >> (8 * UInt64($0))) }
        rest += root + table
        let crc = CRC32C.checksum(rest)
        return Array("SOLVBIN1".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) } + rest
    }

    /// An inline key `x` (key kind 1, one byte of UTF-8).
    static let inlineKeyX: [UInt8] = varint((1 << 2) | 1) + Array("x".utf8)

    static let hostileBodies: [(name: String, body: [UInt8])] = [
        ("key-table length 2^64-1", body(root: [keyed, end], table: varint(1) + varint(UInt64.max))),
        ("key-table length 2^63-1", body(root: [keyed, end], table: varint(1) + varint(UInt64(Int64.max)))),
        ("skipped string of length 2^64-1", body(root: [keyed] + inlineKeyX + [string] + varint(UInt64.max) + [end], table: varint(0))),
        ("skipped string of length 2^63-1", body(root: [keyed] + inlineKeyX + [string] + varint(UInt64(Int64.max)) + [end], table: varint(0))),
        ("200,000 nested containers", body(root: [keyed] + inlineKeyX + [UInt8](repeating: unkeyed, count: 200_000) + [UInt8](repeating: end, count: 200_001),
                                          table: varint(0))),
    ]

    @Test func hostileBodiesAreRefusedNotTrapped() {
        var checked = 0
        for (name, body) in Self.hostileBodies {
            #expect(BinaryStateCoding.isBinary(body), "\(name)")
            #expect(throws: (any Error).self, "\(name)") { _ = try BinaryStateCoding.decode(EngineState.self, from: body) }
            let snapshot = Snapshot(sequence: 1, stateHash: "0", version: EngineVersion.stateFormat, body: body)
            #expect(snapshot.decodedState() == nil, "\(name)")
            checked += 1
        }
        #expect(checked == 5)
    }

    /// The FuzzSnapshot corpus (Fuzz/Corpus/FuzzSnapshot: real snapshot bodies without magic and
    /// checksum, and inputs the fuzzer kept) replayed the harness's way: magic and a valid CRC-32C
    /// added, decoded as an `EngineState`; the real bodies restore.
    @Test func fuzzSnapshotCorpusReplays() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Corpus/FuzzSnapshot")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        var decoded = 0
        for name in names {
            let rest = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            let crc = CRC32C.checksum(rest)
            let body = Array("SOLVBIN1".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) } + rest
            if (try? BinaryStateCoding.decode(EngineState.self, from: body)) != nil { decoded += 1 }
        }
        #expect(names.count >= 10 && decoded >= 10)
    }

    /// A decimal whose raw value is `Int128.min` (no value of the type: its magnitude traps).
    @Test func int128MinDecimalIsRefused() throws {
        var encoded = try BinaryStateCoding.encode(FixedDecimal(raw: 1))
        #expect(encoded[20] == Self.decimal)
        for k in 0..<16 { encoded[21 + k] = k == 15 ? 0x80 : 0 }
        let patched = Self.body(root: Array(encoded[20..<37]), table: Array(encoded[37...]))
        #expect(throws: (any Error).self) { _ = try BinaryStateCoding.decode(FixedDecimal.self, from: patched) }
        // The same body with the raw value Int128.min + 1 (the most negative decimal) decodes.
        encoded[21] = 1
        let valid = Self.body(root: Array(encoded[20..<37]), table: Array(encoded[37...]))
        #expect(try BinaryStateCoding.decode(FixedDecimal.self, from: valid) == FixedDecimal(raw: Int128.min + 1))
    }
}
