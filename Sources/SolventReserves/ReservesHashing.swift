import Crypto
public import SolventCore

/// The byte-level commitments of the Merkle-sum tree (format version 2, see docs/reserves.md).
///
/// Every hashed input is unambiguous: it starts with a domain-separation tag naming its kind
/// (`u8 length ‖ ASCII`), fixed-length fields have their length fixed by the format (salts and
/// hashes 32 bytes, amounts 16), and every variable-length field is preceded by its length
/// (`u32`, big-endian). Amounts are committed as their fixed-point integer (`amount × 10^18`) in
/// 16 bytes, big-endian two's complement. Hashes are SHA-256; derivations HMAC-SHA-256.
public enum ReservesHashing {
    public static let version = 2

    /// The domain-separation tags, one per kind of hash or derivation.
    public enum Tag: String, Sendable, CaseIterable {
        case leaf = "solvent/reserves/v2/leaf"
        case node = "solvent/reserves/v2/node"
        case root = "solvent/reserves/v2/root"
        case salt = "solvent/reserves/v2/salt"
        case split = "solvent/reserves/v2/split"

        /// `u8(length) ‖ ASCII(tag)`.
        public var bytes: [UInt8] {
            let ascii = Array(rawValue.utf8)
            return [UInt8(ascii.count)] + ascii
        }
    }

    /// Bytes of a salt: fixed by the format (a verifier rejects any other length).
    public static let saltLength = 32
    /// Bytes of a hash.
    public static let hashLength = 32

    /// `SHA-256(tag(leaf) ‖ salt ‖ u32(len id) ‖ UTF-8(id) ‖ enc(amount_1) ‖ … ‖ enc(amount_n))`.
    ///
    /// The salt must be `saltLength` bytes (verifiers check it before hashing; this function
    /// hashes what it is given so that tests can show the encoding alone separates fields).
    public static func leafHash(salt: [UInt8], account: String, amounts: some Collection<FixedDecimal>) -> [UInt8] {
        let id = Array(account.utf8)
        var bytes = Tag.leaf.bytes
        bytes.reserveCapacity(bytes.count + salt.count + 4 + id.count + 16 * amounts.count)
        bytes.append(contentsOf: salt)
        appendBigEndian(UInt64(id.count), byteCount: 4, to: &bytes)
        bytes.append(contentsOf: id)
        for amount in amounts { appendAmount(amount, to: &bytes) }
        return Array(SHA256.hash(data: bytes))
    }

    /// `SHA-256(tag(node) ‖ left hash ‖ left sums ‖ right hash ‖ right sums)`: a node commits to both
    /// children's sums, not only to their total (so a prover cannot shift value between subtrees).
    public static func nodeHash(left: [UInt8], leftSums: some Collection<FixedDecimal>,
                                right: [UInt8], rightSums: some Collection<FixedDecimal>) -> [UInt8] {
        var bytes = Tag.node.bytes
        bytes.reserveCapacity(bytes.count + 64 + 16 * (leftSums.count + rightSums.count))
        bytes.append(contentsOf: left)
        for amount in leftSums { appendAmount(amount, to: &bytes) }
        bytes.append(contentsOf: right)
        for amount in rightSums { appendAmount(amount, to: &bytes) }
        return Array(SHA256.hash(data: bytes))
    }

    /// `SHA-256(tag(root) ‖ u64 leaf count ‖ u32 asset count ‖ (u32 length ‖ UTF-8 symbol)* ‖ top hash ‖ top sums)`:
    /// the published root binds the asset list, the tree size and the totals.
    public static func rootHash(leafCount: Int, assets: [String], top: [UInt8], topSums: some Collection<FixedDecimal>) -> [UInt8] {
        var bytes = Tag.root.bytes
        appendBigEndian(UInt64(leafCount), byteCount: 8, to: &bytes)
        appendBigEndian(UInt64(assets.count), byteCount: 4, to: &bytes)
        for symbol in assets {
            let utf8 = Array(symbol.utf8)
            appendBigEndian(UInt64(utf8.count), byteCount: 4, to: &bytes)
            bytes.append(contentsOf: utf8)
        }
        bytes.append(contentsOf: top)
        for amount in topSums { appendAmount(amount, to: &bytes) }
        return Array(SHA256.hash(data: bytes))
    }

    /// HMAC-SHA-256 under one secret, with the keyed state computed once: salts and balance
    /// splits derive from it, so a snapshot is deterministic for a given state and secret, and
    /// two snapshots (two snapshot ids) share no salt and no split.
    public struct Deriver {
        let keyed: HMAC<SHA256>

        public init(secret: [UInt8]) { keyed = HMAC<SHA256>(key: SymmetricKey(data: secret)) }

        /// `HMAC(secret, tag(salt) ‖ u32(len snapshot) ‖ snapshot ‖ u32(len id) ‖ id ‖ u32(piece))`.
        public func salt(snapshot: String, account: String, piece: Int) -> [UInt8] {
            derive(ReservesHashing.derivationMessage(.salt, snapshot: snapshot, account: account, indices: [piece]))
        }

        /// `HMAC(secret, tag(split) ‖ u32(len snapshot) ‖ snapshot ‖ u32(len id) ‖ id ‖ u32(piece) ‖ u32(asset))`.
        public func split(snapshot: String, account: String, piece: Int, asset: Int) -> [UInt8] {
            derive(ReservesHashing.derivationMessage(.split, snapshot: snapshot, account: account, indices: [piece, asset]))
        }

        func derive(_ message: [UInt8]) -> [UInt8] {
            var mac = keyed
            mac.update(data: message)
            return Array(mac.finalize())
        }
    }

    static func derivationMessage(_ tag: Tag, snapshot: String, account: String, indices: [Int]) -> [UInt8] {
        var bytes = tag.bytes
        for field in [Array(snapshot.utf8), Array(account.utf8)] {
            appendBigEndian(UInt64(field.count), byteCount: 4, to: &bytes)
            bytes.append(contentsOf: field)
        }
        for index in indices { appendBigEndian(UInt64(index), byteCount: 4, to: &bytes) }
        return bytes
    }

    static func appendAmount(_ amount: FixedDecimal, to bytes: inout [UInt8]) {
        let bits = UInt128(bitPattern: amount.raw)
        for shift in stride(from: 120, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt128(shift))) }
    }

    static func appendBigEndian(_ value: UInt64, byteCount: Int, to bytes: inout [UInt8]) {
        for k in stride(from: byteCount - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
    }
}
