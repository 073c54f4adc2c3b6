import Dispatch
import SolventCore

extension Engine {
    /// Below this many accounts the restore computes the bands on the calling thread (the
    /// threads' start-up would cost more than they save).
    static let parallelBandsMinimum = 4_096

    /// Every account's bands at the current state, account 0 first: `bands(a, evaluateAccount(…,
    /// prices: false))` per account, as `currentBands` computes them one by one.
    ///
    /// Each account's bands are a pure function of the state (the evaluation and the band
    /// computation read it and write nothing), so with `parallel` the accounts are split into
    /// contiguous chunks evaluated on the system's worker threads (`DispatchQueue.concurrentPerform`),
    /// each writing its accounts' own slots of the result: the same array, element for element,
    /// whatever the number of threads or the order the chunks ran in (RestoreBandsTests compares
    /// the index built from both).
    ///
    /// `chunk`: accounts per chunk (tests); by default about 64 chunks of at least 1,024
    /// accounts, and none below `parallelBandsMinimum` accounts.
    ///
    /// `alongside`: other work on the same threads (the restore's state hash), run as the first
    /// task of the same `concurrentPerform`, so the chunks balance around it (a nested
    /// `concurrentPerform` would run its chunks on one thread); before the loop when sequential.
    func restoreBands(parallel: Bool, chunk chunkSize: Int? = nil, alongside: (@Sendable () -> Void)? = nil) -> [[PriceBand]] {
        let n = state.accounts.count
        var result = [[PriceBand]](repeating: [], count: n)
        guard parallel, n >= (chunkSize == nil ? Self.parallelBandsMinimum : 1) else {
            alongside?()
            for a in 0..<n { result[a] = bands(a, evaluateAccount(state.accounts[a], prices: false)) }
            return result
        }
        // About 64 chunks: enough for the workers to balance uneven accounts (portfolio books,
        // many positions), few enough that the chunks' dispatch costs nothing measurable.
        let chunk = max(1, chunkSize ?? max(1_024, (n + 63) / 64))
        let chunks = (n + chunk - 1) / chunk
        result.withUnsafeMutableBufferPointer { out in
            // Each chunk writes its own accounts' slots only (disjoint ranges), and
            // `concurrentPerform` returns after every chunk has finished.
            guard let base = out.baseAddress else { return }
            nonisolated(unsafe) let slots = base
            let first = alongside == nil ? 0 : 1
            DispatchQueue.concurrentPerform(iterations: first + chunks) { task in
                if let alongside, task == 0 { return alongside() }
                let c = task - first
                for a in (c * chunk)..<min(n, (c + 1) * chunk) {
                    // Each slot holds the empty array's shared storage: assigning it releases nothing shared by another thread's slot.
                    slots[a] = bands(a, evaluateAccount(state.accounts[a], prices: false))
                }
            }
        }
        return result
    }

    /// The at-risk index of the current state, each account registered under its current version
    /// stamp with `restoreBands(parallel:chunk:)`: what `Engine(restoring:)` builds.
    func restoreIndex(parallel: Bool, chunk: Int? = nil, alongside: (@Sendable () -> Void)? = nil) -> AtRiskIndex {
        let bands = restoreBands(parallel: parallel, chunk: chunk, alongside: alongside)
        var registrations: [(version: Int64, bands: [PriceBand])] = []
        registrations.reserveCapacity(bands.count)
        for (a, accountBands) in bands.enumerated() { registrations.append((state.accounts[a].indexVersion, accountBands)) }
        return AtRiskIndex(instruments: state.market.instruments.count, registrations: registrations)
    }
}
