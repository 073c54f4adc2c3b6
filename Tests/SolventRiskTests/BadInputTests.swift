import SolventCore
import SolventRisk
import Testing

private let position = #"{ "symbol": "BTCUSDT", "quantity": "1", "entry_price": "60000" }"#

/// Each bad input names the JSON path of the fault and its reason.
@Suite struct BadInputTests {
    @Test(arguments: [
        // (document, expected path, a word of the reason)
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "NOPE", "quantity": "1", "entry_price": "1" } ] }]"#),
         "accounts[0].positions[0].symbol", "unknown instrument"),
        (document(accounts: "[{ \"id\": \"a\", \"settle\": \"USDT\", \"positions\": [\(position)] }]", marks: #""BTCUSD_PERP": "65020""#),
         "marks.BTCUSDT", "missing mark"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "6e4x" } ] }]"#),
         "accounts[0].positions[0].entry_price", "not a decimal: \"6e4x\""),
        (document(accounts: "[]", marks: #""BTCUSDT": "-1""#), "marks.BTCUSDT", "must be positive"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "1", "leverage": "0" } ] }]"#),
         "accounts[0].positions[0].leverage", "out of range: leverage must be in [1, 1000]"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "1", "margin_mode": "isolated" } ] }]"#),
         "accounts[0].positions[0].isolated_margin", "missing"),
        (document(accounts: "[{ \"id\": \"a\", \"settle\": \"USDT\", \"positions\": [\(position), \(position)] }]"),
         "accounts[0].positions[1].symbol", "duplicate cross position"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "collateral": { "DOGE": "1" } }]"#),
         "accounts[0].collateral.DOGE", "unknown asset"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT" }, { "id": "a", "settle": "USDT" }]"#),
         "accounts[1].id", "duplicate account id"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "0", "entry_price": "1" } ] }]"#),
         "accounts[0].positions[0].quantity", "must not be zero"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSD_PERP", "quantity": "1", "entry_price": "1" } ] }]"#),
         "accounts[0].positions[0].symbol", "settles in BTC"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": "1", "isolated_margin": "-1", "margin_mode": "isolated" } ] }]"#),
         "accounts[0].positions[0].isolated_margin", "must not be negative"),
        (document(accounts: "[]", haircuts: #"{ "BTC": "1.5" }"#), "haircuts.BTC", "must be in [0, 1]"),
        (document(accounts: "[]", policy: #"{ "warning_ratio": "0.9", "call_ratio": "0.85" }"#), "policy.warning_ratio", "call_ratio"),
        (document(accounts: #"[{ "id": "a", "settle": "XYZ" }]"#), "accounts[0].settle", "unknown asset"),
        (document(accounts: #"[{ "id": "a", "settle": "USDT", "positions": [ { "symbol": "BTCUSDT", "quantity": "1", "entry_price": 60000.5, "margin_mode": "both" } ] }]"#),
         "accounts[0].positions[0].margin_mode", "must be \"cross\" or \"isolated\""),
    ])
    func rejected(text: String, path: String, reason: String) {
        let error = inputError(text)
        #expect(error?.path == path, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// Bracket tables: a gap, an overlap and an empty list each name the bracket field.
    @Test(arguments: [
        (#"[ { "notional_floor": "0", "notional_cap": "10", "max_leverage": "10", "mmr": "0.01" }, { "notional_floor": "20", "notional_cap": "30", "max_leverage": "5", "mmr": "0.02" } ]"#,
         "instruments[0].brackets[1].notional_floor", "gap"),
        (#"[ { "notional_floor": "0", "notional_cap": "10", "max_leverage": "10", "mmr": "0.01" }, { "notional_floor": "5", "notional_cap": "30", "max_leverage": "5", "mmr": "0.02" } ]"#,
         "instruments[0].brackets[1].notional_floor", "overlap"),
        ("[]", "instruments[0].brackets", "must not be empty"),
        (#"[ { "notional_floor": "0", "notional_cap": "10", "max_leverage": "10" } ]"#, "instruments[0].brackets[0].mmr", "missing"),
    ])
    func badBrackets(brackets: String, path: String, reason: String) {
        let text = """
            { "assets": { "USDT": "1" }, "instruments": [ { "symbol": "X", "kind": "linear_perpetual", "base": "X",
              "settle": "USDT", "brackets": \(brackets) } ], "marks": {}, "accounts": [] }
            """
        let error = inputError(text)
        #expect(error?.path == path, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// A decimal written as a JSON number without exponent is accepted exactly.
    @Test func numberLiteralAccepted() throws {
        let (input, _) = try evaluate(document(accounts: #"[{ "id": "a", "settle": "USDT", "collateral": { "USDT": 100.25 } }]"#))
        #expect(input.accounts[0].collateral[0].amount == d("100.25"))
    }
}
