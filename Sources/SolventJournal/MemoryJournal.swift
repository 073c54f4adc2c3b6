import NIOConcurrencyHelpers

/// A journal kept in memory: for simulations that need the journal's semantics
/// (idempotency keys, reorganization rollback and replay) without durability.
public final class MemoryJournal: Journal, @unchecked Sendable {
    private let lock = NIOLock()
    private var genesis: [UInt8]?
    private var entries: [JournalEntry] = []
    private var keys: [String: Int64] = [:]
    private var stored: [Int64: Snapshot] = [:]
    /// Event store: events by sequence, and the commands whose events are stored.
    private var storedEvents: [Int64: StoredEvent] = [:]
    private var eventsThrough: Set<Int64> = []

    public func recordEvents(_ results: [(command: Int64, events: [StoredEvent])]) throws {
        lock.withLock { for (command, events) in results { store(events, command: command) } }
    }

    private func store(_ events: [StoredEvent], command: Int64) {
        for var e in events {
            e.command = command
            storedEvents[e.sequence] = e
        }
        eventsThrough.insert(command)
    }

    public func lastEventCommand() throws -> Int64 {
        lock.withLock { eventsThrough.max() ?? 0 }
    }

    public func events(_ query: EventQuery) throws -> [StoredEvent] {
        lock.withLock {
            let matching = storedEvents.values.filter { (e: StoredEvent) -> Bool in
                e.sequence > query.after && (query.account == nil || e.account == query.account) && (query.kind == nil || e.kind == query.kind)
                    && (query.commands?.contains(e.command) ?? true)
            }
            return Array(matching.sorted { $0.sequence < $1.sequence }.prefix(query.limit))
        }
    }

    public func events(command: Int64) throws -> [StoredEvent] {
        lock.withLock { storedEvents.values.filter { $0.command == command }.sorted { $0.sequence < $1.sequence } }
    }

    public func firstEventSequence() throws -> Int64? {
        lock.withLock { storedEvents.keys.min() }
    }

    public init() {}

    public func writeGenesis(_ body: [UInt8]) throws {
        try lock.withLock {
            if genesis != nil { throw JournalError("the journal already has a genesis document") }
            genesis = body
        }
    }

    public func append(records: [JournalRecord]) throws -> [AppendOutcome] {
        lock.withLock {
            records.map { record in
                let sequence = Int64(entries.count) + 1
                let storedKey = record.key.isEmpty ? "seq-\(sequence)" : record.key
                if let existing = keys[storedKey] { return .duplicate(sequence: existing) }
                keys[storedKey] = sequence
                entries.append(JournalEntry(sequence: sequence, key: storedKey, body: record.body, requestHash: record.requestHash))
                store(record.events, command: sequence)
                return .appended(sequence: sequence)
            }
        }
    }

    public func entry(sequence: Int64) throws -> JournalEntry? {
        lock.withLock { sequence >= 1 && sequence <= Int64(entries.count) ? entries[Int(sequence - 1)] : nil }
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
