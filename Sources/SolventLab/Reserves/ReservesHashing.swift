import Crypto
public import SolventCore

/// The byte-level commitments of the Merkle-sum tree (format version 1, see docs/reserves.md).
///
/// Amounts are committed as their fixed-point integer (`amount × 10^18`) in 16 bytes,
/// big-endian two's complement. Hashes are SHA-256.
public enum ReservesHashing {
    public static let version = 1

    /// `SHA-256(salt ‖ UTF-8(account id))`: hides the id from everyone without the salt.
    public static func accountCommitment(salt: [UInt8], account: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(account.utf8))
        return Array(hasher.finalize())
    }

    /// `SHA-256(0x00 ‖ commitment ‖ amount_1 ‖ … ‖ amount_n)`.
    public static func leafHash(commitment: [UInt8], amounts: some Collection<FixedDecimal>) -> [UInt8] {
        var bytes: [UInt8] = [0x00]
        bytes.reserveCapacity(1 + 32 + 16 * amounts.count)
        bytes.append(contentsOf: commitment)
        for amount in amounts { appendAmount(amount, to: &bytes) }
        return Array(SHA256.hash(data: bytes))
    }

    /// `SHA-256(0x01 ‖ left hash ‖ left sums ‖ right hash ‖ right sums)`: a node commits to both
    /// children's sums, not only to their total (so a prover cannot shift value between subtrees).
    public static func nodeHash(left: [UInt8], leftSums: some Collection<FixedDecimal>,
                                right: [UInt8], rightSums: some Collection<FixedDecimal>) -> [UInt8] {
        var bytes: [UInt8] = [0x01]
        bytes.reserveCapacity(1 + 64 + 16 * (leftSums.count + rightSums.count))
        bytes.append(contentsOf: left)
        for amount in leftSums { appendAmount(amount, to: &bytes) }
        bytes.append(contentsOf: right)
        for amount in rightSums { appendAmount(amount, to: &bytes) }
        return Array(SHA256.hash(data: bytes))
    }

    /// `SHA-256(0x02 ‖ u64 leaf count ‖ u32 asset count ‖ (u32 length ‖ UTF-8 symbol)* ‖ top hash ‖ top sums)`:
    /// the published root binds the asset list, the tree size and the totals.
    public static func rootHash(leafCount: Int, assets: [String], top: [UInt8], topSums: some Collection<FixedDecimal>) -> [UInt8] {
        var bytes: [UInt8] = [0x02]
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

    /// HMAC-SHA-256 of `message` under `secret`: salts and balance splits derive from it, so a
    /// snapshot is deterministic for a given state and secret.
    public static func derive(secret: [UInt8], _ message: String) -> [UInt8] {
        Deriver(secret: secret).derive(message)
    }

    /// HMAC-SHA-256 under one secret, with the keyed state computed once.
    public struct Deriver {
        let keyed: HMAC<SHA256>

        public init(secret: [UInt8]) { keyed = HMAC<SHA256>(key: SymmetricKey(data: secret)) }

        public func derive(_ message: String) -> [UInt8] {
            var mac = keyed
            var text = message
            text.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
            return Array(mac.finalize())
        }
    }

    static func appendAmount(_ amount: FixedDecimal, to bytes: inout [UInt8]) {
        let bits = UInt128(bitPattern: amount.raw)
        for shift in stride(from: 120, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt128(shift))) }
    }

    static func appendBigEndian(_ value: UInt64, byteCount: Int, to bytes: inout [UInt8]) {
        for k in stride(from: byteCount - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
    }
}
