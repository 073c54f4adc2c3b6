@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
@testable import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// Cases counted over a whole property run.
private final class RecordTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func add(_ key: String, _ n: Int = 1) { lock.lock(); counts[key, default: 0] += n; lock.unlock() }
    func count(_ key: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[key] ?? 0 }
}

/// `order_accepted`, `deposited` and `filled` events as compact records (CommandEventRecord.swift,
/// issue 18): the rendered bytes are those of the field list, and `fields` gives that list.
@Suite struct CommandEventRecordTests {
    /// Over random engines and command streams: every event held as a command record renders
    /// the same JSON as the same event built from its `fields` (the list path), and the list
    /// has the kind's members in order. Counts the records of each kind checked.
    @Test(.shrinking(false)) func recordRendersItsFields() async {
        let tally = RecordTally()
        let members: [EventKind: [String]] = [
            .deposited: ["asset", "amount", "balance"],
            .orderAccepted: ["order", "symbol", "quantity", "price", "reserved_margin"],
            .filled: ["symbol", "quantity", "price", "fee", "realized_pnl", "position"],
        ]
        await propertyCheck(count: 8, input: Gen.uint64()) { seed in
            var e = randomEngine(seed: seed, accounts: 8, fullRescan: false, parameters: mixedParameters(seed))
            for command in randomCommands(seed: seed, engine: e, count: 80) {
                for event in e.apply(command) {
                    guard case .command = event.payload else { continue }
                    let list = EngineEvent(sequence: event.sequence, time: event.time, kind: event.kind, account: event.account, fields: event.fields)
                    #expect(event.json == list.json, "seed \(seed): \(event.json)")
                    #expect(event.fields.map(\.0) == members[event.kind], "seed \(seed): \(event.kind)")
                    tally.add(event.kind.rawValue)
                }
            }
        }
        #expect(tally.count("deposited") > 0)
        #expect(tally.count("order_accepted") > 0)
        #expect(tally.count("filled") > 0)
    }

    /// Hand-written: a deposit of 1,000 USDT, an order of 0.1 BTC at 50,000 reserving
    /// 5,000 / 125 = 40, a fill of 0.1 at 50,000 with fee 2 (position 0.1, nothing realized).
    @Test func renderedBytes() throws {
        var e = Engine(market: btcMarket([.init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: dec("0.004")),
                                          .init(floor: 50_000, cap: 600_000, maxLeverage: 100, mmr: dec("0.005"))]))
        let deposit = e.apply(TimedCommand(time: 1, command: .deposit(account: "a", asset: "USDT", amount: 1_000, settle: nil)))
        #expect(deposit.last?.json == #"{"type":"deposited","seq":2,"time":1,"account":"a","asset":"USDT","amount":"1000","balance":"1000"}"#)
        let order = e.apply(TimedCommand(time: 2, command: .placeOrder(id: "o1", account: "a", symbol: "BTCUSDT", quantity: dec("0.1"),
                                                                      price: 50_000, reduceOnly: false)))
        #expect(order.last?.json == #"{"type":"order_accepted","seq":3,"time":2,"account":"a","order":"o1","symbol":"BTCUSDT","quantity":"0.1","price":"50000","reserved_margin":"40"}"#)
        let fill = e.apply(TimedCommand(time: 3, command: .fill(account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 50_000, fee: 2,
                                                               orderID: "o1")))
        #expect(fill.first?.json == #"{"type":"filled","seq":4,"time":3,"account":"a","symbol":"BTCUSDT","quantity":"0.1","price":"50000","fee":"2","realized_pnl":"0","position":"0.1"}"#)
        #expect(fill.first?.decimal("position") == dec("0.1"))
    }
}
