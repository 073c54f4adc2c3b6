import Foundation
@_spi(Internals) import PropertyBased
import SolventCore
import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// `InstrumentMap` (the account's leverage per instrument, inline for one entry) against the
/// `[Int: FixedDecimal]` it replaced: the same contents after any sequence of sets, removals,
/// updates and merges; iteration in ascending key order; equality and hashing as the
/// dictionary's; and the same coded form — JSON and binary bodies written with the dictionary
/// (older snapshots, entries in the dictionary's own order) read back as the map, the map's
/// bodies read back as the dictionary, and with one entry the bytes are the dictionary's.
@Suite struct InstrumentMapTests {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add(_ k: Int) { lock.withLock { n += k } }
        var value: Int { lock.withLock { n } }
    }

    /// The account record as it was coded before the map: the same field names in the same
    /// order, with the dictionary.
    struct LegacyAccount: Codable {
        var account: Account
        var leverage: [Int: FixedDecimal]
        var isolated: Set<Int>
        var orders: [String]
        var procedures: [PoolKey: ProcedureState]
        var socializedLoss: FixedDecimal
        var badDebt: FixedDecimal
        var writtenOff: FixedDecimal
        var indexVersion: Int64
        var mode: AccountMode?
    }

    struct Accounts<A: Codable>: Codable { var accounts: [A] }
    struct Wrapped<M: Codable>: Codable { var leverage: M }

    static func checkSame(_ map: InstrumentMap<FixedDecimal>, _ reference: [Int: FixedDecimal]) {
        #expect(map.count == reference.count)
        #expect(map.isEmpty == reference.isEmpty)
        #expect(map.map(\.key) == reference.keys.sorted())
        for (key, value) in reference { #expect(map[key] == value) }
        #expect(map == InstrumentMap(reference))
        #expect(map.hashValue == InstrumentMap(reference).hashValue)
    }

    @Test(.shrinking(false)) func sameContentsAsTheDictionary() async {
        let checkedOperations = Counter(), reachedMany = Counter()
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var map: InstrumentMap<FixedDecimal> = [:]
            var reference: [Int: FixedDecimal] = [:]
            for _ in 0..<40 {
                let key = Int(rng.next() % 6) - 1  // −1 … 4: collisions are common
                let value = FixedDecimal(raw: Int128(Int64(bitPattern: rng.next())))
                switch rng.next() % 5 {
                case 0, 1:
                    map[key] = value
                    reference[key] = value
                case 2:
                    #expect(map.updateValue(value, forKey: key) == reference.updateValue(value, forKey: key))
                case 3:
                    #expect(map.removeValue(forKey: key) == reference.removeValue(forKey: key))
                default:
                    let other = [key: value, key + 2: value]
                    map.merge(other) { $1 }
                    reference.merge(other) { $1 }
                }
                Self.checkSame(map, reference)
                checkedOperations.add(1)
                if map.count > 1 { reachedMany.add(1) }
            }
            // Equal maps built in another order are equal and hash alike.
            var reversed: InstrumentMap<FixedDecimal> = [:]
            for (key, value) in map.reversed() { reversed[key] = value }
            #expect(reversed == map && reversed.hashValue == map.hashValue)
        }
        #expect(checkedOperations.value == 200 * 40)
        #expect(reachedMany.value > 0)
    }

    @Test func codedAsTheDictionary() throws {
        var checked = 0
        let samples: [[Int: FixedDecimal]] = [[:], [3: 20], [-1: .max], [0: FixedDecimal(20), 2: FixedDecimal(5), -1: .min, 7: FixedDecimal(raw: 1), 1_000_000: 1]]
        for reference in samples {
            let map = InstrumentMap(reference)
            // JSON: each decodes the other's text.
            let mapJSON = try JSONEncoder().encode(Wrapped(leverage: map))
            let dictionaryJSON = try JSONEncoder().encode(Wrapped(leverage: reference))
            #expect(try JSONDecoder().decode(Wrapped<[Int: FixedDecimal]>.self, from: mapJSON).leverage == reference)
            #expect(try JSONDecoder().decode(Wrapped<InstrumentMap<FixedDecimal>>.self, from: dictionaryJSON).leverage == map)
            // The binary body: likewise; with at most one entry (no order to differ) the same bytes.
            let mapBody = try BinaryStateCoding.encode(Wrapped(leverage: map))
            let dictionaryBody = try BinaryStateCoding.encode(Wrapped(leverage: reference))
            #expect(try BinaryStateCoding.decode(Wrapped<[Int: FixedDecimal]>.self, from: mapBody).leverage == reference)
            #expect(try BinaryStateCoding.decode(Wrapped<InstrumentMap<FixedDecimal>>.self, from: dictionaryBody).leverage == map)
            if reference.count <= 1 {
                #expect(mapBody == dictionaryBody)
                #expect(mapJSON == dictionaryJSON)
            }
            checked += 1
        }
        #expect(checked == samples.count)
    }

    /// Account records written as before the map (the dictionary, its entries in whatever order
    /// it iterated) decode through the account fast path and the generic one to the same records.
    @Test func olderAccountBodiesRestore() throws {
        var checked = 0
        for seed in UInt64(1)...8 {
            let input = RandomBook.input(accounts: 12, seed: seed)
            var engine = Engine(market: input.market)
            for account in input.accounts { _ = try? engine.openAccount(account) }
            var rng = SplitMix64(seed: seed)
            let instruments = input.market.instruments.count
            var legacy: [LegacyAccount] = [], expected: [EngineAccount] = []
            for record in engine.state.accounts {
                var leverage: [Int: FixedDecimal] = [:]
                for (i, l) in record.leverage { leverage[i] = l }
                for _ in 0..<Int(rng.next() % 5) { leverage[Int(rng.next() % UInt64(instruments + 3))] = FixedDecimal(Int(rng.next() % 100) + 1) }
                legacy.append(LegacyAccount(account: record.account, leverage: leverage, isolated: record.isolated, orders: record.orders,
                                            procedures: record.procedures, socializedLoss: record.socializedLoss, badDebt: record.badDebt,
                                            writtenOff: record.writtenOff, indexVersion: record.snapshotIndexVersion, mode: record.mode))
                var updated = record
                updated.leverage = InstrumentMap(leverage)
                expected.append(updated)
            }
            let body = try BinaryStateCoding.encode(Accounts(accounts: legacy))
            #expect(try BinaryStateCoding.decode(Accounts<EngineAccount>.self, from: body).accounts == expected)
            let json = try JSONEncoder().encode(Accounts(accounts: legacy))
            #expect(try JSONDecoder().decode(Accounts<EngineAccount>.self, from: json).accounts == expected)
            // And the new records read back as the legacy shape.
            let newBody = try BinaryStateCoding.encode(Accounts(accounts: expected))
            #expect(try BinaryStateCoding.decode(Accounts<LegacyAccount>.self, from: newBody).accounts.map { InstrumentMap($0.leverage) } == expected.map(\.leverage))
            checked += expected.filter { $0.leverage.count > 1 }.count
        }
        #expect(checked > 0)
    }
}
