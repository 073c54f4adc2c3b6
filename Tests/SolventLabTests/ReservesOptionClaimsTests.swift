import Foundation
import SolventCore
import SolventEngine
import SolventReserves
import SolventRisk
import Testing

/// Proof-of-reserves claims of accounts holding options (docs/options.md, docs/reserves.md): the
/// premium left or entered the settle balance at the fill, so an option position's claim is its
/// value `q·cs·mark`, not the linear uPnL `q·cs·(mark − entry)`; a claim equals the account's
/// equity as the engine evaluates it (cash + Σ q·cs·mark for options).
@Suite struct ReservesOptionClaimsTests {
    private func dec(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

    private func engine() throws -> Engine {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let text = """
        {"start": {"time": "2024-03-01T08:00:00Z", "valuation_time": "2024-03-01T08:00:00Z",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-60000-C", "kind": "option", "right": "call", "strike": "60000", "expiry": "2024-03-31T08:00:00Z",
             "underlying": "BTCUSDT", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"BTCUSDT": "50000", "BTC-60000-C": "1000"},
          "implied_vols": {"BTC-60000-C": "0.60"},
          "accounts": [
           {"id": "writer", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "100000"}, "positions": []},
           {"id": "buyer", "settle": "USDT", "collateral": {"USDT": "10000"}, "positions": []}]},
         "parameters": {"backstop": true, "adl": false},
         "insurance_fund": {"USDT": "0"},
         "commands": []}
        """
        var engine = try Scenario.decode(JSONParser.parse([UInt8](text.utf8))).makeEngine()
        let t = Int64(1_709_280_001_000)
        for command in [EngineCommand.fill(account: "writer", symbol: "BTC-60000-C", quantity: dec("-3"), price: dec("1000"), fee: .zero, orderID: nil),
                        .fill(account: "buyer", symbol: "BTC-60000-C", quantity: dec("3"), price: dec("1000"), fee: .zero, orderID: nil),
                        .optionMark(symbol: "BTC-60000-C", price: dec("1400"), impliedVol: dec("0.60"), sourceTime: t)] {
            let events = engine.apply(TimedCommand(time: t, command: command))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        return engine
    }

    /// Writer: cash 100,000 + 3,000 premium, option worth −3·1,400 → claim 98,800.
    /// Buyer: cash 10,000 − 3,000, option worth 3·1,400 → claim 11,200. Hand-computed; each
    /// equals the engine's equity for the account, and the two claims sum to the deposits plus
    /// nothing created (110,000).
    @Test func optionClaimsAreValuesNotLinearPnl() throws {
        let engine = try engine()
        let claims = try LiabilityClaims.extract(from: engine.state)
        let byID = Dictionary(uniqueKeysWithValues: claims.map { ($0.account, $0) })
        let writer = try #require(byID["writer"]), buyer = try #require(byID["buyer"])
        #expect(writer.amounts[0] == dec("98800"))
        #expect(buyer.amounts[0] == dec("11200"))
        #expect(writer.amounts[0] + buyer.amounts[0] == dec("110000"))
        var checked = 0
        for record in engine.state.accounts {
            let equity = engine.evaluateAccount(record, prices: false).cross.equity
            #expect(byID[record.id]?.amounts[0] == FixedDecimal.maximum(.zero, equity))
            checked += 1
        }
        #expect(checked == 2)
    }
}
