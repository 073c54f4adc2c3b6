import Foundation
import HTTPTypes
import SolventCore
import SolventJournal
@testable import SolventServer
import Testing

/// A cluster node's batch whose append is refused (docs/cluster.md "Fencing"): no copy of the
/// engine is kept per batch; the engine is rebuilt from the journal, so the refused command leaves
/// no trace, and the next batch is journaled normally. PostgreSQL from `SOLVENT_TEST_POSTGRES_URL`;
/// under CI a missing URL fails, elsewhere the suite is skipped.
@Suite(.serialized) struct RefusedBatchRebuildTests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil

    @Test(.enabled(if: enabled)) func refusedBatchIsUndoneByARebuild() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "rebuild_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let f = try await Fixture(postgres: (url, schema))
        defer { try? PostgresJournal(url: url, schema: schema).destroy() }
        let engine = f.engine
        _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}"#), key: "d1")
        await engine.keepStateBeforeBatches()
        let before = await engine.sequenceAndHash()
        let journal = try #require(await engine.journaled.journal as? PostgresJournal)

        // A leader's fence at an epoch the lease never had: the append is refused in PostgreSQL.
        journal.fence = .leader(lease: "leader", holder: "ghost", epoch: 7)
        var refused = 0
        do {
            _ = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"zed","asset":"USDT","amount":"5"}"#), key: "z1")
        } catch let error as APIError {
            #expect(error.status == .serviceUnavailable)
            refused += 1
        }
        #expect(refused == 1)
        #expect(!engine.awaitsRebuild, "the journal was reachable: the engine was rebuilt at once")
        #expect(await engine.account("zed") == nil, "the refused deposit left no trace")
        #expect(await engine.sequenceAndHash() == before, "same sequence and state hash as before the refused batch")

        // Back to an unfenced journal: the next batch is journaled after the last durable command.
        journal.fence = .none
        let outcome = try await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"zed","asset":"USDT","amount":"5"}"#), key: "z2")
        #expect(outcome.sequence == before.sequence + 1)
        #expect(await engine.account("zed") != nil)
    }
}
