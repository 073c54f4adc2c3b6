import Foundation
import SolventCore
import SolventRisk
import Testing

@Suite struct HaircutModelTests {
    /// The worked example of docs/haircuts.md: 100 BTC at 65,000, σ 3%/day, 20,000 BTC/day.
    @Test func workedExample() {
        let model = HaircutModel()
        let plain = model.haircut(.init(dailyVolatility: 0.03, dailyVolume: 20_000, amount: 100, price: 65_000))
        #expect(abs(plain.volatility - 0.07436935926101951) < 1e-12)
        #expect(abs(plain.volatility + plain.liquidity - 0.07525757232157781) < 1e-12)
        #expect(abs(plain.concentration - 0.016923076923076923) < 1e-12)
        #expect(abs(plain.total - 0.09218064924465474) < 1e-12)
        // Backing a long BTC perp of the same size: wrong-way add-on of half the market part.
        let wrongWay = model.haircut(.init(dailyVolatility: 0.03, dailyVolume: 20_000, amount: 100, price: 65_000, exposureCorrelation: 1, exposureRatio: 1))
        #expect(abs(wrongWay.wrongWay - 0.03762878616078891) < 1e-12)
        // Backing a short (a hedge): nothing added.
        let hedge = model.haircut(.init(dailyVolatility: 0.03, dailyVolume: 20_000, amount: 100, price: 65_000, exposureCorrelation: -1, exposureRatio: 1))
        #expect(hedge.wrongWay == 0 && hedge.total == plain.total)
    }

    /// Larger holdings, thinner markets and higher volatility never lower the haircut; it is capped.
    @Test func monotoneAndCapped() {
        let model = HaircutModel()
        var previous = 0.0
        for amount in [1.0, 10, 100, 1_000, 10_000, 100_000] {
            let h = model.haircut(.init(dailyVolatility: 0.05, dailyVolume: 5_000, amount: amount, price: 3_200)).total
            #expect(h >= previous)
            previous = h
        }
        #expect(model.haircut(.init(dailyVolatility: 0.05, dailyVolume: 50, amount: 100, price: 3_200)).total
                > model.haircut(.init(dailyVolatility: 0.05, dailyVolume: 50_000, amount: 100, price: 3_200)).total)
        #expect(model.haircut(.init(dailyVolatility: 5, dailyVolume: 1, amount: 1e9, price: 1e3)).total == 1)
        #expect(model.haircut(.init(dailyVolatility: 0.05, dailyVolume: 0, amount: 1, price: 1)).total == 1)  // no market at all
    }
}

@Suite struct RiskScoreTests {
    private func book(collateral: String, quantity: String = "1") throws -> (EvaluateInput, AccountEvaluation) {
        let (input, result) = try evaluate(document(accounts: """
            [{ "id": "a", "settle": "USDT", "collateral": { "USDT": "\(collateral)" },
               "positions": [ { "symbol": "BTCUSDT", "quantity": "\(quantity)", "entry_price": "65010" } ] }]
            """))
        return (input, result[0])
    }

    /// More collateral lowers the score; a liquidatable account scores 100.
    @Test func scoreOrdering() throws {
        let vol = [0.03, 0.03]
        let (thinInput, thin) = try book(collateral: "2000")
        let (richInput, rich) = try book(collateral: "60000")
        let thinScore = RiskScore.score(thinInput.accounts[0], thin, market: thinInput.market, dailyVolatility: vol)
        let richScore = RiskScore.score(richInput.accounts[0], rich, market: richInput.market, dailyVolatility: vol)
        #expect(thinScore.score > richScore.score)
        #expect(abs(thinScore.effectiveLeverage - 65_010.0 / 2_000) < 1e-9)
        #expect(thinScore.concentration == 1)
        let (badInput, bad) = try book(collateral: "100")
        #expect(RiskScore.score(badInput.accounts[0], bad, market: badInput.market, dailyVolatility: vol).score == 100)
    }
}

/// The haircut model inside `evaluate`: per-account haircuts from size and exposure.
@Suite struct EvaluateHaircutModelTests {
    private func output(_ accounts: String, model: String = #"{ "assets": { "BTC": { "daily_volatility": "0.03", "daily_volume": "20000" } } }"#) throws -> JSONValue {
        let text = document(accounts: accounts, haircuts: #"{ "BTC": "0.05" }"#).replacingOccurrences(of: #""accounts":"#, with: "\"haircut_model\": \(model), \"accounts\":")
        return try JSONParser.parse(EvaluateOutput.render(EvaluateInput.decode(JSONParser.parse(text))))
    }

    private func haircut(_ json: JSONValue, _ k: Int) -> FixedDecimal? {
        guard case .array(let accounts)? = json["accounts"], case .string(let h)? = accounts[k]["haircuts"]?["BTC"]?["haircut"] else { return nil }
        return FixedDecimal(h)
    }

    /// BTC collateral behind a long BTC perpetual takes the wrong-way add-on; behind a short it
    /// is a hedge (no add-on); a 100× larger holding takes a larger haircut (liquidity and
    /// concentration). Equity uses the account's own haircut.
    @Test func perAccountHaircuts() throws {
        let json = try output("""
            [ { "id": "long", "settle": "USDT", "collateral": { "BTC": "1" }, "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "65010" } ] },
              { "id": "short", "settle": "USDT", "collateral": { "BTC": "1" }, "positions": [ { "symbol": "BTCUSDT", "quantity": "-1", "entry_price": "65010" } ] },
              { "id": "flat", "settle": "USDT", "collateral": { "BTC": "1" } },
              { "id": "whale", "settle": "USDT", "collateral": { "BTC": "100" } } ]
            """)
        let long = try #require(haircut(json, 0)), short = try #require(haircut(json, 1)), flat = try #require(haircut(json, 2)), whale = try #require(haircut(json, 3))
        #expect(long > flat)
        #expect(short == flat)
        #expect(whale > flat)
        // 1 BTC, σ 3 %/day, volume 20,000: h = 1 − e^(−2.576·0.03·√(1 + 0.00025)) ≈ 7.44 %, no concentration below 1M.
        let expected = 1 - Foundation.exp(-2.576 * 0.03 * (1 + 1.0 / (0.1 * 20_000) / 2).squareRoot())
        #expect(abs(DoubleBoundary.double(flat) - expected) < 2e-6)
        guard case .array(let accounts)? = json["accounts"], case .string(let equity)? = accounts[2]["pools"].flatMap({ if case .array(let p) = $0 { return p[0]["equity"] } else { return nil } }) else {
            Issue.record("no equity"); return
        }
        #expect(FixedDecimal(equity)! == FixedDecimal(65_000) * (.one - flat))
    }

    /// Bad model inputs name their path.
    @Test func badModel() {
        let bad = document(accounts: "[]").replacingOccurrences(of: #""accounts":"#, with: #""haircut_model": { "assets": { "DOGE": { "daily_volatility": "0.1", "daily_volume": "1" } } }, "accounts":"#)
        #expect(inputError(bad)?.path == "haircut_model.assets.DOGE")
        let negative = document(accounts: "[]").replacingOccurrences(of: #""accounts":"#, with: #""haircut_model": { "participation": "0", "assets": {} }, "accounts":"#)
        #expect(inputError(negative)?.path == "haircut_model.participation")
    }
}
