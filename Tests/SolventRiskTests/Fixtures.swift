import SolventCore
import SolventRisk

func d(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

/// A contract document with the three-tier BTCUSDT table of DESIGN.md and a three-tier
/// inverse BTCUSD_PERP, no haircuts unless given, and `accounts` spliced in.
func document(accounts: String, btc: String = "65000", marks: String = #""BTCUSDT": "65010", "BTCUSD_PERP": "65020""#,
              haircuts: String = "{}", policy: String = "{}") -> String {
    """
    { "policy": \(policy),
      "assets": { "USDT": "1", "USDC": "1", "BTC": "\(btc)", "ETH": "3200" },
      "haircuts": \(haircuts),
      "instruments": [
        { "symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
          "brackets": [
            { "notional_floor": "0", "notional_cap": "50000", "max_leverage": "125", "mmr": "0.004" },
            { "notional_floor": "50000", "notional_cap": "600000", "max_leverage": "100", "mmr": "0.005" },
            { "notional_floor": "600000", "notional_cap": "3000000", "max_leverage": "75", "mmr": "0.0065" } ] },
        { "symbol": "BTCUSD_PERP", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC", "contract_size": "100",
          "brackets": [
            { "notional_floor": "0", "notional_cap": "5", "max_leverage": "125", "mmr": "0.004" },
            { "notional_floor": "5", "notional_cap": "10", "max_leverage": "100", "mmr": "0.005" },
            { "notional_floor": "10", "notional_cap": "1000", "max_leverage": "50", "mmr": "0.01" } ] } ],
      "marks": { \(marks) },
      "accounts": \(accounts) }
    """
}

/// Decodes a document and evaluates its accounts.
func evaluate(_ text: String) throws -> (EvaluateInput, [AccountEvaluation]) {
    let input = try EvaluateInput.decode(JSONParser.parse(text))
    let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
    return (input, input.accounts.map { evaluator.evaluate($0) })
}

/// The decoding error of a document, or nil when it is valid.
func inputError(_ text: String) -> InputError? {
    do {
        _ = try EvaluateInput.decode(JSONParser.parse(text))
        return nil
    } catch let error as InputError {
        return error
    } catch {
        return InputError(path: "<json>", reason: "\(error)")
    }
}
