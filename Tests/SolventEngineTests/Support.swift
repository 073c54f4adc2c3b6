import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Loads an example scenario and runs all of it; returns the engine and the events.
func runScenario(_ name: String, fullRescan: Bool = false) throws -> (Engine, [EngineEvent]) {
    let data = try Data(contentsOf: packageRoot.appendingPathComponent("Examples/scenarios/\(name)"))
    let scenario = try Scenario.decode(JSONParser.parse([UInt8](data)))
    var engine = try scenario.makeEngine(fullRescan: fullRescan)
    var events: [EngineEvent] = []
    for command in scenario.commands { events += engine.apply(command) }
    return (engine, events)
}

func dec(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

/// Every asset's conservation gap is zero.
func conserved(_ engine: Engine) -> Bool {
    engine.state.market.assets.indices.allSatisfy { engine.state.conservationGap(of: $0).isZero }
}

/// A random engine: the random market, `count` random accounts, an insurance fund.
func randomEngine(seed: UInt64, accounts count: Int, fullRescan: Bool, parameters: EngineParameters = .exchange) -> Engine {
    var rng = SplitMix64(seed: seed)
    let market = RandomBook.market(using: &rng)
    var engine = Engine(market: market, parameters: parameters, fullRescan: fullRescan)
    for n in 0..<count {
        var account = RandomBook.account(id: "a\(n)", market: market, using: &rng)
        var seen = Set<Int>()
        account.positions = account.positions.filter { seen.insert($0.instrument).inserted }
        try! engine.openAccount(account)
    }
    return engine
}

/// A random but plausible command stream over the random market (marks move a few %,
/// deposits, withdrawals, fills, funding, orders, books, index prices, ticks).
func randomCommands(seed: UInt64, engine: Engine, count: Int) -> [TimedCommand] {
    var rng = SplitMix64(seed: seed &+ 17)
    var marks = engine.state.market.marks.map { $0! }
    let symbols = engine.state.market.instruments.map(\.symbol)
    let ids = engine.state.accounts.map(\.id)
    var time: Int64 = 1_000
    var commands: [TimedCommand] = []
    for n in 0..<count {
        time += Int64.random(in: 0...5_000, using: &rng)
        let i = Int.random(in: 0..<symbols.count, using: &rng)
        let account = ids[Int.random(in: 0..<ids.count, using: &rng)]
        let settle = engine.state.accounts[engine.state.accountIndex[account]!].account.settle
        let asset = engine.state.market.assets[settle].symbol
        let command: EngineCommand
        switch Int.random(in: 0..<14, using: &rng) {
        case 0...4:
            marks[i] = (marks[i] * RandomBook.decimal(0.96, 1.04, digits: 4, using: &rng)).rounded(toDigits: 2)
            command = .markPrice(symbol: symbols[i], price: marks[i], sourceTime: time)
        case 5: command = .indexPrice(symbol: symbols[i], price: marks[i], sourceTime: time)
        case 6: command = .deposit(account: account, asset: asset, amount: RandomBook.decimal(1, 50_000, digits: 2, using: &rng), settle: nil)
        case 7: command = .withdraw(account: account, asset: asset, amount: RandomBook.decimal(1, 20_000, digits: 2, using: &rng))
        case 8:
            let q = RandomBook.decimal(-3, 3, digits: 3, using: &rng)
            command = .fill(account: account, symbol: symbols[i], quantity: q.isZero ? dec("0.001") : q, price: marks[i],
                            fee: RandomBook.decimal(0, 5, digits: 2, using: &rng), orderID: nil)
        case 9: command = .funding(symbol: symbols[i], rate: RandomBook.decimal(-0.001, 0.001, digits: 6, using: &rng))
        case 10:
            command = .placeOrder(id: "o\(n)", account: account, symbol: symbols[i], quantity: RandomBook.decimal(-2, 2, digits: 3, using: &rng),
                                  price: marks[i], reduceOnly: Bool.random(using: &rng))
        case 11:
            let bids = (1...4).map { k in BookLevel(price: marks[i] - FixedDecimal(k) * marks[i] * dec("0.002"), quantity: RandomBook.decimal(0.1, 50, digits: 3, using: &rng)) }
            let asks = (1...4).map { k in BookLevel(price: marks[i] + FixedDecimal(k) * marks[i] * dec("0.002"), quantity: RandomBook.decimal(0.1, 50, digits: 3, using: &rng)) }
            command = .book(symbol: symbols[i], bids: bids, asks: asks)
        case 12: command = .cancelOrder(id: "o\(Int.random(in: 0...max(0, n), using: &rng))")
        default: command = .tick
        }
        commands.append(TimedCommand(time: time, command: command))
    }
    return commands
}

/// Exchange, lender, or a throttled backstop venue without ADL, by seed: property tests
/// cover every waterfall path.
func mixedParameters(_ seed: UInt64) -> EngineParameters {
    switch seed % 3 {
    case 0: return .lender
    case 1:
        var p = EngineParameters.exchange
        p.liquidationNotionalCap = 200_000
        p.backstopEnabled = true
        p.adlEnabled = false
        p.socializeOver = .all
        return p
    default: return .exchange
    }
}

/// A market of USDT and one linear BTCUSDT perpetual with `rows` as its brackets, marked at 50,000.
func btcMarket(_ rows: [BracketTable.Row]) -> Market {
    Market(assets: [Asset(symbol: "USDT", price: 1, haircut: 0)],
           instruments: [Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: 1,
                                    brackets: try! BracketTable(rows: rows))],
           marks: [dec("50000")])
}
