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
/// Per instrument, a max-heap of lower band edges and a min-heap of upper band edges (4-ary
/// heaps, `EdgeHeap`: a pop sifts one path down, where the min-max heap of
/// swift-collections compared grandchildren at every level);
/// entries are versioned, so re-registering an account makes its old entries stale
/// (they are skipped when popped and dropped when a heap is compacted).
struct AtRiskIndex: Sendable {
    struct Entry: Comparable, Sendable {
        var price: FixedDecimal
        var account: Int
        var version: Int64
        static func < (a: Entry, b: Entry) -> Bool { a.price != b.price ? a.price < b.price : a.account < b.account }
    }

    private var lows: [EdgeHeap]
    private var highs: [EdgeHeap]
    private var versions: [Int64] = []
    private var bands: [[PriceBand]] = []
    private var liveEntries: [Int]

    init(instruments: Int) {
        lows = Array(repeating: EdgeHeap(highestFirst: true), count: instruments)
        highs = Array(repeating: EdgeHeap(highestFirst: false), count: instruments)
        liveEntries = Array(repeating: 0, count: instruments)
    }

    /// Takes the account's band array out of the index (its entries stay, stale once the account
    /// is registered again), for `register` to receive it back refilled: no array allocated per
    /// re-registration. The index holds no bands for the account until then.
    mutating func takeBands(_ account: Int) -> [PriceBand] {
        guard account < bands.count else { return [] }
        for band in bands[account] { liveEntries[band.instrument] -= 1 }
        var taken: [PriceBand] = []
        swap(&taken, &bands[account])  // moved out, not copied: the caller refills it uniquely referenced
        return taken
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
            lows[i] = EdgeHeap(newLows[i], highestFirst: true)
            highs[i] = EdgeHeap(newHighs[i], highestFirst: false)
        }
    }

    /// Accounts whose band on `instrument` the move from `old` to `new` leaves (or touches).
    mutating func crossed(instrument: Int, from old: FixedDecimal, to new: FixedDecimal) -> [Int] {
        var found: [Int] = []
        if new < old {
            while let top = lows[instrument].top, top.price >= new {
                lows[instrument].removeTop()
                if versions[top.account] == top.version { found.append(top.account) }
            }
        } else if new > old {
            while let top = highs[instrument].top, top.price <= new {
                highs[instrument].removeTop()
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
        lows[instrument] = EdgeHeap(newLows, highestFirst: true)
        highs[instrument] = EdgeHeap(newHighs, highestFirst: false)
    }
}

/// A 4-ary heap of band edges (`AtRiskIndex.Entry`, ordered by price, then account): the
/// highest first (lower edges: a falling mark reaches the highest first) or the lowest first
/// (upper edges). Four children per node: a pop sifts down half as many levels as a binary
/// heap (≈ 8 instead of ≈ 17 at 100k entries), comparing the four children of a level in one
/// 128-byte span (two cache lines instead of one per level: the levels below the cached top
/// are the misses of a large book). Which of two equal-priority entries pops first does not
/// matter to the index (`crossed` returns a set of accounts; `reevaluate` sorts it).
struct EdgeHeap: Sendable {
    private(set) var items: [AtRiskIndex.Entry] = []
    let highestFirst: Bool

    init(highestFirst: Bool) { self.highestFirst = highestFirst }

    /// A heap of `entries`, built in O(n) (Floyd: every inner node sifted down, last first).
    init(_ entries: [AtRiskIndex.Entry], highestFirst: Bool) {
        self.highestFirst = highestFirst
        items = entries
        guard items.count > 1 else { return }
        var i = (items.count - 2) / 4 + 1  // one past the last inner node (the parent of the last entry)
        while i > 0 {
            i -= 1
            siftDown(from: i)
        }
    }

    var count: Int { items.count }
    var top: AtRiskIndex.Entry? { items.first }

    mutating func insert(_ entry: AtRiskIndex.Entry) {
        items.append(entry)
        let first = highestFirst
        items.withUnsafeMutableBufferPointer { heap in
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 4
                guard first ? heap[parent] < entry : entry < heap[parent] else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = entry
        }
    }

    /// Removes the top entry (the heap is not empty).
    mutating func removeTop() {
        let last = items.removeLast()
        guard !items.isEmpty else { return }
        items[0] = last
        siftDown(from: 0)
    }

    private mutating func siftDown(from start: Int) {
        let first = highestFirst
        items.withUnsafeMutableBufferPointer { heap in
            let n = heap.count
            let entry = heap[start]
            var i = start
            while true {
                let child = 4 * i + 1
                guard child < n else { break }
                // The child that pops first among the (up to) four.
                var best = child
                var c = child + 1
                let end = Swift.min(child + 4, n)
                while c < end {
                    if first ? heap[best] < heap[c] : heap[c] < heap[best] { best = c }
                    c += 1
                }
                guard first ? entry < heap[best] : heap[best] < entry else { break }
                heap[i] = heap[best]
                i = best
            }
            heap[i] = entry
        }
    }
}

extension AtRiskIndex {
    /// Whether `other` holds the same entries in the same heap layout, the same versions, bands
    /// and live counts (RestoreBandsTests: the parallel restore builds the sequential one's index).
    func sameContents(as other: AtRiskIndex) -> Bool {
        lows.map(\.items) == other.lows.map(\.items) && highs.map(\.items) == other.highs.map(\.items)
            && versions == other.versions && bands == other.bands && liveEntries == other.liveEntries
    }
}
