import Foundation
import SolventCore
import SolventEngine
import SolventJournal
@testable import SolventServer
import Testing

/// `GET /v1/cluster`'s state hash (issue 19): computed once per applied sequence on the engine's
/// actor, so the dashboard's polling every second costs nothing between writes; a write changes it.
@Suite struct StateHashCacheTests {
    @Test func hashIsComputedOncePerSequence() async throws {
        let f = try await Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.folder) }
        let engine = f.engine
        let computedBefore = await engine.stateHashComputations
        let first = await engine.sequenceAndHash()
        #expect(await engine.stateHashComputations == computedBefore + 1)
        var repeats = 0
        for _ in 0..<5 {
            #expect(await engine.sequenceAndHash() == first)
            repeats += 1
        }
        #expect(repeats == 5)
        #expect(await engine.stateHashComputations == computedBefore + 1, "repeated calls at one sequence compute nothing")
        #expect(await engine.journaled.engine.stateHash() == first.stateHash, "the cached hash is the state's")

        _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}"#), key: "d1")
        let second = await engine.sequenceAndHash()
        #expect(second.sequence == first.sequence + 1)
        #expect(second.stateHash != first.stateHash, "a write changes the hash")
        #expect(await engine.stateHashComputations == computedBefore + 2)
        #expect(await engine.journaled.engine.stateHash() == second.stateHash)
        #expect(await engine.sequenceAndHash() == second)
        #expect(await engine.stateHashComputations == computedBefore + 2)
    }
}
