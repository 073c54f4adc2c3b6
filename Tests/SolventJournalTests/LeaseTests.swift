import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

private let leaseTestsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The cluster's lease and fence on PostgreSQL (docs/cluster.md): acquire only when expired with
/// epoch + 1, renew only while held, expiry by PostgreSQL's clock, and an append at a stale epoch
/// refused in its own transaction. PostgreSQL from `SOLVENT_TEST_POSTGRES_URL`; under CI a missing
/// URL fails.
@Suite(.serialized) struct LeaseTests {
    static let enabled = Backend.available.contains(.postgres)

    static func url() throws -> String {
        try #require(Backend.postgresURL, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
    }

    /// The lease of the expiry tests (ms). Everything a holder does while it must still hold the
    /// lease (a second node's refused acquire; `JournaledEngine.create` or `recover` and two
    /// appends, which check the lease by PostgreSQL's clock) has this long: 300–400 ms leases
    /// failed whenever a debug build on a loaded 2-core machine took longer (a CI flake).
    static let lease = 2_000

    static func freshSchema() -> String { "lease_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    static func document(_ name: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: leaseTestsRoot.appendingPathComponent("Examples/scenarios/\(name)"))))
    }

    @Test(.enabled(if: enabled)) func acquireRenewExpireAndEpochIncrement() async throws {
        let url = try Self.url(), schema = Self.freshSchema()
        defer { try? PostgresJournal(url: url, schema: schema).destroy() }
        let a = try PostgresLease(url: url, schema: schema, node: "a", advertise: "http://a", milliseconds: Self.lease)
        let b = try PostgresLease(url: url, schema: schema, node: "b", advertise: "http://b", milliseconds: Self.lease)
        // Never held: the first acquisition gets epoch 1; the second node is refused while it is held.
        #expect(try await a.current().live == false)
        #expect(try await a.acquire() == 1)
        #expect(try await b.acquire() == nil)
        let held = try await b.current()
        #expect(held.holder == "a" && held.advertise == "http://a" && held.epoch == 1 && held.live)
        #expect(held.remainingMilliseconds > 0 && held.remainingMilliseconds <= Self.lease)
        // Renewal: only the holder at its epoch.
        #expect(try await a.renew(epoch: 1))
        #expect(try await b.renew(epoch: 1) == false)
        #expect(try await a.renew(epoch: 2) == false)
        // Past the lease (PostgreSQL's clock) the holder can no longer renew; another node acquires with epoch + 1.
        try await Task.sleep(for: .milliseconds(Self.lease + 300))
        #expect(try await a.current().live == false)
        #expect(try await a.renew(epoch: 1) == false)
        #expect(try await b.acquire() == 2)
        #expect(try await a.acquire() == nil)
        // A clean release lets the next node in at once, again with epoch + 1.
        try await b.release(epoch: 2)
        #expect(try await a.acquire() == 3)
        await a.close()
        await b.close()
    }

    @Test(.enabled(if: enabled)) func staleEpochAppendIsRefused() async throws {
        let url = try Self.url(), schema = Self.freshSchema()
        let document = try Self.document("crash-adl.json")
        guard case .array(let commands)? = document["commands"], commands.count >= 4 else {
            Issue.record("crash-adl.json has fewer than 4 commands")
            return
        }
        let journalA = try PostgresJournal(url: url, schema: schema)
        defer { try? journalA.destroy() }
        let journalB = try PostgresJournal(url: url, schema: schema)
        let leaseA = try PostgresLease(url: url, schema: schema, node: "a", advertise: "http://a", milliseconds: Self.lease)
        let leaseB = try PostgresLease(url: url, schema: schema, node: "b", advertise: "http://b", milliseconds: Self.lease)

        // A standby never appends.
        journalA.fence = .standby
        #expect(throws: JournalFenced.self) { _ = try journalA.append(key: "x", body: Array("{}".utf8)) }

        // A leads at epoch 1 and journals two commands.
        let epochA = try #require(try await leaseA.acquire())
        journalA.fence = .leader(lease: "leader", holder: "a", epoch: epochA)
        var leader = try JournaledEngine.create(scenario: document, journal: journalA, snapshotEvery: 0)
        _ = try leader.submit(commands[0])
        _ = try leader.submit(commands[1])
        #expect(try journalA.head() == 2)

        // A is paused past its lease; B takes over at epoch 2 and catches up from the journal.
        try await Task.sleep(for: .milliseconds(Self.lease + 300))
        let epochB = try #require(try await leaseB.acquire())
        #expect(epochB == epochA + 1)
        journalB.fence = .leader(lease: "leader", holder: "b", epoch: epochB)
        var successor = try JournaledEngine.recover(journal: journalB, snapshotEvery: 0).engine
        #expect(successor.lastSequence == 2)
        #expect(successor.engine.stateHash() == leader.engine.stateHash())

        // A wakes up and tries to append: refused in the append's own transaction, nothing stored.
        #expect(throws: JournalFenced.self) { _ = try leader.submit(commands[2]) }
        #expect(try journalA.head() == 2)
        // Even re-pointed at epoch 2 under its own name, A is not the holder.
        journalA.fence = .leader(lease: "leader", holder: "a", epoch: epochB)
        #expect(throws: JournalFenced.self) { _ = try journalA.append(key: "y", body: Array("{}".utf8)) }

        // B appends at the next sequence: no fork, no gap.
        _ = try successor.submit(commands[2])
        _ = try successor.submit(commands[3])
        #expect(try journalB.head() == 4)
        let keys = try journalB.read().entries.map(\.sequence)
        #expect(keys == [1, 2, 3, 4])

        // B's lease lapses too: its own appends stop (expiry by PostgreSQL's clock), before anyone else acquired.
        try await Task.sleep(for: .milliseconds(Self.lease + 300))
        #expect(throws: JournalFenced.self) { _ = try journalB.append(key: "z", body: Array("{}".utf8)) }
        await leaseA.close()
        await leaseB.close()
    }

    /// A standby following the journal reaches the leader's state hash at every sequence.
    @Test(.enabled(if: enabled)) func standbyFollowsToTheSameHash() async throws {
        let url = try Self.url(), schema = Self.freshSchema()
        let document = try Self.document("short-squeeze-socialized.json")
        guard case .array(let commands)? = document["commands"], !commands.isEmpty else {
            Issue.record("the scenario has no commands")
            return
        }
        let journal = try PostgresJournal(url: url, schema: schema)
        defer { try? journal.destroy() }
        let lease = try PostgresLease(url: url, schema: schema, node: "a", advertise: "http://a", milliseconds: 5_000)
        let epoch = try #require(try await lease.acquire())
        journal.fence = .leader(lease: "leader", holder: "a", epoch: epoch)
        var leader = try JournaledEngine.create(scenario: document, journal: journal, snapshotEvery: 0)
        let standbyJournal = try PostgresJournal(url: url, schema: schema)
        standbyJournal.fence = .standby
        var standby = try JournaledEngine.recover(journal: standbyJournal, snapshotEvery: 0).engine
        var compared = 0
        for (n, command) in commands.enumerated() {
            _ = try leader.submit(command)
            if n % 3 == 2 || n == commands.count - 1 {
                let applied = try standby.follow(standbyJournal.entries(after: standby.lastSequence, limit: 1000))
                #expect(!applied.isEmpty)
                #expect(standby.lastSequence == leader.lastSequence)
                #expect(standby.engine.stateHash() == leader.engine.stateHash())
                compared += 1
            }
        }
        #expect(compared > 0)
        await lease.close()
    }
}
