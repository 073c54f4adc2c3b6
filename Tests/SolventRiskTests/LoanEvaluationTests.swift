import SolventCore
import SolventRisk
import Testing

/// Margin for debt in the evaluation contract (docs/loans.md).
@Suite struct LoanEvaluationTests {
    static let issueDocument = """
        {"assets":{"USDT":"1","BTC":"25000"},"haircuts":{"BTC":"0.1"},"instruments":[],"marks":{},
         "accounts":[{"id":"borrower","settle":"USDT","collateral":{"USDT":"-30000","BTC":"1"},"positions":[]}]}
        """

    /// Issue 21: 30,000 USDT borrowed against 1 BTC at 25,000 with a 10 % haircut: equity −7,500,
    /// debt 30,000, maintenance 3,000 (10 %), bankrupt, with a call; BTC reaches maintenance at 36,666.67.
    @Test func issueBorrowerIsNotHealthy() throws {
        let (_, result) = try evaluate(Self.issueDocument)
        let cross = result[0].cross
        #expect(result[0].status == .bankrupt)
        #expect(cross.equity == d("-7500"))
        #expect(cross.debt == d("30000"))
        #expect(cross.maintenanceMargin == d("3000"))
        #expect(cross.initialMargin == d("7500"))
        #expect(cross.marginLevel == d("0.75"))
        #expect(cross.callAmount > .zero)
        #expect(result[0].collateralLiquidationPrices.count == 1)
        #expect(result[0].collateralLiquidationPrices[0].price == d("36666.666666666666666667"))
    }

    /// Every status of a loan without positions: 1 BTC (haircut 10 %) at 25,000 = 22,500 of
    /// collateral value against D USDT of debt; MM = 0.1·D; equity = 22,500 − D.
    @Test(arguments: [
        ("10000", MarginStatus.healthy),      // MM 1000 / equity 12500 = 0.08
        ("19000", MarginStatus.warning),      // 1900 / 3500 = 0.543 with warning 0.5
        ("20000", MarginStatus.marginCall),   // 2000 / 2500 = 0.8 ≥ call 0.8
        ("20454.545454545454545455", MarginStatus.liquidatable),  // equity ≤ MM: 22500 ≤ 1.1·D
        ("22500", MarginStatus.bankrupt),     // equity 0
    ])
    func loanStatuses(debt: String, expected: MarginStatus) throws {
        let (_, result) = try evaluate("""
            {"policy":{"warning_ratio":"0.5","call_ratio":"0.8","restore_ratio":"0.5"},
             "assets":{"USDT":"1","BTC":"25000"},"haircuts":{"BTC":"0.1"},"instruments":[],"marks":{},
             "accounts":[{"id":"b","settle":"USDT","collateral":{"USDT":"-\(debt)","BTC":"1"}}]}
            """)
        #expect(result[0].status == expected)
        if expected >= .marginCall {
            // Paying the call restores MM ≤ restore · equity.
            let pool = result[0].cross
            #expect(pool.maintenanceMargin <= (pool.equity + pool.callAmount) * d("0.5"))
        } else {
            #expect(result[0].cross.callAmount == .zero)
        }
    }

    /// The collateral liquidation price is where equity = MM, all else fixed: re-evaluated at
    /// that price the pool is exactly liquidatable (MM = equity), just above it is not.
    @Test func collateralLiquidationPriceIsTheMaintenancePoint() throws {
        let (_, result) = try evaluate("""
            {"assets":{"USDT":"1","BTC":"25000","ETH":"2000"},"haircuts":{"BTC":"0.1","ETH":"0.2"},"instruments":[],"marks":{},
             "accounts":[{"id":"b","settle":"USDT","collateral":{"USDT":"-15000","BTC":"0.5","ETH":"5"}}]}
            """)
        // BTC: 0.5·p·0.9 + 8000 − 15000 = 1500 → p = 8500/0.45 = 18888.89
        let btc = try #require(result[0].collateralLiquidationPrices[0].price)
        #expect(btc == d("18888.888888888888888889"))
        // ETH: 12500·0.9... 11250 + 5·p·0.8 − 15000 = 1500 → p = 5250/4 = 1312.5
        #expect(result[0].collateralLiquidationPrices[1].price == d("1312.5"))
        let (_, at) = try evaluate("""
            {"assets":{"USDT":"1","BTC":"25000","ETH":"1312.5"},"haircuts":{"BTC":"0.1","ETH":"0.2"},"instruments":[],"marks":{},
             "accounts":[{"id":"b","settle":"USDT","collateral":{"USDT":"-15000","BTC":"0.5","ETH":"5"}}]}
            """)
        #expect(at[0].cross.equity == at[0].cross.maintenanceMargin)
        #expect(at[0].status == .liquidatable)
    }

    /// No debt and no positions: no liquidation price; the settle asset never has one.
    @Test func noLiquidationPriceWithoutRequirement() throws {
        let (_, result) = try evaluate("""
            {"assets":{"USDT":"1","BTC":"25000"},"instruments":[],"marks":{},
             "accounts":[{"id":"a","settle":"USDT","collateral":{"USDT":"100","BTC":"1"}},
                         {"id":"b","settle":"BTC","collateral":{"USDT":"-1000","BTC":"1"}}]}
            """)
        #expect(result[0].collateralLiquidationPrices.map(\.price) == [nil, nil])
        #expect(result[0].cross.marginLevel == nil)
        #expect(result[1].collateralLiquidationPrices.map(\.price) == [nil])
        #expect(result[1].cross.debt == d("0.04"))
        #expect(result[1].status == .healthy)
    }

    /// Per-asset debt rates override the policy's defaults; debt in a non-settle asset is valued at its price.
    @Test func perAssetDebtRates() throws {
        let (input, result) = try evaluate("""
            {"policy":{"debt_maintenance_rate":"0.05","debt_initial_rate":"0.2","debt_rates":{"ETH":{"maintenance":"0.3","initial":"0.5"}}},
             "assets":{"USDT":"1","BTC":"25000","ETH":"2000"},"instruments":[],"marks":{},
             "accounts":[{"id":"b","settle":"USDT","collateral":{"USDT":"-1000","ETH":"-2","BTC":"1"}}]}
            """)
        #expect(input.policy.debtMaintenanceRate == d("0.05"))
        #expect(result[0].cross.debt == d("5000"))
        #expect(result[0].cross.maintenanceMargin == d("1250"))  // 1000·0.05 + 4000·0.3
        #expect(result[0].cross.initialMargin == d("2200"))      // 1000·0.2 + 4000·0.5
        #expect(result[0].cross.marginLevel == d("5"))
    }

    /// Positions and debt share the cross pool: MM = Σ position MM + Σ debt MM.
    @Test func debtAddsToPositionMargin() throws {
        let (_, result) = try evaluate(document(accounts: """
            [{ "id": "m", "settle": "USDT", "collateral": { "USDT": "-2000", "BTC": "0.1" },
               "positions": [ { "symbol": "BTCUSDT", "quantity": "0.5", "entry_price": "65010", "leverage": "20" } ] }]
            """))
        // position notional 32505, MM 130.02, IM 1625.25; debt 2000: MM 200, IM 500
        #expect(result[0].cross.maintenanceMargin == d("330.02"))
        #expect(result[0].cross.initialMargin == d("2125.25"))
        #expect(result[0].cross.debt == d("2000"))
    }

    /// Bad debt rates name their JSON path.
    @Test func badDebtRates() {
        let base = #"{"assets":{"USDT":"1"},"instruments":[],"marks":{},"accounts":[],"policy":"#
        #expect(inputError(base + #"{"debt_maintenance_rate":"1.5"}}"#)?.path == "policy.debt_maintenance_rate")
        #expect(inputError(base + #"{"debt_maintenance_rate":"0.3","debt_initial_rate":"0.2"}}"#)?.path == "policy.debt_initial_rate")
        #expect(inputError(base + #"{"debt_rates":{"XYZ":{"maintenance":"0.1","initial":"0.2"}}}}"#)?.path == "policy.debt_rates.XYZ")
    }
}
