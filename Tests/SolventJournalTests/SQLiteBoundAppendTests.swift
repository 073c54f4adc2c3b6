import Foundation
import GRDB
import SolventCore
@testable import SolventJournal
import Testing

/// The append path binds values in place (SQLiteRecordWriter, issue 18): what it stores reads
/// back byte for byte as the argument arrays stored it — empty bodies as empty blobs (not NULL),
/// an empty key as `seq-N`, non-ASCII keys and event texts, a request hash or none, an event
/// without an account as NULL, the checksum as `"<sequence>\n<key>\n" + body`'s; a key repeated
/// inside one group or across groups is a duplicate that stores nothing.
@Suite struct SQLiteBoundAppendTests {
    private static func folder() throws -> String {
        let folder = NSTemporaryDirectory() + "solvent-bound-append-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func storedRowsReadBackExactly() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try SQLiteJournal.create(directory: folder, genesis: Array("{}".utf8))
        let events = [StoredEvent(sequence: 1, command: 1, time: 7, kind: "margin_call", account: "ключ-€", body: #"{"a":"ü"}"#),
                      StoredEvent(sequence: 2, command: 1, time: 8, kind: "tick", account: nil, body: "")]
        let records = [
            JournalRecord(key: "k-1", body: Array(#"{"type":"tick"}"#.utf8), requestHash: String(repeating: "ab", count: 32), events: events),
            JournalRecord(key: "", body: []),                           // seq-2, empty body
            JournalRecord(key: "k-1", body: Array("again".utf8)),       // duplicate of the first, same group
            JournalRecord(key: "🔑 x", body: [0, 255, 10, 0]),          // binary body with NUL bytes
        ]
        let outcomes = try journal.append(records: records)
        #expect(outcomes == [.appended(sequence: 1), .appended(sequence: 2), .duplicate(sequence: 1), .appended(sequence: 3)])
        #expect(try journal.append(records: [JournalRecord(key: "seq-2", body: [1])]) == [.duplicate(sequence: 2)])

        let contents = try journal.read()
        #expect(contents.discardedTail == 0)
        #expect(contents.entries.map(\.key) == ["k-1", "seq-2", "🔑 x"])
        #expect(contents.entries.map(\.body) == [Array(#"{"type":"tick"}"#.utf8), [], [0, 255, 10, 0]])
        for entry in contents.entries {
            #expect(entry.checksum == CRC32C.checksum(Array("\(entry.sequence)\n\(entry.key)\n".utf8) + entry.body))
        }
        #expect(try journal.entry(sequence: 1)?.requestHash == String(repeating: "ab", count: 32))
        #expect(try journal.entry(sequence: 3)?.requestHash == nil)
        #expect(try journal.events(command: 1) == events)
        #expect(try journal.lastEventCommand() == 3)

        // The raw column types: blobs (an empty body too, never NULL), integers, text.
        let queue = try DatabaseQueue(path: folder + "/journal.sqlite")
        let types = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT typeof(key), typeof(body), typeof(checksum), typeof(request_sha256) FROM command ORDER BY sequence")
                .map { row in (0..<4).map { row[$0] as String } }
        }
        #expect(types == [["text", "blob", "integer", "text"], ["text", "blob", "integer", "null"], ["text", "blob", "integer", "null"]])
        let accounts = try queue.read { db in try Row.fetchAll(db, sql: "SELECT typeof(account) FROM event ORDER BY sequence").map { $0[0] as String } }
        #expect(accounts == ["text", "null"])
        try queue.close()
    }

    /// Groups of 1–160 random records (so whole chunks of ``SQLiteChunkWriter/rows`` and
    /// remainders; keys from a small pool in one run, so many chunks meet a known or repeated key
    /// and fall back to rows, and from a large pool in the other), some with empty keys, request
    /// hashes and events: the outcomes and everything stored equal a journal given the same
    /// records one at a time (the row-by-row path only).
    @Test(arguments: [400, 1_000_000]) func groupsEqualOneByOne(keyPool: Int) throws {
        let grouped = try Self.folder(), single = try Self.folder()
        defer { for f in [grouped, single] { try? FileManager.default.removeItem(atPath: f) } }
        let a = try SQLiteJournal.create(directory: grouped, genesis: Array("{}".utf8))
        let b = try SQLiteJournal.create(directory: single, genesis: Array("{}".utf8))
        var rng = SplitMix64(seed: UInt64(keyPool))
        var eventSequence: Int64 = 0
        var chunked = 0, duplicates = 0
        for _ in 0..<25 {
            let records = (0..<Int.random(in: 1...160, using: &rng)).map { _ -> JournalRecord in
                let key = Int.random(in: 0..<20, using: &rng) == 0 ? "" : "k\(Int.random(in: 0..<keyPool, using: &rng))"
                let body = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let hash = Bool.random(using: &rng) ? String(Int.random(in: 0..<1_000_000, using: &rng), radix: 16) : nil
                let events = (0..<Int.random(in: 0...2, using: &rng)).map { _ -> StoredEvent in
                    eventSequence += 1
                    return StoredEvent(sequence: eventSequence, command: 0, time: eventSequence, kind: "k", account: Bool.random(using: &rng) ? "a" : nil, body: "{}")
                }
                return JournalRecord(key: key, body: body, requestHash: hash, events: events)
            }
            let outcomes = try a.append(records: records)
            var expected: [AppendOutcome] = []
            for record in records { expected += try b.append(records: [record]) }
            #expect(outcomes == expected)
            if records.count >= SQLiteChunkWriter.rows { chunked += 1 }
            duplicates += outcomes.filter { if case .duplicate = $0 { true } else { false } }.count
        }
        let left = try a.read(), right = try b.read()
        #expect(left.entries == right.entries && left.discardedTail == 0 && right.discardedTail == 0)
        for entry in left.entries {
            #expect(try a.entry(sequence: entry.sequence)?.requestHash == b.entry(sequence: entry.sequence)?.requestHash)
            #expect(try a.events(command: entry.sequence) == b.events(command: entry.sequence))
        }
        #expect(try a.lastEventCommand() == b.lastEventCommand())
        #expect(chunked > 10 && left.entries.count > 300)
        if keyPool == 400 { #expect(duplicates > 100) }
    }
}
