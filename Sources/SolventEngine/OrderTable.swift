public import SolventCore

/// The engine's open orders by storage key (`EngineState.orders`; the key rule is in
/// Engine+OrderIDs.swift): a dictionary split into `shardCount` shards by a hash of the key, so
/// that no insert ever rehashes the whole table (issue 18).
///
/// **Why shards.** A single `[String: OpenOrder]` doubles its storage when it fills: an insert
/// at ≈ 98,000 resting orders rehashed every one of them (≈ 6–10 ms on this machine), and at
/// 100 K orders/s offered every order queued behind that one waits for it — the p99.99 of
/// `bench pretrade` (58–73 ms at 200,000 orders). Here each shard holds about `count /
/// shardCount` orders, so the largest single rehash at 1,000,000 resting orders moves ≈ 190
/// entries (≈ 5–10 µs), and the rehashes of different shards fall on different inserts.
/// A flat slot table would still need this global key map: the storage key of a new order
/// depends on whether *another* account's order holds its plain id (Engine+OrderIDs.swift).
///
/// **Same state.** Its contents are a `[String: OpenOrder]`: the state hash iterates it sorted by
/// key as before, it encodes and decodes as that dictionary (same snapshot and JSON layout, old
/// snapshots restore unchanged: `OrderTableTests`), and equality is equality of the key–order
/// pairs. The shard of a key is FNV-1a over its UTF-8 bytes (deterministic, unseeded: only
/// where an order is kept depends on it, never a result; keys an attacker makes collide land in
/// one shard, which is then an ordinary seeded dictionary, as the whole table was before).
public struct OrderTable: Sendable, Equatable, Codable, Sequence, ExpressibleByDictionaryLiteral {
    /// Shards once the table has held `splitCount` orders; one shard before (a small state —
    /// every test and scenario — keeps one dictionary: no 4,096-way iteration in its debug
    /// invariants). The split moves those orders once (≈ 20 µs).
    static let shardCount = 4096
    static let splitCount = 256
    /// Capacity a shard starts with when the table splits (skips its first three resizes).
    static let shardCapacity = 12
    private var shards: [[String: OpenOrder]] = []
    public private(set) var count = 0

    public init() {}

    /// The table holding exactly `dictionary`'s key–order pairs.
    public init(_ dictionary: [String: OpenOrder]) {
        for (key, order) in dictionary { self[key] = order }
    }

    public init(dictionaryLiteral elements: (String, OpenOrder)...) {
        for (key, order) in elements { self[key] = order }
    }

    /// FNV-1a (64-bit) of the key's UTF-8 bytes, reduced to one of `shardCount` shards
    /// (Fowler–Noll–Vo, IETF draft-eastlake-fnv: offset basis 0xcbf29ce484222325, prime
    /// 0x100000001b3).
    @inline(__always) static func shard(_ key: String) -> Int {
        var key = key  // `withUTF8` is mutating (a bridged string would be made native; none here)
        let h = key.withUTF8 { bytes -> UInt64 in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return h
        }
        return Int(truncatingIfNeeded: (h ^ (h >> 32)) & UInt64(shardCount - 1))
    }

    /// The shard holding `key` in the current layout.
    @inline(__always) private func shardIndex(_ key: String) -> Int { shards.count == 1 ? 0 : Self.shard(key) }

    /// Moves the orders of the single shard into `shardCount` shards (once, at `splitCount`).
    private mutating func split() {
        var split = [[String: OpenOrder]](repeating: [:], count: Self.shardCount)
        for (key, order) in shards[0] {
            let s = Self.shard(key)
            if split[s].isEmpty { split[s].reserveCapacity(Self.shardCapacity) }
            split[s][key] = order
        }
        shards = split
    }

    public var isEmpty: Bool { count == 0 }

    /// The order stored under `key` (nil: none). Setting nil removes it.
    public subscript(key: String) -> OpenOrder? {
        get { shards.isEmpty ? nil : shards[shardIndex(key)][key] }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Stores `order` under `key`; returns the order it replaced (nil when the key was free).
    @discardableResult
    public mutating func updateValue(_ order: OpenOrder, forKey key: String) -> OpenOrder? {
        if shards.isEmpty { shards = [[:]] }
        if shards.count == 1 {
            let old = shards[0].updateValue(order, forKey: key)
            if old == nil {
                count += 1
                if count >= Self.splitCount { split() }
            }
            return old
        }
        let s = Self.shard(key)
        if shards[s].isEmpty { shards[s].reserveCapacity(Self.shardCapacity) }
        let old = shards[s].updateValue(order, forKey: key)
        if old == nil { count += 1 }
        return old
    }

    /// Removes the order stored under `key`; returns it (nil when there was none).
    @discardableResult
    public mutating func removeValue(forKey key: String) -> OpenOrder? {
        guard !shards.isEmpty, let old = shards[shardIndex(key)].removeValue(forKey: key) else { return nil }
        count -= 1
        return old
    }

    /// Changes the order stored under `key` in place; false (and no call) when there is none.
    @discardableResult
    public mutating func modify(_ key: String, _ change: (inout OpenOrder) -> Void) -> Bool {
        guard !shards.isEmpty else { return false }
        let s = shardIndex(key)
        guard shards[s][key] != nil else { return false }
        change(&shards[s][key]!)
        return true
    }

    /// Every storage key (in no particular order).
    public var keys: [String] { map { $0.key } }

    /// Every open order (in no particular order).
    public var values: [OpenOrder] { map { $0.value } }

    /// The key–order pairs as one dictionary.
    public var dictionary: [String: OpenOrder] {
        var result: [String: OpenOrder] = [:]
        result.reserveCapacity(count)
        for (key, order) in self { result[key] = order }
        return result
    }

    public func makeIterator() -> FlattenSequence<[[String: OpenOrder]]>.Iterator { shards.joined().makeIterator() }

    public var underestimatedCount: Int { count }

    public static func == (a: OrderTable, b: OrderTable) -> Bool {
        guard a.count == b.count else { return false }
        if a.shards.count == b.shards.count { return a.count == 0 || a.shards == b.shards }  // one layout: a key's shard depends on the key only
        return a.allSatisfy { b[$0.key] == $0.value }
    }

    /// Encoded as the `[String: OpenOrder]` it holds (the layout before the shards).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(dictionary)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode([String: OpenOrder].self))
    }
}
