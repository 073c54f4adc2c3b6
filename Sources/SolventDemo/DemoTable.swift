import SolventCore
public import SolventRisk

/// A plain-text table of account margin states, for people.
public enum DemoTable {
    /// One row per account: id, status, equity and MM of the worst pool, its margin
    /// ratio, and the liquidation price nearest to its mark.
    public static func render(_ input: EvaluateInput) -> String {
        let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
        var rows: [[String]] = [["account", "status", "pool", "equity", "maint. margin", "margin ratio", "call amount", "nearest liq. price"]]
        for account in input.accounts {
            let evaluation = evaluator.evaluate(account)
            let worst = evaluation.pools.max { $0.status < $1.status } ?? evaluation.cross
            let settle = input.market.assets[account.settle].symbol
            let nearest = nearestLiquidation(account, evaluation, market: input.market)
            let symbol = { (i: Int) in input.market.instruments[account.positions[i].instrument].symbol }
            rows.append([
                account.id, evaluation.status.name, worst.pool.name(symbol: symbol),
                "\(worst.equity.formatted(digits: 2)) \(settle)",
                "\(worst.maintenanceMargin.formatted(digits: 2)) \(settle)",
                worst.marginRatio.map { "\(($0 * 100).formatted(digits: 2))%" } ?? "n/a (equity ≤ 0)",
                worst.callAmount.isZero ? "-" : "\(worst.callAmount.formatted(digits: 2)) \(settle)",
                nearest,
            ])
        }
        return format(rows) + "\nStatus from margin ratio = MM / equity: warning ≥ \(input.policy.warningRatio), call ≥ \(input.policy.callRatio), liquidation ≥ 1.\n"
    }

    static func nearestLiquidation(_ account: Account, _ evaluation: AccountEvaluation, market: Market) -> String {
        var best: (distance: FixedDecimal, text: String)? = nil
        for (i, position) in account.positions.enumerated() {
            guard let price = evaluation.positions[i].liquidationPrice, let mark = market.marks[position.instrument] else { continue }
            let distance = ((price - mark) / mark).magnitude
            let symbol = market.instruments[position.instrument].symbol
            let text = "\(symbol) \(price.formatted(digits: 2)) (\(((price - mark) / mark * 100).formatted(digits: 1))%)"
            if best == nil || distance < best!.distance { best = (distance, text) }
        }
        return best?.text ?? "none"
    }

    static func format(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { i, cell in cell + String(repeating: " ", count: widths[i] - cell.count) }
            out += cells.joined(separator: "  ") + "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }
}
