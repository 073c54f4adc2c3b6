public import SolventCore

extension EvaluateInput {
    /// `haircut_model`: the model's parameters (all optional) and per-asset statistics.
    static func decodeHaircutPolicy(_ reader: JSONReader?, assetIndex: [String: Int]) throws(InputError) -> HaircutPolicy? {
        guard let reader else { return nil }
        _ = try reader.members()
        func number(_ key: String, _ low: Double, _ high: Double, open: Bool = false, default value: Double) throws(InputError) -> Double {
            guard let r = try reader.optional(key) else { return value }
            let d = DoubleBoundary.double(try r.decimal())
            if d > high || d < low || (open && d == low) { throw r.error("must be in \(open ? "(" : "[")\(DoubleBoundary.text(low)), \(DoubleBoundary.text(high))], got \(DoubleBoundary.text(d))") }
            return d
        }
        var tiers: [(floor: Double, extra: Double)] = [(0, 0), (1_000_000, 0.02), (10_000_000, 0.05), (50_000_000, 0.15)]
        if let tiersReader = try reader.optional("concentration_tiers") {
            tiers = []
            for (k, element) in try tiersReader.elements().enumerated() {
                let tier = JSONReader(element, path: "\(tiersReader.path)[\(k)]")
                let floor = DoubleBoundary.double(try tier.required("floor").nonNegativeDecimal())
                let extra = DoubleBoundary.double(try tier.required("extra").fraction())
                if k == 0 && floor != 0 { throw try tier.required("floor").error("the first tier starts at 0") }
                if let previous = tiers.last, floor <= previous.floor { throw try tier.required("floor").error("floors must increase") }
                tiers.append((floor, extra))
            }
            if tiers.isEmpty { throw tiersReader.error("needs at least one tier") }
        }
        let model = HaircutModel(confidenceZ: try number("confidence_z", 0, 10, open: true, default: 2.576),
                                 horizonDays: try number("horizon_days", 0, 365, default: 1),
                                 participation: try number("participation", 0, 1, open: true, default: 0.1),
                                 concentrationTiers: tiers,
                                 wrongWayWeight: try number("wrong_way_weight", 0, 10, default: 0.5),
                                 maximum: try number("maximum", 0, 1, open: true, default: 1))
        var assets: [Int: HaircutPolicy.AssetStatistics] = [:]
        let assetsReader = try reader.required("assets")
        for (symbol, value) in try assetsReader.members() {
            let item = JSONReader(value, path: assetsReader.childPath(symbol))
            guard let a = assetIndex[symbol] else { throw item.error("unknown asset \"\(symbol)\" (not in assets)") }
            let volatility = try item.required("daily_volatility")
            let sigma = try volatility.nonNegativeDecimal()
            if sigma > FixedDecimal(5) { throw volatility.error("a daily volatility above 500 % is not plausible, got \(sigma)") }
            var correlations: [Int: Double] = [:]
            if let correlationsReader = try item.optional("correlations") {
                for (other, rhoValue) in try correlationsReader.members() {
                    let r = JSONReader(rhoValue, path: correlationsReader.childPath(other))
                    guard let b = assetIndex[other] else { throw r.error("unknown asset \"\(other)\" (not in assets)") }
                    let rho = try r.decimal()
                    if rho.magnitude > .one { throw r.error("a correlation must be in [-1, 1], got \(rho)") }
                    correlations[b] = DoubleBoundary.double(rho)
                }
            }
            assets[a] = HaircutPolicy.AssetStatistics(dailyVolatility: DoubleBoundary.double(sigma),
                                                      dailyVolume: DoubleBoundary.double(try item.required("daily_volume").nonNegativeDecimal()),
                                                      correlations: correlations)
        }
        return HaircutPolicy(model: model, assets: assets)
    }
}
