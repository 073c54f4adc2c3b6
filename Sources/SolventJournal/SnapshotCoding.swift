import Foundation
public import SolventEngine

extension Snapshot {
    /// The snapshot of `engine` after journal entry `sequence`: the state in the binary layout
    /// (`BinaryStateCoding`: versioned by its magic, CRC-32C over the body, driven by the
    /// state's `Codable` conformances), its state hash and the state format version.
    public static func of(_ engine: Engine, sequence: Int64) throws -> Snapshot {
        let body = try BinaryStateCoding.encode(engine.state)
        return Snapshot(sequence: sequence, stateHash: engine.stateHash(), version: EngineVersion.stateFormat, body: body)
    }

    /// The state the body holds, or nil when it does not decode, is of another state format or
    /// fails `EngineState.structuralProblem` (an index out of its array, invalid parameters).
    /// Bodies written before the binary layout (JSON, `JSONEncoder` over `EngineState`) are
    /// still read: the layout is told by the first bytes (`SOLVBIN1`, or JSON's `{`).
    public func decodedState() -> EngineState? {
        guard version == EngineVersion.stateFormat else { return nil }
        guard var state = BinaryStateCoding.isBinary(body) ? try? BinaryStateCoding.decode(EngineState.self, from: body)
                                                             : try? JSONDecoder().decode(EngineState.self, from: Data(body)) else { return nil }
        // The account index is derived (not in the state hash): a body written before
        // `BinaryStateCoding.integerKey` stored an id such as "007" as the key 7, read back as
        // "7". Checked against the accounts' own ids and rebuilt from them when it differs.
        if !Self.indexMatchesAccounts(state) {
            state.accountIndex = [:]
            state.accountIndex.reserveCapacity(state.accounts.count)
            for (a, record) in state.accounts.enumerated() { state.accountIndex[record.id] = a }
        }
        // A body with a valid checksum but an index out of its array or parameters no command
        // could set would trap in `Engine(restoring:)` before the hash is compared: refused.
        guard state.structuralProblem() == nil else { return nil }
        return state
    }

    /// Whether `state.accountIndex` maps every account's id to its position and nothing else:
    /// as many entries as accounts, and each entry's position holds an account with that id. The
    /// keys are distinct, so their accounts' ids are, so the positions are distinct: `n` distinct
    /// positions in `0..<n` are all of them, and `accountIndex[accounts[a].id] == a` for every
    /// `a` — the lookup per account this replaces, without hashing a million ids again.
    static func indexMatchesAccounts(_ state: EngineState) -> Bool {
        guard state.accountIndex.count == state.accounts.count else { return false }
        return state.accounts.withUnsafeBufferPointer { accounts in
            for (id, a) in state.accountIndex {
                guard a >= 0, a < accounts.count, accounts[a].id == id else { return false }
            }
            return true
        }
    }

    /// The engine this snapshot restores, or nil when the body does not decode or the restored
    /// state's recomputed hash differs from the stored one (a damaged or forged snapshot).
    public func restoredEngine() -> Engine? {
        guard let state = decodedState() else { return nil }
        let restored = Engine.restoringWithStateHash(state)  // the hash computed while the index is rebuilt
        return restored.stateHash == stateHash ? restored.engine : nil
    }
}
