public import SolventCore
public import SolventEngine
import SolventRisk

/// What the venue owes one account, per asset, as the liability side of a proof of reserves.
public struct LiabilityClaim: Sendable, Hashable {
    /// The engine account id (never published outside the holder's own proof).
    public var account: String
    /// Net claim per asset (same index as the market's asset table), in units of the asset,
    /// clamped at zero: what goes into the leaf.
    public var amounts: [FixedDecimal]
    /// The negative part of each claim (≤ 0 per asset): a debt of the account to the venue,
    /// reported in the totals, never netted inside the tree.
    public var negativeParts: [FixedDecimal]

    public init(account: String, amounts: [FixedDecimal], negativeParts: [FixedDecimal]) {
        self.account = account
        self.amounts = amounts
        self.negativeParts = negativeParts
    }
}

/// Extracts per-account liabilities from an engine state.
///
/// Claim of an account in asset `a`:
/// - every asset: the collateral balance of `a`;
/// - the settle asset in addition: the unrealized PnL of the cross positions at the mark, plus, per
///   isolated position, `max(0, isolated margin + its unrealized PnL)` (the holder cannot lose more
///   than an isolated pool holds).
/// A negative claim puts 0 in the leaf and its amount in `negativeParts`.
public enum LiabilityClaims {
    public static func extract(from state: EngineState) -> [LiabilityClaim] {
        let evaluator = MarginEvaluator(market: state.market, policy: state.parameters.policy)
        let assetCount = state.market.assets.count
        var claims: [LiabilityClaim] = []
        claims.reserveCapacity(state.accounts.count)
        for engineAccount in state.accounts {
            let account = engineAccount.account
            var net = [FixedDecimal](repeating: .zero, count: assetCount)
            for balance in account.collateral { net[balance.asset] += balance.amount }
            if !account.positions.isEmpty {
                let evaluation = evaluator.evaluate(account, prices: false)  // only the uPnL is read
                for (k, position) in account.positions.enumerated() {
                    let pnl = evaluation.positions[k].unrealizedPnl
                    switch position.marginMode {
                    case .cross: net[account.settle] += pnl
                    case .isolated(let margin): net[account.settle] += FixedDecimal.maximum(.zero, margin + pnl)
                    }
                }
            }
            claims.append(LiabilityClaim(account: account.id,
                                         amounts: net.map { FixedDecimal.maximum(.zero, $0) },
                                         negativeParts: net.map { FixedDecimal.minimum(.zero, $0) }))
        }
        return claims
    }
}
