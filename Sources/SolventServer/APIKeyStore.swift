import HTTPTypes
import Crypto
import Foundation
public import SolventCore

/// Who is calling: the role and, for an `account` key, the account it is bound to.
public struct Principal: Sendable, Hashable {
    public var keyID: String
    public var role: Role
    public var account: String?
}

/// API keys, stored hashed (SHA-256) in `keys.json` of the data folder; a key's plain text is
/// shown once, when it is created. A key may expire; a revoked key stays listed (revoked, with
/// its time) and never works again. The running server sees every change to keys.json made by
/// `solvent keys create|revoke` (or an edit of the file) on the next request: each lookup
/// compares the file's identity and modification time (one `stat`) with what was loaded.
public actor APIKeyStore {
    public struct StoredKey: Codable, Sendable {
        /// Public id: the first 12 hex digits of the hash (what `keys list` and `keys revoke` use).
        public var id: String
        /// SHA-256 of the key's text, hex.
        var hash: String
        public var role: Role
        public var account: String?
        /// Creation time (absent in stores written before it was recorded).
        public var created: Date?
        /// The key stops working at this time (nil: never).
        public var expires: Date?
        /// When the key was revoked (nil: not revoked).
        public var revoked: Date?

        /// Whether the key works at `now`.
        public func status(at now: Date) -> String {
            if revoked != nil { return "revoked" }
            if let expires, expires <= now { return "expired" }
            return "active"
        }
    }

    /// What a bearer token resolves to.
    public enum Lookup: Sendable {
        case valid(Principal)
        case unknown, revoked, expired
    }

    let path: String?
    private var keys: [String: StoredKey] = [:]  // by hash
    /// Identity of keys.json when last read (device, inode, size, modification time).
    private var loadedIdentity: FileIdentity?

    /// Loads `DIR/keys.json` (or starts empty); `directory` nil keeps keys in memory only.
    public init(directory: String?) throws {
        path = directory.map { $0 + "/keys.json" }
        loadedIdentity = path.flatMap(FileIdentity.init(path:))
        keys = try Self.read(path)
    }

    /// Re-reads keys.json when it changed since it was loaded (created, revoked, removed keys).
    private func refresh() {
        guard let path else { return }
        let identity = FileIdentity(path: path)
        guard identity != loadedIdentity else { return }
        // A file being replaced is renamed into place atomically: a failed read keeps the old set.
        if let stored = try? Self.read(path) {
            keys = stored
            loadedIdentity = identity
        }
    }

    /// The keys of keys.json by hash (empty when there is no file).
    private static func read(_ path: String?) throws -> [String: StoredKey] {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return [:] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let stored = try decoder.decode([StoredKey].self, from: data)
        return Dictionary(stored.map { ($0.hash, $0) }, uniquingKeysWith: { _, new in new })
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// Creates a key and returns its text (`slv_` + 32 random bytes in hex).
    public func create(role: Role, account: String?, expires: Date? = nil) throws -> String {
        precondition(role == .account ? account != nil : true, "an account key is bound to an account")
        refresh()
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = "slv_" + secret.hexString
        let hash = Self.hash(text)
        keys[hash] = StoredKey(id: Self.id(ofKey: text), hash: hash, role: role, account: account,
                               created: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)), expires: expires, revoked: nil)
        try persist()
        return text
    }

    /// Revokes the key with public id `id` (or a unique prefix of at least 6 characters);
    /// returns it, or nil when no key matches. Revoking twice keeps the first time.
    public func revoke(id: String, at now: Date = Date()) throws -> StoredKey? {
        refresh()
        let matches = keys.values.filter { id.count >= 6 && $0.id.hasPrefix(id) }
        guard matches.count == 1, var key = matches.first else { return nil }
        if key.revoked == nil { key.revoked = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)) }
        keys[key.hash] = key
        try persist()
        return key
    }

    /// Every key (no hashes, no secrets), oldest first.
    public func list() -> [StoredKey] {
        refresh()
        return keys.values.sorted { ($0.created ?? .distantPast, $0.id) < ($1.created ?? .distantPast, $1.id) }
    }

    /// What `token` is: a principal, or why not.
    public func lookup(_ token: String, now: Date = Date()) -> Lookup {
        refresh()
        guard let key = keys[Self.hash(token)] else { return .unknown }
        switch key.status(at: now) {
        case "revoked": return .revoked
        case "expired": return .expired
        default: return .valid(Principal(keyID: key.id, role: key.role, account: key.account))
        }
    }

    /// The principal of a bearer token, or nil when no valid key matches.
    public func principal(for token: String) -> Principal? {
        if case .valid(let principal) = lookup(token) { return principal }
        return nil
    }

    /// The public id of a key's text (the first 12 hex digits of its SHA-256).
    public static func id(ofKey text: String) -> String { String(hash(text).prefix(12)) }

    /// SHA-256 of a key's text, hex: what keys.json stores.
    public static func hash(ofKey text: String) -> String { hash(text) }

    static func hash(_ text: String) -> String { Array(SHA256.hash(data: Array(text.utf8))).hexString }

    /// Every stored key, hash included (a cluster node publishes them to PostgreSQL; docs/cluster.md).
    func exportKeys() -> [StoredKey] {
        refresh()
        return keys.values.sorted { $0.hash < $1.hash }
    }

    /// Merges the group's keys (from PostgreSQL) into this store: keys it lacks are added and a
    /// revocation wins over an active copy; keys.json is rewritten when anything changed.
    func merge(shared: [StoredKey]) throws {
        refresh()
        var changed = false
        for key in shared {
            if let local = keys[key.hash] {
                if local.revoked == nil, key.revoked != nil { keys[key.hash] = key; changed = true }
            } else {
                keys[key.hash] = key
                changed = true
            }
        }
        if changed { try persist() }
    }

    private func persist() throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(keys.values.sorted { $0.id < $1.id })
        let temporary = path + ".tmp.\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, field: "keys", reason: "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw APIError(.internalServerError, field: "keys", reason: "cannot replace \(path)") }
        loadedIdentity = FileIdentity(path: path)
    }
}

/// What identifies a version of a file cheaply: device, inode (a rename replaces it), size and
/// modification time in nanoseconds.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Darwin)
        seconds = info.st_mtimespec.tv_sec
        nanoseconds = info.st_mtimespec.tv_nsec
        #else
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
        #endif
    }
}
