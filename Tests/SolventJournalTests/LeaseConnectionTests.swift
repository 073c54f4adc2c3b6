import Foundation
@testable import SolventJournal
import Testing

/// The lease's connections (docs/cluster.md "The lease and the epoch"): a connection whose setup
/// failed is not kept (the next call sets up a new one), and the API key publisher's statements
/// never queue ahead of a renewal. PostgreSQL from `SOLVENT_TEST_POSTGRES_URL`; under CI a
/// missing URL fails, elsewhere the suite is skipped.
@Suite(.serialized) struct LeaseConnectionTests {
    static let enabled = Backend.available.contains(.postgres)

    /// The setup's insert of the lease row fails once (a check constraint refuses it): the call
    /// fails, and once the constraint is gone the next call sets the connection up again, so the
    /// row exists and can be acquired. A kept half-set-up connection would never insert the row
    /// (acquire would find nothing, forever) nor set its lock timeout.
    @Test(.enabled(if: enabled)) func failedSetupIsNotKept() async throws {
        let url = try LeaseTests.url(), schema = LeaseTests.freshSchema()
        let journal = try PostgresJournal(url: url, schema: schema)
        defer { try? journal.destroy() }
        try journal.execute("ALTER TABLE \(schema).lease ADD CONSTRAINT refuse_setup CHECK (expires > '-infinity')")
        let lease = try PostgresLease(url: url, schema: schema, node: "a", advertise: "http://a", milliseconds: 1_000)
        var refused = 0
        do { _ = try await lease.acquire() } catch { refused += 1 }
        #expect(refused == 1, "the setup failed, so the call failed")
        try journal.execute("ALTER TABLE \(schema).lease DROP CONSTRAINT refuse_setup")
        #expect(try await lease.acquire() == 1, "the next call set the connection up again: the row exists, epoch 1")
        #expect(try await lease.renew(epoch: 1))
        await lease.close()
    }

    /// Another session holds the lock of an API key row, so the key publisher's upsert of it
    /// waits. A renewal meanwhile answers at once: the keys have a connection of their own. On
    /// one shared connection the renewal would wait behind the blocked upsert (up to the lock
    /// timeout, a third of the lease, here 1 s).
    @Test(.enabled(if: enabled), .timeLimit(.minutes(1))) func renewalNeverWaitsBehindKeys() async throws {
        let url = try LeaseTests.url(), schema = LeaseTests.freshSchema()
        let blocker = try PostgresJournal(url: url, schema: schema)
        defer { try? blocker.destroy() }
        let lease = try PostgresLease(url: url, schema: schema, node: "a", advertise: "http://a", milliseconds: 3_000)
        let epoch = try #require(try await lease.acquire())
        try await lease.publishKeys([(hash: "h1", body: #"{"id":"1"}"#)])
        try blocker.execute("BEGIN")
        try blocker.execute("SELECT hash FROM \(schema).api_key WHERE hash = 'h1' FOR UPDATE")
        let publishing = Task { try await lease.publishKeys([(hash: "h1", body: #"{"id":"2"}"#)]) }
        try await Task.sleep(for: .milliseconds(200))  // the upsert is now waiting for the row lock
        var slowest = Duration.zero
        var renewed = 0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            if try await lease.renew(epoch: epoch) { renewed += 1 }
            slowest = max(slowest, ContinuousClock.now - start)
        }
        try blocker.execute("COMMIT")
        try await publishing.value
        #expect(renewed == 5)
        #expect(slowest < .milliseconds(300), "the slowest renewal took \(slowest) while the key publisher waited")
        #expect(try await lease.sharedKeys() == [#"{"id":"2"}"#], "the upsert went through once the lock was released")
        await lease.close()
    }
}
