public import SolventEngine
import SolventJournal

extension EngineService {
    /// Account `id`'s greeks (`Engine.greeks(of:)`, docs/options.md "Greeks"), nil for an unknown account.
    public func greeks(_ id: String) -> AccountGreeks? {
        journaled.engine.greeks(of: id)
    }
}
