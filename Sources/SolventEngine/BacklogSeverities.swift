public import SolventCore
public import SolventRisk

/// The severities of liquidation-backlog accounts, kept across commands (issue 18): the drain
/// ranks the backlog on every command, and a fresh evaluation per backlog account and command
/// cost ≈ 14 % of a crossing tick, growing with the backlog.
///
/// Not part of the state (not hashed, not snapshotted, empty after a restore): an entry is a
/// memo of `Engine.severity(a)` together with every input that severity reads, and it is used
/// only when each of those inputs is still equal to the current one — the account's balances
/// and positions (`Account`), the assets, the instruments, the policy (one snapshot of these
/// three for all entries: a generation) and the marks of the instruments the account holds. A
/// standard account's evaluation (`MarginEvaluator.evaluate`) reads nothing else, so a used entry is exactly the severity a fresh evaluation would give:
/// the drain's order and events do not depend on the cache. Portfolio accounts and option
/// holders (whose evaluation also reads option marks, surfaces and time) are never cached.
///
/// Entries are written where an evaluation already exists (`evaluateAndAdvance` of an account
/// that is liquidating) or by the drain's own evaluation; an array compare is a buffer identity
/// check when the array was not written since, so a check costs a few comparisons per position.
struct BacklogSeverities: Sendable {
    struct Entry: Sendable {
        var severity: Engine.Severity
        /// The generation of the shared inputs (assets, instruments, policy) it was computed under.
        var generation: Int
        var account: Account
        var marks: [FixedDecimal?]
    }

    var entries: [Int: Entry] = [:]
    /// How many rankings a kept entry answered (for tests and benchmarks).
    var used = 0
    /// The shared inputs of the current generation; a change of any of them starts a new one
    /// (every older entry is then stale).
    var generation = 0
    var assets: [Asset] = []
    var instruments: [Instrument] = []
    var policy: MarginPolicy? = nil
}

extension Engine {
    /// Whether account `a`'s evaluation is the standard evaluator over its balances and
    /// positions alone (the accounts whose severity may be cached).
    func severityIsCacheable(_ record: EngineAccount) -> Bool {
        !record.isPortfolio && !record.account.positions.contains(where: { isOption($0.instrument) })
    }

    /// The severity of account `a` from an evaluation just computed for its current inputs (pool
    /// numbers, `prices: false` or not: severity reads equity and MM only).
    static func severity(of pool: PoolEvaluation) -> Severity {
        let bankrupt = !pool.equity.isPositive
        return Severity(bankrupt: bankrupt, value: bankrupt ? -pool.equity : (pool.maintenanceMargin.divided(by: pool.equity, rounding: .halfEven) ?? .max))
    }

    /// Records the severity of backlog account `a` from `evaluation`, the evaluation of its current inputs.
    /// `cacheable`: `severityIsCacheable` of the account, when the caller knows it.
    mutating func rememberSeverity(_ a: Int, _ evaluation: AccountEvaluation, cacheable: Bool? = nil) {
        guard keepsBacklogSeverities else { return }
        if let cacheable {
            guard cacheable else { return }
        } else {
            let record = state.accounts[a]  // a copy of the record, not of the engine (a method call on a projection of `self` copies `self`)
            guard severityIsCacheable(record) else { return }
        }
        let severity = Self.severity(of: worstPool(a, evaluation))
        store(a, severity)
    }

    /// The generation of the current assets, instruments and policy (a new one when any changed).
    private mutating func severityGeneration() -> Int {
        if severities.policy != state.parameters.policy || severities.assets != state.market.assets || severities.instruments != state.market.instruments {
            severities.generation += 1
            severities.assets = state.market.assets
            severities.instruments = state.market.instruments
            severities.policy = state.parameters.policy
        }
        return severities.generation
    }

    private mutating func store(_ a: Int, _ severity: Severity) {
        let generation = severityGeneration()
        severities.entries[a] = BacklogSeverities.Entry(severity: severity, generation: generation, account: state.accounts[a].account,
                                                        marks: state.market.marks)
    }

    /// `severity(a)`, from the kept entry when every input it read is unchanged, else evaluated (and kept).
    mutating func currentSeverity(_ a: Int) -> Severity {
        guard keepsBacklogSeverities else { return severity(a) }
        let generation = severityGeneration()
        if let entry = severities.entries[a], entry.generation == generation, !state.accounts[a].isPortfolio,
           entry.account == state.accounts[a].account,
           !state.accounts[a].account.positions.contains(where: { entry.marks[$0.instrument] != state.market.marks[$0.instrument] }) {
            #if DEBUG
            // The debug invariant of the memo: a kept severity is the one a fresh evaluation gives.
            if InvariantSwitch.enabled {
                let fresh = self.severity(a)
                precondition(fresh.bankrupt == entry.severity.bankrupt && fresh.value == entry.severity.value,
                             "kept severity of account \(state.accounts[a].id) is stale: \(entry.severity) against \(fresh)")
            }
            #endif
            severities.used &+= 1
            return entry.severity
        }
        let severity = self.severity(a)
        if severityIsCacheable(state.accounts[a]) { store(a, severity) } else { severities.entries[a] = nil }
        return severity
    }
}
