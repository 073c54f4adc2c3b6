public import SolventCore
public import SolventRisk

/// Option marks from a fed volatility surface (docs/options.md, "Volatility surface").
///
/// `vol_surface` gives, for the options on one `underlying` expiring at one `expiry`, implied
/// vols at strictly increasing strikes, observed at `source_time`. For every such option the
/// engine computes its mark with Black-76 (rate 0, as every option value in the engine):
/// forward `F` = the underlying's mark (`PortfolioMargin.underlyingPrice`), `T = (expiry −
/// source_time)/365 days`, `σ` = the slice interpolated at the option's strike — linear in total
/// variance between strikes, flat beyond the outer strikes (`VolatilitySlice`, SolventRisk).
///
/// **Choice rule (fed mark or surface).** The latest source time wins. The surface prices an
/// option unless the option's current mark has a source time at or after the surface's (a fed
/// `option_mark` at the same source time wins the tie: a direct quote beats an interpolated one).
/// A priced option's mark, mark source time and mark implied vol become the surface's, so a
/// later `option_mark` replaces it only with a source time at or after the surface's (the rule
/// of `mark`: a source time older than the current mark's is refused). Like a fed option mark,
/// the surface's source time advances the option valuation time (never moves it back). A
/// computed mark below the range contract's smallest price (1e-8) is set to 1e-8.
///
/// The options a slice priced (`OptionMarkState.surfaceMarked`) are re-marked from it, sticky
/// strike, whenever a `mark` moves their underlying (Engine+SurfaceFollow.swift), until a fed
/// `option_mark` or `mark` of the option takes it off the surface.
///
/// **Refusals** (nothing changes): `vol_surface` with an unknown or unpriced underlying
/// (`no_mark` 2008, field `underlying`), an expiry no option has (`invalid_input`, `expiry`),
/// a past expiry (`instrument_expired` 2011, `expiry`), no points, more than 256, or a count of
/// vols unlike the strikes' (`invalid_input`, `strikes` / `vols`), strikes not strictly
/// increasing (`invalid_input`, `strikes[k]`), a strike outside the contract's prices or a vol
/// outside (0, 10] (`out_of_range` 1009, `strikes[k]` / `vols[k]`), a source time in the
/// future or not later than the current slice's (`invalid_input`, `source_time`).
extension Engine {
    /// Most points in one slice.
    public static let maxSurfacePoints = 256

    /// The range contract's part of `vol_surface`: strikes within the contract's prices, vols in
    /// (0, 10], times within the contract's (`out_of_range`, 1009).
    static func volSurfaceRangeProblem(expiry: Int64, strikes: [FixedDecimal], vols: [FixedDecimal], sourceTime: Int64) -> RejectReason? {
        if let problem = RangeContract.timeProblem(expiry) { return RejectReason(.outOfRange, field: "expiry", problem) }
        if let problem = RangeContract.timeProblem(sourceTime) { return RejectReason(.outOfRange, field: "source_time", problem) }
        for (k, strike) in strikes.enumerated() {
            if let problem = RangeContract.priceProblem(strike) { return RejectReason(.outOfRange, field: "strikes[\(k)]", problem) }
        }
        for (k, vol) in vols.enumerated() where !vol.isPositive || vol > FixedDecimal(10) {
            return RejectReason(.outOfRange, field: "vols[\(k)]", "out of range: an implied vol must be in (0, 10], got \(vol)")
        }
        return nil
    }

    /// `vol_surface` (see the type's documentation). Returns the holders of the options it priced
    /// (and every option holder when the valuation time moves).
    mutating func volSurface(_ underlying: String, _ expiry: Int64, _ strikes: [FixedDecimal], _ vols: [FixedDecimal],
                             _ sourceTime: Int64, sticky: VolSurfaceSticky = .strike) throws(RejectReason) -> [Int] {
        if let problem = Self.volSurfaceRangeProblem(expiry: expiry, strikes: strikes, vols: vols, sourceTime: sourceTime) { throw problem }
        guard !strikes.isEmpty, strikes.count <= Self.maxSurfacePoints else {
            throw RejectReason(.invalidInput, field: "strikes", "a slice has 1 to \(Self.maxSurfacePoints) points, got \(strikes.count)")
        }
        guard vols.count == strikes.count else {
            throw RejectReason(.invalidInput, field: "vols", "\(vols.count) vols for \(strikes.count) strikes: one vol per strike")
        }
        for k in 1..<max(1, strikes.count) where strikes[k] <= strikes[k - 1] {
            throw RejectReason(.invalidInput, field: "strikes[\(k)]", "strikes must be strictly increasing: \(strikes[k]) after \(strikes[k - 1])")
        }
        guard sourceTime <= state.time else { throw RejectReason(.invalidInput, field: "source_time", "is in the future of engine time \(state.time)") }
        guard state.time < expiry else { throw RejectReason(.instrumentExpired, field: "expiry", "the options expiring at \(expiry) have expired") }
        let options = state.market.instruments.indices.filter { i in
            if case let .option(_, _, e, u) = state.market.instruments[i].kind { return e == expiry && u == underlying }
            return false
        }
        guard !options.isEmpty else { throw RejectReason(.invalidInput, field: "expiry", "no option on \"\(underlying)\" expires at \(expiry)") }
        var o = optionState
        var surfaces = o.surfaces ?? []
        let slot = surfaces.firstIndex { $0.underlying == underlying && $0.expiry == expiry }
        if let slot, sourceTime <= surfaces[slot].sourceTime {
            throw RejectReason(.invalidInput, field: "source_time", "not later than the current surface's source time \(surfaces[slot].sourceTime)")
        }
        let margin = portfolioMargin
        // Every forward first: a refusal must change nothing.
        var forwards: [FixedDecimal] = []
        for i in options {
            guard let settle = state.market.assets.firstIndex(where: { $0.symbol == state.market.instruments[i].settle }),
                  let forward = margin.underlyingPrice(underlying, settle: settle), forward.isPositive else {
                throw RejectReason(.noMark, field: "underlying", "no mark price for \(underlying), the underlying of \(state.market.instruments[i].symbol), yet")
            }
            forwards.append(forward)
        }
        // Sticky moneyness records the forward F₀ its strikes' moneyness is read at: one for the slice.
        let reference: FixedDecimal? = sticky == .moneyness ? forwards[0] : nil
        if let reference, let k = forwards.firstIndex(where: { $0 != reference }) {
            throw RejectReason(.invalidInput, field: "sticky", "moneyness needs one forward for the slice's options: \(forwards[k]) for \(state.market.instruments[options[k]].symbol), \(reference) for \(state.market.instruments[options[0]].symbol)")
        }
        let slice = VolatilitySlice(strikes: strikes, vols: vols)
        let years = Double(expiry - sourceTime) / 31_536_000_000
        var touched: [Int] = []
        var priced: Int64 = 0, kept: Int64 = 0
        var marked = Set(o.surfaceMarked ?? [])  // Engine+SurfaceFollow.swift
        for (i, forward) in zip(options, forwards) {
            guard case let .option(right, strike, _, _) = state.market.instruments[i].kind else { continue }
            if let current = state.markSources[i], current.sourceTime >= sourceTime { kept += 1; continue }
            // A coin-settled option's mark is in coin: the USD model price over F (Engine+InverseOptions.swift).
            guard let mark = slice.mark(forward: forward, strike: strike, years: years, isCall: right == .call),
                  let model = isInverseOption(i) ? Self.coinMark(usd: mark.price, forward: forward) : mark.price else {
                kept += 1; marked.remove(i); continue
            }
            marked.insert(i)
            o.forgetFedQuote(i)  // surface-marked now, not fed (Engine+StaleOptionMarks.swift)
            let price = FixedDecimal.minimum(RangeContract.maxPrice, FixedDecimal.maximum(RangeContract.minPrice, model))
            state.market.marks[i] = price
            state.markSources[i] = SourcedPrice(price: price, sourceTime: sourceTime)
            o.impliedVols[i] = mark.vol
            priced += 1
            emit(.optionMarkComputed, [("symbol", .text(state.market.instruments[i].symbol)), ("price", .decimal(price)),
                                       ("implied_vol", .decimal(mark.vol)), ("underlying_price", .decimal(forward))])
            touched += holders(of: i)
        }
        let quote = VolSurfaceQuote(underlying: underlying, expiry: expiry, strikes: strikes, vols: vols, sourceTime: sourceTime,
                                    referenceForward: reference)  // VolSurfaceSticky.swift
        if let slot { surfaces[slot] = quote } else {
            let at = surfaces.firstIndex { ($0.underlying, $0.expiry) > (underlying, expiry) } ?? surfaces.count
            surfaces.insert(quote, at: at)
        }
        o.surfaces = surfaces
        o.surfaceMarked = marked.isEmpty ? nil : marked.sorted()
        let advanced = o.valuationTime.map { sourceTime > $0 } ?? true
        if advanced { o.valuationTime = sourceTime }
        state.optionMarks = o
        emit(.volSurfaceSet, [("underlying", .text(underlying)), ("expiry", .integer(expiry)), ("points", .integer(Int64(strikes.count))),
                              ("source_time", .integer(sourceTime)), ("priced", .integer(priced)), ("kept", .integer(kept))])
        if advanced { touched += state.accounts.indices.filter { a in state.accounts[a].account.positions.contains { isOption($0.instrument) } } }
        return touched
    }
}
