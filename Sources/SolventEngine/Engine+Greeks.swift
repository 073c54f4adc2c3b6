public import SolventCore
public import SolventRisk

/// The greeks of one position (docs/options.md, "Greeks"), signed for the position (a short
/// option's vega is negative), in the settle asset of its instrument:
///
/// - `delta`: change of the position's value per 1 settle unit of the underlying's price
///   (= units of underlying held: `q·cs·∂V/∂F`; a linear contract's is `q·cs`);
/// - `gamma`: change of `delta` per 1 settle unit of the underlying's price (`q·cs·∂²V/∂F²`);
/// - `vega`: change of value per vol point, i.e. +0.01 of implied vol (`q·cs·∂V/∂σ / 100`);
/// - `theta`: change of value per calendar day passing (`q·cs·∂V/∂t / 365`, usually negative
///   for a long option).
///
/// Options: Black-76 (Black 1976, "The pricing of commodity contracts", J. Financial Economics
/// 3; `SolventRisk.Black76`: `Δ = N(d1)` / `−N(−d1)`, `Γ = n(d1)/(F·σ√T)`, `∂V/∂σ = F·n(d1)·√T`,
/// `θ = −½σ²F²Γ` at the engine's rate 0) with the inputs scenario margin uses: `F` the
/// underlying's price, the option's mark implied vol, `T` from the option valuation time to
/// expiry in 365-day years. At or after expiry (`T = 0`, not yet settled) the delta is the
/// intrinsic value's (1, 0 or −1 per unit) and the other greeks 0. A linear perpetual or future
/// has delta `q·cs` and nothing else; an inverse one (value `q·cs·(1/entry − 1/F)` coins) has
/// Deribit's coin delta `delta = F·∂V/∂F = q·cs/F` (coins of underlying, as a coin-settled
/// option's `Δ − v`, so the two add up on one underlying) and `gamma = ∂delta/∂F = −q·cs/F²`
/// coins per 1 USD of the underlying.
///
/// A greek beyond the decimal range (|x| ≥ ~1.7e20, or not finite; e.g. a fed vol near 0 at the
/// money) is **absent**: nil here, JSON `null` — not 0, which would read as "no exposure".
public struct PositionGreeks: Sendable, Hashable {
    public var symbol: String
    /// The pool the position is in (`cross`, `isolated:<symbol>`, `portfolio`).
    public var pool: String
    /// The underlying the greeks are with respect to: an option's `underlying`, else the instrument itself.
    public var underlying: String
    public var quantity: FixedDecimal
    /// Nil when beyond the decimal range (see the type's documentation).
    public var delta: FixedDecimal?
    public var gamma: FixedDecimal?
    public var vega: FixedDecimal?
    public var theta: FixedDecimal?
    /// Options: the implied vol used and the years to expiry; nil otherwise.
    public var impliedVol: FixedDecimal?
    public var years: Double?
}

/// The greeks summed per pool and underlying (greeks of different underlyings do not add); a
/// sum beyond the decimal range saturates at `FixedDecimal.max` / `.min` (a read never traps),
/// and so does a sum with an absent position greek (with the sign of the positions' Double
/// sum); either sets `saturated`.
public struct GreeksTotal: Sendable, Hashable {
    public var pool: String
    public var underlying: String
    public var delta: FixedDecimal
    public var gamma: FixedDecimal
    public var vega: FixedDecimal
    public var theta: FixedDecimal
    /// Whether any of the four is saturated (not the exact sum): read it as "at least this large".
    public var saturated: Bool = false
}

/// An account's greeks on request (`GET /v1/accounts/{id}/greeks`, `solvent simulate --greeks`).
public struct AccountGreeks: Sendable, Hashable {
    public var account: String
    /// The option valuation time the greeks are computed at (ms).
    public var valuationTime: Int64
    public var positions: [PositionGreeks]
    public var totals: [GreeksTotal]

    /// `{"account", "valuation_time", "positions": [...], "totals": [...]}`, decimals as strings.
    public func write(into w: inout JSONWriter) {
        w.beginObject()
        w.member("account", account)
        w.key("valuation_time"); w.integer(valuationTime)
        w.key("positions"); w.beginArray()
        for p in positions {
            w.beginObject()
            w.member("symbol", p.symbol); w.member("pool", p.pool); w.member("underlying", p.underlying)
            w.member("quantity", p.quantity)
            w.key("delta"); w.optionalDecimal(p.delta); w.key("gamma"); w.optionalDecimal(p.gamma)
            w.key("vega"); w.optionalDecimal(p.vega); w.key("theta"); w.optionalDecimal(p.theta)
            w.key("implied_vol"); w.optionalDecimal(p.impliedVol)
            w.endObject()
        }
        w.endArray()
        w.key("totals"); w.beginArray()
        for t in totals {
            w.beginObject()
            w.member("pool", t.pool); w.member("underlying", t.underlying)
            w.member("delta", t.delta); w.member("gamma", t.gamma); w.member("vega", t.vega); w.member("theta", t.theta)
            w.key("saturated"); w.bool(t.saturated)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    public var json: String {
        var w = JSONWriter()
        write(into: &w)
        return w.string
    }
}

extension Engine {
    /// The greeks of account `id`'s positions and their totals per pool and underlying (see
    /// `PositionGreeks`); nil for an unknown account. A read: changes nothing.
    public func greeks(of id: String) -> AccountGreeks? {
        guard let a = state.accountIndex[id] else { return nil }
        let record = state.accounts[a]
        let margin = portfolioMargin
        let valuation = optionInputs.valuationTime ?? state.time
        var positions: [PositionGreeks] = []
        var raws: [[Double]] = []  // per position: delta, gamma, vega, theta as computed (for the totals' sign when absent)
        for position in record.account.positions {
            let instrument = state.market.instruments[position.instrument]
            let pool = record.isPortfolio ? "portfolio" : poolName(record.pool(of: position.instrument))
            let units = position.quantity * instrument.contractSize
            var g = PositionGreeks(symbol: instrument.symbol, pool: pool, underlying: instrument.symbol, quantity: position.quantity,
                                   delta: units, gamma: .zero, vega: .zero, theta: .zero, impliedVol: nil, years: nil)
            var raw = [DoubleBoundary.double(units), 0, 0, 0]
            switch instrument.kind {
            case .perpetual(.inverse), .future(.inverse, _):
                if let f = state.market.marks[position.instrument], f.isPositive {
                    let x = DoubleBoundary.double(units), fd = DoubleBoundary.double(f)
                    // Deribit's coin delta F·∂V/∂F = Q/F (coins of underlying exposure, the unit a
                    // coin-settled option's Δ − v uses), gamma its change per 1 USD, −Q/F².
                    raw[0] = x / fd; raw[1] = -x / (fd * fd)
                    g.delta = DoubleBoundary.decimal(raw[0])
                    g.gamma = DoubleBoundary.decimal(raw[1])
                }
            case .perpetual, .future:
                break
            case let .option(right, strike, expiry, underlying):
                g.underlying = underlying
                guard let settle = state.market.assets.firstIndex(where: { $0.symbol == instrument.settle }),
                      let forward = margin.underlyingPrice(underlying, settle: settle), forward.isPositive,
                      let vol = margin.impliedVol(position.instrument), vol > 0 else {
                    g.delta = .zero; raw[0] = 0  // no inputs (cannot happen for a held option: trading needs both)
                    break
                }
                let years = margin.years(to: expiry)
                let x = DoubleBoundary.double(units)
                g.impliedVol = DoubleBoundary.decimal(vol)
                g.years = years
                if instrument.isInverseOption {  // in coin (Engine+InverseOptions.swift)
                    raw = Self.coinGreeks(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike), years: years,
                                          vol: vol, isCall: right == .call).map { x * $0 }
                    g.delta = DoubleBoundary.decimal(raw[0])
                    g.gamma = DoubleBoundary.decimal(raw[1])
                    g.vega = DoubleBoundary.decimal(raw[2])
                    g.theta = DoubleBoundary.decimal(raw[3])
                } else if years > 0 {
                    let model = Black76(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike), years: years,
                                        volatility: vol, rate: 0, isCall: right == .call)
                    raw = [x * model.delta, x * model.gamma, x * model.vega / 100, x * model.theta / 365]
                    g.delta = DoubleBoundary.decimal(raw[0])
                    g.gamma = DoubleBoundary.decimal(raw[1])
                    g.vega = DoubleBoundary.decimal(raw[2])
                    g.theta = DoubleBoundary.decimal(raw[3])
                } else {
                    let inTheMoney = right == .call ? forward > strike : forward < strike
                    g.delta = inTheMoney ? (right == .call ? units : -units) : .zero
                    raw[0] = DoubleBoundary.double(g.delta ?? .zero)
                }
            }
            positions.append(g)
            raws.append(raw)
        }
        var totals: [GreeksTotal] = []
        var groups: [[Int]] = []  // position indices per total, in order of first appearance
        for (k, p) in positions.enumerated() {
            if let t = totals.firstIndex(where: { $0.pool == p.pool && $0.underlying == p.underlying }) { groups[t].append(k); continue }
            totals.append(GreeksTotal(pool: p.pool, underlying: p.underlying, delta: .zero, gamma: .zero, vega: .zero, theta: .zero))
            groups.append([k])
        }
        for (t, members) in groups.enumerated() {
            // Saturating: each greek may be absent (beyond the range) or fit while the sum does not
            // (a fed vol of 1e-11 at the money gives a gamma of ~1e20 per 1e9 units); a read never traps.
            var sums: [FixedDecimal] = []
            for g in 0..<4 {
                var exact: FixedDecimal? = .zero
                for k in members {
                    let value: FixedDecimal? = [positions[k].delta, positions[k].gamma, positions[k].vega, positions[k].theta][g]
                    if let e = exact, let value { exact = try? e.addingChecked(value) } else { exact = nil }
                }
                if let exact { sums.append(exact); continue }
                let sign = members.reduce(0.0) { $0 + raws[$1][g] }
                sums.append(sign < 0 ? FixedDecimal.min : FixedDecimal.max)
                totals[t].saturated = true
            }
            totals[t].delta = sums[0]; totals[t].gamma = sums[1]; totals[t].vega = sums[2]; totals[t].theta = sums[3]
        }
        return AccountGreeks(account: id, valuationTime: valuation, positions: positions, totals: totals)
    }
}
