public import SolventCore

/// On-chain holdings as attested by the operator: the reserves side of the proof.
public struct ReserveHoldings: Sendable, Hashable {
    public struct Holding: Sendable, Hashable {
        public var asset: String
        public var address: String
        /// Units of the asset held at the address (≥ 0).
        public var amount: FixedDecimal
    }

    /// When the operator attests the holdings (ms since the epoch).
    public var attestedAt: Int64
    public var holdings: [Holding]

    /// Reads `{"attested_at": time, "holdings": [{"asset", "address", "amount"}]}`; every asset
    /// must be one of `assets`.
    public init(json bytes: [UInt8], assets: [String]) throws(InputError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw InputError(path: "", reason: error.description) }
        let root = JSONReader(value, path: "")
        attestedAt = try root.required("attested_at").time()
        var holdings: [Holding] = []
        var addresses = Set<String>()
        for (k, element) in try root.required("holdings").elements().enumerated() {
            let item = JSONReader(element, path: "holdings[\(k)]")
            let asset = try item.required("asset").nonEmptyString()
            if !assets.contains(asset) { throw try item.required("asset").error("unknown asset \"\(asset)\" (the market has \(assets.joined(separator: ", ")))") }
            let address = try item.required("address").nonEmptyString()
            if !addresses.insert("\(asset)/\(address)").inserted { throw try item.required("address").error("address \"\(address)\" is listed twice for \(asset)") }
            holdings.append(Holding(asset: asset, address: address, amount: try item.required("amount").nonNegativeDecimal()))
        }
        self.holdings = holdings
    }
}

/// Reserves against liabilities, per asset and across assets.
///
/// Per asset: `ratio = reserves / liabilities`. Across assets, a surplus in one asset may cover a
/// shortfall in another only at its haircut value: `Σ surplus × price × (1 − haircut)` must be at
/// least `Σ shortfall × price` (prices and haircuts from the engine's asset table).
public struct CollateralizationReport: Sendable, Hashable {
    public struct Line: Sendable, Hashable {
        public var asset: String
        public var reserves: FixedDecimal
        public var liabilities: FixedDecimal
        /// reserves / liabilities, 18 digits half-even; nil when there is no liability.
        public var ratio: FixedDecimal?
        /// `reserves − liabilities` (negative = shortfall), units of the asset.
        public var surplus: FixedDecimal
        public var price: FixedDecimal
        public var haircut: FixedDecimal
    }

    public var lines: [Line]
    /// Σ max(0, surplus) × price × (1 − haircut), in the common quote.
    public var haircutSurplusValue: FixedDecimal
    /// Σ max(0, −surplus) × price, in the common quote.
    public var shortfallValue: FixedDecimal
    /// Whether every liability is covered, directly or by haircut surplus.
    public var fullyCovered: Bool { haircutSurplusValue >= shortfallValue }

    public init(liabilities: [FixedDecimal], holdings: ReserveHoldings, assets: [Asset]) {
        var lines: [Line] = []
        var surplusValue = FixedDecimal.zero
        var shortfall = FixedDecimal.zero
        for (j, asset) in assets.enumerated() {
            let reserves = holdings.holdings.filter { $0.asset == asset.symbol }.reduce(FixedDecimal.zero) { $0 + $1.amount }
            let surplus = reserves - liabilities[j]
            if surplus.isNegative { shortfall += (-surplus) * asset.price } else { surplusValue += surplus * asset.price * (.one - asset.haircut) }
            lines.append(Line(asset: asset.symbol, reserves: reserves, liabilities: liabilities[j],
                              ratio: liabilities[j].isPositive ? reserves.divided(by: liabilities[j], rounding: .halfEven) : nil,
                              surplus: surplus, price: asset.price, haircut: asset.haircut))
        }
        self.lines = lines
        haircutSurplusValue = surplusValue
        shortfallValue = shortfall
    }

    public func json(rootHash: String, attestedAt: Int64) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.member("root_hash", rootHash)
        w.member("attested_at", Timestamp.formatISO8601(attestedAt))
        w.key("assets"); w.beginArray()
        for line in lines {
            w.beginObject()
            w.member("asset", line.asset)
            w.member("reserves", line.reserves)
            w.member("liabilities", line.liabilities)
            w.key("ratio"); w.optionalDecimal(line.ratio)
            w.member("surplus", line.surplus)
            w.member("price", line.price)
            w.member("haircut", line.haircut)
            w.endObject()
        }
        w.endArray()
        w.member("haircut_surplus_value", haircutSurplusValue)
        w.member("shortfall_value", shortfallValue)
        w.key("fully_covered"); w.bool(fullyCovered)
        w.endObject()
        return w.string
    }
}
