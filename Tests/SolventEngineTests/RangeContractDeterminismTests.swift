import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import Testing

/// A rejection's reason is part of the journaled result, so it must not depend on a
/// `Dictionary`'s iteration order (which differs between processes): a reorganization naming
/// several out-of-range heights is refused naming the smallest, every time.
@Suite struct RangeContractDeterminismTests {
    @Test func reorgRefusalNamesTheSmallestBadHeight() throws {
        var hashes: [Int64: String] = [:]
        for k in 0..<64 { hashes[2_000_000_000_000 + Int64(k) * 7] = "h\(k)" }
        hashes[-5] = "neg"
        hashes[10] = "ok"
        var reasons: Set<String> = []
        for attempt in 0..<20 {
            var engine = try Scenario.decode(JSONParser.parse(Array(EngineFuzzer.genesis.utf8))).makeEngine()
            // A fresh dictionary each time (its order may differ with capacity and insertion history).
            var copy: [Int64: String] = Dictionary(minimumCapacity: 64 + attempt)
            for (height, hash) in hashes.sorted(by: { ($0.key * Int64(attempt + 3)) % 97 < ($1.key * Int64(attempt + 3)) % 97 }) { copy[height] = hash }
            let events = engine.apply(TimedCommand(time: engine.state.time + 1, command: .chainReorg(chain: "eth", forkHeight: 10, newHashes: copy)))
            let rejected = try #require(events.first { $0.kind == .rejected })
            #expect(rejected.text("field") == "new_hashes")
            reasons.insert(rejected.text("reason") ?? "")
        }
        #expect(reasons == ["out of range: a block height must be in [0, 1e12], got -5"])
    }
}
