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

    /// The state the body holds, or nil when it does not decode or is of another state format.
    /// Bodies written before the binary layout (JSON, `JSONEncoder` over `EngineState`) are
    /// still read: the layout is told by the first bytes (`SOLVBIN1`, or JSON's `{`).
    public func decodedState() -> EngineState? {
        guard version == EngineVersion.stateFormat else { return nil }
        if BinaryStateCoding.isBinary(body) { return try? BinaryStateCoding.decode(EngineState.self, from: body) }
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
