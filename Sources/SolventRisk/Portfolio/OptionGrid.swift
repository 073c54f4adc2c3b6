import RealModule

/// Black-76 values of one option over many (forward move, vol) pairs, with everything that
/// does not depend on the scenario computed once: `ln(F/K)`, `√T`, the discount factor.
/// The same formula as ``Black76`` (`e^{−rT}(F·N(d1) − K·N(d2))`), arranged for the inner
/// loop of scenario margin; at or after expiry, the intrinsic value.
public struct OptionGrid: Sendable {
    public let forward: Double
    public let strike: Double
    public let years: Double
    public let isCall: Bool
    let logMoneyness: Double
    let rootYears: Double
    let discount: Double

    public init(forward: Double, strike: Double, years: Double, rate: Double, isCall: Bool) {
        precondition(forward > 0 && strike > 0, "forward and strike must be positive")
        self.forward = forward
        self.strike = strike
        self.years = max(0, years)
        self.isCall = isCall
        logMoneyness = Double.log(forward / strike)
        rootYears = self.years.squareRoot()
        discount = self.years > 0 ? Double.exp(-rate * self.years) : 1
    }

    /// Value per unit when the forward is multiplied by `growth` (= 1 + move, > 0) and the vol
    /// is `vol`; `logGrowth` = ln(growth), precomputed by the caller once per move.
    @inline(__always)
    public func value(growth: Double, logGrowth: Double, vol: Double) -> Double {
        let f = forward * growth
        guard years > 0 else { return isCall ? max(0, f - strike) : max(0, strike - f) }
        let stdDev = vol * rootYears
        let d1 = (logMoneyness + logGrowth + 0.5 * stdDev * stdDev) / stdDev
        let d2 = d1 - stdDev
        let invRoot2 = 0.7071067811865476
        if isCall {
            return discount * (f * 0.5 * Double.erfc(-d1 * invRoot2) - strike * 0.5 * Double.erfc(-d2 * invRoot2))
        }
        return discount * (strike * 0.5 * Double.erfc(d2 * invRoot2) - f * 0.5 * Double.erfc(d1 * invRoot2))
    }

    /// ∂V/∂F per unit at the unshocked point: `DF·N(d1)` (call), `−DF·N(−d1)` (put); a step at expiry.
    public func delta(vol: Double) -> Double {
        guard years > 0 else {
            if isCall { return forward > strike ? 1 : 0 }
            return forward < strike ? -1 : 0
        }
        let stdDev = vol * rootYears
        let d1 = (logMoneyness + 0.5 * stdDev * stdDev) / stdDev
        if isCall { return discount * 0.5 * Double.erfc(-d1 * 0.7071067811865476) }
        return -discount * 0.5 * Double.erfc(d1 * 0.7071067811865476)
    }
}
