import HeapModule
public import SolventCore

/// A price interval of one instrument inside which an account cannot change status.
public struct PriceBand: Sendable, Hashable {
    public var instrument: Int
    /// Re-evaluate when the mark falls to or below this.
    public var low: FixedDecimal
    /// Re-evaluate when the mark rises to or above this (nil = never).
    public var high: FixedDecimal?
}

/// Finds the accounts a price tick may move across a threshold, without a rescan.
///
/// Per instrument, a max-heap of lower band edges and a min-heap of upper band edges;
/// entries are versioned, so re-registering an account makes its old entries stale
/// (they are skipped when popped and dropped when a heap is compacted).
struct AtRiskIndex: Sendable {
    struct Entry: Comparable, Sendable {
        var price: FixedDecimal
        var account: Int
        var version: Int64
        static func < (a: Entry, b: Entry) -> Bool { a.price != b.price ? a.price < b.price : a.account < b.account }
    }

    private var lows: [Heap<Entry>]
    private var highs: [Heap<Entry>]
    private var versions: [Int64] = []
    private var bands: [[PriceBand]] = []
    private var liveEntries: [Int]

    init(instruments: Int) {
        lows = Array(repeating: Heap(), count: instruments)
        highs = Array(repeating: Heap(), count: instruments)
        liveEntries = Array(repeating: 0, count: instruments)
    }

    /// Replaces the account's bands.
    mutating func register(_ account: Int, version: Int64, bands newBands: [PriceBand]) {
        while versions.count <= account { versions.append(0); bands.append([]) }
        for band in bands[account] { liveEntries[band.instrument] -= 1 }
        versions[account] = version
        bands[account] = newBands
        for band in newBands {
            liveEntries[band.instrument] += 1
            if band.low.isPositive { lows[band.instrument].insert(Entry(price: band.low, account: account, version: version)) }  // a mark is positive: a low edge at or below 0 is never reached
            if let high = band.high { highs[band.instrument].insert(Entry(price: high, account: account, version: version)) }
            compactIfNeeded(band.instrument)
        }
    }

    /// A fresh index holding, for accounts 0, 1, 2, … in order, `registrations` (a version stamp
    /// and bands each), as `register` called for each in turn would hold them: the same
    /// entries, each heap built once from its entries (Floyd's construction, O(n)) instead of an
    /// O(log n) insert per entry, the tables allocated at their size (restore: Engine+Restore.swift).
    /// Every account is registered once, so no entry is stale and no compaction is due.
    init(instruments: Int, registrations: [(version: Int64, bands: [PriceBand])]) {
        self.init(instruments: instruments)
        var newLows = [[Entry]](repeating: [], count: instruments)
        var newHighs = [[Entry]](repeating: [], count: instruments)
        versions.reserveCapacity(registrations.count)
        bands.reserveCapacity(registrations.count)
        for (account, (version, accountBands)) in registrations.enumerated() {
            versions.append(version)
            bands.append(accountBands)
            for band in accountBands {
                liveEntries[band.instrument] += 1
                if band.low.isPositive { newLows[band.instrument].append(Entry(price: band.low, account: account, version: version)) }
                if let high = band.high { newHighs[band.instrument].append(Entry(price: high, account: account, version: version)) }
            }
        }
        for i in 0..<instruments {
            lows[i] = Heap(newLows[i])
            highs[i] = Heap(newHighs[i])
        }
    }

    /// Accounts whose band on `instrument` the move from `old` to `new` leaves (or touches).
    mutating func crossed(instrument: Int, from old: FixedDecimal, to new: FixedDecimal) -> [Int] {
        var found: [Int] = []
        if new < old {
            while let top = lows[instrument].max, top.price >= new {
                _ = lows[instrument].popMax()
                if versions[top.account] == top.version { found.append(top.account) }
            }
        } else if new > old {
            while let top = highs[instrument].min, top.price <= new {
                _ = highs[instrument].popMin()
                if versions[top.account] == top.version { found.append(top.account) }
            }
        }
        return found
    }

    /// Rebuilds a heap pair from live bands when stale entries dominate.
    private mutating func compactIfNeeded(_ instrument: Int) {
        let size = lows[instrument].count + highs[instrument].count
        guard size > 4 * liveEntries[instrument] + 4096 else { return }
        var newLows: [Entry] = [], newHighs: [Entry] = []
        for (account, accountBands) in bands.enumerated() {
            for band in accountBands where band.instrument == instrument {
                if band.low.isPositive { newLows.append(Entry(price: band.low, account: account, version: versions[account])) }
                if let high = band.high { newHighs.append(Entry(price: high, account: account, version: versions[account])) }
            }
        }
        lows[instrument] = Heap(newLows)
        highs[instrument] = Heap(newHighs)
    }
}
