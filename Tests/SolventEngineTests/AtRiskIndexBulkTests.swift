import SolventCore
@testable import SolventEngine
import SolventTestSupport
import Testing

/// The restore's bulk-built at-risk index (`AtRiskIndex(instruments:registrations:)`, heaps built
/// once) against one built by `register` calls in account order: on random bands (open-ended,
/// non-positive lows, several bands per account and instrument) and random moves, both report
/// the same accounts in the same order, and keep doing so as the reported accounts re-register.
@Suite struct AtRiskIndexBulkTests {
    static func randomBands(_ rng: inout SplitMix64, instruments: Int) -> [PriceBand] {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            let low = FixedDecimal(raw: Int128(Int.random(in: -50...1_000, using: &rng)) * 1_000_000_000_000_000)
            let high: FixedDecimal? = Bool.random(using: &rng) ? nil : low + FixedDecimal(raw: Int128(Int.random(in: 0...500, using: &rng)) * 1_000_000_000_000_000)
            return PriceBand(instrument: Int.random(in: 0..<instruments, using: &rng), low: low, high: high)
        }
    }

    @Test func bulkEqualsOneByOne() {
        var checked = 0
        for seed in UInt64(1)...20 {
            var rng = SplitMix64(seed: seed)
            let instruments = Int.random(in: 1...3, using: &rng)
            let accounts = Int.random(in: 0...400, using: &rng)
            let registrations = (0..<accounts).map { _ in (version: Int64.random(in: 1...5, using: &rng), bands: Self.randomBands(&rng, instruments: instruments)) }
            var bulk = AtRiskIndex(instruments: instruments, registrations: registrations)
            var single = AtRiskIndex(instruments: instruments)
            for (a, r) in registrations.enumerated() { single.register(a, version: r.version, bands: r.bands) }
            var versions = registrations.map(\.version)
            var marks = (0..<instruments).map { _ in FixedDecimal(raw: Int128(Int.random(in: 1...1_000, using: &rng)) * 1_000_000_000_000_000) }
            for _ in 0..<60 {
                let i = Int.random(in: 0..<instruments, using: &rng)
                let new = FixedDecimal(raw: Int128(Int.random(in: 1...1_000, using: &rng)) * 1_000_000_000_000_000)
                let fromBulk = bulk.crossed(instrument: i, from: marks[i], to: new)
                let fromSingle = single.crossed(instrument: i, from: marks[i], to: new)
                #expect(fromBulk == fromSingle)
                checked += fromBulk.count
                marks[i] = new
                for a in Set(fromBulk).sorted() {
                    versions[a] += 1
                    let bands = Self.randomBands(&rng, instruments: instruments)
                    bulk.register(a, version: versions[a], bands: bands)
                    single.register(a, version: versions[a], bands: bands)
                }
            }
        }
        #expect(checked > 1_000)
    }
}
