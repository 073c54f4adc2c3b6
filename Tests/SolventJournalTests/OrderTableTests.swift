import Foundation
@_spi(Internals) import PropertyBased
import SolventCore
@testable import SolventEngine
@testable import SolventJournal
import Testing

/// `OrderTable` (the engine's open orders, sharded so that no insert rehashes the whole table:
/// issue 18's pre-trade tail) against the `[String: OpenOrder]` it replaced: the same contents
/// after any sequence of stores, replacements, removals and in-place changes; equality as the
/// dictionary's; the same coded form — JSON and binary bodies written with the dictionary (older
/// snapshots) read back as the table and the table's bodies as the dictionary; and a whole
/// engine state written with the dictionary (the layout before) restores to the same state hash.
@Suite struct OrderTableTests {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add(_ k: Int) { lock.withLock { n += k } }
        var value: Int { lock.withLock { n } }
    }

    struct Wrapped<T: Codable>: Codable { var orders: T }

    static func order(_ id: String, _ rng: inout SplitMix64) -> OpenOrder {
        OpenOrder(id: id, account: Int(rng.next() % 50), instrument: Int(rng.next() % 3), quantity: FixedDecimal(raw: Int128(Int64(bitPattern: rng.next()))),
                  price: FixedDecimal(Int(rng.next() % 100_000) + 1), reduceOnly: rng.next() % 2 == 0, reservedMargin: FixedDecimal(raw: Int128(rng.next())))
    }

    static func checkSame(_ table: OrderTable, _ reference: [String: OpenOrder]) {
        #expect(table.count == reference.count)
        #expect(table.isEmpty == reference.isEmpty)
        #expect(table.keys.sorted() == reference.keys.sorted())
        #expect(table.dictionary == reference)
        for (key, order) in reference { #expect(table[key] == order) }
        #expect(table == OrderTable(reference))
    }

    @Test(.shrinking(false)) func sameContentsAsTheDictionary() async {
        let checkedOperations = Counter(), reachedMany = Counter()
        await propertyCheck(count: 100, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var table: OrderTable = [:]
            var reference: [String: OpenOrder] = [:]
            // Keys as the engine makes them: short ids, numeric-looking ids, scoped keys.
            let keys = (0..<12).map { k in k % 4 == 3 ? EngineState.scopedOrderKey(account: k, id: "o\(k / 4)") : k % 4 == 2 ? "00\(k)" : "o\(k)" }
            for _ in 0..<80 {
                let key = keys[Int(rng.next() % UInt64(keys.count))]
                let order = Self.order(key, &rng)
                switch rng.next() % 5 {
                case 0:
                    table[key] = order
                    reference[key] = order
                case 1:
                    #expect(table.updateValue(order, forKey: key) == reference.updateValue(order, forKey: key))
                case 2:
                    #expect(table.removeValue(forKey: key) == reference.removeValue(forKey: key))
                case 3:
                    let present = reference[key] != nil
                    #expect(table.modify(key) { $0.quantity = order.quantity } == present)
                    reference[key]?.quantity = order.quantity
                default:
                    table[key] = nil
                    reference[key] = nil
                }
                Self.checkSame(table, reference)
                checkedOperations.add(1)
                if table.count > 4 { reachedMany.add(1) }
            }
            // Equal tables built in another order are equal.
            var rebuilt: OrderTable = [:]
            for (key, order) in reference.sorted(by: { $0.key > $1.key }) { rebuilt[key] = order }
            #expect(rebuilt == table)
        }
        #expect(checkedOperations.value == 100 * 80)
        #expect(reachedMany.value > 0)
    }

    /// Many keys spread over the shards (no shard holds them all) and the table stays the
    /// dictionary through removals of half of them.
    @Test func manyKeysSpreadOverTheShards() {
        var rng = SplitMix64(seed: 18)
        var table: OrderTable = [:]
        var reference: [String: OpenOrder] = [:]
        for n in 0..<20_000 {
            let order = Self.order("o\(n)", &rng)
            table["o\(n)"] = order
            reference["o\(n)"] = order
        }
        for n in stride(from: 0, to: 20_000, by: 2) { #expect(table.removeValue(forKey: "o\(n)") != nil); reference["o\(n)"] = nil }
        Self.checkSame(table, reference)
        // Shrunk below the split count, it still equals a table that never split.
        var shrunk = table
        for key in reference.keys.sorted().dropFirst(10) { shrunk[key] = nil }
        let small = reference.filter { shrunk[$0.key] != nil }
        #expect(small.count == 10 && shrunk.count == 10)
        Self.checkSame(shrunk, small)
        let used = Set(reference.keys.map { OrderTable.shard($0) })
        #expect(used.count > OrderTable.shardCount / 2, "10,000 keys use \(used.count) of \(OrderTable.shardCount) shards")
    }

    @Test func codedAsTheDictionary() throws {
        var rng = SplitMix64(seed: 7)
        var checked = 0
        let samples: [[String: OpenOrder]] = [[:], ["o1": Self.order("o1", &rng)], ["007": Self.order("007", &rng), "7": Self.order("7", &rng), "x\u{1F}@3": Self.order("x", &rng)],
                                              Dictionary(uniqueKeysWithValues: (0..<300).map { ("k\($0)", Self.order("k\($0)", &rng)) })]
        for reference in samples {
            let table = OrderTable(reference)
            let tableJSON = try JSONEncoder().encode(Wrapped(orders: table))
            let dictionaryJSON = try JSONEncoder().encode(Wrapped(orders: reference))
            #expect(try JSONDecoder().decode(Wrapped<[String: OpenOrder]>.self, from: tableJSON).orders == reference)
            #expect(try JSONDecoder().decode(Wrapped<OrderTable>.self, from: dictionaryJSON).orders == table)
            let tableBody = try BinaryStateCoding.encode(Wrapped(orders: table))
            let dictionaryBody = try BinaryStateCoding.encode(Wrapped(orders: reference))
            #expect(try BinaryStateCoding.decode(Wrapped<[String: OpenOrder]>.self, from: tableBody).orders == reference)
            #expect(try BinaryStateCoding.decode(Wrapped<OrderTable>.self, from: dictionaryBody).orders == table)
            if reference.count <= 1 {  // no iteration order to differ: the same bytes
                #expect(tableBody == dictionaryBody)
                let sorted = JSONEncoder()
                sorted.outputFormatting = .sortedKeys  // a keyed container's order is not fixed otherwise
                #expect(try sorted.encode(Wrapped(orders: table)) == sorted.encode(Wrapped(orders: reference)))
            }
            checked += 1
        }
        #expect(checked == samples.count)
    }

    /// A whole engine state with resting orders: its body codes `orders` through the table's
    /// single value, which is the dictionary itself (`codedAsTheDictionary`: the same bytes as
    /// the dictionary with one entry), so a body written before the table is read by the same
    /// path; it restores to the same orders and state hash, binary and JSON.
    @Test func stateBodiesRestore() throws {
        let engine = try NumericLookingKeySnapshotTests.engine()
        #expect(engine.state.orders.count >= NumericLookingKeySnapshotTests.ids.count)
        let body = try BinaryStateCoding.encode(engine.state)
        let decoded = try BinaryStateCoding.decode(EngineState.self, from: body)
        #expect(decoded.orders == engine.state.orders)
        let restored = Engine(restoring: decoded)
        #expect(restored.stateHash() == engine.stateHash())
        // JSON bodies (the layout before the binary snapshot) with the orders as the dictionary.
        let json = try JSONEncoder().encode(engine.state)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect((object["orders"] as? [String: Any])?.count == engine.state.orders.count, "orders are coded as a JSON object keyed by storage key")
        let fromJSON = try JSONDecoder().decode(EngineState.self, from: json)
        #expect(Engine(restoring: fromJSON).stateHash() == engine.stateHash())
    }
}
