import Foundation
import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

// Coin-settled (inverse) options and coin-settled portfolio accounts in `evaluate` (issue 17,
// docs/evaluate.md "Coin-settled portfolio accounts"). Expected numbers were computed
// independently of the Swift code, from the specification's formulas, with mpmath at 40 digits
// (scratch script, its method restated here):
//
//   T = 30/365 (valuation 2024-03-01T08:00Z, expiry 2024-03-31T08:00Z), F = 60,000 (the
//   BTC-PERPETUAL mark), r = 0; v(F, K, σ) = Black76(F, K, σ, T)/F in BTC per BTC;
//   default grid: 13 moves −15 % … +15 % by 2.5 % × (down, none, up), then ±30 % vol up at
//   weight 0.35; vol shock at 30 days = min(0.5, 0.2·√(30/30)) = 0.2 (σ·0.8 / σ / σ·1.2);
//   L = −[Σ_perp s·Q·(1/F − 1/(F(1+m))) + Σ_option q·(v(F(1+m), σ') − v(F, σ))]·weight;
//   short_option_minimum = 0.01·Σ_short |q|, basis_minimum = 0.005·Σ Q/mark, IM = max(worst,
//   floors), MM = 0.75·IM, equity = BTC + Σ s·Q·(1/entry − 1/mark) + Σ q·(v − entry).
//
// The market is Examples/evaluate/portfolio-inverse.json's: BTC-PERPETUAL (inverse, 10 USD a
// contract, mark 60,000), BTC-27MAR24 (inverse future, 10 USD, mark 61,000), inverse options
// on BTC-PERPETUAL (1 BTC a contract): 70,000 call σ 0.60, 50,000 put σ 0.70, 55,000 put σ 0.65,
// 200,000 call σ 0.60; a linear BTCUSDT perpetual for a USDT account.

private let examplePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Examples/evaluate/portfolio-inverse.json")

private func exampleText() throws -> String { try String(contentsOf: examplePath, encoding: .utf8) }

/// The example document with its `accounts` replaced.
private func document(accounts: String) throws -> String {
    let text = try exampleText()
    guard let start = text.range(of: #""accounts": ["#) else { return text }
    return String(text[..<start.lowerBound]) + #""accounts": "# + accounts + "\n}\n"
}

private func coinAccount(_ id: String, collateral: String, _ positions: [(String, String, String)]) -> String {
    let list = positions.map { #"{ "symbol": "\#($0.0)", "quantity": "\#($0.1)", "entry_price": "\#($0.2)" }"# }.joined(separator: ", ")
    return #"{ "id": "\#(id)", "mode": "portfolio", "settle": "BTC", "collateral": { "BTC": "\#(collateral)" }, "positions": [\#(list)] }"#
}

private func evaluateCoin(_ text: String) throws -> (EvaluateInput, PortfolioMargin, [PortfolioEvaluation]) {
    let input = try EvaluateInput.decode(JSONParser.parse(text))
    let margin = PortfolioMargin(market: input.market, policy: input.policy, portfolio: input.portfolio, options: input.options)
    return (input, margin, input.accounts.map(margin.evaluate))
}

/// |a − b| ≤ tolerance; `b` is the hand value's text, cut to the 18 digits a decimal holds.
private func near(_ a: FixedDecimal, _ b: String, _ tolerance: String = "0.000000000001") -> Bool {
    var text = b
    if let point = text.firstIndex(of: "."), text.distance(from: point, to: text.endIndex) > 19 {
        text = String(text[..<text.index(point, offsetBy: 19)])
    }
    return (a - d(text)).magnitude <= d(tolerance)
}

private let call70 = "BTC-31MAR24-70000-C", put50 = "BTC-31MAR24-50000-P", put55 = "BTC-31MAR24-55000-P", call200 = "BTC-31MAR24-200000-C"

@Suite struct CoinSettledPortfolioTests {
    /// Short 2 × 70,000 call (entry 0.01 BTC), 1 BTC: v0 = 0.018749388064744064606 BTC;
    /// worst loss 0.11400601511389222332 at +15 % vol up (index 38); short-option floor 0.02;
    /// IM 0.11400601511389222332, MM 0.08550451133541916749; equity 1 − 2·(v0 − 0.01) =
    /// 0.98250122387051187079; delta equivalent −0.059444413262461470038; loss at −15 % vol
    /// down −0.036324483176846573083, at the +30 % extreme (×0.35) 0.084663558547552625602.
    /// Coin delta N(d1) − v0, d1 = −0.81014120751985485092: 0.20892951154307422805 −
    /// 0.018749388064744064606 = 0.19018012347833016344.
    @Test func shortCall() throws {
        let (_, _, result) = try evaluateCoin(document(accounts: "[" + coinAccount("c", collateral: "1", [(call70, "-2", "0.01")]) + "]"))
        let e = result[0], g = e.groups[0]
        #expect(e.groups.count == 1 && g.underlying == "BTC")
        #expect(abs(e.positions[0].option!.value - 0.018749388064744064606) < 1e-15)
        #expect(abs(e.positions[0].option!.delta - 0.19018012347833016344) < 1e-13)
        #expect(e.positions[0].notional == d("2"))
        #expect(near(g.worstLoss, "0.11400601511389222332"))
        #expect(g.worstIndex == 38)
        #expect(near(g.losses[0], "-0.036324483176846573083"))
        #expect(g.losses[19] == .zero)
        #expect(near(g.losses[40], "0.084663558547552625602"))
        #expect(g.shortOptionMinimum == d("0.02"))
        #expect(g.basisMinimum == .zero)
        #expect(near(e.pool.initialMargin, "0.11400601511389222332"))
        #expect(near(e.pool.maintenanceMargin, "0.08550451133541916749"))
        #expect(near(e.pool.equity, "0.98250122387051187079"))
        #expect(near(g.deltaEquivalent, "-0.059444413262461470038"))
        #expect(e.status == .healthy)
    }

    /// Short 1 × 70,000 call (0.01) and 1 × 50,000 put (0.008), 0.5 BTC: put v0 =
    /// 0.018057915805739648648; the worst scenario is the −30 % extreme (index 39):
    /// 0.066547321431415352458; floor 0.02; MM 0.049910491073561514344; equity
    /// 0.5 − (0.018749388064744064606 − 0.01) − (0.018057915805739648648 − 0.008) =
    /// 0.48119269612951628675; delta equivalent 0.0031844126002734256603.
    @Test func shortStrangle() throws {
        let (_, _, result) = try evaluateCoin(document(accounts: "[" + coinAccount("s", collateral: "0.5", [(call70, "-1", "0.01"), (put50, "-1", "0.008")]) + "]"))
        let e = result[0], g = e.groups[0]
        #expect(abs(e.positions[1].option!.value - 0.018057915805739648648) < 1e-15)
        #expect(g.worstIndex == 39)
        #expect(near(g.worstLoss, "0.066547321431415352458"))
        #expect(near(g.losses[0], "0.017809194664333380815"))
        #expect(near(g.losses[40], "0.036862874639598940447"))
        #expect(g.shortOptionMinimum == d("0.02"))
        #expect(near(e.pool.initialMargin, "0.066547321431415352458"))
        #expect(near(e.pool.maintenanceMargin, "0.049910491073561514344"))
        #expect(near(e.pool.equity, "0.48119269612951628675"))
        #expect(near(g.deltaEquivalent, "0.0031844126002734256603"))
    }

    /// Long 2 × 55,000 put (0.02) and long 3,000 BTC-PERPETUAL (30,000 USD, entry 58,000),
    /// 0.2 BTC: the perpetual's coin gain on a rise offsets the put's loss; worst loss
    /// 0.024964191523640847811 at +2.5 % vol down (index 21); basis floor 0.005·30,000/60,000 =
    /// 0.0025; no short-option floor; perp uPnL 30,000·(1/58,000 − 1/60,000) = 1/58 =
    /// 0.017241379310344827586…; equity 0.2 + 2·(0.037064679030202670006 − 0.02) + 1/58 =
    /// 0.2513707373707501676.
    @Test func longPutHedgedWithInversePerpetual() throws {
        let (_, _, result) = try evaluateCoin(document(accounts: "[" + coinAccount("h", collateral: "0.2", [(put55, "2", "0.02"), ("BTC-PERPETUAL", "3000", "58000")]) + "]"))
        let e = result[0], g = e.groups[0]
        #expect(e.positions[1].notional == d("0.5"))
        #expect(e.positions[1].unrealizedPnl == d("0.017241379310344828"))  // 1/58, half-even at 18 digits
        #expect(g.worstIndex == 21)
        #expect(near(g.worstLoss, "0.024964191523640847811"))
        #expect(near(g.losses[0], "-0.055037878131434401885"))
        #expect(near(g.losses[40], "-0.017760708614250793353"))
        #expect(g.shortOptionMinimum == .zero)
        #expect(g.basisMinimum == d("0.0025"))
        #expect(near(e.pool.maintenanceMargin, "0.018723143642730635858"))
        #expect(near(e.pool.equity, "0.2513707373707501676"))
        #expect(near(g.deltaEquivalent, "-0.036873634150653350968"))
    }

    /// A naked short inverse perpetual, exact: −6,000 × 10 USD = 1 BTC of coin exposure short.
    /// L(+15 %) = 0.15/1.15 = 3/23 → 0.130434782608695652 (18 digits); L(−15 %) = −0.15/0.85 =
    /// −3/17 → −0.176470588235294118; extreme +30 %: 0.35·0.3/1.3 = 0.080769230769230769…;
    /// MM = 0.75·IM = 0.097826086956521739; delta eq. (−3/17 − 3/23)/2 = −0.153452685421994885.
    @Test func shortInversePerpetualIsExact() throws {
        let (_, _, result) = try evaluateCoin(document(accounts: "[" + coinAccount("p", collateral: "0.3", [("BTC-PERPETUAL", "-6000", "60000")]) + "]"))
        let e = result[0], g = e.groups[0]
        #expect(g.worstIndex == 36)
        #expect(g.worstLoss == d("0.130434782608695652"))
        #expect(g.losses[0] == d("-0.176470588235294118"))
        #expect(g.losses[40] == d("0.080769230769230769"))  // (0.3/1.3 → 0.230769230769230769)·0.35, half-even
        #expect(e.pool.initialMargin == d("0.130434782608695652"))
        #expect(e.pool.maintenanceMargin == d("0.097826086956521739"))
        #expect(g.deltaEquivalent == d("-0.153452685421994885"))
        #expect(g.basisMinimum == d("0.005"))
        #expect(e.pool.equity == d("0.3"))
    }

    /// The floors, exact. Calendar spread: long 6,000 perpetual (60,000 USD at 60,000 = 1 BTC)
    /// against short 6,100 futures (61,000 USD at 61,000 = 1 BTC): coin exposure 0, every
    /// scenario loss 0, basis floor 0.005·(1 + 1) = 0.01 = IM, MM 0.0075. Far call writer:
    /// short 3 × 200,000 call, v0 ≈ 5.5e-14, worst loss ≈ 1.77e-7 (the +30 % extreme), below
    /// the short-option floor 0.01·3 = 0.03 = IM; MM 0.0225. Coin collateral counts at face
    /// value even when the document gives BTC a haircut.
    @Test func floors() throws {
        let accounts = "[" + coinAccount("cal", collateral: "0.05", [("BTC-PERPETUAL", "6000", "60000"), ("BTC-27MAR24", "-6100", "61000")]) + ", "
            + coinAccount("far", collateral: "0.1", [(call200, "-3", "0.0001")]) + "]"
        let text = try document(accounts: accounts).replacingOccurrences(of: #""assets": { "USDT": "1", "BTC": "60000" },"#,
                                                                          with: #""assets": { "USDT": "1", "BTC": "60000" }, "haircuts": { "BTC": "0.1" },"#)
        let (_, _, result) = try evaluateCoin(text)
        let calendar = result[0], far = result[1]
        #expect(calendar.groups[0].losses.allSatisfy { $0.isZero })
        #expect(calendar.groups[0].basisMinimum == d("0.01"))
        #expect(calendar.pool.initialMargin == d("0.01"))
        #expect(calendar.pool.maintenanceMargin == d("0.0075"))
        #expect(calendar.pool.equity == d("0.05"))
        #expect(near(far.groups[0].worstLoss, "0.00000017697224685526682449", "0.000000000000001"))
        #expect(far.groups[0].worstIndex == 40)
        #expect(far.groups[0].shortOptionMinimum == d("0.03"))
        #expect(far.pool.initialMargin == d("0.03"))
        #expect(far.pool.maintenanceMargin == d("0.0225"))
        #expect(near(far.pool.equity, "0.10029999999983383003"))
    }

    /// The document's `rate` does not discount a coin-settled option (r = 0, as Deribit): the
    /// short call's numbers with `"rate": "0.05"` are the same.
    @Test func rateDoesNotDiscountCoinOptions() throws {
        let text = try document(accounts: "[" + coinAccount("c", collateral: "1", [(call70, "-2", "0.01")]) + "]")
        let withRate = text.replacingOccurrences(of: #""valuation_time": "2024-03-01T08:00:00Z","#, with: #""valuation_time": "2024-03-01T08:00:00Z", "rate": "0.05","#)
        #expect(withRate != text)
        let (_, _, a) = try evaluateCoin(text)
        let (_, _, b) = try evaluateCoin(withRate)
        #expect(a == b)
    }

    /// Every new typed error names its field.
    @Test(arguments: [
        // instruments[2] is the 70,000 call: (find, replace) within its line.
        (#""settle": "BTC""#, #""settle": "USDT""#, "", "instruments[2].settle", "base coin"),
        (#""kind": "inverse_option""#, #""kind": "option""#, "", "instruments[2].kind", "inverse_option"),
        (#""underlying": "BTC-PERPETUAL""#, #""underlying": "BTCUSDT""#, "", "instruments[2].underlying", "inverse perpetual or future"),
        (#""underlying": "BTC-PERPETUAL""#, #""underlying": "USDT""#, "", "instruments[2].underlying", "its coin"),
        ("", "", #"{ "id": "a", "mode": "portfolio", "settle": "BTC", "collateral": { "BTC": "1", "USDT": "100" } }"#,
         "accounts[0].collateral.USDT", "no cross-collateral"),
        ("", "", #"{ "id": "a", "mode": "portfolio", "settle": "BTC", "collateral": { "BTC": "1" }, "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "60000" } ] }"#,
         "accounts[0].positions[0].symbol", "linear contract"),
        ("", "", #"{ "id": "a", "settle": "BTC", "collateral": { "BTC": "1" }, "positions": [ { "symbol": "BTC-31MAR24-70000-C", "quantity": "-1", "entry_price": "0.01" } ] }"#,
         "accounts[0].positions[0].symbol", "portfolio"),
        ("", "", #"{ "id": "a", "mode": "portfolio", "settle": "USDT", "collateral": { "USDT": "1" }, "positions": [ { "symbol": "BTC-31MAR24-70000-C", "quantity": "-1", "entry_price": "0.01" } ] }"#,
         "accounts[0].positions[0].symbol", "inverse"),
        ("policy", #""portfolio_policy": { "price_range": "0.35", "extreme_multiple": "3" },"#,
         #"{ "id": "a", "mode": "portfolio", "settle": "BTC", "collateral": { "BTC": "1" } }"#, "portfolio_policy.price_range", "at most 0.9"),
        ("policy", #""portfolio_policy": { "price_ranges": { "BTC": "0.5" } },"#,
         #"{ "id": "a", "mode": "portfolio", "settle": "BTC", "collateral": { "BTC": "1" } }"#, "portfolio_policy.price_ranges.BTC", "at most 0.9"),
    ])
    func badInputs(find: String, replace: String, account: String, path: String, reason: String) throws {
        var text = try document(accounts: "[" + account + "]")
        if find == "policy" {
            text = text.replacingOccurrences(of: #""marks": {"#, with: replace + #" "marks": {"#)
        } else if !find.isEmpty {
            var lines = text.components(separatedBy: "\n")
            guard let k = lines.firstIndex(where: { $0.contains(#""symbol": "BTC-31MAR24-70000-C""#) }) else { Issue.record("no call line"); return }
            let edited = lines[k].replacingOccurrences(of: find, with: replace)
            #expect(edited != lines[k], "the substitution applies")
            lines[k] = edited
            text = lines.joined(separator: "\n")
        }
        let error = inputError(text)
        #expect(error?.path == path, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// The range policy a coin group may use: ±90 % at most (default ±30 % is fine), and the
    /// engine-facing admission rules.
    @Test func admissionRules() throws {
        #expect(PortfolioPolicy().admitsCoinGroup("BTC"))
        var wide = PortfolioPolicy()
        wide.priceRange = d("0.45")
        #expect(wide.admitsCoinGroup("BTC"))      // 0.45·2 = 0.9
        wide.priceRange = d("0.46")
        #expect(!wide.admitsCoinGroup("BTC"))
        let (input, margin, _) = try evaluateCoin(document(accounts: "[]"))
        let btc = input.market.assets.firstIndex { $0.symbol == "BTC" }!, usdt = input.market.assets.firstIndex { $0.symbol == "USDT" }!
        let perp = input.market.instruments.firstIndex { $0.symbol == "BTC-PERPETUAL" }!
        let option = input.market.instruments.firstIndex { $0.symbol == call70 }!
        let linear = input.market.instruments.firstIndex { $0.symbol == "BTCUSDT" }!
        #expect(margin.isCoinSettlement(btc) && !margin.isCoinSettlement(usdt))
        #expect(input.market.isCoinSettlement(btc) && !input.market.isCoinSettlement(usdt))
        #expect(margin.portfolioAdmits(instrument: perp, settle: btc) && margin.portfolioAdmits(instrument: option, settle: btc))
        #expect(!margin.portfolioAdmits(instrument: linear, settle: btc) && margin.portfolioAdmits(instrument: linear, settle: usdt))
        #expect(!margin.portfolioAdmits(instrument: option, settle: usdt))
        #expect(margin.portfolioAdmits(collateral: btc, settle: btc) && !margin.portfolioAdmits(collateral: usdt, settle: btc))
        #expect(margin.portfolioAdmits(collateral: btc, settle: usdt))
        #expect(margin.forward(ofOption: option, settle: btc) == d("60000"))
    }

    /// Random coin-settled books (perpetual, future, the four options, long and short, random
    /// collateral): IM ≥ MM ≥ 0 and MM = 0.75·IM; scaling every quantity by k scales every
    /// scenario loss, the worst loss and IM by k (within 1e-8 relative, 1e-15 absolute);
    /// the positions' contributions to the worst scenario (`worstScenarioLoss`, what the
    /// engine ranks liquidation by) sum to the group's worst loss (within 1e-9 BTC).
    @Test func randomBooks() async throws {
        let (input, margin, _) = try evaluateCoin(document(accounts: "[]"))
        let btc = input.market.assets.firstIndex { $0.symbol == "BTC" }!
        let symbols = ["BTC-PERPETUAL", "BTC-27MAR24", call70, put50, put55, call200]
        let index = symbols.map { s in input.market.instruments.firstIndex { $0.symbol == s }! }
        let checked = CoinCaseCounter()
        await propertyCheck(count: 150, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var positions: [Position] = []
            for (k, instrument) in index.enumerated() where rng.next() % 3 != 0 {
                let perpetual = k < 2
                let magnitude = perpetual ? Int(rng.next() % 20_000) + 1 : Int(rng.next() % 500) + 1
                let quantity = FixedDecimal(magnitude) / (perpetual ? .one : FixedDecimal(100)) * (rng.next() % 2 == 0 ? .one : -.one)
                let entry = perpetual ? FixedDecimal(Int(rng.next() % 20_000) + 50_000) : FixedDecimal(Int(rng.next() % 500) + 1) / FixedDecimal(10_000)
                positions.append(Position(instrument: instrument, quantity: quantity, entryPrice: entry, leverage: nil, marginMode: .cross))
            }
            guard !positions.isEmpty else { return }
            let collateral = FixedDecimal(Int(rng.next() % 1_000)) / FixedDecimal(100)
            let account = Account(id: "r", settle: btc, collateral: [CollateralBalance(asset: btc, amount: collateral)], positions: positions)
            let e = margin.evaluate(account)
            #expect(e.pool.initialMargin >= e.pool.maintenanceMargin && !e.pool.maintenanceMargin.isNegative)
            #expect(e.pool.maintenanceMargin == d("0.75") * e.pool.initialMargin)
            let g = e.groups[0]
            let contributions = positions.map { margin.worstScenarioLoss(of: $0, in: account, evaluation: e)! }
            let sum = contributions.reduce(FixedDecimal.zero, +)
            #expect((sum - g.losses[g.worstIndex]).magnitude <= d("0.000000001"), "\(sum) vs \(g.losses[g.worstIndex])")
            let k = FixedDecimal(Int(rng.next() % 9) + 2)
            var scaled = account
            for j in scaled.positions.indices { scaled.positions[j].quantity = scaled.positions[j].quantity * k }
            let s = margin.evaluate(scaled)
            func close(_ big: FixedDecimal, _ small: FixedDecimal) -> Bool {
                let expected = small * k
                return (big - expected).magnitude <= expected.magnitude * d("0.00000001") + d("0.000000000000001")
            }
            #expect(close(s.groups[0].worstLoss, g.worstLoss), "\(s.groups[0].worstLoss) vs \(g.worstLoss)·\(k)")
            #expect(close(s.pool.initialMargin, e.pool.initialMargin))
            #expect(zip(s.groups[0].losses, g.losses).allSatisfy { close($0, $1) })
            checked.increment()
        }
        #expect(checked.value > 100)
    }

    /// `solvent evaluate`'s output for the example document states the evaluations of
    /// `PortfolioMargin` (the engine's one implementation) and the hand-computed numbers above;
    /// its USDT portfolio account is margined as before (9,000 IM on a naked short perpetual
    /// of 60,000 at ±15 %).
    @Test func exampleDocument() throws {
        let input = try EvaluateInput.decode(JSONParser.parse(exampleText()))
        let margin = PortfolioMargin(market: input.market, policy: input.policy, portfolio: input.portfolio, options: input.options)
        let output = try JSONParser.parse(EvaluateOutput.render(input))
        guard case .array(let accounts)? = output["accounts"] else { Issue.record("no accounts"); return }
        #expect(accounts.count == 6)
        var compared = 0
        for (k, account) in accounts.enumerated() {
            let expected = margin.evaluate(input.accounts[k])
            guard case .array(let pools)? = account["pools"], case .object? = account["scenario_margin"],
                  case .array(let groups)? = account["scenario_margin"]?["groups"] else { Issue.record("account \(k)"); continue }
            #expect(pools[0]["equity"] == .string(expected.pool.equity.description))
            #expect(pools[0]["initial_margin"] == .string(expected.pool.initialMargin.description))
            #expect(pools[0]["maintenance_margin"] == .string(expected.pool.maintenanceMargin.description))
            #expect(groups[0]["worst_loss"] == .string(expected.groups[0].worstLoss.description))
            #expect(groups[0]["delta_equivalent"] == .string(expected.groups[0].deltaEquivalent.description))
            compared += 1
        }
        #expect(compared == 6)
        let ims = input.accounts.map { margin.evaluate($0).pool.initialMargin }
        #expect(near(ims[0], "0.11400601511389222332"))
        #expect(near(ims[1], "0.066547321431415352458"))
        #expect(near(ims[2], "0.024964191523640847811"))
        #expect(ims[3] == d("0.01") && ims[4] == d("0.03"))
        #expect(ims[5] == d("9000"))
    }
}

/// A count shared with the property closure.
private final class CoinCaseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
