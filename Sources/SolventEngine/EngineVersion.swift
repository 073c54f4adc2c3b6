/// The version of the engine's state format; snapshots carry it.
/// 2: the payout log (`EngineState.payouts`) and partial parameter updates in pending changes.
public enum EngineVersion {
    public static let stateFormat = 2
}
