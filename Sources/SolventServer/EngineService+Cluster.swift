import Foundation
import SolventCore
public import SolventEngine
public import SolventJournal

/// What a standby's catch-up step did.
public struct FollowStep: Sendable {
    /// Commands applied by this step.
    public var applied: Int
    /// The engine's last journal sequence after it.
    public var sequence: Int64
    /// The state hash at `sequence` when it is a multiple of the step's `hashEvery` (a snapshot
    /// sequence, to check against the leader's snapshot), else nil.
    public var stateHash: String?
}

extension EngineService {
    /// The last journaled command the engine reflects.
    public var journalSequence: Int64 { journaled.lastSequence }

    /// The journal sequence and the state hash there (`GET /v1/cluster`, polled every second by
    /// the dashboard), computed on the actor once per applied sequence: a repeated call at the
    /// same sequence returns the cached hash (`stateHashComputations` counts the computations).
    public func sequenceAndHash() -> (sequence: Int64, stateHash: String) {
        // Never the hash of an engine ahead of its journal.
        if needsRebuild { try? rebuildFromJournal() }
        let sequence = journaled.lastSequence
        if !needsRebuild, let cached = stateHashCache, cached.sequence == sequence { return (sequence, cached.hash) }
        let hash = journaled.engine.stateHash()
        stateHashComputations += 1
        if !needsRebuild { stateHashCache = (sequence, hash) }
        return (sequence, hash)
    }

    /// Rebuilds the engine from its journal (newest valid snapshot, then the commands after it):
    /// after a refused cluster append left it ahead of what is durable. While it fails
    /// (PostgreSQL unreachable) `needsRebuild` stays set and commands are refused.
    func rebuildFromJournal() throws {
        needsRebuild = true
        journaled = try JournaledEngine.recover(journal: journaled.journal, snapshotEvery: 0).engine
        let state = journaled.engine.state
        tracker.observe(state, sequence: state.eventSequence)
        needsRebuild = false
    }

    /// A hot standby's step: applies at most `limit` journaled commands after the engine's last
    /// (never past the next multiple of `hashEvery`, where it returns the state hash), and
    /// publishes their events and prices to this node's streams as the leader did for its own.
    func follow(_ journal: PostgresJournal, limit: Int, hashEvery: Int64) throws -> FollowStep {
        if needsRebuild { try rebuildFromJournal() }
        var limit = limit
        if hashEvery > 0 {
            let next = (journaled.lastSequence / hashEvery + 1) * hashEvery
            limit = min(limit, Int(next - journaled.lastSequence))
        }
        let entries = try journal.entries(after: journaled.lastSequence, limit: limit)
        guard !entries.isEmpty else { return FollowStep(applied: 0, sequence: journaled.lastSequence, stateHash: nil) }
        let applied = try journaled.follow(entries)
        for (_, events) in applied where !events.isEmpty { hub.publish(events: events.map { ($0, $0.json) }) }
        let state = journaled.engine.state
        tracker.observe(state, sequence: state.eventSequence)
        if !applied.isEmpty { hub.publish(prices: MarksView(state), sequence: state.eventSequence) }
        let sequence = journaled.lastSequence
        return FollowStep(applied: applied.count, sequence: sequence,
                          stateHash: hashEvery > 0 && sequence % hashEvery == 0 && !applied.isEmpty ? journaled.engine.stateHash() : nil)
    }
}

extension EngineService {
    /// The journal's last sequence, read on the engine's thread: the journal's PostgreSQL round
    /// trip blocks that thread (as every journal call does), never a cooperative one.
    func journalHead(_ journal: PostgresJournal) throws -> Int64 { try journal.head() }

    /// Sets who may append, on the engine's thread: the fence's lock waits for an append in
    /// progress (which runs on this thread too), so no cooperative thread ever waits on it.
    func setFence(_ journal: PostgresJournal, _ fence: JournalFence) { journal.fence = fence }

    /// The state hashes of the journal's snapshots after `sequence`, read on the engine's thread.
    func snapshotHashes(_ journal: PostgresJournal, after sequence: Int64) throws -> [(sequence: Int64, stateHash: String)] {
        try journal.snapshotHashes(after: sequence)
    }
}

extension EngineService {
    /// False while a refused cluster append left the engine ahead of its journal (no snapshot then).
    public var isClean: Bool { !needsRebuild }
}

extension EngineService {
    /// A cluster node's engine: a batch whose append is refused is undone by a rebuild from the journal.
    func keepStateBeforeBatches() { keepsStateBeforeBatch = true }
}
