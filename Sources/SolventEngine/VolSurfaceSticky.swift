public import SolventCore
public import SolventRisk

/// How a `vol_surface` slice's smile moves when its underlying moves (the command's `sticky`
/// field; docs/options.md, "Volatility surface").
///
/// - `strike` (the default): each strike keeps the vol the slice gave it (sticky strike);
/// - `moneyness`: the slice's strikes are read as log-moneyness `ln(K_j/F₀)` at the underlying's
///   forward `F₀` when the slice was fed (recorded as `VolSurfaceQuote.referenceForward`); at a
///   later forward `F` an option of strike `K` gets the slice's vol at moneyness `ln(K/F)`
///   (sticky moneyness; Derman 1999, Gatheral 2006 — `VolatilitySlice+Moneyness.swift`).
public enum VolSurfaceSticky: String, Sendable, Hashable, Codable, CaseIterable {
    case strike
    case moneyness
}

extension VolSurfaceQuote {
    /// The slice's rule: moneyness when it recorded a reference forward.
    public var sticky: VolSurfaceSticky { referenceForward == nil ? .strike : .moneyness }

    /// The Black-76 mark (rate 0) of an option of `strike` on this slice at `forward` (settle
    /// units), `years` to expiry: sticky strike reads the slice at `strike`, sticky moneyness at
    /// `strike·F₀/forward` (see `VolSurfaceSticky`). Nil when the price is not finite.
    func mark(forward: FixedDecimal, strike: FixedDecimal, years: Double, isCall: Bool) -> (price: FixedDecimal, vol: FixedDecimal)? {
        let slice = VolatilitySlice(strikes: strikes, vols: vols)
        guard let reference = referenceForward else { return slice.mark(forward: forward, strike: strike, years: years, isCall: isCall) }
        return slice.mark(forward: forward, strike: strike, years: years, isCall: isCall, referenceForward: reference)
    }
}
