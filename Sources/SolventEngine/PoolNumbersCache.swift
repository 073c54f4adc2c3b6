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
/// invalidate it), the assets, instruments (with their brackets) and margin policy of the
/// cache's generation (compared by value with the engine's current ones at every read), and the
/// marks **of the instruments the account holds** — only those: the standard evaluation
/// (`MarginEvaluator.evaluate`) reads `market.marks[i]` of held instruments and nothing else of
/// the marks, so a mark of an instrument the account does not hold leaves its entry valid
/// (issue 18: any mark used to start a new generation, so the entries rarely held). The
/// evaluation is a pure function of exactly these inputs, so equal inputs give the same numbers.
/// Only accounts on that path are cached: no option position (option values read implied vols
/// outside the market) and not portfolio-margined (`Engine.evaluateAccount`); the others keep
/// the full evaluation.
///
/// The marks, two ways, both comparisons of values:
/// - an account with **one position** keeps the mark its evaluation read (`Entry.mark`) and is
///   valid while the current mark of that instrument equals it (so also after the mark moves
///   away and back);
/// - with several positions, **per-instrument stamps**: the cache keeps the marks it last saw
///   (`marks`) and, per instrument, the clock value at which it saw that mark change
///   (`markStamps`); each store first compares the current marks with `marks`, stamps every
///   instrument whose mark differs with a new clock value, and takes the current marks. An
///   entry (stamped with the clock at its store) is valid while every held instrument's stamp
///   is at most the entry's and `marks[i]` equals the current mark: the stamp proves `marks[i]`
///   has not changed since the store, when it equalled the mark the evaluation read.
///
/// The comparisons are cheap when nothing changed: an array equal to the cached one usually *is*
/// the cached one (same storage: `Array.==` returns at the identity check), and a changed one
/// differs in its first differing element. Holding the arrays makes the first in-place change of
/// an account's balances or positions after an evaluation copy that array (copy on write): one
/// small allocation on a path that re-evaluates the account anyway.
///
/// Memory: one 96-byte entry per account that was evaluated, one mark and stamp per instrument.
struct PoolNumbersCache: Sendable {
    /// The numbers of one account's last evaluation and the inputs they came from.
    struct Entry: Sendable {
        /// The cache generation the entry was taken in; 0: no entry.
        var generation: UInt64 = 0
        /// The mark clock at the store (several positions: see the type).
        var stamp: UInt64 = 0
        var settle: Int = 0
        var collateral: [CollateralBalance] = []
        var positions: [Position] = []
        /// One position: whether its instrument had a mark at the evaluation, and that mark.
        var hasMark: Bool = false
        var mark: FixedDecimal = .zero
        /// Cross pool equity and initial margin (settle units), as `evaluateAccount(_, prices: false).cross` gave them.
        var equity: FixedDecimal = .zero
        var initialMargin: FixedDecimal = .zero
    }

    /// Bumped whenever the assets, instruments or policy the entries were taken under change
    /// value (or the number of instruments); 0: none taken yet.
    private(set) var generation: UInt64 = 0
    private var assets: [Asset] = []
    private var instruments: [Instrument] = []
    private var policy: MarginPolicy? = nil
    /// The marks as of the last store, and per instrument the clock value when its mark was last
    /// seen to change (see the type).
    private var marks: [FixedDecimal?] = []
    private var markStamps: [UInt64] = []
    private var clock: UInt64 = 0
    private var entries: [Entry] = []

    /// Whether the market's assets and instruments and `policy` equal those of the current generation.
    func isCurrent(market: Market, policy: MarginPolicy) -> Bool {
        generation != 0 && assets == market.assets && instruments == market.instruments && marks.count == market.marks.count
            && self.policy == policy
    }

    /// Records account `a`'s cross numbers, evaluated from `account` under `market` and `policy`.
    mutating func store(_ a: Int, _ account: Account, equity: FixedDecimal, initialMargin: FixedDecimal, market: Market, policy: MarginPolicy) {
        // A new generation when the assets, instruments or policy changed value. Equal values keep
        // the held copies (re-assigning them on every store cost releases per evaluation: issue 18).
        if !isCurrent(market: market, policy: policy) {
            generation &+= 1
            clock &+= 1
            assets = market.assets
            instruments = market.instruments
            self.policy = policy
            marks = market.marks
            markStamps = Array(repeating: clock, count: marks.count)
        } else if marks != market.marks {  // the identity check when no mark moved since the last store
            clock &+= 1
            for i in marks.indices where marks[i] != market.marks[i] { markStamps[i] = clock }
            marks = market.marks
        }
        if a >= entries.count { entries.append(contentsOf: repeatElement(Entry(), count: a + 1 - entries.count)) }
        var entry = Entry(generation: generation, stamp: clock, settle: account.settle, collateral: account.collateral, positions: account.positions,
                          equity: equity, initialMargin: initialMargin)
        if account.positions.count == 1, let mark = market.marks[account.positions[0].instrument] {
            entry.hasMark = true
            entry.mark = mark
        }
        entries[a] = entry
    }

    /// Forgets account `a`'s entry (its evaluation left the cached path).
    mutating func forget(_ a: Int) {
        if a < entries.count { entries[a] = Entry() }
    }

    /// Account `a`'s cross equity and initial margin when its entry is valid for `account`,
    /// `market` and `policy` (see the type), else nil.
    func numbers(_ a: Int, _ account: Account, market: Market, policy: MarginPolicy) -> (equity: FixedDecimal, initialMargin: FixedDecimal)? {
        guard a < entries.count, entries[a].generation == generation, isCurrent(market: market, policy: policy),
              entries[a].settle == account.settle, entries[a].collateral == account.collateral, entries[a].positions == account.positions
        else { return nil }
        let positions = account.positions
        if positions.count == 1 {
            // The one held instrument's mark equals the one the evaluation read (nil: had none).
            let current = market.marks[positions[0].instrument]
            guard entries[a].hasMark ? current == entries[a].mark : current == nil else { return nil }
        } else {
            let stamp = entries[a].stamp
            for position in positions {
                let i = position.instrument
                guard markStamps[i] <= stamp, marks[i] == market.marks[i] else { return nil }
            }
        }
        return (entries[a].equity, entries[a].initialMargin)
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
