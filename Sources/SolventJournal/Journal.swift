import SolventCore

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

    public init(sequence: Int64, key: String, body: [UInt8]) {
        self.sequence = sequence
        self.key = key
        self.body = body
        self.checksum = Self.checksum(sequence: sequence, key: key, body: body)
    }

    /// CRC-32C over `"<sequence>\n<key>\n"` followed by the body.
    public static func checksum(sequence: Int64, key: String, body: [UInt8]) -> UInt32 {
        CRC32C.checksum(Array("\(sequence)\n\(key)\n".utf8) + body)
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

/// An append-only journal of commands. A command is durable once `append` returns.
public protocol Journal: Sendable {
    /// Stores the genesis document (the starting book and parameters); once.
    func writeGenesis(_ body: [UInt8]) throws
    /// Appends one command under its idempotency key (a repeated key stores nothing).
    func append(key: String, body: [UInt8]) throws -> AppendOutcome
    /// Appends several commands in one transaction (group commit).
    func append(batch: [(key: String, body: [UInt8])]) throws -> [AppendOutcome]
    /// Reads the genesis and every intact command, in order.
    func read() throws -> JournalContents
    /// Stores a snapshot of the whole engine state taken after command `sequence`.
    func writeSnapshot(_ snapshot: Snapshot) throws
    /// Every intact snapshot, newest first (damaged ones are skipped).
    func snapshots() throws -> [Snapshot]
    /// Stores what applying commands produced (their events, JSON lines), in one
    /// transaction, so a retry with the same idempotency key gets the original answer.
    func recordResults(_ results: [(sequence: Int64, body: [UInt8])]) throws
    /// The highest sequence with a stored result (0 when none).
    func lastResultSequence() throws -> Int64
    /// The stored result of command `sequence`, if any.
    func result(sequence: Int64) throws -> [UInt8]?
    /// The sequence numbers of the idempotency keys among `keys` that are already journaled
    /// (a key absent from the answer is new). Used to find retries before applying anything.
    func sequences(forKeys keys: [String]) throws -> [String: Int64]
    /// The journaled command at `sequence`, if any (the service reads the request hash of an
    /// idempotency key's first use from it).
    func entry(sequence: Int64) throws -> JournalEntry?
}

extension Journal {
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
    public var checksum: UInt32 { CRC32C.checksum(Array("\(sequence)\n\(stateHash)\n\(version)\n".utf8) + body) }
}
