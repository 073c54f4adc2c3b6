public import SolventCore

extension EvaluateInput {
    /// `valuation_time`, `rate`, `implied_vols` (by option symbol) and `smiles` (by underlying).
    static func decodeOptionInputs(_ root: JSONReader, market: Market, instrumentIndex: [String: Int]) throws(InputError) -> OptionInputs {
        var inputs = OptionInputs()
        inputs.valuationTime = try root.optional("valuation_time")?.time()
        if let rate = try root.optional("rate") {
            let r = try rate.decimal()
            if r.magnitude > FixedDecimal(1) { throw rate.error("must be in [-1, 1] (a continuously compounded yearly rate), got \(r)") }
            inputs.rate = r
        }
        if let vols = try root.optional("implied_vols") {
            for (symbol, value) in try vols.members() {
                let reader = JSONReader(value, path: vols.childPath(symbol))
                guard let k = instrumentIndex[symbol] else { throw reader.error("unknown instrument \"\(symbol)\"") }
                guard case .option = market.instruments[k].kind else { throw reader.error("\"\(symbol)\" is not an option") }
                inputs.impliedVols[k] = try volatility(reader)
            }
        }
        if let smiles = try root.optional("smiles") {
            for (underlying, value) in try smiles.members() {
                let reader = JSONReader(value, path: smiles.childPath(underlying))
                var points: [(strike: Double, vol: Double)] = []
                var strikes = Set<FixedDecimal>()
                for (k, element) in try reader.elements().enumerated() {
                    let point = JSONReader(element, path: "\(reader.path)[\(k)]")
                    let strike = try point.required("strike").positiveDecimal()
                    if !strikes.insert(strike).inserted { throw try point.required("strike").error("strike \(strike) appears twice") }
                    points.append((DoubleBoundary.double(strike), DoubleBoundary.double(try volatility(point.required("vol")))))
                }
                if points.isEmpty { throw reader.error("a smile needs at least one point") }
                inputs.smiles[underlying] = VolatilitySmile(points: points)
            }
        }
        return inputs
    }

    /// An implied vol: a decimal in (0, 10].
    static func volatility(_ reader: JSONReader) throws(InputError) -> FixedDecimal {
        let v = try reader.decimal()
        if !v.isPositive || v > FixedDecimal(10) { throw reader.error("an implied vol must be in (0, 10], got \(v)") }
        return v
    }

    /// `portfolio_policy`: every field optional (docs/evaluate.md).
    static func decodePortfolioPolicy(_ reader: JSONReader?) throws(InputError) -> PortfolioPolicy {
        var policy = PortfolioPolicy()
        guard let reader else { return policy }
        _ = try reader.members()
        func bounded(_ key: String, _ low: FixedDecimal, _ high: FixedDecimal, open: Bool) throws(InputError) -> FixedDecimal? {
            guard let r = try reader.optional(key) else { return nil }
            let d = try r.decimal()
            if d > high || d < low || (open && d == low) { throw r.error("must be in \(open ? "(" : "[")\(low), \(high)], got \(d)") }
            return d
        }
        let one = FixedDecimal.one
        if let v = try bounded("price_range", .zero, one, open: true) { policy.priceRange = v }
        if let ranges = try reader.optional("price_ranges") {
            for (group, value) in try ranges.members() {
                let r = JSONReader(value, path: ranges.childPath(group))
                let d = try r.decimal()
                if !d.isPositive || d > one { throw r.error("must be in (0, 1], got \(d)") }
                policy.priceRanges[group] = d
            }
        }
        if let steps = try reader.optional("price_steps") {
            let n = try steps.integer()
            if n < 3 || n > 101 || n % 2 == 0 { throw steps.error("must be odd, in 3...101 (so the grid holds the zero move), got \(n)") }
            policy.priceSteps = Int(n)
        }
        if let v = try bounded("vol_shock", .zero, FixedDecimal(10), open: false) { policy.volShock = v }
        if let v = try bounded("vol_shock_cap", .zero, FixedDecimal(10), open: false) { policy.volShockCap = v }
        if let days = try reader.optional("vol_shock_reference_days") {
            let n = try days.integer()
            if n < 1 || n > 3650 { throw days.error("must be in 1...3650, got \(n)") }
            policy.volShockReferenceDays = Int(n)
        }
        if let v = try bounded("extreme_multiple", one, FixedDecimal(10), open: false) { policy.extremeMultiple = v }
        if let v = try bounded("extreme_fraction", .zero, one, open: false) { policy.extremeFraction = v }
        if let v = try bounded("short_option_minimum", .zero, one, open: false) { policy.shortOptionMinimum = v }
        if let v = try bounded("basis_minimum", .zero, one, open: false) { policy.basisMinimum = v }
        if let v = try bounded("maintenance_fraction", .zero, one, open: true) { policy.maintenanceFraction = v }
        if let v = try bounded("correlation_credit", .zero, one, open: false) { policy.correlationCredit = v }
        if let correlations = try reader.optional("correlations") {
            var seen = Set<String>()
            for (pair, value) in try correlations.members() {
                let r = JSONReader(value, path: correlations.childPath(pair))
                let parts = pair.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != parts[1] else {
                    throw r.error("a pair is named \"A/B\" with two different underlyings")
                }
                if !seen.insert(parts.sorted().joined(separator: "/")).inserted { throw r.error("pair given twice") }
                let rho = try r.decimal()
                if rho.magnitude > one { throw r.error("a correlation must be in [-1, 1], got \(rho)") }
                policy.correlations.append(PortfolioPolicy.Correlation(first: parts[0], second: parts[1], rho: rho))
            }
        }
        if let range = policy.priceRanges.values.max(by: <), range * policy.extremeMultiple > FixedDecimal(10) {
            throw reader.error("extreme moves beyond ±1000 %")
        }
        return policy
    }

    /// Every option held by a portfolio account has an underlying price, a vol and a valuation time.
    func checkOptions(_ root: JSONReader) throws(InputError) {
        let margin = PortfolioMargin(market: market, policy: policy, portfolio: portfolio, options: options)
        for (i, account) in accounts.enumerated() where modes[i] == .portfolio {
            for (j, position) in account.positions.enumerated() {
                let instrument = market.instruments[position.instrument]
                guard case let .option(_, _, _, underlying) = instrument.kind else { continue }
                let path = "accounts[\(i)].positions[\(j)].symbol"
                if options.valuationTime == nil {
                    throw InputError(path: "valuation_time", reason: "missing (required when an option is held, e.g. by \(path))")
                }
                if margin.underlyingPrice(underlying, settle: account.settle) == nil {
                    throw InputError(path: path, reason: "option \"\(instrument.symbol)\": its underlying \"\(underlying)\" has no mark and is not an asset")
                }
                if margin.impliedVol(position.instrument) == nil {
                    throw InputError(path: "implied_vols.\(instrument.symbol)",
                                     reason: "missing: no implied vol for the option held by \(path) and no smile for \"\(underlying)\"")
                }
            }
        }
    }
}
