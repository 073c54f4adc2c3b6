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
/// - a pending (not yet final) on-chain deposit counts at its **full amount**, not at the share
///   the margin engine credits while it is unconfirmed (`1 − unconfirmed_haircut`, or nothing):
///   the haircut is a risk weight on collateral, not a measure of what is owed. If the deposit
///   becomes final the venue owes all of it; if it is orphaned it owes none of it, and the coins
///   leave the reserves as well. Until then the liability side counts it as owed, the direction
///   that can only overstate liabilities, and the reserves read at the same chain tip hold it.
/// A negative claim puts 0 in the leaf and its amount in `negativeParts`.
public enum LiabilityClaims {
    /// Throws when an account's claim leaves the decimal range (sums are checked, never trapped).
    public static func extract(from state: EngineState) throws(ReservesError) -> [LiabilityClaim] {
        let evaluator = MarginEvaluator(market: state.market, policy: state.parameters.policy)
        let assetCount = state.market.assets.count
        // The uncredited part of each pending deposit, per account and asset.
        var uncredited: [Int: [(asset: Int, amount: FixedDecimal)]] = [:]
        for deposit in state.chainDeposits where !deposit.isFinal {
            guard let part = try? deposit.amount.subtractingChecked(deposit.credited) else { throw overflow(state, deposit.asset) }
            uncredited[deposit.account, default: []].append((deposit.asset, part))
        }
        var claims: [LiabilityClaim] = []
        claims.reserveCapacity(state.accounts.count)
        for (a, engineAccount) in state.accounts.enumerated() {
            let account = engineAccount.account
            var net = [FixedDecimal](repeating: .zero, count: assetCount)
            func add(_ asset: Int, _ amount: FixedDecimal) throws(ReservesError) {
                guard let sum = try? net[asset].addingChecked(amount) else { throw overflow(state, asset, account: engineAccount.id) }
                net[asset] = sum
            }
            for balance in account.collateral { try add(balance.asset, balance.amount) }
            for pending in uncredited[a] ?? [] { try add(pending.asset, pending.amount) }
            if !account.positions.isEmpty {
                let evaluation = evaluator.evaluate(account, prices: false)  // only the uPnL is read
                for (k, position) in account.positions.enumerated() {
                    var pnl = evaluation.positions[k].unrealizedPnl
                    // An option's premium left (or entered) the settle balance at the fill, so its
                    // claim is its value q·cs·mark, not the linear uPnL q·cs·(mark − entry): add the
                    // premium basis back, as the engine's evaluation view does (docs/options.md).
                    let instrument = state.market.instruments[position.instrument]
                    if case .option = instrument.kind {
                        guard let basis = try? (position.quantity * instrument.contractSize).multipliedChecked(by: position.entryPrice),
                              let value = try? pnl.addingChecked(basis)
                        else { throw overflow(state, account.settle, account: engineAccount.id) }
                        pnl = value
                    }
                    switch position.marginMode {
                    case .cross: try add(account.settle, pnl)
                    case .isolated(let margin):
                        guard let equity = try? margin.addingChecked(pnl) else { throw overflow(state, account.settle, account: engineAccount.id) }
                        try add(account.settle, FixedDecimal.maximum(.zero, equity))
                    }
                }
            }
            claims.append(LiabilityClaim(account: account.id,
                                         amounts: net.map { FixedDecimal.maximum(.zero, $0) },
                                         negativeParts: net.map { FixedDecimal.minimum(.zero, $0) }))
        }
        return claims
    }

    static func overflow(_ state: EngineState, _ asset: Int, account: String? = nil) -> ReservesError {
        ReservesError("the \(state.market.assets[asset].symbol) claim\(account.map { " of account \"\($0)\"" } ?? "") leaves the decimal range (±1.7e20)")
    }
}
