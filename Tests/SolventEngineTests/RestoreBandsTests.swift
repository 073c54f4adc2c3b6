import SolventCore
@testable import SolventEngine
import SolventTestSupport
import Testing

/// The restore's at-risk index built with the accounts' bands computed on the worker threads
/// (`Engine.restoreBands(parallel: true)`, chunks of several sizes) against the one computed on
/// the calling thread: the same bands per account, the same index (heap layouts, versions, live
/// counts), and an engine holding either index answers the same commands with the same events;
/// `Engine.restoringWithStateHash` (the hash computed alongside) gives the same engine and hash.
@Suite struct RestoreBandsTests {
    @Test func parallelRebuildIsTheSequentialOne() {
        var checkedAccounts = 0, checkedBands = 0, checkedEvents = 0
        for seed in UInt64(1)...2 {
            var engine = randomEngine(seed: seed, accounts: 600, fullRescan: false)
            for command in randomCommands(seed: seed, engine: engine, count: 30) { _ = engine.apply(command) }
            let state = engine.state
            var sequential = Engine(restoring: state, parallelIndex: false)
            let restored = Engine(restoring: state, parallelIndex: true)  // below the minimum: on this thread
            #expect(restored.index.sameContents(as: sequential.index))
            #expect(restored.state.accounts == sequential.state.accounts)  // the version stamps included
            let (alongside, hash) = Engine.restoringWithStateHash(state)  // below the minimum: one thread
            #expect(alongside.index.sameContents(as: sequential.index) && hash == sequential.stateHash())
            let sequentialBands = sequential.restoreBands(parallel: false)
            for chunk in [1, 7, 64, 599, 600, 10_000] {
                let parallelBands = sequential.restoreBands(parallel: true, chunk: chunk)
                #expect(parallelBands == sequentialBands)
                #expect(sequential.restoreIndex(parallel: true, chunk: chunk).sameContents(as: sequential.index))
                checkedBands += parallelBands.reduce(0) { $0 + $1.count }
            }
            checkedAccounts += state.accounts.count
            var parallel = sequential
            parallel.index = sequential.restoreIndex(parallel: true, chunk: 13)
            for command in randomCommands(seed: seed &+ 100, engine: parallel, count: 30) {
                let a = sequential.apply(command), b = parallel.apply(command)
                #expect(a == b)
                checkedEvents += a.count
            }
            #expect(parallel.index.sameContents(as: sequential.index))
            #expect(parallel.stateHash() == sequential.stateHash())
        }
        #expect(checkedAccounts == 1_200)
        #expect(checkedBands > 1_000)
        #expect(checkedEvents > 0)
    }

    /// A state past `parallelBandsMinimum` restores through the default chunks to the same index.
    @Test func defaultChunksAboveTheMinimum() {
        let engine = randomEngine(seed: 9, accounts: Engine.parallelBandsMinimum + 100, fullRescan: false)
        let sequential = Engine(restoring: engine.state, parallelIndex: false)
        let parallel = Engine(restoring: engine.state, parallelIndex: true)
        #expect(parallel.index.sameContents(as: sequential.index))
        #expect(parallel.state.accounts == sequential.state.accounts)
        #expect(sequential.state.accounts.count == Engine.parallelBandsMinimum + 100)
        // The hash computed while the index is built (recovery's `Snapshot.restoredEngine`).
        let (alongside, hash) = Engine.restoringWithStateHash(engine.state)
        #expect(alongside.index.sameContents(as: sequential.index))
        #expect(alongside.state.accounts == sequential.state.accounts)
        #expect(hash == sequential.stateHash() && hash == engine.stateHash())
    }
}
