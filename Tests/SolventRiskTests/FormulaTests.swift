import SolventCore
import SolventRisk
import Testing

@Suite struct FormulaTests {
    /// Linear notional `Q·mark` and uPnL `s·Q·(mark − entry)`, and collateral with haircuts:
    /// 10000 USDT + 0.1 BTC × 65000 × (1 − 0.05) = 16175; equity 16175 + 2505 = 18680 (DESIGN.md example).
    @Test func linearAndHaircuts() throws {
        let (_, result) = try evaluate(document(accounts: """
            [{ "id": "alice", "settle": "USDT", "collateral": { "USDT": "10000", "BTC": "0.1" },
               "positions": [ { "symbol": "BTCUSDT", "quantity": "0.5", "entry_price": "60000", "leverage": "20" },
                              { "symbol": "BTCUSDT", "quantity": "-0.2", "entry_price": "64000", "leverage": "10",
                                "margin_mode": "isolated", "isolated_margin": "1300" } ] }]
            """, haircuts: #"{ "BTC": "0.05" }"#))
        let alice = result[0]
        #expect(alice.positions[0].notional == d("32505"))
        #expect(alice.positions[0].unrealizedPnl == d("2505"))
        #expect(alice.positions[0].initialMargin == d("1625.25"))  // 32505 / 20
        #expect(alice.positions[0].maintenanceMargin == d("130.02"))  // 32505 × 0.004
        #expect(alice.cross.collateral == d("16175"))
        #expect(alice.cross.equity == d("18680"))
        #expect(alice.positions[1].unrealizedPnl == d("-202"))  // −0.2 × (65010 − 64000)
        #expect(alice.pools[1].equity == d("1098"))
        #expect(alice.pools[1].available == .zero)  // 1098 − 1300.2 < 0
        // Cross long: (16175 − 0.5 × 60000) / (0.5 × 0.004 − 0.5) = 27761.044176706827309237
        #expect(alice.positions[0].liquidationPrice == d("27761.044176706827309237"))
        #expect(alice.positions[0].bankruptcyPrice == d("27650"))  // 60000 − 16175 / 0.5
        // Isolated short: (1300 + 0.2 × 64000) / (0.2 × 0.004 + 0.2)
        #expect(alice.positions[1].liquidationPrice == d("70219.12350597609561753"))
        #expect(alice.positions[1].bankruptcyPrice == d("70500"))
    }

    /// Negative balances count at full value; positive ones take their haircut; other
    /// assets are converted through the settle asset's price.
    @Test func multiAssetCollateral() throws {
        let (_, result) = try evaluate(document(accounts: """
            [{ "id": "c", "settle": "USDT", "collateral": { "USDT": "-500", "USDC": "1000", "ETH": "2", "BTC": "-0.01" } }]
            """, haircuts: #"{ "USDC": "0.01", "ETH": "0.08", "BTC": "0.05" }"#))
        // −500 + 1000 × 0.99 + 2 × 3200 × 0.92 − 0.01 × 65000 = −500 + 990 + 5888 − 650 = 5728
        #expect(result[0].cross.collateral == d("5728"))
        #expect(result[0].status == .healthy)
        // Debt 500 + 650 carries MM 115 at the default debt rate 0.1 (docs/loans.md): 115 / 5728.
        #expect(result[0].cross.maintenanceMargin == d("115"))
        #expect(result[0].cross.marginRatio == d("115").divided(by: d("5728"), rounding: .halfEven))
    }

    /// Binance USD-M isolated liquidation price, one position (MECHANICS.md §1):
    /// `LP = (WB + cumB − s·Q·EP) / (Q·MMR − s·Q)` = (1500 + 0 − 30000) / (0.004 − 1).
    @Test func binanceIsolatedFormula() throws {
        let (_, result) = try evaluate(document(accounts: """
            [{ "id": "i", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "30000",
               "margin_mode": "isolated", "isolated_margin": "1500" } ] }]
            """, marks: #""BTCUSDT": "30000""#))
        #expect(result[0].positions[0].liquidationPrice == d("28614.457831325301204819"))
        #expect(result[0].positions[0].bankruptcyPrice == d("28500"))
        #expect(result[0].positions[0].initialMargin == d("240"))  // no leverage → max 125: 30000/125
    }

    /// The liquidation price uses the bracket at the liquidation notional (fixed point):
    /// at the mark, 20 BTC × 30000 = 600000 is in tier 3, but the solution in tier 3
    /// (27128.84, notional 542577) is not in tier 3; tier 2's solution 27133.17 is in tier 2.
    @Test func bracketFixedPoint() throws {
        let (_, result) = try evaluate(document(accounts: """
            [{ "id": "i", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "20", "entry_price": "30000",
               "margin_mode": "isolated", "isolated_margin": "60000" } ] }]
            """, marks: #""BTCUSDT": "30000""#))
        #expect(result[0].positions[0].bracket == 2)
        #expect(result[0].positions[0].maintenanceMargin == d("2950"))  // 600000 × 0.0065 − 950
        #expect(result[0].positions[0].liquidationPrice == d("27133.165829145728643216"))
    }

    /// Inverse: notional `Q/mark` coins, uPnL `s·Q·(1/EP − 1/mark)`, and the liquidation
    /// price solved in 1/P: `x = (WB + cum + s·Q/EP) / (Q·(MMR + s))` (MECHANICS.md §2).
    @Test func inverseFormulas() throws {
        let (_, result) = try evaluate(document(accounts: """
            [{ "id": "dave", "settle": "BTC", "collateral": { "BTC": "1.5" },
               "positions": [ { "symbol": "BTCUSD_PERP", "quantity": "2000", "entry_price": "62000", "leverage": "10" } ] }]
            """))
        let p = result[0].positions[0]
        #expect(p.notional == d("3.07597662257766841"))  // 200000 / 65020
        #expect(p.unrealizedPnl == d("0.149829829035234816"))  // 200000 × (1/62000 − 1/65020)
        #expect(p.liquidationPrice == d("42490.102389078498293515"))
        #expect(p.bankruptcyPrice == d("42320.819112627986348123"))  // 1 / ((1.5 + 200000/62000) / 200000)
    }

    /// Each status boundary, exactly: MM 70 on equity 100 is warning, just above equity
    /// is healthy; 85 on 100 is margin call; equity = MM is liquidatable; equity 0 is bankrupt.
    @Test(arguments: [
        ("7000", "100", MarginStatus.warning), ("7000", "100.000000000000000001", .healthy),
        ("8500", "100", .marginCall), ("8500", "100.000000000000000001", .warning),
        ("10000", "100", .liquidatable), ("10000", "100.000000000000000001", .marginCall),
        ("10000", "0.000000000000000001", .liquidatable), ("10000", "0", .bankrupt), ("10000", "-5", .bankrupt),
    ])
    func statusBoundaries(notional: String, collateral: String, expected: MarginStatus) throws {
        // One long of notional N at its entry (uPnL 0), MMR 1% (tier with mmr 0.01 from 0).
        let text = """
            { "assets": { "USDT": "1" },
              "instruments": [ { "symbol": "X", "kind": "linear_perpetual", "base": "X", "settle": "USDT",
                "brackets": [ { "notional_floor": "0", "notional_cap": "1000000", "max_leverage": "50", "mmr": "0.01" } ] } ],
              "marks": { "X": "\(notional)" },
              "accounts": [ { "id": "a", "settle": "USDT", "collateral": { "USDT": "\(collateral)" },
                "positions": [ { "symbol": "X", "quantity": "1", "entry_price": "\(notional)" } ] } ] }
            """
        let (_, result) = try evaluate(text)
        #expect(result[0].status == expected)
        if expected >= .marginCall && expected < .bankrupt {
            // call = MM / 0.70 − equity, rounded up (paying it cures: MM ≤ 0.70·(equity + call))
            let pool = result[0].cross
            #expect(pool.callAmount == pool.maintenanceMargin.divided(by: d("0.7"), rounding: .up)! - pool.equity)
            #expect(pool.maintenanceMargin <= (pool.equity + pool.callAmount) * d("0.7"))
        } else if expected < .marginCall {
            #expect(result[0].cross.callAmount == .zero)
        }
    }

    /// A pool with no positions and no debt is healthy; a negative balance is debt (docs/loans.md):
    /// with equity ≤ 0 the pool is bankrupt and its ratio is null.
    @Test func emptyPoolIsHealthy() throws {
        let (_, healthy) = try evaluate(document(accounts: #"[{ "id": "e", "settle": "USDT", "collateral": { "USDT": "5" } }]"#))
        #expect(healthy[0].status == .healthy)
        let (_, result) = try evaluate(document(accounts: #"[{ "id": "e", "settle": "USDT", "collateral": { "USDT": "-5" } }]"#))
        #expect(result[0].status == .bankrupt)
        #expect(result[0].cross.marginRatio == nil)
        #expect(result[0].cross.debt == d("5"))
    }
}
