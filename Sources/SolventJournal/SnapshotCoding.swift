import Foundation
public import SolventEngine

extension Snapshot {
    /// The snapshot of `engine` after journal entry `sequence`: the state encoded, its state hash
    /// and the state format version.
    public static func of(_ engine: Engine, sequence: Int64) throws -> Snapshot {
        let body = try JSONEncoder().encode(engine.state)
        return Snapshot(sequence: sequence, stateHash: engine.stateHash(), version: EngineVersion.stateFormat, body: [UInt8](body))
    }

    /// The state the body holds, or nil when it does not decode or is of another state format.
    public func decodedState() -> EngineState? {
        guard version == EngineVersion.stateFormat else { return nil }
        return try? JSONDecoder().decode(EngineState.self, from: Data(body))
    }

    /// The engine this snapshot restores, or nil when the body does not decode or the restored
    /// state's recomputed hash differs from the stored one (a damaged or forged snapshot).
    public func restoredEngine() -> Engine? {
        guard let state = decodedState() else { return nil }
        let restored = Engine(restoring: state)
        return restored.stateHash() == stateHash ? restored : nil
    }
}
