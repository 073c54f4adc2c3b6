public import SolventCore
public import SolventRisk

extension Engine {
    /// An engine continuing from a saved state (a snapshot). The at-risk index is derived
    /// data: it is rebuilt from the accounts without advancing any procedure.
    ///
    /// `parallelIndex`: compute the accounts' bands on the worker threads (`restoreBands`); the
    /// index is the same either way (RestoreBandsTests).
    public init(restoring state: EngineState, fullRescan: Bool = false, parallelIndex: Bool = true) {
        self.init(unindexed: state, fullRescan: fullRescan)
        index = restoreIndex(parallel: parallelIndex)  // Engine+RestoreBands.swift
    }

    /// The restored engine before its index is built: the state with every account's version
    /// stamp advanced by one (as `reindex` registering it would), an empty index.
    private init(unindexed state: EngineState, fullRescan: Bool) {
        precondition(state.parameters.validationError() == nil, "invalid engine parameters in a restored state")
        self.state = state
        self.fullRescan = fullRescan
        index = AtRiskIndex(instruments: state.market.instruments.count)
        // Every account's bands, as `reindex` would register them one by one (each account's
        // version stamp advanced by one), in one bulk build. The stamps do not enter the bands
        // nor the state hash.
        for a in self.state.accounts.indices { self.state.accounts[a].indexVersion += 1 }
    }

    /// `Engine(restoring: state)` and its `stateHash()`, the hash computed as one more task of
    /// the worker threads rebuilding the index (both only read the state): what a recovery
    /// checking a snapshot's stored hash needs, in less wall time (the same engine and hash).
    public static func restoringWithStateHash(_ state: EngineState, fullRescan: Bool = false) -> (engine: Engine, stateHash: String) {
        var engine = Engine(unindexed: state, fullRescan: fullRescan)
        let reader = engine  // shares the state's storage: nothing below writes it
        // Written by the one task computing it; `concurrentPerform` returns after every task.
        nonisolated(unsafe) var hash = ""
        engine.index = reader.restoreIndex(parallel: true, alongside: { hash = reader.stateHash() })
        return (engine, hash)
    }

    /// Registers account `a`'s current bands in the index (no transition, no event).
    mutating func reindex(_ a: Int) {
        let (version, bands) = currentBands(a)
        index.register(a, version: version, bands: bands)
    }

    /// Account `a`'s current bands under a new index version stamp (stored on the account).
    mutating func currentBands(_ a: Int) -> (version: Int64, bands: [PriceBand]) {
        let record = state.accounts[a]
        let evaluation = evaluateAccount(record, prices: false)  // the bands read pool numbers only
        state.accounts[a].indexVersion += 1
        return (state.accounts[a].indexVersion, bands(a, evaluation))
    }

    /// The evaluation's pools under the engine's keys (cross, isolated by instrument).
    static func poolsByKey(_ record: EngineAccount, _ evaluation: AccountEvaluation) -> [(PoolKey, PoolEvaluation)] {
        var pools: [(PoolKey, PoolEvaluation)] = [(.cross, evaluation.cross)]
        for pool in evaluation.pools.dropFirst() {
            if case .isolated(let k) = pool.pool { pools.append((.isolated(instrument: record.account.positions[k].instrument), pool)) }
        }
        return pools
    }
}
