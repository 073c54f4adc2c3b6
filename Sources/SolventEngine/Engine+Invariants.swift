#if DEBUG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#endif
import SolventCore

/// The state's invariants, checked after every command in debug and test builds (`apply` calls
/// `checkInvariantsInDebug()`; release builds compile the call to nothing):
///
/// - **conservation per asset**: `opening + deposited − withdrawn = balances + fund + fees + external
///   + lender income` (docs/design.md, principle 3; lender income: docs/loans.md), and the insurance
///   fund is never negative; the lending pool's books match the loans (`lendingViolation`,
///   Engine+Interest.swift);
/// - **the at-risk index ≡ a rescan**: re-evaluating an account at the current marks, from its
///   current procedure state, moves no pool (no event, the same procedures, backlog and calls), so
///   the index did not miss an account that crossed a threshold (every account of a small state
///   after every command; a moving window of `rescanBudget` accounts per command in a large one);
/// - **backlog consistency**: the liquidation backlog is exactly the accounts with a liquidating
///   pool, the called set exactly those with a pool in a margin call, every member a valid account,
///   and no order or account refers to a missing one.
extension Engine {
    /// Traps with the broken invariant in debug builds; nothing in release builds.
    @inline(__always)
    func checkInvariantsInDebug() {
        #if DEBUG
        guard InvariantSwitch.enabled else { return }
        if let problem = invariantViolation() {
            preconditionFailure("engine invariant broken after command \(state.commandsApplied) (time \(state.time)): \(problem)")
        }
        #endif
    }

    /// The first broken invariant, described; nil when all hold.
    public func invariantViolation() -> String? {
        conservationViolation() ?? lendingViolation() ?? backlogViolation() ?? shardViolation() ?? optionStateViolation() ?? rescanViolation() ?? poolCacheViolation()
    }

    func conservationViolation() -> String? {
        for a in state.market.assets.indices {
            let symbol = state.market.assets[a].symbol
            if state.totals[a].insuranceFund.isNegative { return "the insurance fund in \(symbol) is negative (\(state.totals[a].insuranceFund))" }
            let gap = state.conservationGap(of: a)
            if !gap.isZero { return "money not conserved in \(symbol): opening + deposited − withdrawn exceeds balances + fund + fees + external by \(gap)" }
        }
        return nil
    }

    func backlogViolation() -> String? {
        var liquidating = Set<Int>(), called = Set<Int>()
        for (a, record) in state.accounts.enumerated() {
            if state.accountIndex[record.id] != a { return "account \"\(record.id)\" is not at its index \(a)" }
            for procedure in record.procedures.values {
                if procedure.isLiquidating { liquidating.insert(a) }
                if case .called = procedure { called.insert(a) }
            }
            for id in record.orders where state.orderKey(account: a, id: id) == nil { return "account \"\(record.id)\" lists order \"\(id)\" that is not open" }
        }
        for (key, order) in state.orders where !state.accounts.indices.contains(order.account) || !state.accounts[order.account].orders.contains(order.id) {
            return "open order \"\(key)\" is not listed by its account"  // checkOrder's duplicate check reads the list first
        }
        if state.accountIndex.count != state.accounts.count { return "\(state.accountIndex.count) ids index \(state.accounts.count) accounts" }
        if state.backlog != liquidating {
            return "the backlog \(names(state.backlog)) is not the set of liquidating accounts \(names(liquidating))"
        }
        if state.calledAccounts != called {
            return "the called set \(names(state.calledAccounts)) is not the set of accounts in a margin call \(names(called))"
        }
        return nil
    }

    /// Accounts re-evaluated per command by the rescan check: every account of a state up to this
    /// size; in a larger one (the lab's backtests of thousands of traders) a window of this many that
    /// moves on with every command, so consecutive commands cover every account and a debug-build
    /// test pays a bounded cost per command.
    static let rescanBudget = 64

    /// Re-evaluates the accounts (all, or this command's window) on a copy (the full-rescan oracle)
    /// and compares.
    func rescanViolation() -> String? {
        var copy = self
        copy.events = []
        let count = state.accounts.count
        let window: [Int] = count <= Self.rescanBudget ? Array(0..<count)
            : (0..<Self.rescanBudget).map { Int((Int64($0) + state.commandsApplied &* Int64(Self.rescanBudget)) % Int64(count)) }
        for a in window {
            let before = copy.state.accounts[a].procedures
            copy.evaluateAndAdvance(a, emit: true)
            if let event = copy.events.first {
                return "a rescan moves account \"\(state.accounts[a].id)\" (\(event.kind)): the at-risk index missed it"
            }
            if copy.state.accounts[a].procedures != before {
                return "a rescan changes the procedures of account \"\(state.accounts[a].id)\" without an event"
            }
        }
        if copy.state.backlog != state.backlog || copy.state.calledAccounts != state.calledAccounts {
            return "a rescan changes the backlog or the called set"
        }
        return nil
    }

    private func names(_ set: Set<Int>) -> String {
        let ids = set.sorted().prefix(5).map { $0 < state.accounts.count ? state.accounts[$0].id : "#\($0)" }
        return "[" + ids.joined(separator: ", ") + (set.count > 5 ? ", … \(set.count) in all" : "") + "]"
    }
}

#if DEBUG
/// `SOLVENT_ENGINE_INVARIANTS=0` turns the debug checks off (to measure their cost, or for a long
/// debug-build simulation); they are on by default in debug and test builds.
enum InvariantSwitch {
    static let enabled: Bool = getenv("SOLVENT_ENGINE_INVARIANTS").map { String(cString: $0) != "0" } ?? true
}
#endif
