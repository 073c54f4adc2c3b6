import SolventCore
@testable import SolventEngine
import SolventTestSupport
import Testing

/// `EdgeHeap` (the at-risk index's 4-ary heaps) against a sorted array: built at once (Floyd) or
/// entry by entry, with inserts and pops interleaved, both directions, it pops the entries in
/// the order of (price, account) — highest first for lower edges, lowest first for upper edges
/// — with many equal prices (ties broken by account) and equal entries (same price and account,
/// another version: their order among themselves is free, so versions are not compared).
@Suite struct EdgeHeapTests {
    static func entry(_ rng: inout SplitMix64) -> AtRiskIndex.Entry {
        AtRiskIndex.Entry(price: FixedDecimal(raw: Int128(Int.random(in: -20...200, using: &rng)) * 1_000_000_000_000_000),
                          account: Int.random(in: 0..<50, using: &rng), version: Int64.random(in: 0...3, using: &rng))
    }

    @Test func popsInOrder() {
        var popped = 0
        for seed in UInt64(1)...40 {
            var rng = SplitMix64(seed: seed)
            let highestFirst = seed % 2 == 0
            let initial = (0..<Int.random(in: 0...300, using: &rng)).map { _ in Self.entry(&rng) }
            var heap = seed % 3 == 0 ? EdgeHeap(highestFirst: highestFirst) : EdgeHeap(initial, highestFirst: highestFirst)
            if seed % 3 == 0 { for e in initial { heap.insert(e) } }
            // The reference: the entries in pop order (kept sorted; an insert goes after its equals).
            func before(_ a: AtRiskIndex.Entry, _ b: AtRiskIndex.Entry) -> Bool { highestFirst ? b < a : a < b }
            var reference = initial.sorted(by: before)
            func key(_ e: AtRiskIndex.Entry) -> (FixedDecimal, Int) { (e.price, e.account) }
            for _ in 0..<800 {
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    let e = Self.entry(&rng)
                    heap.insert(e)
                    reference.insert(e, at: reference.firstIndex { before(e, $0) } ?? reference.count)
                } else {
                    #expect(heap.count == reference.count)
                    guard let top = heap.top else { #expect(reference.isEmpty); continue }
                    #expect(key(top) == key(reference[0]), "seed \(seed)")
                    heap.removeTop()
                    reference.removeFirst()
                    popped += 1
                }
            }
            // The heap property over the whole array (every child after its parent).
            let items = heap.items
            for c in items.indices.dropFirst() {
                let p = (c - 1) / 4
                #expect(highestFirst ? !(items[p] < items[c]) : !(items[c] < items[p]))
            }
        }
        #expect(popped > 5_000)
    }
}
