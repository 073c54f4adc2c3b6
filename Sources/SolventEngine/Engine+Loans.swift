public import SolventCore
public import SolventRisk

/// Liquidating a loan (docs/loans.md, "Engine"): a cross pool without positions that carries
/// debt goes through the same margin-call procedure as one with positions (the evaluator puts
/// the debt's maintenance margin in the pool); when it liquidates, each step sells collateral to
/// repay debt through the backstop, at the collateral's price less a liquidation penalty that goes
/// to the insurance fund, at most a close factor of the debt per step (Aave v3's 50 %), all of it
/// when the pool is bankrupt. With no collateral left, a settle-asset debt goes to the existing
/// waterfall (insurance fund, socialized loss, bad debt written off on the account); a debt in
/// another asset is drawn from the fund in that asset, and the rest is bad debt borne by the
/// lending side (`external`).
extension Engine {
    /// Share of a debt repaid per liquidation step (Aave v3's close factor, 50 %).
    public static let loanCloseFactor = FixedDecimal(raw: 500_000_000_000_000_000)
    /// Discount at which the backstop takes collateral; the discount goes to the insurance fund
    /// in the collateral asset (5 %, Aave v3's liquidation bonus for its major collateral).
    public static let loanLiquidationPenalty = FixedDecimal(raw: 50_000_000_000_000_000)

    /// The account's debt not yet written off, per asset (units of the asset, > 0), in collateral order.
    func liveDebts(_ a: Int) -> [(asset: Int, amount: FixedDecimal)] {
        let record = state.accounts[a]
        var out: [(Int, FixedDecimal)] = []
        for balance in record.account.collateral where balance.amount.isNegative {
            var owed = -balance.amount
            if balance.asset == record.account.settle { owed -= record.writtenOff }
            if owed.isPositive { out.append((balance.asset, owed)) }
        }
        return out
    }

    /// Whether the account owes anything that is not written off: its cross pool is margined
    /// by the procedure even without positions.
    func hasLiveDebt(_ a: Int) -> Bool { !liveDebts(a).isEmpty }

    /// A cross pool without positions whose live debt is worth nothing in the settle asset
    /// (less than 10⁻¹⁸ after rounding, e.g. 10⁻¹⁷ USDT of interest on a BTC-settled account):
    /// maintenance margin 0, equity 0, not liquidatable. The procedure leaves it alone
    /// (docs/loans.md, "Engine"): with `MM = equity = 0` a call (`MM ≥ equity · call_ratio`)
    /// and its cure (`MM ≤ equity · restore_ratio`) would both hold, so each evaluation would
    /// open or cure a call in turn, and the at-risk index and a full rescan would disagree
    /// (attack 23).
    func isWorthlessDebtPool(_ pool: PoolEvaluation) -> Bool {
        pool.maintenanceMargin.isZero && pool.equity.isZero && pool.status < .liquidatable
    }

    /// One loan-liquidation step on the cross pool of account `a` (no cross positions left).
    /// Returns false when there is no live debt (the caller settles the empty pool as before).
    mutating func liquidateLoanStep(_ a: Int, bankrupt: Bool) -> Bool {
        repayLoansFromHoldings(a)  // what the account holds of a borrowed asset repays that loan first (b unchanged)
        let debts = liveDebts(a)
        guard !debts.isEmpty else { return false }
        let record = state.accounts[a]
        let settle = record.account.settle
        let prices = state.market.assets.map(\.price)
        func value(_ asset: Int, _ amount: FixedDecimal) -> FixedDecimal {
            amount.multiplied(by: prices[asset], rounding: .halfEven)?.divided(by: prices[settle], rounding: .halfEven) ?? RangeContract.maxCollateralValue
        }
        // The largest debt (by settle value; ties: the first), and the largest collateral in another asset.
        var debt = debts[0]
        for d in debts.dropFirst() where value(d.asset, d.amount) > value(debt.asset, debt.amount) { debt = d }
        var collateral: (asset: Int, amount: FixedDecimal)? = nil
        for balance in record.account.collateral where balance.amount.isPositive && balance.asset != debt.asset {
            if collateral == nil || value(balance.asset, balance.amount) > value(collateral!.asset, collateral!.amount) {
                collateral = (balance.asset, balance.amount)
            }
        }
        guard let collateral else {
            // Nothing left to sell: a loan from the lending pool goes to the fund in its asset, then
            // to the pool's lenders (Engine+Borrowing.swift); debt beyond it as before.
            if writeOffLoan(a, debt.asset, liveDebt: debt.amount).isPositive { return true }
            if debt.asset == settle { return false }  // the settle waterfall (settleEmptyPool)
            let covered = coverDeficit(a, debt.amount, settle: debt.asset, instrument: nil, pool: .cross)
            state.accounts[a].credit(debt.asset, debt.amount)
            state.totals[debt.asset].external -= debt.amount - covered
            return true
        }
        // Repay target (units of the debt asset): the close factor, or all of it when bankrupt.
        var target = bankrupt ? debt.amount : (debt.amount * Self.loanCloseFactor).rounded(toDigits: 8, rule: .up)
        if target > debt.amount || target.isZero { target = debt.amount }
        // Collateral to hand over: target·P_d / (P_c·(1 − penalty)), rounded up, at most what is held.
        let discounted = prices[collateral.asset] * (FixedDecimal.one - Self.loanLiquidationPenalty)
        var seized = collateral.amount
        if let needed = target.multiplied(by: prices[debt.asset], rounding: .up)?.divided(by: discounted, rounding: .up), needed < seized {
            seized = needed
        }
        let penalty = seized.multiplied(by: Self.loanLiquidationPenalty, rounding: .halfEven) ?? .zero
        let sold = seized - penalty
        // Proceeds in the debt asset, rounded down (the backstop never pays more than the price).
        let repaid = sold.multiplied(by: prices[collateral.asset], rounding: .down)?.divided(by: prices[debt.asset], rounding: .down) ?? .zero
        guard seized.isPositive else { return false }
        state.accounts[a].credit(collateral.asset, -seized)
        state.totals[collateral.asset].insuranceFund += penalty
        state.totals[collateral.asset].external += sold
        state.accounts[a].credit(debt.asset, repaid)
        state.totals[debt.asset].external -= repaid
        repayFromHoldings(a, debt.asset)  // the proceeds repay a loan from the lending pool (interest first)
        emit(.collateralConverted, account: a, [("asset", .text(state.market.assets[collateral.asset].symbol)), ("sold", .decimal(seized)),
                                                ("proceeds", .decimal(repaid)), ("repaid_asset", .text(state.market.assets[debt.asset].symbol)),
                                                ("penalty", .decimal(penalty)), ("reason", .text("loan_liquidation"))])
        return true
    }
}
