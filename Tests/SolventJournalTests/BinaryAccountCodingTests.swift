import Foundation
import SolventCore
import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// The hand-written `EngineAccount` path of the binary coder (BinaryAccountCoding.swift) against
/// the generic one it replaces: the same bytes on every account state of the example scenarios,
/// random books and a hand-built account with every field kind; the same decoded value; and on
/// damaged bodies the same outcome (both refuse, or both decode to equal values).
@Suite struct BinaryAccountCodingTests {
    /// An `EngineAccount` coded by its synthesized conformances through the generic coder.
    struct Generic: Codable, Equatable {
        var record: EngineAccount
        init(_ record: EngineAccount) { self.record = record }
        init(from decoder: any Decoder) throws { record = try EngineAccount(from: decoder) }
        func encode(to encoder: any Encoder) throws { try record.encode(to: encoder) }
    }

    /// Open orders before the accounts, so that field names (`id`, `account`, `instrument`,
    /// `quantity`) are interned before the accounts use them, as in the state.
    struct Prefixed<A: Codable>: Codable {
        var orders: [OpenOrder]
        var accounts: [A]
    }

    /// Encodes `records` both ways, checks equal bytes and equal decoded values. Returns 1.
    static func check(_ records: [EngineAccount], orders: [OpenOrder] = []) throws -> Int {
        let fast = try BinaryStateCoding.encode(Prefixed(orders: orders, accounts: records))
        let generic = try BinaryStateCoding.encode(Prefixed(orders: orders, accounts: records.map(Generic.init)))
        #expect(fast == generic)
        let decodedFast = try BinaryStateCoding.decode(Prefixed<EngineAccount>.self, from: fast)
        let decodedGeneric = try BinaryStateCoding.decode(Prefixed<Generic>.self, from: fast)
        #expect(decodedFast.accounts == records)
        #expect(decodedGeneric.accounts.map(\.record) == records)
        return 1
    }

    /// An account with every kind of field: two collateral balances, a cross position with a
    /// leverage and an isolated one, chosen leverages, isolated instruments, orders, every
    /// procedure state, losses, an index version and the portfolio mode.
    static var everyField: EngineAccount {
        let account = Account(id: "every-field", settle: 1, collateral: [CollateralBalance(asset: 0, amount: FixedDecimal(raw: -5)),
                                                                       CollateralBalance(asset: 1, amount: FixedDecimal(1234))],
                              positions: [Position(instrument: 0, quantity: FixedDecimal(-3), entryPrice: FixedDecimal(60_000), leverage: FixedDecimal(20), marginMode: .cross),
                                          Position(instrument: 2, quantity: FixedDecimal(7), entryPrice: FixedDecimal(3), leverage: nil, marginMode: .isolated(margin: FixedDecimal(11)))])
        return EngineAccount.snapshotRecord(account: account, leverage: [0: FixedDecimal(20), 2: FixedDecimal(5), -1: .max], isolated: [2, 9],
                                            orders: ["o1", "", "ümlaut"],
                                            procedures: [.cross: .called(deadline: -7, amount: FixedDecimal(3)), .isolated(instrument: 2): .liquidating(untilCured: true),
                                                         .isolated(instrument: 4): .warning, .isolated(instrument: 5): .normal,
                                                         .isolated(instrument: 6): .liquidating(untilCured: false)],
                                            socializedLoss: FixedDecimal(raw: 1), badDebt: .min, writtenOff: FixedDecimal(2), indexVersion: .min, mode: .portfolio)
    }

    @Test func sameBytesAndValues() throws {
        var checked = 0
        checked += try Self.check([Self.everyField, EngineAccount.snapshotRecord(account: Account(id: "bare", settle: 0, collateral: [], positions: []), leverage: [:], isolated: [],
                                                                                 orders: [], procedures: [:], socializedLoss: .zero, badDebt: .zero, writtenOff: .zero,
                                                                                 indexVersion: 0, mode: nil)])
        for name in BinarySnapshotTests.scenarios {
            let scenario = try BinarySnapshotTests.scenario(name)
            var engine = try scenario.makeEngine()
            checked += try Self.check(engine.state.accounts, orders: Array(engine.state.orders.values))
            for command in scenario.commands {
                _ = engine.apply(command)
                checked += try Self.check(engine.state.accounts, orders: Array(engine.state.orders.values))
            }
        }
        for seed in UInt64(1)...10 {
            let input = RandomBook.input(accounts: 30, seed: seed)
            var engine = Engine(market: input.market)
            for account in input.accounts { _ = try? engine.openAccount(account) }
            checked += try Self.check(engine.state.accounts)
        }
        #expect(checked > 50)
    }

    /// Damaged bodies (one byte changed in the values, the checksum recomputed so the decoder
    /// reads them): the fast path gives up or decodes exactly what the generic decoder does.
    @Test func damagedBodiesDecodeAlike() throws {
        let records = [Self.everyField, Self.everyField]
        let bytes = try BinaryStateCoding.encode(records)
        var tableOffset = 0
        for k in 0..<8 { tableOffset |= Int(bytes[12 + k]) << (8 * k) }
        var rng = SplitMix64(seed: 18)
        var decoded = 0, refused = 0
        for n in 0..<3_000 {
            var damaged = bytes
            let k = Int.random(in: BinaryStateCoding.headerSize..<tableOffset, using: &rng)
            damaged[k] = n % 3 == 0 ? UInt8.random(in: 0...15, using: &rng) : UInt8.random(in: 0...255, using: &rng)
            let crc = CRC32C.checksum(damaged[12...])
            for b in 0..<4 { damaged[8 + b] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(b))) }
            let fast = try? BinaryStateCoding.decode([EngineAccount].self, from: damaged)
            let generic = try? BinaryStateCoding.decode([Generic].self, from: damaged)
            #expect(fast == generic?.map(\.record), "byte \(k) set to \(damaged[k])")
            if fast == nil { refused += 1 } else { decoded += 1 }
        }
        #expect(decoded > 100 && refused > 100)
    }
}
