import Crypto
import Foundation
import SolventCore
import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// The hand-written paths for the account index `[String: Int]` and the account array
/// (BinaryBulkCoding.swift) against the standard library's conformances through the generic
/// coder: the same bytes, the same decoded values, the same outcome on damaged bodies; the
/// CRC-32C of a header followed by a body; the streamed state hash against the hash of the
/// whole canonical text.
@Suite struct BinaryBulkCodingTests {
    /// A `[String: Int]` coded by `Dictionary`'s own conformance (not the coder's fast path).
    struct GenericIndex: Codable, Equatable {
        var index: [String: Int]
        init(_ index: [String: Int]) { self.index = index }
        init(from decoder: any Decoder) throws { index = try [String: Int](from: decoder) }
        func encode(to encoder: any Encoder) throws { try index.encode(to: encoder) }
    }

    struct Holder<I: Codable>: Codable {
        var names: [String]
        var index: I
    }

    /// Account ids of every kind: plain, empty, non-ASCII, and ids that parse as an `Int`
    /// (written as integer keys by `Dictionary`'s conformance).
    static func ids(_ count: Int, seed: UInt64) -> [String] {
        var rng = SplitMix64(seed: seed)
        var ids = ["", "ümlaut", "42", "-3", "+5", "007", "9223372036854775807", "1e3", " 1", "acct\"quote"]
        for n in 0..<count { ids.append(Int.random(in: 0..<4, using: &rng) == 0 ? "\(n)" : "acct-\(n)-\(UInt32.random(in: 0...UInt32.max, using: &rng))") }
        return ids
    }

    /// Encodes `index` both ways, checks equal bytes and equal decoded values both ways; returns 1.
    static func check(_ index: [String: Int], names: [String] = []) throws -> Int {
        let fast = try BinaryStateCoding.encode(Holder(names: names, index: index))
        let generic = try BinaryStateCoding.encode(Holder(names: names, index: GenericIndex(index)))
        #expect(fast == generic)
        let decodedFast = try? BinaryStateCoding.decode(Holder<[String: Int]>.self, from: fast)
        let decodedGeneric = try? BinaryStateCoding.decode(Holder<GenericIndex>.self, from: fast)
        #expect(decodedFast?.index == decodedGeneric?.index.index)
        return 1
    }

    @Test func indexSameBytesAndValues() throws {
        var checked = 0
        checked += try Self.check([:])
        for seed in UInt64(1)...6 {
            let ids = Self.ids(seed == 6 ? 5_000 : 40, seed: seed)  // 5,000: beyond the 4,096 interned keys
            var rng = SplitMix64(seed: seed &+ 100)
            var index: [String: Int] = [:]
            for id in ids { index[id] = Int.random(in: Int.min...Int.max, using: &rng) }
            checked += try Self.check(index)
            checked += try Self.check(index, names: Array(ids.prefix(8)))  // keys interned before the index
        }
        // Plain ids only: the fast reader takes them (and agrees with the generic one).
        let plain = Dictionary(uniqueKeysWithValues: (0..<300).map { ("acct-\($0)", $0) })
        let bytes = try BinaryStateCoding.encode(Holder(names: [], index: plain))
        #expect(try BinaryStateCoding.decode(Holder<[String: Int]>.self, from: bytes).index == plain)
        checked += 1
        #expect(checked == 14)
    }

    /// Damaged bodies (one byte of the values changed, checksum recomputed): the fast reader gives
    /// up or decodes exactly what the generic one does, for the index and the account array.
    @Test func damagedBodiesDecodeAlike() throws {
        let index = Dictionary(uniqueKeysWithValues: Self.ids(30, seed: 9).enumerated().map { ($1, $0 * 1_000_003 - 7) })
        let bytes = try BinaryStateCoding.encode(Holder(names: ["acct-1"], index: index))
        var tableOffset = 0
        for k in 0..<8 { tableOffset |= Int(bytes[12 + k]) << (8 * k) }
        var rng = SplitMix64(seed: 181)
        var decoded = 0, refused = 0
        for n in 0..<3_000 {
            var damaged = bytes
            let k = Int.random(in: BinaryStateCoding.headerSize..<tableOffset, using: &rng)
            damaged[k] = n % 3 == 0 ? UInt8.random(in: 0...15, using: &rng) : UInt8.random(in: 0...255, using: &rng)
            let crc = CRC32C.checksum(damaged[12...])
            for b in 0..<4 { damaged[8 + b] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(b))) }
            let fast = try? BinaryStateCoding.decode(Holder<[String: Int]>.self, from: damaged)
            let generic = try? BinaryStateCoding.decode(Holder<GenericIndex>.self, from: damaged)
            #expect(fast?.index == generic?.index.index, "byte \(k) set to \(damaged[k])")
            #expect(fast?.names == generic?.names)
            if fast == nil { refused += 1 } else { decoded += 1 }
        }
        #expect(decoded > 100 && refused > 100)
    }

    /// Every example scenario's state after every command: the snapshot (fast paths for the
    /// accounts and the index) restores to the same state hash, account index and accounts (their
    /// index version stamps one higher: the restore registers every account once).
    @Test func statesRoundTripAndIndexAgrees() throws {
        var checked = 0
        for name in BinarySnapshotTests.scenarios {
            let scenario = try BinarySnapshotTests.scenario(name)
            var engine = try scenario.makeEngine()
            for (n, command) in scenario.commands.enumerated() {
                _ = engine.apply(command)
                let snapshot = try Snapshot.of(engine, sequence: Int64(n))
                let restored = try #require(snapshot.restoredEngine())
                #expect(restored.stateHash() == engine.stateHash())
                #expect(restored.state.accountIndex == engine.state.accountIndex)
                #expect(restored.state.accounts == engine.state.accounts.map { var a = $0; a.snapshotIndexVersion += 1; return a })
                checked += 1
            }
        }
        #expect(checked > 40)  // 47 states over the 9 scenarios
    }

    @Test func checksumOfHeaderFollowedByBody() {
        var rng = SplitMix64(seed: 77)
        var checked = 0
        for (h, b) in [(0, 0), (0, 9), (5, 0), (13, 1), (31, 1_000), (64, 100_003)] {
            let head = (0..<h).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let body = (0..<b).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CRC32C.checksum(head, followedBy: body) == CRC32C.checksum(head + body))
            #expect(CRC32C.checksum(head, followedBy: body) == CRC32CSlicingTests.reference(head + body))
            checked += 1
        }
        let snapshot = Snapshot(sequence: 7, stateHash: "ab", version: 3, body: [1, 2, 3])
        #expect(snapshot.checksum == CRC32C.checksum(Array("7\nab\n3\n".utf8) + [1, 2, 3]))
        #expect(checked == 6)
    }

    /// The state hash, fed to SHA-256 in pieces, is the hash of the whole canonical text, on states
    /// whose text spans many pieces (4,000 accounts ≈ 1 MB) and on every example scenario's end state.
    @Test func streamedHashIsTheWholeTextsHash() throws {
        var checked = 0
        let input = RandomBook.input(accounts: 4_000, seed: 5)
        var big = Engine(market: input.market)
        for account in input.accounts { _ = try? big.openAccount(account) }
        #expect(big.canonicalState().count > 4 * 65_536)  // several pieces (Engine.canonicalPiece)
        var engines = [big]
        for name in BinarySnapshotTests.scenarios {
            let scenario = try BinarySnapshotTests.scenario(name)
            var engine = try scenario.makeEngine()
            for command in scenario.commands { _ = engine.apply(command) }
            engines.append(engine)
        }
        for engine in engines {
            #expect(engine.stateHash() == Array(SHA256.hash(data: engine.canonicalState())).hexString)
            checked += 1
        }
        #expect(checked == BinarySnapshotTests.scenarios.count + 1)
    }
}
