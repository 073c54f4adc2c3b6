public import SolventCore

/// The message numbers applied from one sender: every number up to `through`, and `beyond`
/// (numbers above it that arrived early). Delivery may reorder and repeat; the set is the
/// idempotent consumer's memory, kept compact by the contiguous prefix.
public struct DeliveredMessages: Sendable, Hashable, Codable {
    public var through: Int64 = 0
    public var beyond: Set<Int64> = []

    public func contains(_ n: Int64) -> Bool { n <= through || beyond.contains(n) }

    mutating func insert(_ n: Int64) {
        beyond.insert(n)
        while beyond.remove(through + 1) != nil { through += 1 }
    }
}

/// What a shard of a sharded engine keeps beside the single-node state (docs/cluster.md,
/// stage 2). Absent (nil) in a `1 of 1` engine, so its state, hash and snapshot are unchanged.
public struct ShardState: Sendable, Hashable, Codable {
    public var configuration: ShardConfiguration
    /// Messages this shard has sent (the last id is `s<index>-<messagesSent>`).
    public var messagesSent: Int64 = 0
    /// Message numbers applied, by sender shard.
    public var delivered: [Int: DeliveredMessages] = [:]
    /// Per asset index: money this shard's books received from other shards less what they
    /// gave, through messages sent (a `fund_draw` claims, a `fund_credit` gives) and applied.
    /// The per-shard conservation identity adds it to the inflows (`EngineState.conservationGap`).
    public var transfers: [RunningTotal]
    /// Per asset index: deficits claimed from the fund by `fund_draw` (cumulative; memo).
    public var fundReceivable: [RunningTotal]
    /// Fund shard, per asset index: what the clearing side covered of claimed deficits for fills
    /// beyond the fund's reach that ADL or the backstop took over (cumulative; memo).
    public var adlCovered: [RunningTotal]
    /// Fund shard, per asset index: deficits nothing covered, borne by the clearing side (cumulative; memo).
    public var badDebt: [RunningTotal]
    /// Fund shard: the last ADL ranking received, by instrument symbol then sender shard.
    public var candidates: [String: [Int: [AdlCandidate]]] = [:]
    /// Non-fund shard: the last ranking sent, by instrument symbol (a ranking is sent when it changed).
    public var sentCandidates: [String: [AdlCandidate]] = [:]

    public init(configuration: ShardConfiguration, assets: Int) {
        self.configuration = configuration
        transfers = [RunningTotal](repeating: .zero, count: assets)
        fundReceivable = transfers
        adlCovered = transfers
        badDebt = transfers
    }
}
