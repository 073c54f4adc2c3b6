public import SolventCore

/// A 0–100 risk score of an account (100 = liquidatable now), with its components, for
/// dashboards and ADL tie-breaks (docs/haircuts.md):
/// `score = 100·(0.50·s_distance + 0.25·s_leverage + 0.15·s_concentration + 0.10·s_collateral)`,
/// - `s_distance = 1/(1 + d/2)`, `d` the distance to the nearest liquidation price in σ of the
///   horizon move (`|LP − mark|/mark / (σ_daily·√horizon)`); 1 without positions' LP nearer than 0;
/// - `s_leverage = min(1, effective leverage/50)`, effective leverage = Σ notional / equity;
/// - `s_concentration` = the largest position's share of the account's notional;
/// - `s_collateral` = the value-weighted haircut of its collateral.
/// A pool at or past maintenance (or with equity ≤ 0) scores 100.
public struct RiskScore: Sendable, Hashable {
    public var score: Int
    /// Nearest liquidation distance in % of the mark (nil without one).
    public var distancePercent: Double?
    /// The same in σ of the horizon move.
    public var distanceSigmas: Double?
    public var effectiveLeverage: Double
    public var concentration: Double
    public var collateralHaircut: Double

    /// Scores `account` given its evaluation and the daily volatility of each instrument's
    /// underlying (fraction, by instrument index) over a horizon in days.
    public static func score(_ account: Account, _ evaluation: AccountEvaluation, market: Market,
                             dailyVolatility: [Double], horizonDays: Double = 1) -> RiskScore {
        var nearest: (percent: Double, sigmas: Double)? = nil
        var total = 0.0, largest = 0.0
        for (k, position) in account.positions.enumerated() {
            let notional = DoubleBoundary.double(evaluation.positions[k].notional)
            let mark = market.marks[position.instrument].map(DoubleBoundary.double) ?? 0
            let notionalInSettle = market.instruments[position.instrument].kind.settlement == .inverse ? notional * mark : notional
            total += notionalInSettle
            largest = max(largest, notionalInSettle)
            guard let lp = evaluation.positions[k].liquidationPrice.map(DoubleBoundary.double), mark > 0 else { continue }
            let percent = abs(lp - mark) / mark
            let sigma = max(1e-12, dailyVolatility[position.instrument] * horizonDays.squareRoot())
            if nearest == nil || percent < nearest!.percent { nearest = (percent, percent / sigma) }
        }
        let equity = DoubleBoundary.double(evaluation.cross.equity) + evaluation.pools.dropFirst().reduce(0) { $0 + DoubleBoundary.double($1.equity) }
        let leverage = equity > 0 ? total / equity : .infinity
        let concentration = total > 0 ? largest / total : 0
        var value = 0.0, haircutValue = 0.0
        for balance in account.collateral where balance.amount.isPositive {
            let asset = market.assets[balance.asset]
            let v = DoubleBoundary.double(balance.amount) * DoubleBoundary.double(asset.price)
            value += v
            haircutValue += v * DoubleBoundary.double(asset.haircut)
        }
        let collateral = value > 0 ? haircutValue / value : 0
        let distanceTerm = nearest.map { 1 / (1 + $0.sigmas / 2) } ?? 0
        var raw = 0.50 * distanceTerm + 0.25 * min(1, leverage / 50) + 0.15 * concentration + 0.10 * collateral
        if evaluation.status >= .liquidatable { raw = 1 }
        return RiskScore(score: Int((100 * raw).rounded()), distancePercent: nearest.map { 100 * $0.percent },
                         distanceSigmas: nearest?.sigmas, effectiveLeverage: leverage, concentration: concentration, collateralHaircut: collateral)
    }
}
