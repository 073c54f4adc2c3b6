import Foundation
import SolventCore
@testable import SolventRisk
import Testing

/// A scenario's option value change that does not fit a decimal counts as a loss of 10¹⁸ (the
/// whole book), never as 0 (session 16's attack: a 1e11 short coin put (here 1e7) at F = 1e-8 showed
/// `healthy` because its −90 % scenario loss, ~5.5e22, was read as no change). The input bounds
/// now keep such books out (EvaluateInput, the engine's range contract); this reaches the
/// scenario engine directly, past them, with the market changed after decoding.
@Suite struct PortfolioUnrepresentableLossTests {
    @Test func aLossBeyondTheRangeIsCountedNotDropped() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/evaluate/portfolio-inverse.json")
        let input = try EvaluateInput.decode(JSONParser.parse(try String(contentsOf: path, encoding: .utf8)))
        var market = input.market
        let perpetual = try #require(market.instruments.firstIndex { $0.symbol == "BTC-PERPETUAL" })
        let put = try #require(market.instruments.firstIndex { $0.symbol == "BTC-31MAR24-55000-P" })
        market.marks[perpetual] = FixedDecimal(raw: 10_000_000_000)  // 1e-8 USD
        var account = try #require(input.accounts.first { $0.settle == market.assets.firstIndex { $0.symbol == "BTC" } })
        account.positions = [Position(instrument: put, quantity: FixedDecimal(-10_000_000), entryPrice: FixedDecimal(raw: 10_000_000_000_000_000), leverage: nil, marginMode: .cross)]
        let margin = PortfolioMargin(market: market, policy: input.policy, portfolio: input.portfolio, options: input.options)
        let evaluation = margin.evaluate(account)
        // Now the put is worth ~5.5e12 BTC a coin (5.5e19 for 1e7: fits); the −90 % scenario adds 1e7·(5.5e13 − 5.5e12) ≈ 5e20 BTC, which does not fit: counted as 1e18.
        #expect(evaluation.pool.initialMargin >= FixedDecimal(1_000_000_000_000_000_000), "IM \(evaluation.pool.initialMargin)")
        #expect(evaluation.pool.status != .healthy)
    }

    /// The boundary itself: a change that fits passes as is; one beyond ±1.7e20 or not finite
    /// is no gain, or a loss of 1e18 (the old mapping read every one of them as 0).
    @Test func theBoundaryOfAScenarioChange() {
        #expect(PortfolioMargin.scenarioChange(-12.5) == FixedDecimal(raw: -12_500_000_000_000_000_000))
        #expect(PortfolioMargin.scenarioChange(1e21) == .zero)
        #expect(PortfolioMargin.scenarioChange(-1e21) == -FixedDecimal(1_000_000_000_000_000_000))
        #expect(PortfolioMargin.scenarioChange(.nan) == -FixedDecimal(1_000_000_000_000_000_000))
        #expect(PortfolioMargin.scenarioChange(-.infinity) == -FixedDecimal(1_000_000_000_000_000_000))
    }
}
