import NIOConcurrencyHelpers

/// A journal kept in memory: for simulations that need the journal's semantics
/// (idempotency keys, reorganization rollback and replay) without durability.
public final class MemoryJournal: Journal, @unchecked Sendable {
    private let lock = NIOLock()
    private var genesis: [UInt8]?
    private var entries: [JournalEntry] = []
    private var keys: [String: Int64] = [:]
    private var stored: [Int64: Snapshot] = [:]
    private var results: [Int64: [UInt8]] = [:]

    public func recordResults(_ batch: [(sequence: Int64, body: [UInt8])]) throws {
        lock.withLock { for (sequence, body) in batch { results[sequence] = body } }
    }

    public func lastResultSequence() throws -> Int64 {
        lock.withLock { results.keys.max() ?? 0 }
    }

    public func result(sequence: Int64) throws -> [UInt8]? {
        lock.withLock { results[sequence] }
    }

    public init() {}

    public func writeGenesis(_ body: [UInt8]) throws {
        try lock.withLock {
            if genesis != nil { throw JournalError("the journal already has a genesis document") }
            genesis = body
        }
    }

    public func append(key: String, body: [UInt8]) throws -> AppendOutcome {
        try append(batch: [(key, body)])[0]
    }

    public func append(batch: [(key: String, body: [UInt8])]) throws -> [AppendOutcome] {
        lock.withLock {
            batch.map { key, body in
                let sequence = Int64(entries.count) + 1
                let storedKey = key.isEmpty ? "seq-\(sequence)" : key
                if let existing = keys[storedKey] { return .duplicate(sequence: existing) }
                keys[storedKey] = sequence
                entries.append(JournalEntry(sequence: sequence, key: storedKey, body: body))
                return .appended(sequence: sequence)
            }
        }
    }

    public func sequences(forKeys keys: [String]) throws -> [String: Int64] {
        lock.withLock { keys.reduce(into: [:]) { known, key in if let sequence = self.keys[key] { known[key] = sequence } } }
    }

    public func read() throws -> JournalContents {
        lock.withLock { JournalContents(genesis: genesis, entries: entries, discardedTail: 0) }
    }

    public func writeSnapshot(_ snapshot: Snapshot) throws {
        lock.withLock { stored[snapshot.sequence] = snapshot }
    }

    public func snapshots() throws -> [Snapshot] {
        lock.withLock { stored.values.sorted { $0.sequence > $1.sequence } }
    }
}
