/// Which shard holds an account (docs/cluster.md, "Stage 2 — accounts over shards").
///
/// `shard(account) = FNV-1a-64(UTF-8 bytes of the account id) mod N`: stable across processes,
/// platforms and releases (no seeded hasher), computable by any client or router without a
/// lookup. FNV-1a-64 is Fowler–Noll–Vo, variant 1a, 64 bits: start from the offset basis
/// 14695981039346656037, and for each byte `h = (h XOR byte) · 1099511628211 mod 2⁶⁴`
/// (L. C. Noll, "FNV hash", http://www.isthe.com/chongo/tech/comp/fnv/; IETF draft
/// draft-eastlake-fnv, §2 and its test vectors).
public enum ShardAssignment {
    /// The 64-bit FNV offset basis.
    public static let offsetBasis: UInt64 = 14_695_981_039_346_656_037
    /// The 64-bit FNV prime, 2⁴⁰ + 2⁸ + 0xb3.
    public static let prime: UInt64 = 1_099_511_628_211
    /// Most shards a venue may be split into.
    public static let maximumShards = 1024

    /// FNV-1a-64 of `bytes`.
    public static func fnv1a64<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = offsetBasis
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* prime
        }
        return h
    }

    /// The shard (0 ..< `count`) of account `account`; `count` in 1...`maximumShards` (1 ⇒ 0).
    public static func shard(of account: String, count: Int) -> Int {
        precondition(count >= 1 && count <= maximumShards, "a shard count is in 1...\(maximumShards)")
        return Int(fnv1a64(account.utf8) % UInt64(count))
    }
}
