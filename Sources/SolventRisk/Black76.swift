import RealModule

/// Black-76: European options on a forward or future (crypto options settle on an index
/// whose forward is the matching future). `Double` is allowed here (DESIGN.md principle 1);
/// values cross into exact decimals only through ``DoubleBoundary``.
///
/// Inputs: forward `F > 0`, strike `K > 0`, time to expiry `T > 0` in years, implied
/// volatility `σ > 0` per √year, continuously compounded rate `r`; `DF = e^(−rT)`.
/// `d1 = (ln(F/K) + σ²T/2)/(σ√T)`, `d2 = d1 − σ√T`.
public struct Black76: Sendable, Hashable {
    public var forward: Double
    public var strike: Double
    public var years: Double
    public var volatility: Double
    public var rate: Double
    public var isCall: Bool

    public init(forward: Double, strike: Double, years: Double, volatility: Double, rate: Double, isCall: Bool) {
        precondition(forward > 0 && strike > 0 && years > 0 && volatility > 0, "Black-76 needs F, K, T, σ > 0")
        self.forward = forward
        self.strike = strike
        self.years = years
        self.volatility = volatility
        self.rate = rate
        self.isCall = isCall
    }

    var discount: Double { Double.exp(-rate * years) }
    var stdDev: Double { volatility * years.squareRoot() }
    var d1: Double { (Double.log(forward / strike) + 0.5 * stdDev * stdDev) / stdDev }
    var d2: Double { d1 - stdDev }

    /// Standard normal CDF, `N(x) = erfc(−x/√2)/2` (accurate in both tails).
    static func cdf(_ x: Double) -> Double { 0.5 * Double.erfc(-x / 2.0.squareRoot()) }
    /// Standard normal density.
    static func pdf(_ x: Double) -> Double { Double.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// Premium: `DF·(F·N(d1) − K·N(d2))` (call), `DF·(K·N(−d2) − F·N(−d1))` (put).
    public var price: Double {
        isCall ? discount * (forward * Self.cdf(d1) - strike * Self.cdf(d2))
               : discount * (strike * Self.cdf(-d2) - forward * Self.cdf(-d1))
    }

    /// ∂price/∂F: `DF·N(d1)` (call), `−DF·N(−d1)` (put).
    public var delta: Double { isCall ? discount * Self.cdf(d1) : -discount * Self.cdf(-d1) }

    /// ∂²price/∂F²: `DF·n(d1)/(F·σ√T)`.
    public var gamma: Double { discount * Self.pdf(d1) / (forward * stdDev) }

    /// ∂price/∂σ per unit of volatility (1.00 = 100 vol points): `DF·F·n(d1)·√T`.
    public var vega: Double { discount * forward * Self.pdf(d1) * years.squareRoot() }

    /// ∂price/∂t per year (time passing, so usually negative): from the Black PDE,
    /// `θ = r·price − ½·σ²·F²·Γ`.
    public var theta: Double { rate * price - 0.5 * volatility * volatility * forward * forward * gamma }

    /// The volatility whose Black-76 price is `target`: Newton steps safeguarded by a
    /// bracketing bisection on [1e-6, 20], until the price matches to a few units in the
    /// last place or the volatility stops moving (1e-15 relative).
    /// Nil when the price is outside the no-arbitrage range (intrinsic..upper bound).
    public static func impliedVolatility(price target: Double, forward: Double, strike: Double, years: Double,
                                         rate: Double, isCall: Bool) -> Double? {
        let df = Double.exp(-rate * years)
        let intrinsic = df * max(isCall ? forward - strike : strike - forward, 0)
        let upper = df * (isCall ? forward : strike)
        guard target > intrinsic, target < upper else { return nil }
        var low = 1e-6, high = 20.0
        func priced(_ v: Double) -> Black76 { Black76(forward: forward, strike: strike, years: years, volatility: v, rate: rate, isCall: isCall) }
        guard priced(low).price <= target, priced(high).price >= target else { return nil }
        var v = max(low, min(high, (2 * Double.pi / years).squareRoot() * target / (df * forward)))  // Brenner–Subrahmanyam start
        for _ in 0..<200 {
            let model = priced(v)
            let difference = model.price - target
            if abs(difference) <= 4 * target.ulp { return v }
            if difference > 0 { high = v } else { low = v }
            let vega = model.vega
            var next = vega > 1e-300 ? v - difference / vega : .nan
            if !(next > low && next < high) { next = 0.5 * (low + high) }
            if abs(next - v) <= 1e-15 * max(1, v) { return next }
            v = next
        }
        return v
    }
}
