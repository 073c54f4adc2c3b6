public import SolventCore
public import SolventRisk

/// Surface marks follow the underlying (docs/options.md, "Volatility surface").
///
/// An option whose current mark was computed from a `vol_surface` slice (listed in
/// `OptionMarkState.surfaceMarked`) is re-marked whenever a `mark` command moves its underlying's
/// mark, inside the same command: Black-76 (rate 0) at the new forward, the same `T = (expiry −
/// slice source time)/365 days` and the same slice vol at the option's strike.
///
/// **Sticky strike.** The vol of a strike stays where the slice put it when the underlying moves
/// (Derman, "Regimes of Volatility", Goldman Sachs Quantitative Strategies Research Notes, 1999:
/// the sticky-strike rule). It is the rule that needs no model of how the smile moves with spot;
/// a feeder who wants sticky delta sends a new slice. A slice fed with `"sticky": "moneyness"`
/// instead keeps each moneyness' vol: at the new forward `F` a strike `K` gets the slice's vol at
/// `ln(K/F)`, the slice's strikes read as `ln(K_j/F₀)` at its recorded forward `F₀`
/// (VolSurfaceSticky.swift, VolatilitySlice+Moneyness.swift).
///
/// **Asset-price underlyings.** An option whose underlying is an asset price (no instrument of
/// that name; forward = the asset's price / the settle asset's price) follows `asset_price`
/// commands of its underlying or settle asset the same way (`followAssetSurfaces`).
///
/// The re-marked option keeps the slice's source time as its mark source time (its vol input is
/// as old as the slice; staleness follows the slice), so the choice rule of `vol_surface` is
/// unchanged: a fed `option_mark` (or `mark`) of the option at or after the slice's source time
/// replaces the surface mark and takes the option out of the list — a later underlying move then
/// leaves the fed mark alone, until a newer slice prices the option again. Expired options are
/// not re-marked.
///
/// The re-mark goes through `markPrice`, the path of a fed option mark: the option's holders are
/// found by the at-risk index (`crossed`), not by a scan. Each re-marked option emits
/// `option_mark_computed` (the shape `vol_surface` emits). Cost per underlying tick: nothing
/// unless a slice of that underlying exists; then one pass over the surface-marked options, and
/// per option of that underlying one interpolation (binary search in the slice), one Black-76
/// evaluation and one index update.
extension Engine {
    /// After `mark` moved instrument `symbol`: a fed mark of a surface-marked option takes it out
    /// of the list; the surface-marked options on `symbol` are re-marked. Returns the accounts to
    /// re-evaluate.
    mutating func followSurfaces(_ symbol: String) -> [Int] {
        guard let u = state.market.instruments.firstIndex(where: { $0.symbol == symbol }) else { return [] }
        var o = optionState
        guard var marked = o.surfaceMarked, !marked.isEmpty else { return [] }
        if let k = marked.firstIndex(of: u) {  // a fed `mark` of the option itself: its latest source
            marked.remove(at: k)
            o.surfaceMarked = marked.isEmpty ? nil : marked
            state.optionMarks = o
            return []
        }
        guard let surfaces = o.surfaces, surfaces.contains(where: { $0.underlying == symbol }) else { return [] }
        return remarkFromSurfaces(marked.filter { i in
            if case let .option(_, _, _, underlying) = state.market.instruments[i].kind { return underlying == symbol }
            return false
        })
    }

    /// After `asset_price` moved asset `symbol`'s price: the surface-marked options whose
    /// underlying is an asset price (no instrument of that name; the forward is the asset's price
    /// over the settle asset's, `PortfolioMargin.underlyingPrice`) and whose underlying or settle
    /// asset is `symbol` are re-marked as a `mark` re-marks an instrument's. Returns the accounts
    /// to re-evaluate.
    mutating func followAssetSurfaces(_ symbol: String) -> [Int] {
        guard let marked = optionState.surfaceMarked, !marked.isEmpty else { return [] }
        return remarkFromSurfaces(marked.filter { i in
            guard case let .option(_, _, _, underlying) = state.market.instruments[i].kind,
                  underlying == symbol || state.market.instruments[i].settle == symbol,
                  !state.market.instruments.contains(where: { $0.symbol == underlying }) else { return false }
            return state.market.assets.contains { $0.symbol == underlying }
        })
    }

    /// Re-marks the surface-marked options `options` (ascending) from their slices at their
    /// underlying's current forward: sticky strike or sticky moneyness as the slice says
    /// (VolSurfaceSticky.swift). Returns the accounts to re-evaluate.
    mutating func remarkFromSurfaces(_ options: [Int]) -> [Int] {
        guard !options.isEmpty, let surfaces = optionState.surfaces else { return [] }
        let margin = portfolioMargin
        var touched: [Int] = []
        for i in options {
            guard case let .option(right, strike, expiry, underlying) = state.market.instruments[i].kind,
                  state.time < expiry,
                  let quote = surfaces.first(where: { $0.underlying == underlying && $0.expiry == expiry }),
                  let settle = state.market.assets.firstIndex(where: { $0.symbol == state.market.instruments[i].settle }),
                  let forward = margin.underlyingPrice(underlying, settle: settle), forward.isPositive else { continue }
            let years = Double(expiry - quote.sourceTime) / 31_536_000_000
            guard let mark = quote.mark(forward: forward, strike: strike, years: years, isCall: right == .call),
                  let model = isInverseOption(i) ? Self.coinMark(usd: mark.price, forward: forward) : mark.price else { continue }  // coin: Engine+InverseOptions.swift
            let price = FixedDecimal.minimum(RangeContract.maxPrice, FixedDecimal.maximum(RangeContract.minPrice, model))
            guard let crossed = try? markPrice(state.market.instruments[i].symbol, price, quote.sourceTime) else { continue }
            touched += crossed
            var current = optionState
            current.impliedVols[i] = mark.vol
            state.optionMarks = current
            emit(.optionMarkComputed, [("symbol", .text(state.market.instruments[i].symbol)), ("price", .decimal(price)),
                                       ("implied_vol", .decimal(mark.vol)), ("underlying_price", .decimal(forward))])
        }
        return touched
    }

    /// A fed `option_mark` of option `i`: its mark no longer comes from a surface.
    mutating func forgetSurfaceMark(_ i: Int) {
        guard var marked = state.optionMarks?.surfaceMarked, let k = marked.firstIndex(of: i) else { return }
        marked.remove(at: k)
        state.optionMarks?.surfaceMarked = marked.isEmpty ? nil : marked
    }
}
