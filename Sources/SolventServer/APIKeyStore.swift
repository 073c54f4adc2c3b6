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
/// shown once, when it is created.
public actor APIKeyStore {
    struct StoredKey: Codable, Sendable {
        var id: String
        /// SHA-256 of the key's text, hex.
        var hash: String
        var role: Role
        var account: String?
    }

    let path: String?
    private var keys: [String: StoredKey] = [:]  // by hash

    /// Loads `DIR/keys.json` (or starts empty); `directory` nil keeps keys in memory only.
    public init(directory: String?) throws {
        path = directory.map { $0 + "/keys.json" }
        (keys, loadedModification) = try Self.read(path)
    }

    /// Modification time of keys.json when last read (keys created by `solvent keys create`
    /// while the server runs are picked up on the first request that uses them).
    private var loadedModification: Date?

    private func reload() throws {
        let (stored, modified) = try Self.read(path)
        keys.merge(stored) { _, new in new }
        loadedModification = modified
    }

    /// The keys of keys.json by hash, and its modification time (empty when there is no file).
    private static func read(_ path: String?) throws -> ([String: StoredKey], Date?) {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return ([:], nil) }
        let stored = try JSONDecoder().decode([StoredKey].self, from: data)
        return (Dictionary(stored.map { ($0.hash, $0) }, uniquingKeysWith: { _, new in new }),
                try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// Creates a key and returns its text (`slv_` + 32 random bytes in hex).
    public func create(role: Role, account: String?) throws -> String {
        precondition(role == .account ? account != nil : true, "an account key is bound to an account")
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = "slv_" + secret.hexString
        let hash = Self.hash(text)
        keys[hash] = StoredKey(id: String(hash.prefix(12)), hash: hash, role: role, account: account)
        try persist()
        loadedModification = path.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
        return text
    }

    /// The principal of a bearer token, or nil when no key matches.
    public func principal(for token: String) -> Principal? {
        let hash = Self.hash(token)
        if keys[hash] == nil, let path,
           let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified != loadedModification {
            try? reload()
        }
        guard let key = keys[hash] else { return nil }
        return Principal(keyID: key.id, role: key.role, account: key.account)
    }

    static func hash(_ text: String) -> String { Array(SHA256.hash(data: Array(text.utf8))).hexString }

    private func persist() throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(keys.values.sorted { $0.id < $1.id })
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ServiceError(status: 500, field: "keys", reason: "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw ServiceError(status: 500, field: "keys", reason: "cannot replace \(path)") }
    }
}

/// An API error: HTTP status, the field at fault and why (rendered as JSON).
public struct ServiceError: Error, Sendable {
    public var status: Int
    public var field: String
    public var reason: String
    /// For 429: seconds until a request would be allowed (the Retry-After header).
    public var retryAfter: Int?
    public init(status: Int, field: String, reason: String, retryAfter: Int? = nil) {
        self.status = status
        self.field = field
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("error"); w.beginObject()
        w.member("field", field)
        w.member("reason", reason)
        w.endObject()
        w.endObject()
        return w.string
    }
}
