public import SolventCore

/// How events and the API name an account's pool (docs/scenarios.md, "Events").
///
/// A portfolio-margined account has one pool, held in the engine's cross slot
/// (Engine+Portfolio.swift); its events (`margin_warning`, `margin_call`,
/// `liquidation_started`, `liquidation_ended`, `insurance_fund_contribution`,
/// `insurance_fund_draw`, `bad_debt`, `socialized_loss`, `settled`, `margin_restated`'s
/// deadlines …) name it `"portfolio"`, as the summary and the greeks do, not `"cross"`.
extension Engine {
    /// `"portfolio"` for the pool of portfolio account `a`; otherwise `poolName(pool)`
    /// (`cross` or `isolated:<symbol>`).
    public func poolName(_ pool: PoolKey, account a: Int) -> String {
        if pool == .cross, state.accounts.indices.contains(a), state.accounts[a].isPortfolio { return "portfolio" }
        return poolName(pool)
    }
}
