public import SolventCore

/// Writes the output document of the evaluation contract.
public enum EvaluateOutput {
    /// Evaluates every account and returns `{"accounts":[...]}` (accounts in input order).
    public static func render(_ input: EvaluateInput) -> [UInt8] {
        var document: [UInt8] = []
        render(input) { document.append(contentsOf: $0) }
        return document
    }

    /// Evaluates every account and streams the document to `sink` in chunks of about
    /// `chunkBytes`, so a million-position output never sits whole in memory.
    public static func render(_ input: EvaluateInput, chunkBytes: Int = 1 << 20, sink: ([UInt8]) -> Void) {
        let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
        let portfolio = PortfolioMargin(market: input.market, policy: input.policy, portfolio: input.portfolio, options: input.options)
        var writer = JSONWriter(reservingCapacity: chunkBytes + 4096)
        writer.beginObject()
        writer.key("accounts")
        writer.beginArray()
        for (k, account) in input.accounts.enumerated() {
            if let policy = input.haircuts {
                // Per-account haircuts: the account's own market view, then the usual path.
                let (market, breakdowns) = policy.market(for: account, base: input.market)
                let ownEvaluator = MarginEvaluator(market: market, policy: input.policy)
                let ownPortfolio = PortfolioMargin(market: market, policy: input.policy, portfolio: input.portfolio, options: input.options)
                if input.modes[k] == .portfolio {
                    write(account, ownPortfolio.evaluate(account), market: market, into: &writer, haircuts: breakdowns)
                } else {
                    write(account, ownEvaluator.evaluate(account), market: market, into: &writer, haircuts: breakdowns)
                }
            } else if input.modes[k] == .portfolio {
                write(account, portfolio.evaluate(account), market: input.market, into: &writer)
            } else {
                write(account, evaluator.evaluate(account), market: input.market, into: &writer)
            }
            if writer.bytes.count >= chunkBytes {
                sink(writer.bytes)
                writer.bytes.removeAll(keepingCapacity: true)
            }
        }
        writer.endArray()
        writer.endObject()
        writer.bytes.append(0x0A)
        sink(writer.bytes)
    }

    /// Writes one account's evaluation object.
    public static func write(_ account: Account, _ evaluation: AccountEvaluation, market: Market, into writer: inout JSONWriter,
                             haircuts: [Int: HaircutModel.Breakdown]? = nil) {
        let symbol = { (i: Int) in market.instruments[account.positions[i].instrument].symbol }
        writer.beginObject()
        writer.member("id", account.id)
        writer.member("status", evaluation.status.name)
        writer.key("pools")
        writer.beginArray()
        for pool in evaluation.pools { writePool(pool, name: pool.pool.name(symbol: symbol), into: &writer) }
        writer.endArray()
        writer.key("positions")
        writer.beginArray()
        for (i, position) in evaluation.positions.enumerated() {
            writer.beginObject()
            writer.member("symbol", symbol(i))
            writer.member("pool", position.pool.name(symbol: symbol))
            writer.member("notional", position.notional)
            writer.member("unrealized_pnl", position.unrealizedPnl)
            writer.member("initial_margin", position.initialMargin)
            writer.member("maintenance_margin", position.maintenanceMargin)
            writer.member("mmr", position.maintenanceMarginRate)
            writer.key("liquidation_price")
            writer.optionalDecimal(position.liquidationPrice)
            writer.key("bankruptcy_price")
            writer.optionalDecimal(position.bankruptcyPrice)
            writer.endObject()
        }
        writer.endArray()
        writer.key("collateral_liquidation_prices")
        writer.beginObject()
        for entry in evaluation.collateralLiquidationPrices {
            writer.key(market.assets[entry.asset].symbol)
            writer.optionalDecimal(entry.price)
        }
        writer.endObject()
        if let haircuts { writeHaircuts(haircuts, market: market, into: &writer) }
        writer.endObject()
    }

    /// Writes one portfolio account's evaluation object (docs/evaluate.md, "Extra output").
    public static func write(_ account: Account, _ evaluation: PortfolioEvaluation, market: Market, into writer: inout JSONWriter,
                             haircuts: [Int: HaircutModel.Breakdown]? = nil) {
        let pool = evaluation.pool
        writer.beginObject()
        writer.member("id", account.id)
        writer.member("mode", "portfolio")
        writer.member("status", evaluation.status.name)
        writer.key("pools")
        writer.beginArray()
        writePool(pool, name: "portfolio", into: &writer)
        writer.endArray()
        writer.key("positions")
        writer.beginArray()
        for (i, position) in evaluation.positions.enumerated() {
            writer.beginObject()
            writer.member("symbol", market.instruments[account.positions[i].instrument].symbol)
            writer.member("pool", "portfolio")
            writer.member("notional", position.notional)
            writer.member("unrealized_pnl", position.unrealizedPnl)
            if let option = position.option {
                writer.key("value"); writer.raw(quoted(option.value))
                writer.key("implied_vol"); writer.raw(quoted(option.impliedVol))
                writer.key("years"); writer.raw(quoted(option.years))
                writer.key("delta"); writer.raw(quoted(option.delta))
            }
            writer.key("liquidation_price")
            writer.null()
            writer.endObject()
        }
        writer.endArray()
        writer.key("scenario_margin")
        writer.beginObject()
        writer.member("initial_margin", pool.initialMargin)
        writer.member("maintenance_margin", pool.maintenanceMargin)
        writer.member("correlation_credit", evaluation.correlationCredit)
        writer.key("groups")
        writer.beginArray()
        for group in evaluation.groups {
            writer.beginObject()
            writer.member("underlying", group.underlying)
            writer.member("price_range", group.priceRange)
            writer.member("worst_loss", group.worstLoss)
            let worst = group.scenarios[group.worstIndex]
            writer.key("worst_scenario")
            writer.beginObject()
            writer.key("index"); writer.integer(group.worstIndex)
            writer.member("move", worst.move)
            writer.member("vol_shock", worst.volShock.rawValue)
            writer.member("weight", worst.weight)
            writer.endObject()
            writer.member("short_option_minimum", group.shortOptionMinimum)
            writer.member("basis_minimum", group.basisMinimum)
            writer.member("initial_margin", group.initialMargin)
            writer.member("delta_equivalent", group.deltaEquivalent)
            writer.key("scenario_losses")
            writer.beginArray()
            for loss in group.losses { writer.decimal(loss) }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        if let haircuts { writeHaircuts(haircuts, market: market, into: &writer) }
        writer.endObject()
    }

    /// One pool object of the contract.
    static func writePool(_ pool: PoolEvaluation, name: String, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("pool", name)
        writer.member("equity", pool.equity)
        writer.member("initial_margin", pool.initialMargin)
        writer.member("maintenance_margin", pool.maintenanceMargin)
        writer.key("margin_ratio")
        writer.optionalDecimal(pool.marginRatio)
        writer.member("available", pool.available)
        writer.member("withdrawable", pool.withdrawable)
        writer.member("status", pool.status.name)
        writer.member("call_amount", pool.callAmount)
        writer.member("debt", pool.debt)
        writer.key("margin_level")
        writer.optionalDecimal(pool.marginLevel)
        writer.endObject()
    }

    /// `"haircuts": {asset: {"haircut", "volatility", "liquidity", "concentration", "wrong_way"}}`.
    static func writeHaircuts(_ haircuts: [Int: HaircutModel.Breakdown], market: Market, into writer: inout JSONWriter) {
        writer.key("haircuts")
        writer.beginObject()
        for asset in haircuts.keys.sorted() {
            let b = haircuts[asset]!
            writer.key(market.assets[asset].symbol)
            writer.beginObject()
            writer.member("haircut", market.assets[asset].haircut)
            writer.key("volatility"); writer.raw(quoted(b.volatility))
            writer.key("liquidity"); writer.raw(quoted(b.liquidity))
            writer.key("concentration"); writer.raw(quoted(b.concentration))
            writer.key("wrong_way"); writer.raw(quoted(b.wrongWay))
            writer.endObject()
        }
        writer.endObject()
    }

    /// A `Double` as a JSON decimal string (shortest round-trip text, no exponent).
    static func quoted(_ value: Double) -> String { "\"" + DoubleBoundary.text(value) + "\"" }
}
