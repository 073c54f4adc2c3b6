public import SolventEngine

extension JournaledEngine {
    /// A hot standby's step (docs/cluster.md): applies journaled commands that follow
    /// `lastSequence`, in order, exactly as recovery replays them (the same decoder and the same
    /// reorganization rollback), so the standby's engine is the leader's state at that sequence.
    /// Returns each applied command's sequence with its events. Entries at or before
    /// `lastSequence` are skipped; a gap stops the run (the next catch-up reads again).
    public mutating func follow(_ entries: [JournalEntry]) throws -> [(sequence: Int64, events: [EngineEvent])] {
        var applied: [(sequence: Int64, events: [EngineEvent])] = []
        let journal = self.journal
        for entry in entries where entry.sequence > lastSequence {
            guard entry.sequence == lastSequence + 1 else { break }
            guard entry.isIntact else { throw JournalError("journal entry \(entry.sequence) is damaged (checksum mismatch)") }
            let timed = try decode(entry)
            let events = try applyJournaled(timed, sequence: entry.sequence, history: { try journal.read() })
            lastSequence = entry.sequence
            applied.append((entry.sequence, events))
        }
        return applied
    }
}
