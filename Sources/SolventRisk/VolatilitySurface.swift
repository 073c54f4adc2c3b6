public import SolventCore

/// One expiry's slice of an implied-volatility surface: implied vols (yearly fractions) at
/// strictly increasing strikes (settle units), fed by the `vol_surface` command
/// (docs/options.md, "Volatility surface").
///
/// **Interpolation.** Between two neighbouring strikes `K0 < K < K1` the surface is linear in
/// **total implied variance** `w(K) = σ(K)²·T` (Gatheral, *The Volatility Surface*, Wiley 2006,
/// ch. 1–3, which works with `w = σ²T` as the surface's natural coordinate). At one expiry `T` is
/// common to every strike, so this is linear interpolation of `σ²` in strike:
/// `σ(K) = √(σ0² + (σ1² − σ0²)·(K − K0)/(K1 − K0))`. Beyond the outermost strikes the vol is
/// flat (`σ(K) = σ(K_first)` below, `σ(K_last)` above): the wings are not extrapolated (a
/// linear extrapolation of `w` in strike grows exponentially in log-strike `k = ln(K/F)` and
/// eventually breaks Lee's moment bound `w(k) ≤ 2|k|` — R. Lee, "The moment formula for
/// implied volatility at extreme strikes", Math. Finance 14 (2004); a flat vol never does).
///
/// `Double` only inside the interpolation and pricing; the inputs and results cross
/// ``DoubleBoundary``.
public struct VolatilitySlice: Sendable, Hashable {
    /// Strictly increasing, positive (settle units).
    public var strikes: [FixedDecimal]
    /// Implied vols at `strikes`, each in (0, 10].
    public var vols: [FixedDecimal]

    public init(strikes: [FixedDecimal], vols: [FixedDecimal]) {
        precondition(!strikes.isEmpty && strikes.count == vols.count, "a slice needs as many vols as strikes, at least one")
        self.strikes = strikes
        self.vols = vols
    }

    /// The implied vol at `strike` (see the type's documentation), a yearly fraction.
    public func vol(at strike: FixedDecimal) -> Double {
        if strike <= strikes[0] { return DoubleBoundary.double(vols[0]) }
        for k in 1..<strikes.count where strike <= strikes[k] {
            let k0 = DoubleBoundary.double(strikes[k - 1]), k1 = DoubleBoundary.double(strikes[k])
            let v0 = DoubleBoundary.double(vols[k - 1]), v1 = DoubleBoundary.double(vols[k])
            let weight = (DoubleBoundary.double(strike) - k0) / (k1 - k0)
            let variance = v0 * v0 + (v1 * v1 - v0 * v0) * weight
            return variance.squareRoot()
        }
        return DoubleBoundary.double(vols[vols.count - 1])
    }

    /// The Black-76 mark of a European option on this slice (rate 0, as the engine values
    /// options): forward `forward` (the underlying's mark), `years` to expiry (> 0), the vol
    /// interpolated at `strike`. Returns the premium per unit of underlying in settle units,
    /// rounded half-even to 18 digits, and the vol; nil when the price is not finite.
    public func mark(forward: FixedDecimal, strike: FixedDecimal, years: Double, isCall: Bool) -> (price: FixedDecimal, vol: FixedDecimal)? {
        let sigma = vol(at: strike)
        guard forward.isPositive, strike.isPositive, years > 0, sigma > 0,
              let volDecimal = DoubleBoundary.decimal(sigma) else { return nil }
        let model = Black76(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike), years: years,
                            volatility: sigma, rate: 0, isCall: isCall)
        guard let price = DoubleBoundary.decimal(model.price) else { return nil }
        return (price, volDecimal)
    }
}
