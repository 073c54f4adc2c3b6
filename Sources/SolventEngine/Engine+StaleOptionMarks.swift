public import SolventCore
public import SolventRisk

/// Fed option marks are not trusted past a move of their underlying (docs/options.md, "Stale
/// option marks").
///
/// A fed option mark (`option_mark`, a `mark` of the option, or a scenario's starting mark) was
/// quoted at the underlying's mark of that moment. Deribit marks its options itself, from the
/// mark implied vol at the current underlying: its option ticker quotes each mark with its
/// `mark_iv` and the `underlying_price` it is computed at ("underlying price for implied
/// volatility calculations", `public/ticker`, https://docs.deribit.com), and it streams fresh
/// option marks with their vol continuously (`markprice.options.(index_name)`, "useful for
/// valuation, risk monitoring, and P&L calculations",
/// https://docs.deribit.com/subscriptions/market-data/markpriceoptionsindex_name). A price fed
/// before a crash of the underlying would instead let a short put be valued, margined and bought back in
/// a liquidation at its pre-crash premium — far too cheap, so the venue loses.
///
/// **Rule.** When a `mark` moves an option's underlying (an instrument) more than
/// `option_mark_tolerance` (a fraction, default 0.01) away from the underlying mark the option's
/// fed mark was quoted at — `|F − F_q| > tolerance·F_q` — the fed mark is stale: inside the same
/// command (before any re-evaluation or liquidation) the option is re-marked by Black-76 (rate
/// 0) at the new forward `F`, its last mark implied vol (sticky strike: a single fed vol has no
/// smile to move) and `T = (expiry − the fed mark's source time)/365 days` (no time decay between
/// inputs, as for surface marks); a coin-settled option's mark is that value over `F`. The
/// option then stays **model-marked**: every later move of its underlying re-marks it the same
/// way, until a fed mark of the option (`option_mark`, `mark`) or a `vol_surface` slice replaces
/// it. The re-marked option keeps its fed source time (its inputs are that old) and goes through
/// `markPrice`, the path of a fed option mark (holders found by the at-risk index). Events:
/// `option_mark_stale` (symbol, mark_before, quoted_underlying_price, underlying_price,
/// tolerance) when a fed mark goes stale, then `option_mark_computed` (symbol, price,
/// implied_vol, underlying_price) at every model re-mark.
///
/// **State** (`OptionMarkState`): `quotedForwards[i]` — the underlying mark option `i`'s fed mark
/// was quoted at, kept only while the underlying sits elsewhere within the tolerance (absent: the
/// mark was quoted at the underlying's current mark, so a book whose underlying never moved after
/// its option marks holds nothing new and hashes as before); `modelMarked` — the options marked
/// by the model. Both in the state hash when present, the snapshot (optional members), the
/// restore path and the debug invariants. Surface-marked options follow their slice instead
/// (Engine+SurfaceFollow.swift). Options on an asset price (which no account can hold) are left
/// to their surfaces.
///
/// Cost per underlying tick: nothing without option inputs; else one pass over the instruments
/// and, per fed-marked option on that underlying, one exact comparison — plus, per stale or
/// model-marked one, one Black-76 evaluation and one at-risk index update.
extension Engine {
    /// The default `option_mark_tolerance`: 1 % of the underlying's price. Within it a stale
    /// option mark is off by about `|Δ|·1 %·F` at most (first order), well inside Deribit's
    /// short-option maintenance margin of 7.5 %·F and the portfolio grid's 2.5 % steps.
    public static let defaultOptionMarkTolerance = FixedDecimal("0.01")!

    /// The tolerance in force (`option_mark_tolerance`, else the default).
    public var optionMarkTolerance: FixedDecimal { state.parameters.optionMarkTolerance ?? Self.defaultOptionMarkTolerance }

    /// Before a `mark` of `symbol`: its current mark — the forward the fed marks of its options
    /// were quoted at when no `quotedForwards` entry says otherwise. Nil without option inputs.
    func fedQuoteReference(_ symbol: String) -> FixedDecimal? {
        guard state.optionMarks != nil, let u = try? instrumentIndex(symbol) else { return nil }
        return state.market.marks[u]
    }

    /// After `mark` moved instrument `symbol` from `previous`: a fed mark of an option itself
    /// forgets its follow state; the fed marks of the options on `symbol` that went stale are
    /// re-marked by the model, and model-marked ones follow. Returns the accounts to re-evaluate.
    mutating func followFedOptionMarks(_ symbol: String, from previous: FixedDecimal?) -> [Int] {
        guard state.optionMarks != nil, let u = try? instrumentIndex(symbol) else { return [] }
        if isOption(u) {  // a fed `mark` of the option: quoted at its underlying's current mark
            var o = optionState
            if o.forgetFedQuote(u) { state.optionMarks = o }
            return []
        }
        guard let forward = state.market.marks[u], forward.isPositive else { return [] }
        let tolerance = optionMarkTolerance
        var o = optionState
        let surfaceMarked = o.surfaceMarked ?? []
        var modelMarked = Set(o.modelMarked ?? [])
        var quoted = o.quotedForwards ?? [:]
        var follow: [(option: Int, staleFrom: FixedDecimal?)] = []
        for i in state.market.instruments.indices {
            guard case let .option(_, _, expiry, underlying) = state.market.instruments[i].kind, underlying == symbol else { continue }
            guard state.time < expiry, state.market.marks[i] != nil, !surfaceMarked.contains(i) else {
                quoted[i] = nil; modelMarked.remove(i); continue
            }
            if modelMarked.contains(i) { follow.append((i, nil)); continue }
            guard let reference = quoted[i] ?? previous, reference.isPositive else { continue }
            if FixedDecimal.compareProducts((forward - reference).magnitude, .one, tolerance, reference) > 0 {
                quoted[i] = nil
                modelMarked.insert(i)
                follow.append((i, reference))
            } else {
                quoted[i] = reference == forward ? nil : reference
            }
        }
        o.quotedForwards = quoted.isEmpty ? nil : quoted
        o.modelMarked = modelMarked.isEmpty ? nil : modelMarked.sorted()
        state.optionMarks = o
        var touched: [Int] = []
        for (i, staleFrom) in follow {
            touched += remarkByModel(i, forward: forward, staleFrom: staleFrom, tolerance: tolerance)
        }
        return touched
    }

    /// Re-marks option `i` by Black-76 at `forward` with its mark implied vol, `T` from its
    /// mark's source time (see the type's documentation). `staleFrom`: the underlying mark its
    /// fed mark was quoted at, when this re-mark is the one that finds it stale.
    mutating func remarkByModel(_ i: Int, forward: FixedDecimal, staleFrom: FixedDecimal?, tolerance: FixedDecimal) -> [Int] {
        let instrument = state.market.instruments[i]
        guard case let .option(right, strike, expiry, _) = instrument.kind, let vol = optionState.impliedVols[i],
              let before = state.market.marks[i] else { return [] }
        let sourceTime = state.markSources[i]?.sourceTime ?? optionState.valuationTime ?? state.time
        let years = Double(expiry - sourceTime) / 31_536_000_000
        guard let mark = VolatilitySlice(strikes: [strike], vols: [vol]).mark(forward: forward, strike: strike, years: years, isCall: right == .call),
              let model = isInverseOption(i) ? Self.coinMark(usd: mark.price, forward: forward) : mark.price else { return [] }  // coin: Engine+InverseOptions.swift
        let price = FixedDecimal.minimum(RangeContract.maxPrice, FixedDecimal.maximum(RangeContract.minPrice, model))
        guard let crossed = try? markPrice(instrument.symbol, price, sourceTime) else { return [] }
        if let staleFrom {
            emit(.optionMarkStale, [("symbol", .text(instrument.symbol)), ("mark_before", .decimal(before)),
                                    ("quoted_underlying_price", .decimal(staleFrom)), ("underlying_price", .decimal(forward)),
                                    ("tolerance", .decimal(tolerance))])
        }
        emit(.optionMarkComputed, [("symbol", .text(instrument.symbol)), ("price", .decimal(price)),
                                   ("implied_vol", .decimal(vol)), ("underlying_price", .decimal(forward))])
        return crossed
    }

    /// Debug invariant of the follow state (Engine+OptionInvariants.swift): quoted forwards
    /// positive, keys and model-marked options are options on an instrument, neither on a
    /// surface, model-marked ascending and distinct and never also quoted.
    func fedMarkFollowViolation() -> String? {
        guard let o = state.optionMarks else { return nil }
        let surfaceMarked = Set(o.surfaceMarked ?? [])
        func onInstrument(_ i: Int) -> Bool {
            guard state.market.instruments.indices.contains(i), case let .option(_, _, _, underlying) = state.market.instruments[i].kind else { return false }
            return state.market.instruments.contains { $0.symbol == underlying }
        }
        for (i, f) in o.quotedForwards ?? [:] {
            if !onInstrument(i) || !f.isPositive { return "quoted forward \(f) of instrument \(i): not a positive forward of an option on an instrument" }
            if surfaceMarked.contains(i) { return "option \(i) has a quoted forward and is surface-marked" }
        }
        let model = o.modelMarked ?? []
        for (k, i) in model.enumerated() {
            if k > 0, model[k - 1] >= i { return "model-marked options not ascending and distinct" }
            if !onInstrument(i) { return "model-marked instrument \(i) is not an option on an instrument" }
            if surfaceMarked.contains(i) || o.quotedForwards?[i] != nil { return "model-marked option \(i) is also surface-marked or quoted" }
        }
        return nil
    }
}

extension OptionMarkState {
    /// Option `i` got a fed mark (or a surface mark): it is quoted at its underlying's current
    /// mark and no longer model-marked. Returns whether anything changed.
    @discardableResult
    mutating func forgetFedQuote(_ i: Int) -> Bool {
        var changed = false
        if quotedForwards?.removeValue(forKey: i) != nil {
            changed = true
            if quotedForwards?.isEmpty == true { quotedForwards = nil }
        }
        if let k = modelMarked?.firstIndex(of: i) {
            changed = true
            modelMarked?.remove(at: k)
            if modelMarked?.isEmpty == true { modelMarked = nil }
        }
        return changed
    }
}
