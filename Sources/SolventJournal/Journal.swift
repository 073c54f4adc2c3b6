import SolventCore
public import SolventEngine

/// One journaled command: its position, its client idempotency key, the command's JSON
/// (the scenario command shape of docs/scenarios.md, with an explicit time) and a CRC-32C.
public struct JournalEntry: Sendable, Hashable {
    /// Gap-free position from 1.
    public var sequence: Int64
    /// Client idempotency key; unique in the journal.
    public var key: String
    /// The command as JSON bytes.
    public var body: [UInt8]
    /// CRC-32C of `sequence`, `key` and `body` (see ``JournalEntry/checksum(sequence:key:body:)``).
    public var checksum: UInt32
    /// SHA-256 (hex) of the API request that carried the command (nil: none, e.g. an
    /// in-process caller); a retry of its key with another request is refused.
    public var requestHash: String?

    public init(sequence: Int64, key: String, body: [UInt8], requestHash: String? = nil) {
        self.sequence = sequence
        self.key = key
        self.body = body
        self.requestHash = requestHash
        self.checksum = Self.checksum(sequence: sequence, key: key, body: body)
    }

    /// CRC-32C over `"<sequence>\n<key>\n"` followed by the body.
    public static func checksum(sequence: Int64, key: String, body: [UInt8]) -> UInt32 {
        body.withUnsafeBufferPointer { CRC32C.frame(sequence: sequence, key: key, body: $0) }
    }

    /// Whether the stored checksum matches the content.
    public var isIntact: Bool { checksum == Self.checksum(sequence: sequence, key: key, body: body) }
}

/// What reading a journal found: the complete commands in order, and how many records
/// after the first damaged or missing one were ignored (a torn or corrupt tail).
public struct JournalContents: Sendable {
    public var genesis: [UInt8]?
    public var entries: [JournalEntry]
    /// Records not replayed because a checksum failed or a sequence number was missing.
    public var discardedTail: Int
}

/// The result of appending a command.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored at this sequence number.
    case appended(sequence: Int64)
    /// The key was already journaled at this sequence number: nothing was stored.
    case duplicate(sequence: Int64)
}

/// Errors of a journal backend, with the file or statement concerned.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One event as the event store holds it: rendered once (`body`, the JSON object the API
/// answers and streams), with the columns readers filter on.
public struct StoredEvent: Sendable, Hashable {
    /// The engine's event sequence (gap-free from 1).
    public var sequence: Int64
    /// The journal sequence of the command that produced it.
    public var command: Int64
    /// Engine time, ms since epoch.
    public var time: Int64
    /// `EventKind` raw value.
    public var kind: String
    public var account: String?
    /// The event as JSON (`EngineEvent.json`).
    public var body: String

    public init(sequence: Int64, command: Int64, time: Int64, kind: String, account: String?, body: String) {
        self.sequence = sequence
        self.command = command
        self.time = time
        self.kind = kind
        self.account = account
        self.body = body
    }

    /// `event` rendered once, produced by command `command`.
    public init(_ event: EngineEvent, command: Int64) {
        self.init(sequence: event.sequence, command: command, time: event.time, kind: event.kind.rawValue, account: event.account, body: event.json)
    }
}

/// One command to journal: its key, canonical body, request hash, and the events applying it
/// produced (stored in the same transaction).
public struct JournalRecord: Sendable {
    public var key: String
    public var body: [UInt8]
    public var requestHash: String?
    public var events: [StoredEvent]

    public init(key: String, body: [UInt8], requestHash: String? = nil, events: [StoredEvent] = []) {
        self.key = key
        self.body = body
        self.requestHash = requestHash
        self.events = events
    }
}

/// Which events a reader wants: after a sequence, of one account and one kind, at most `limit`.
public struct EventQuery: Sendable, Hashable {
    public var after: Int64
    public var account: String?
    public var kind: String?
    /// Only events of these commands (journal sequences).
    public var commands: ClosedRange<Int64>?
    public var limit: Int

    public init(after: Int64 = 0, account: String? = nil, kind: String? = nil, limit: Int = 1000) {
        self.after = after
        self.account = account
        self.kind = kind
        self.limit = limit
    }
}

/// An append-only journal of commands and the durable store of their events. A command and
/// its events are durable once `append` returns.
public protocol Journal: Sendable {
    /// Stores the genesis document (the starting book and parameters); once.
    func writeGenesis(_ body: [UInt8]) throws
    /// Appends commands with their events in one transaction (group commit). A repeated key
    /// stores nothing (neither the command nor its events). Events are stored under the
    /// command's actual sequence.
    func append(records: [JournalRecord]) throws -> [AppendOutcome]
    /// Reads the genesis and every intact command, in order.
    func read() throws -> JournalContents
    /// Reads the genesis and the intact commands after `sequence` only (gap-free from
    /// `sequence + 1`; `discardedTail` counts the records after the first damaged or missing
    /// one): what recovery from a snapshot taken after `sequence` needs. Backends without
    /// a range read filter `read()`.
    func read(after sequence: Int64) throws -> JournalContents
    /// Stores a snapshot of the whole engine state taken after command `sequence`.
    func writeSnapshot(_ snapshot: Snapshot) throws
    /// Every intact snapshot, newest first (damaged ones are skipped).
    func snapshots() throws -> [Snapshot]
    /// Stores the events of commands already journaled (recovery recomputes those of commands
    /// a previous format journaled without them), in one transaction; idempotent.
    func recordEvents(_ results: [(command: Int64, events: [StoredEvent])]) throws
    /// The highest command sequence whose events are stored (0 when none).
    func lastEventCommand() throws -> Int64
    /// Stored events in sequence order (the event store every reader uses).
    func events(_ query: EventQuery) throws -> [StoredEvent]
    /// The events command `sequence` produced (a retry's original answer).
    func events(command: Int64) throws -> [StoredEvent]
    /// The lowest stored event sequence (nil: none yet).
    func firstEventSequence() throws -> Int64?
    /// The sequence numbers of the idempotency keys among `keys` that are already journaled
    /// (a key absent from the answer is new). Used to find retries before applying anything.
    func sequences(forKeys keys: [String]) throws -> [String: Int64]
    /// The journaled command at `sequence`, if any (the service reads the request hash of an
    /// idempotency key's first use from it).
    func entry(sequence: Int64) throws -> JournalEntry?
}

extension Journal {
    /// Appends one command without events (tests, tools).
    public func append(key: String, body: [UInt8]) throws -> AppendOutcome {
        try append(records: [JournalRecord(key: key, body: body)])[0]
    }

    /// Appends commands without events in one transaction (tests, tools).
    public func append(batch: [(key: String, body: [UInt8])]) throws -> [AppendOutcome] {
        try append(records: batch.map { JournalRecord(key: $0.key, body: $0.body) })
    }

    /// Filters the whole journal (SQLite overrides it with a range read).
    public func read(after sequence: Int64) throws -> JournalContents {
        let contents = try read()
        return JournalContents(genesis: contents.genesis, entries: contents.entries.filter { $0.sequence > sequence }, discardedTail: contents.discardedTail)
    }

    /// Reads the whole journal; backends override it with a lookup by sequence.
    public func entry(sequence: Int64) throws -> JournalEntry? {
        try read().entries.first { $0.sequence == sequence }
    }
}

/// The whole engine state after a command, with its state hash (checked on restore).
public struct Snapshot: Sendable, Hashable {
    /// The last command included.
    public var sequence: Int64
    /// `Engine.stateHash()` of the state.
    public var stateHash: String
    /// Format version of `body` (the engine's state format).
    public var version: Int
    /// The encoded state.
    public var body: [UInt8]

    public init(sequence: Int64, stateHash: String, version: Int, body: [UInt8]) {
        self.sequence = sequence
        self.stateHash = stateHash
        self.version = version
        self.body = body
    }

    /// CRC-32C over the header and body.
    public var checksum: UInt32 { CRC32C.checksum(Array("\(sequence)\n\(stateHash)\n\(version)\n".utf8), followedBy: body) }
}
