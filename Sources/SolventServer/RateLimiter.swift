/// Per-key token buckets: each API key may make `burst` requests at once and `perSecond`
/// requests per second on average; beyond that the API answers 429 with Retry-After.
public actor RateLimiter {
    public let perSecond: Double
    public let burst: Double
    private var buckets: [String: (tokens: Double, updated: ContinuousClock.Instant)] = [:]
    /// Buckets kept before full ones are dropped (requests without a key have one bucket per
    /// peer address: many addresses must not grow the table without bound).
    private var pruneAt = 50_000

    public init(perSecond: Double = 2_000, burst: Double = 4_000) {
        precondition(perSecond > 0 && burst >= 1, "a positive rate and a burst of at least one request")
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Takes one token for `key`; returns nil when allowed, else the seconds to wait.
    public func take(_ key: String, now: ContinuousClock.Instant = .now) -> Double? {
        if buckets.count >= pruneAt { prune(now: now) }
        var bucket = buckets[key] ?? (burst, now)
        let elapsed = now - bucket.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(burst, bucket.tokens + seconds * perSecond)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
        buckets[key] = bucket
        return (1 - bucket.tokens) / perSecond
    }

    /// Drops the buckets that have refilled (a dropped bucket comes back full: nothing changes).
    private func prune(now: ContinuousClock.Instant) {
        buckets = buckets.filter { _, bucket in
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return bucket.tokens + seconds * perSecond < burst
        }
        pruneAt = max(50_000, 2 * buckets.count)
    }

    /// Buckets held (for tests).
    public var bucketCount: Int { buckets.count }
}
