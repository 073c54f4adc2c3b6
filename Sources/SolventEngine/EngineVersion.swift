/// The version of the engine's state format; snapshots carry it.
public enum EngineVersion {
    public static let stateFormat = 1
}
