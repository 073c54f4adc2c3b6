import Foundation
import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// A portfolio document: BTC and ETH perpetuals, a dated BTC future, BTC options (62,000 call
/// and put, 50,000 put, 29 days at valuation), `accounts` and `extra` top-level members spliced in.
private func portfolioDocument(accounts: String, extra: String = "") -> String {
    func option(_ symbol: String, _ right: String, _ strike: String) -> String {
        """
        { "symbol": "\(symbol)", "kind": "option", "right": "\(right)", "strike": "\(strike)", "expiry": "2024-03-30T08:00:00Z",
          "underlying": "BTCUSDT", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets) }
        """
    }
    let brackets = #"[ { "notional_floor": "0", "notional_cap": "100000000", "max_leverage": "100", "mmr": "0.005" } ]"#
    return """
        { "valuation_time": "2024-03-01T08:00:00Z",
          "assets": { "USDT": "1", "BTC": "62000", "ETH": "3400" },
          "haircuts": { "BTC": "0.05", "ETH": "0.08" },
          "instruments": [
            { "symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets) },
            { "symbol": "ETHUSDT", "kind": "linear_perpetual", "base": "ETH", "settle": "USDT", "contract_size": "1", "brackets": \(brackets) },
            { "symbol": "BTC-JUN", "kind": "linear_future", "expiry": "2024-06-28T08:00:00Z", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets) },
            { "symbol": "BTCUSD_PERP", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC", "contract_size": "100", "brackets": \(brackets) },
            \(option("C62", "call", "62000")), \(option("P62", "put", "62000")), \(option("P50", "put", "50000")) ],
          "marks": { "BTCUSDT": "62000", "ETHUSDT": "3400", "BTC-JUN": "63000", "BTCUSD_PERP": "62000" },
          "implied_vols": { "C62": "0.60", "P62": "0.60", "P50": "0.72" }
          \(extra.isEmpty ? "" : ", " + extra),
          "accounts": \(accounts) }
        """
}

private func portfolio(_ document: String) throws -> (EvaluateInput, [PortfolioEvaluation]) {
    let input = try EvaluateInput.decode(JSONParser.parse(document))
    let margin = PortfolioMargin(market: input.market, policy: input.policy, portfolio: input.portfolio, options: input.options)
    return (input, input.accounts.map(margin.evaluate))
}

private func account(_ id: String, collateral: String = #"{ "USDT": "100000" }"#, _ positions: [(String, String, String)]) -> String {
    let list = positions.map { #"{ "symbol": "\#($0.0)", "quantity": "\#($0.1)", "entry_price": "\#($0.2)" }"# }.joined(separator: ", ")
    return #"{ "id": "\#(id)", "mode": "portfolio", "settle": "USDT", "collateral": \#(collateral), "positions": [\#(list)] }"#
}

@Suite struct PortfolioMarginTests {
    /// The default grid: 13 moves from −15 % to +15 % by 2.5 % × (down, none, up), then ±30 % at 35 %.
    @Test func defaultGrid() {
        let grid = PortfolioPolicy().scenarios(range: d("0.15"))
        #expect(grid.count == 41)
        #expect(grid[0] == Scenario(move: d("-0.15"), volShock: .down, weight: .one))
        #expect(grid[19] == Scenario(move: .zero, volShock: .none, weight: .one))
        #expect(grid[5].move == d("-0.125"))
        #expect(grid[39] == Scenario(move: d("-0.3"), volShock: .up, weight: d("0.35")))
        #expect(grid[40] == Scenario(move: d("0.3"), volShock: .up, weight: d("0.35")))
        // Vol shock: 20 % at 30 days, √(30/1)·20 % capped at 50 % for a day, 20·√(30/365) % for a year.
        let policy = PortfolioPolicy()
        #expect(abs(policy.volShockSize(years: 30.0 / 365) - 0.2) < 1e-15)
        #expect(policy.volShockSize(years: 0.5 / 365) == 0.5)
        #expect(abs(policy.volShockSize(years: 1) - 0.2 * (30.0 / 365).squareRoot()) < 1e-15)
    }

    /// A naked short perpetual: worst loss is the +15 % move, 62,000 × 0.15 = 9,300; MM = 0.75 × IM.
    /// Long 1 BTC of collateral against the same short (cash and carry) leaves only the basis
    /// floor, 0.5 % × 62,000 = 310: the delta-neutral book gets the credit it deserves.
    @Test func deltaNeutralSpotAgainstPerpetual() throws {
        let (_, result) = try portfolio(portfolioDocument(accounts: "[" + [
            account("naked", [("BTCUSDT", "-1", "62000")]),
            account("carry", collateral: #"{ "USDT": "2000", "BTC": "1" }"#, [("BTCUSDT", "-1", "62000")]),
        ].joined(separator: ",") + "]"))
        let naked = result[0], carry = result[1]
        #expect(naked.groups[0].worstLoss == d("9300"))
        #expect(naked.groups[0].scenarios[naked.groups[0].worstIndex].move == d("0.15"))
        #expect(naked.pool.initialMargin == d("9300"))
        #expect(naked.pool.maintenanceMargin == d("6975"))
        #expect(naked.groups[0].deltaEquivalent == d("-9300"))
        #expect(carry.groups[0].worstLoss == .zero)
        #expect(carry.groups[0].deltaEquivalent == .zero)
        #expect(carry.pool.initialMargin == d("310"))
        // Equity: 2,000 + 62,000 × 0.95 (haircut) = 60,900.
        #expect(carry.pool.equity == d("60900"))
    }

    /// A short straddle hedged to delta neutral with the perpetual needs less margin than the
    /// naked straddle, and its directional exposure is (close to) zero; the short-option
    /// minimum is 1 % × 2 × 62,000 per leg.
    @Test func straddleHedgedWithPerpetual() throws {
        let straddle = [("C62", "-2", "3500"), ("P62", "-2", "3500")]
        let (_, naked) = try portfolio(portfolioDocument(accounts: "[" + account("s", straddle) + "]"))
        let delta = naked[0].positions.reduce(0.0) { $0 - 2 * $1.option!.delta }  // position delta, BTC
        let hedge = String(format: "%.3f", -delta)
        let (_, hedged) = try portfolio(portfolioDocument(accounts: "[" + account("h", straddle + [("BTCUSDT", hedge, "62000")]) + "]"))
        #expect(naked[0].groups[0].shortOptionMinimum == d("2480"))
        #expect(hedged[0].pool.initialMargin < naked[0].pool.initialMargin)
        #expect(hedged[0].groups[0].deltaEquivalent.magnitude < naked[0].groups[0].deltaEquivalent.magnitude)
        // Short options lose on both sides: the worst loss stays positive after the hedge.
        #expect(hedged[0].groups[0].worstLoss.isPositive)
    }

    /// A protective put caps the long's downside: the −15 % loss of the perpetual alone is 9,300;
    /// with the 50,000 put it is smaller.
    @Test func protectivePutReducesDownside() throws {
        let (_, result) = try portfolio(portfolioDocument(accounts: "[" + [
            account("long", [("BTCUSDT", "1", "62000")]),
            account("protected", [("BTCUSDT", "1", "62000"), ("P50", "1", "600")]),
        ].joined(separator: ",") + "]"))
        #expect(result[0].pool.initialMargin == d("9300"))
        #expect(result[1].pool.initialMargin < d("9300"))
        // The extreme −30 % move at 35 %: 0.35 × (62,000 × 0.3 − put gain) is below the −15 % loss.
        #expect(result[1].groups[0].losses[39] < result[1].groups[0].worstLoss)
    }

    /// BTC long against ETH short with ρ = 0.8: credit = 0.7 × 0.8 × min(9,300, 9,180) = 5,140.8;
    /// no credit without a correlation, or when both legs are long; a negative correlation
    /// credits two longs instead.
    @Test func correlationCredit() throws {
        let pair = account("pair", [("BTCUSDT", "1", "62000"), ("ETHUSDT", "-18", "3400")])
        let bothLong = account("both", [("BTCUSDT", "1", "62000"), ("ETHUSDT", "18", "3400")])
        let accounts = "[" + pair + "," + bothLong + "]"
        let (_, credited) = try portfolio(portfolioDocument(accounts: accounts, extra: #""portfolio_policy": { "correlations": { "BTC/ETH": "0.8" } }"#))
        #expect(credited[0].correlationCredit == d("5140.8"))
        #expect(credited[0].pool.initialMargin == d("9300") + d("9180") - d("5140.8"))
        #expect(credited[1].correlationCredit == .zero)
        let (_, none) = try portfolio(portfolioDocument(accounts: accounts))
        #expect(none[0].correlationCredit == .zero)
        #expect(none[0].pool.initialMargin == d("18480"))
        let (_, negative) = try portfolio(portfolioDocument(accounts: accounts, extra: #""portfolio_policy": { "correlations": { "ETH/BTC": "-0.5" } }"#))
        #expect(negative[0].correlationCredit == .zero)
        #expect(negative[1].correlationCredit == d("0.7") * d("0.5") * d("9180"))
    }

    /// A credit never exceeds what the hedge offsets: with three groups and two correlations, each
    /// leg's directional risk is consumed once (BTC long 1 against ETH short 9 and a SOL-like
    /// second leg is not needed: the ETH leg is consumed by the stronger pair first).
    @Test func creditIsConsumedOnce() {
        func group(_ name: String, _ im: String, _ delta: String) -> GroupRisk {
            GroupRisk(underlying: name, priceRange: d("0.15"), scenarios: [], losses: [], worstLoss: d(im), worstIndex: 0,
                      shortOptionMinimum: .zero, basisMinimum: .zero, initialMargin: d(im), deltaEquivalent: d(delta))
        }
        var policy = PortfolioPolicy()
        policy.correlationCredit = .one
        policy.correlations = [.init(first: "A", second: "B", rho: d("0.9")), .init(first: "A", second: "C", rho: d("0.5"))]
        // A long 100 is offset first by B (short 60) at 0.9, then by what is left (40) against C at 0.5.
        let groups = [group("A", "100", "100"), group("B", "60", "-60"), group("C", "80", "-80")]
        #expect(PortfolioMargin.correlationCredit(groups: groups, policy: policy) == d("0.9") * d("60") + d("0.5") * d("40"))
        // Directional risk is capped by IM: a group whose IM is below its delta exposure offers only its IM.
        let capped = [group("A", "10", "100"), group("B", "60", "-60")]
        #expect(PortfolioMargin.correlationCredit(groups: capped, policy: policy) == d("0.9") * d("10"))
    }

    /// An expired option is worth its intrinsic value; an expired short put deep in the money
    /// loses one for one with the underlying.
    @Test func expiredOptionIsIntrinsic() throws {
        let afterExpiry = portfolioDocument(accounts: "[" + account("e", [("P62", "-1", "1000")]) + "]")
            .replacingOccurrences(of: "2024-03-01T08:00:00Z", with: "2024-04-01T00:00:00Z")
        let (_, result) = try portfolio(afterExpiry)
        let option = result[0].positions[0].option!
        #expect(option.years == 0)
        #expect(option.value == 0)
        // −15 %: the put is worth 62,000 × 0.15 = 9,300 at expiry, a loss of 9,300 for the short.
        #expect(result[0].groups[0].losses[0] == d("9300"))
    }

    /// The grid pricer is Black-76: the same value as ``Black76`` to 1e-12 relative on random
    /// options, moves and vols.
    @Test func gridMatchesBlack76() async {
        await propertyCheck(count: 500, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let forward = Double.random(in: 1_000...100_000, using: &rng)
            let strike = forward * Double.random(in: 0.5...1.5, using: &rng)
            let years = Double.random(in: 0.001...2, using: &rng)
            let vol = Double.random(in: 0.05...2, using: &rng)
            let rate = Double.random(in: -0.02...0.08, using: &rng)
            let growth = Double.random(in: 0.5...1.5, using: &rng)
            let isCall = Bool.random(using: &rng)
            let grid = OptionGrid(forward: forward, strike: strike, years: years, rate: rate, isCall: isCall)
            let reference = Black76(forward: forward * growth, strike: strike, years: years, volatility: vol, rate: rate, isCall: isCall).price
            let value = grid.value(growth: growth, logGrowth: Foundation.log(growth), vol: vol)
            #expect(abs(value - reference) <= 1e-12 * max(1, reference) + 1e-9 * strike * 1e-3)
        }
    }

    /// Doubling every quantity doubles every loss and the IM (scenario margin is homogeneous).
    @Test func marginIsHomogeneous() throws {
        let book = [("BTCUSDT", "0.5", "61000"), ("C62", "-3", "4000"), ("P50", "2", "700"), ("BTC-JUN", "-1", "64000")]
        let doubled = book.map { ($0.0, (d($0.1) * d("2")).description, $0.2) }
        let (_, one) = try portfolio(portfolioDocument(accounts: "[" + account("x", book) + "]"))
        let (_, two) = try portfolio(portfolioDocument(accounts: "[" + account("x", doubled) + "]"))
        for (a, b) in zip(one[0].groups[0].losses, two[0].groups[0].losses) {
            #expect((b - a * d("2")).magnitude <= d("0.000000001"))
        }
        #expect((two[0].pool.initialMargin - one[0].pool.initialMargin * d("2")).magnitude <= d("0.000000001"))
    }

    /// A vol smile is interpolated linearly in strike and flat beyond its ends.
    @Test func smileInterpolation() throws {
        let smile = VolatilitySmile(points: [(60_000, 0.6), (50_000, 0.8), (70_000, 0.55)])
        #expect(smile.vol(at: 40_000) == 0.8)
        #expect(abs(smile.vol(at: 55_000) - 0.7) < 1e-15)
        #expect(smile.vol(at: 80_000) == 0.55)
        let document = portfolioDocument(accounts: "[" + account("s", [("P50", "1", "700")]) + "]",
                                         extra: #""smiles": { "BTCUSDT": [ { "strike": "40000", "vol": "0.9" }, { "strike": "60000", "vol": "0.7" } ] }"#)
            .replacingOccurrences(of: #""P50": "0.72""#, with: #""X": "1""#)
            .replacingOccurrences(of: #", "X": "1""#, with: "")
        let (_, result) = try portfolio(document)
        #expect(abs(result[0].positions[0].option!.impliedVol - 0.8) < 1e-15)
    }

    /// Bad portfolio inputs are rejected with the path and the reason.
    @Test(arguments: [
        (#"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "C62", "quantity": "1", "entry_price": "1" } ] }]"#, "", "accounts[0].positions[0].symbol", "mode"),
        (#"[{ "id": "a", "mode": "portfolio", "settle": "USDT", "positions": [ { "symbol": "BTCUSD_PERP", "quantity": "1", "entry_price": "1" } ] }]"#, "", "accounts[0].positions[0].symbol", "inverse"),
        (#"[{ "id": "a", "mode": "margin", "settle": "USDT" }]"#, "", "accounts[0].mode", "must be"),
        ("[]", #""portfolio_policy": { "price_steps": 12 }"#, "portfolio_policy.price_steps", "odd"),
        ("[]", #""portfolio_policy": { "correlations": { "BTC/BTC": "0.5" } }"#, "portfolio_policy.correlations[\"BTC/BTC\"]", "two different"),
        ("[]", #""portfolio_policy": { "correlations": { "BTC/ETH": "1.5" } }"#, "portfolio_policy.correlations[\"BTC/ETH\"]", "[-1, 1]"),
        ("[]", #""implied_vols": { "C62": "-0.2" }"#, "implied_vols.C62", "(0, 10]"),
        ("[]", #""implied_vols": { "BTCUSDT": "0.2" }"#, "implied_vols.BTCUSDT", "not an option"),
        (#"[{ "id": "a", "mode": "portfolio", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "1", "margin_mode": "isolated", "isolated_margin": "1" } ] }]"#, "", "accounts[0].positions[0].margin_mode", "one pool"),
    ])
    func badInputs(accounts: String, extra: String, path: String, reason: String) {
        var document = portfolioDocument(accounts: accounts, extra: extra)
        if extra.contains("implied_vols") {
            document = document.replacingOccurrences(of: #""implied_vols": { "C62": "0.60", "P62": "0.60", "P50": "0.72" }"#, with: #""unused": 0"#)
        }
        let error = inputError(document)
        #expect(error?.path == path, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// An option without any vol, and options without a valuation time, are refused.
    @Test func missingVolAndTime() {
        let holder = "[" + account("a", [("C62", "1", "100")]) + "]"
        let noVol = portfolioDocument(accounts: holder).replacingOccurrences(of: #""C62": "0.60", "#, with: "")
        #expect(inputError(noVol)?.path == "implied_vols.C62")
        let noTime = portfolioDocument(accounts: holder).replacingOccurrences(of: #""valuation_time": "2024-03-01T08:00:00Z","#, with: "")
        #expect(inputError(noTime)?.path == "valuation_time")
    }

    /// The example document evaluates, and a standard account in it is unchanged by the extension.
    @Test func exampleDocument() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/evaluate/options-portfolio.json")
        let input = try EvaluateInput.decode(JSONParser.parse([UInt8](Data(contentsOf: url))))
        let output = try JSONParser.parse(EvaluateOutput.render(input))
        guard case .array(let accounts)? = output["accounts"] else { Issue.record("no accounts"); return }
        #expect(accounts.count == 6)
        #expect(accounts[5]["pools"].flatMap { if case .array(let p) = $0 { return p[0]["maintenance_margin"] } else { return nil } } == .string("310"))
    }
}
