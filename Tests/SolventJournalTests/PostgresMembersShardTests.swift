import Foundation
@testable import SolventJournal
import Testing

/// The group's member table with shards (issue 19, docs/cluster.md "Members"): one table in the
/// group's schema, each row keyed by (shard, node id), so two shards' nodes never overwrite each
/// other's heartbeat even with the same node id. PostgreSQL from `SOLVENT_TEST_POSTGRES_URL`
/// (under CI a missing URL fails, elsewhere the suite is skipped).
@Suite(.serialized) struct PostgresMembersShardTests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil

    @Test(.enabled(if: enabled)) func membersOfEveryShardShareTheTableByShardAndNode() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "members_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let table = try PostgresMembers(url: url, schema: schema)
        func member(_ shard: Int, _ id: String, applied: Int64) -> ClusterMember {
            ClusterMember(shard: shard, nodeID: id, url: "http://\(id)-\(shard)", role: shard == 0 ? "leader" : "standby", epoch: 1,
                          appliedSequence: applied, lagCommands: 0, lagMilliseconds: 0)
        }
        do {
            _ = try await table.heartbeat(member(0, "a", applied: 5), withinMilliseconds: 60_000)
            _ = try await table.heartbeat(member(1, "a", applied: 9), withinMilliseconds: 60_000)
            _ = try await table.heartbeat(member(1, "b", applied: 7), withinMilliseconds: 60_000)
            // A second heartbeat of shard 0's "a" updates its own row only.
            let rows = try await table.heartbeat(member(0, "a", applied: 6), withinMilliseconds: 60_000)
            #expect(rows.map { "\($0.shard)/\($0.nodeID)" } == ["0/a", "1/a", "1/b"], "ordered by shard, then node id")
            #expect(rows.map(\.appliedSequence) == [6, 9, 7])
            #expect(rows.map(\.url) == ["http://a-0", "http://a-1", "http://b-1"])
            #expect(rows.allSatisfy { $0.ageMilliseconds >= 0 && $0.ageMilliseconds < 60_000 })
            #expect(rows.count == 3)
        } catch {
            try? await table.destroy()
            throw error
        }
        try await table.destroy()
    }
    /// A connection whose setup failed is not kept (as the lease's, LeaseConnectionTests): a view
    /// named `member` makes the setup's ALTER TABLE fail, so the first heartbeat fails; once the
    /// view is gone the next heartbeat sets a new connection up, creating the table. A kept
    /// half-set-up connection would skip the setup and query a table that does not exist, forever.
    @Test(.enabled(if: enabled)) func failedSetupIsNotKept() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "members_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let journal = try PostgresJournal(url: url, schema: schema)
        defer { try? journal.destroy() }
        try journal.execute("CREATE VIEW \(schema).member AS SELECT 1 AS x")
        let table = try PostgresMembers(url: url, schema: schema)
        let member = ClusterMember(shard: 0, nodeID: "a", url: "http://a", role: "leader", epoch: 1, appliedSequence: 1,
                                   lagCommands: 0, lagMilliseconds: 0)
        var refused = 0
        do { _ = try await table.heartbeat(member, withinMilliseconds: 60_000) } catch { refused += 1 }
        #expect(refused == 1, "the setup failed on the view, so the heartbeat failed")
        try journal.execute("DROP VIEW \(schema).member")
        let rows = try await table.heartbeat(member, withinMilliseconds: 60_000)
        #expect(rows.map(\.nodeID) == ["a"], "the next heartbeat set the connection up again and created the table")
        await table.close()
    }
}
