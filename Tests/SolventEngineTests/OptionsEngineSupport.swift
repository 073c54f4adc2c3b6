import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport

/// A small option market for the options tests: USDT and BTC, a BTCUSDT perpetual at 50,000, a
/// 60,000 call and a 40,000 put on it expiring 30 days after the start, option marks 1,000 and
/// 500 with vols 0.60 and 0.70; accounts `p` (portfolio) and `s` (standard) with `collateral`
/// USDT each, no positions.
enum OptionBook {
    static let start = "2024-03-01T08:00:00Z"
    static let expiry = "2024-03-31T08:00:00Z"
    static let startTime: Int64 = 1_709_280_000_000
    static let expiryTime: Int64 = 1_711_872_000_000

    static func scenario(collateral: String = "100000", extraAccounts: String = "", commands: String = "[]", parameters: String = #"{"backstop": true, "adl": false}"#) throws -> SolventEngine.Scenario {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let text = """
        {"start": {"time": "\(start)", "valuation_time": "\(start)",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-60000-C", "kind": "option", "right": "call", "strike": "60000", "expiry": "\(expiry)", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-40000-P", "kind": "option", "right": "put", "strike": "40000", "expiry": "\(expiry)", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"BTCUSDT": "50000", "BTC-60000-C": "1000", "BTC-40000-P": "500"},
          "implied_vols": {"BTC-60000-C": "0.60", "BTC-40000-P": "0.70"},
          "accounts": [
           {"id": "p", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "\(collateral)"}, "positions": []},
           {"id": "s", "settle": "USDT", "collateral": {"USDT": "\(collateral)"}, "positions": []}\(extraAccounts)]},
         "parameters": \(parameters),
         "insurance_fund": {"USDT": "100000"},
         "commands": \(commands)}
        """
        return try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](text.utf8)))
    }

    static func engine(collateral: String = "100000", fullRescan: Bool = false) throws -> Engine {
        try scenario(collateral: collateral).makeEngine(fullRescan: fullRescan)
    }

    /// An `evaluate` document stating engine account `id` as the evaluate contract reads it: the
    /// engine's market and marks, the option vols and valuation time, and the account's
    /// evaluation view (settle balance plus the option premium basis; docs/options.md).
    static func evaluateDocument(_ engine: Engine, account id: String) -> String {
        let s = engine.state
        let record = s.accounts[s.accountIndex[id]!]
        let view = engine.evaluationView(record)
        func instrumentJSON(_ k: Int) -> String {
            let i = s.market.instruments[k]
            let brackets = i.brackets.brackets.map {
                #"{"notional_floor": "\#($0.notionalFloor)", "notional_cap": "\#($0.notionalCap)", "max_leverage": "\#($0.maxLeverage)", "mmr": "\#($0.maintenanceMarginRate)"}"#
            }.joined(separator: ",")
            var kind: String
            switch i.kind {
            case .perpetual(let settlement): kind = #""kind": "\#(settlement.rawValue)_perpetual""#
            case let .future(settlement, expiry): kind = #""kind": "\#(settlement.rawValue)_future", "expiry": \#(expiry)"#
            case let .option(right, strike, expiry, underlying):
                kind = #""kind": "\#(i.contractName)", "right": "\#(right.rawValue)", "strike": "\#(strike)", "expiry": \#(expiry), "underlying": "\#(underlying)""#
            }
            return #"{"symbol": "\#(i.symbol)", \#(kind), "base": "\#(i.base)", "settle": "\#(i.settle)", "contract_size": "\#(i.contractSize)", "brackets": [\#(brackets)]}"#
        }
        let instruments = s.market.instruments.indices.map(instrumentJSON).joined(separator: ",")
        let marks = s.market.instruments.indices.compactMap { k in s.market.marks[k].map { #""\#(s.market.instruments[k].symbol)": "\#($0)""# } }.joined(separator: ",")
        let assets = s.market.assets.map { #""\#($0.symbol)": "\#($0.price)""# }.joined(separator: ",")
        let haircuts = s.market.assets.map { #""\#($0.symbol)": "\#($0.haircut)""# }.joined(separator: ",")
        let o = s.optionMarks ?? OptionMarkState()
        let vols = o.impliedVols.sorted { $0.key < $1.key }.map { #""\#(s.market.instruments[$0.key].symbol)": "\#($0.value)""# }.joined(separator: ",")
        let collateral = view.collateral.map { #""\#(s.market.assets[$0.asset].symbol)": "\#($0.amount)""# }.joined(separator: ",")
        let positions = view.positions.map {
            #"{"symbol": "\#(s.market.instruments[$0.instrument].symbol)", "quantity": "\#($0.quantity)", "entry_price": "\#($0.entryPrice)"}"#
        }.joined(separator: ",")
        let p = s.parameters.policy
        return """
        {"valuation_time": \(o.valuationTime ?? s.time),
         "policy": {"warning_ratio": "\(p.warningRatio)", "call_ratio": "\(p.callRatio)", "restore_ratio": "\(p.restoreRatio)"},
         "assets": {\(assets)}, "haircuts": {\(haircuts)},
         "instruments": [\(instruments)], "marks": {\(marks)}, "implied_vols": {\(vols)},
         "accounts": [{"id": "\(id)", "mode": "\(record.isPortfolio ? "portfolio" : "standard")", "settle": "\(s.market.assets[view.settle].symbol)",
                       "collateral": {\(collateral)}, "positions": [\(positions)]}]}
        """
    }

    /// The pool `evaluate` reports for the document (its single account's first pool).
    static func evaluatePool(_ document: String) throws -> (pool: PoolEvaluation, input: EvaluateInput) {
        let input = try EvaluateInput.decode(JSONParser.parse([UInt8](document.utf8)))
        let margin = PortfolioMargin(market: input.market, policy: input.policy, portfolio: input.portfolio, options: input.options)
        return (margin.evaluate(input.accounts[0]).pool, input)
    }
}

func at(_ time: Int64, _ command: EngineCommand) -> TimedCommand { TimedCommand(time: time, command: command) }

