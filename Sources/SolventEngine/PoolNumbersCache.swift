public import SolventCore
public import SolventRisk

/// The cross pool's numbers of each account's last evaluation, kept so that the pre-trade check
/// (`Engine.checkOrder`) reads them instead of evaluating the account again (issue 18).
///
/// Derived state, not part of the engine state: not in the state hash, the snapshot or the
/// journal; an engine built or restored from a state starts with an empty cache and fills it as
/// it evaluates accounts (`Engine.evaluateAndAdvance`).
///
/// **Staleness is impossible by construction, not by bookkeeping.** An entry is valid only while
/// every input of the evaluation it records is *equal* to the current one: the account's settle
/// asset, balances and positions (compared by value, so no mutation site can forget to
/// invalidate it), and the market (assets, instruments with their brackets, marks) and margin
/// policy of the cache's generation, themselves compared by value with the engine's current ones
/// at every read. The standard evaluation (`MarginEvaluator.evaluate`) is a pure function of
/// exactly these inputs, so equal inputs give the same numbers. Only accounts on that path are
/// cached: no option position (option values read implied vols outside the market) and not
/// portfolio-margined (`Engine.evaluateAccount`); the others keep the full evaluation.
///
/// The comparisons are cheap when nothing changed: an array equal to the cached one usually *is*
/// the cached one (same storage: `Array.==` returns at the identity check), and a changed one
/// differs in its first differing element. Holding the arrays makes the first in-place change of
/// an account's balances or positions after an evaluation copy that array (copy on write): one
/// small allocation on a path that re-evaluates the account anyway.
///
/// Memory: one 64-byte entry per account that was evaluated.
struct PoolNumbersCache: Sendable {
    /// The numbers of one account's last evaluation and the inputs they came from.
    struct Entry: Sendable {
        /// The cache generation the entry was taken in; 0: no entry.
        var generation: UInt64 = 0
        var settle: Int = 0
        var collateral: [CollateralBalance] = []
        var positions: [Position] = []
        /// Cross pool equity and initial margin (settle units), as `evaluateAccount(_, prices: false).cross` gave them.
        var equity: FixedDecimal = .zero
        var initialMargin: FixedDecimal = .zero
    }

    /// Bumped whenever the market or the policy the entries were taken under changes value; 0: none taken yet.
    private(set) var generation: UInt64 = 0
    private var market: Market? = nil
    private var policy: MarginPolicy? = nil
    private var entries: [Entry] = []

    /// Whether `market` and `policy` equal those of the current generation.
    func isCurrent(market: Market, policy: MarginPolicy) -> Bool {
        generation != 0 && self.market == market && self.policy == policy
    }

    /// Records account `a`'s cross numbers, evaluated from `account` under `market` and `policy`.
    mutating func store(_ a: Int, _ account: Account, equity: FixedDecimal, initialMargin: FixedDecimal, market: Market, policy: MarginPolicy) {
        // A new generation when the market or policy changed value. Equal values keep the held
        // copies: re-assigning them on every store cost two releases of a `Market` and a policy
        // per evaluation (issue 18: ≈ 45 % of the store in `bench apply`'s profile); a read then
        // compares equal values element by element until the next change.
        if !isCurrent(market: market, policy: policy) {
            generation &+= 1
            self.market = market
            self.policy = policy
        }
        if a >= entries.count { entries.append(contentsOf: repeatElement(Entry(), count: a + 1 - entries.count)) }
        entries[a] = Entry(generation: generation, settle: account.settle, collateral: account.collateral, positions: account.positions,
                           equity: equity, initialMargin: initialMargin)
    }

    /// Forgets account `a`'s entry (its evaluation left the cached path).
    mutating func forget(_ a: Int) {
        if a < entries.count { entries[a] = Entry() }
    }

    /// Account `a`'s cross equity and initial margin when its entry is valid for `account`,
    /// `market` and `policy` (see the type), else nil.
    func numbers(_ a: Int, _ account: Account, market: Market, policy: MarginPolicy) -> (equity: FixedDecimal, initialMargin: FixedDecimal)? {
        guard a < entries.count else { return nil }
        let entry = entries[a]
        guard entry.generation == generation, isCurrent(market: market, policy: policy), entry.settle == account.settle,
              entry.collateral == account.collateral, entry.positions == account.positions else { return nil }
        return (entry.equity, entry.initialMargin)
    }
}

extension Engine {
    /// Whether account `record`'s evaluation is the standard one the pool cache may hold: not
    /// portfolio-margined and no option position (`evaluateAccount`).
    func isPoolCacheable(_ record: EngineAccount) -> Bool {
        !record.isPortfolio && !record.account.positions.contains { isOption($0.instrument) }
    }

    /// Account `a`'s cross pool equity and initial margin (settle units) as
    /// `evaluateAccount(state.accounts[a], prices: false).cross` gives them: from the pool cache
    /// when its entry is valid (`PoolNumbersCache`), else by that evaluation.
    func crossEquityAndInitialMargin(_ a: Int) -> (equity: FixedDecimal, initialMargin: FixedDecimal) {
        // The record's fields read in place (no copy of the whole `EngineAccount`: issue 18).
        if !state.accounts[a].isPortfolio, let cached = poolCache.numbers(a, state.accounts[a].account, market: state.market, policy: state.parameters.policy) {
            return cached
        }
        let cross = evaluateAccount(state.accounts[a], prices: false).cross
        return (cross.equity, cross.initialMargin)
    }

    /// Keeps account `a`'s cross numbers of `evaluation` (just computed from `record` at the
    /// current market and policy) in the pool cache, or forgets them off the cached path.
    /// `cacheable`: `isPoolCacheable(record)`, when the caller knows it.
    mutating func cachePoolNumbers(_ a: Int, _ record: EngineAccount, _ evaluation: AccountEvaluation, cacheable: Bool? = nil) {
        guard cacheable ?? isPoolCacheable(record) else { poolCache.forget(a); return }
        let cross = evaluation.pools[0]  // `evaluation.cross`, read once
        poolCache.store(a, record.account, equity: cross.equity, initialMargin: cross.initialMargin,
                        market: state.market, policy: state.parameters.policy)
    }

    /// Debug invariant: every account whose pool-cache entry claims validity has the numbers a
    /// fresh evaluation gives (every account of a small state; the rescan check's moving window
    /// in a large one). Nil when it holds.
    func poolCacheViolation() -> String? {
        let count = state.accounts.count
        let window: [Int] = count <= Self.rescanBudget ? Array(0..<count)
            : (0..<Self.rescanBudget).map { Int((Int64($0) + state.commandsApplied &* Int64(Self.rescanBudget)) % Int64(count)) }
        for a in window {
            let record = state.accounts[a]
            guard let cached = poolCache.numbers(a, record.account, market: state.market, policy: state.parameters.policy) else { continue }
            if !isPoolCacheable(record) { return "account \"\(record.id)\" has a pool-cache entry off the standard evaluation path" }
            let fresh = evaluateAccount(record, prices: false).cross
            if fresh.equity != cached.equity || fresh.initialMargin != cached.initialMargin {
                return "the pool cache of account \"\(record.id)\" says equity \(cached.equity), IM \(cached.initialMargin); a fresh evaluation \(fresh.equity), \(fresh.initialMargin)"
            }
        }
        return nil
    }
}
