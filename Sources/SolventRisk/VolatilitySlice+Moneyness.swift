public import SolventCore

/// A slice read in moneyness (sticky moneyness, docs/options.md "Volatility surface").
///
/// A sticky-moneyness slice was fed when its underlying's forward was `F₀` (the reference
/// forward): its point `(K_j, σ_j)` is read as the vol at log-moneyness `k_j = ln(K_j/F₀)`. At a
/// later forward `F` an option of strike `K` has log-moneyness `k = ln(K/F)`, which is the
/// slice's strike `K' = F₀·e^k = K·F₀/F`, so its vol is the slice's vol at `K'` (interpolated as
/// the slice interpolates strikes: linear in total variance, flat beyond the outer points). At
/// `F = F₀` the two readings agree, so a slice prices its options identically in both modes when
/// it is fed; they differ only in how the smile moves when the forward moves — sticky strike keeps
/// `σ(K)`, sticky moneyness keeps `σ(ln(K/F))` (E. Derman, "Regimes of Volatility", Goldman Sachs
/// Quantitative Strategies Research Notes, 1999 — the regime he calls "sticky delta", where the vol
/// is a function of moneyness `K/S`; J. Gatheral, *The Volatility Surface*, Wiley 2006, ch. 1, which parameterizes the smile in
/// `k = ln(K/F)`).
///
/// `Double` only inside: the inputs cross ``DoubleBoundary``.
extension VolatilitySlice {
    /// The vol (a yearly fraction) of strike `strike` at forward `forward`, for a slice fed at the
    /// reference forward `referenceForward` (all settle units, positive): the slice's vol at
    /// `K·F₀/F`. Exactly `vol(at: strike)` when `forward == referenceForward`.
    public func vol(at strike: FixedDecimal, forward: FixedDecimal, referenceForward: FixedDecimal) -> Double {
        if forward == referenceForward { return vol(at: strike) }
        let shifted = DoubleBoundary.double(strike) * (DoubleBoundary.double(referenceForward) / DoubleBoundary.double(forward))
        let first = DoubleBoundary.double(strikes[0])
        if !(shifted > first) { return DoubleBoundary.double(vols[0]) }  // also a NaN ratio: the lowest point
        for j in 1..<strikes.count {
            let k1 = DoubleBoundary.double(strikes[j])
            guard shifted <= k1 else { continue }
            let k0 = DoubleBoundary.double(strikes[j - 1])
            let v0 = DoubleBoundary.double(vols[j - 1]), v1 = DoubleBoundary.double(vols[j])
            let weight = (shifted - k0) / (k1 - k0)
            return (v0 * v0 + (v1 * v1 - v0 * v0) * weight).squareRoot()
        }
        return DoubleBoundary.double(vols[vols.count - 1])
    }

    /// `mark(forward:strike:years:isCall:)` with the vol read in moneyness (see the extension's
    /// documentation): the Black-76 premium per unit of underlying (settle units, rounded half-even
    /// to 18 digits) and the vol; nil when the price is not finite or an input is not positive.
    public func mark(forward: FixedDecimal, strike: FixedDecimal, years: Double, isCall: Bool,
                     referenceForward: FixedDecimal) -> (price: FixedDecimal, vol: FixedDecimal)? {
        guard referenceForward.isPositive, forward.isPositive, strike.isPositive else { return nil }
        let sigma = vol(at: strike, forward: forward, referenceForward: referenceForward)
        guard years > 0, sigma > 0, let volDecimal = DoubleBoundary.decimal(sigma) else { return nil }
        let model = Black76(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike), years: years,
                            volatility: sigma, rate: 0, isCall: isCall)
        guard let price = DoubleBoundary.decimal(model.price) else { return nil }
        return (price, volDecimal)
    }
}
