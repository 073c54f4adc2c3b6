public import SolventCore
import SolventRisk

extension Engine {
    /// The summary line of `solvent simulate` / `solvent replay`: commands applied, state
    /// hash, per-account balances, positions and status, and per-asset money totals with
    /// `opening + deposited − withdrawn = balances + insurance_fund + fees + external`.
    public func summaryJSON() -> String {
        var w = JSONWriter(reservingCapacity: 4096)
        w.beginObject()
        w.member("type", "summary")
        w.key("commands_applied"); w.integer(state.commandsApplied)
        w.member("state_hash", stateHash())
        w.key("accounts"); w.beginArray()
        for record in state.accounts {
            let evaluation = evaluateAccount(record)
            w.beginObject()
            w.member("id", record.id)
            w.member("status", evaluation.status.name)
            writePools(record, evaluation, into: &w)  // Engine+Portfolio.swift: each pool's equity, IM, MM (issue 17)
            w.key("balances"); w.beginObject()
            for balance in record.account.collateral { w.member(state.market.assets[balance.asset].symbol, balance.amount) }
            w.endObject()
            w.key("positions"); w.beginArray()
            for (k, p) in record.account.positions.enumerated() {
                w.beginObject()
                w.member("symbol", state.market.instruments[p.instrument].symbol)
                w.member("quantity", p.quantity)
                w.member("entry_price", p.entryPrice)
                if case .isolated(let m) = p.marginMode { w.member("isolated_margin", m) }
                w.member("unrealized_pnl", evaluation.positions[k].unrealizedPnl)
                w.endObject()
            }
            w.endArray()
            w.member("socialized_loss", record.socializedLoss)
            w.member("bad_debt", record.badDebt)
            if let a = state.accountIndex[record.id] { writeLoans(a, into: &w) }  // docs/loans.md (only with a loan)
            w.endObject()
        }
        w.endArray()
        w.key("totals"); w.beginObject()
        for (a, asset) in state.market.assets.enumerated() {
            let t = state.totals[a]
            w.key(asset.symbol); w.beginObject()
            w.member("opening", t.opening)
            w.member("deposited", t.deposited)
            w.member("withdrawn", t.withdrawn)
            w.member("balances", state.balances(of: a))
            w.member("insurance_fund", t.insuranceFund)
            w.member("fees", t.fees)
            w.member("external", t.external)
            w.member("socialized_loss", t.socializedLoss)
            writeLendingPool(a, into: &w)  // docs/loans.md (only once the pool lent)
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return w.string
    }
}
