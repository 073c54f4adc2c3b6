import Foundation
@_spi(Internals) import PropertyBased
import SolventCore
@testable import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// `CanonicalAccountWriter` (the accounts' part of the state hash text, by hand) against the
/// `JSONWriter` code it replaced (kept here as the reference, verbatim): the same bytes for
/// every field kind, ids and order ids that need escaping, decimals over the whole range and
/// every example scenario's accounts after every command — so the state hash is unchanged.
@Suite struct CanonicalAccountWriterTests {
    /// The accounts' text as `Engine.writeCanonicalState` wrote it before (commit d15d410).
    static func reference(_ accounts: [EngineAccount]) -> [UInt8] {
        var w = JSONWriter()
        w.beginArray()
        for record in accounts {
            w.beginObject()
            w.member("id", record.id)
            w.key("settle"); w.integer(record.account.settle)
            w.key("balances"); w.beginArray(); for c in record.account.collateral { w.integer(c.asset); w.decimal(c.amount) }; w.endArray()
            w.key("positions"); w.beginArray()
            for p in record.account.positions {
                w.beginArray(); w.integer(p.instrument); w.decimal(p.quantity); w.decimal(p.entryPrice); w.optionalDecimal(p.leverage)
                if case .isolated(let m) = p.marginMode { w.decimal(m) } else { w.null() }
                w.endArray()
            }
            w.endArray()
            w.key("leverage"); w.beginArray(); for (i, l) in record.leverage.sorted(by: { $0.key < $1.key }) { w.integer(i); w.decimal(l) }; w.endArray()
            w.key("isolated"); w.beginArray(); for i in record.isolated.sorted() { w.integer(i) }; w.endArray()
            w.key("orders"); w.beginArray(); for o in record.orders { w.string(o) }; w.endArray()
            w.key("procedures"); w.beginArray()
            for (key, p) in record.procedures.sorted(by: { $0.key < $1.key }) {
                switch key { case .cross: w.integer(-1); case .isolated(let i): w.integer(i) }
                switch p {
                case .called(let deadline, let amount): w.string("called"); w.integer(deadline); w.decimal(amount)
                default: w.string(p.name)
                }
            }
            w.endArray()
            w.member("socialized_loss", record.socializedLoss)
            w.member("bad_debt", record.badDebt)
            w.member("written_off", record.writtenOff)
            if record.isPortfolio { w.member("mode", "portfolio") }
            w.endObject()
        }
        w.endArray()
        return w.bytes
    }

    /// The writer's text of `accounts`, in brackets as the reference, through pieces of `piece` bytes.
    static func written(_ accounts: [EngineAccount], piece: Int = 1 << 16) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        CanonicalAccountWriter.write(accounts, piece: piece) { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    static func check(_ accounts: [EngineAccount]) -> Int {
        let expected = reference(accounts)
        #expect(written(accounts) == expected)
        #expect(written(accounts, piece: 1) == expected)
        return 1
    }

    @Test func sameTextOnEveryFieldKind() {
        var checked = Self.check([BinaryAccountCodingTests.everyField])
        var escaped = BinaryAccountCodingTests.everyField
        escaped.account.id = "a\"b\\c\nd\re\tf\u{01}\u{1f}\u{7f}é/"
        escaped.orders = ["\u{0}", "\"", "plain", "\\\\", "ü\n"]
        escaped.leverage = [:]
        checked += Self.check([escaped, BinaryAccountCodingTests.everyField, escaped])
        checked += Self.check([])
        #expect(checked == 3)
    }

    @Test(.shrinking(false)) func sameDecimalText() async {
        let boundary = Int128(1_000_000_000_000_000_000) << 64  // integer parts past 64 bits from here
        let fixed: [Int128] = [0, 1, -1, 5, -5, 10, 1_000_000_000_000_000_000, -1_000_000_000_000_000_000, 1_500_000_000_000_000_000, 100,
                               Int128.max, Int128.min, Int128.min + 1, boundary, boundary - 1, boundary + 1, -boundary, -boundary + 1, -boundary - 1,
                               999_999_999_999_999_999, 120_000_000_000_000_000, 18_446_744_073_709_551_615, 18_446_744_073_709_551_616]
        let count = Counter()
        await propertyCheck(count: 3_000, input: Gen.uint64(), Gen.uint64(), Gen.int(in: 0...127)) { low, high, shift in
            let raw = (Int128(Int64(bitPattern: high)) << 64 | Int128(low)) >> shift
            var values = fixed.map { FixedDecimal(raw: $0) }
            values.append(FixedDecimal(raw: raw))
            values.append(FixedDecimal(raw: raw / 1_000_000_000 * 1_000_000_000))  // trailing zeros in the fraction
            for value in values {
                var w = JSONWriter()
                w.decimal(value)
                var writer = CanonicalAccountWriter(capacity: 8)
                writer.decimal(value)
                #expect(writer.pending == w.bytes, "\(value.raw)")
                writer.deallocate()
            }
            count.add(values.count)
        }
        #expect(count.value == 3_000 * (fixed.count + 2))
    }

    @Test func sameTextOnScenarioAndRandomStates() throws {
        var checked = 0
        for name in BinarySnapshotTests.scenarios {
            let scenario = try BinarySnapshotTests.scenario(name)
            var engine = try scenario.makeEngine()
            checked += Self.check(engine.state.accounts)
            for command in scenario.commands {
                _ = engine.apply(command)
                checked += Self.check(engine.state.accounts)
            }
        }
        for seed in UInt64(1)...10 {
            let input = RandomBook.input(accounts: 30, seed: seed)
            var engine = Engine(market: input.market)
            for account in input.accounts { _ = try? engine.openAccount(account) }
            checked += Self.check(engine.state.accounts)
        }
        #expect(checked > 50)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add(_ k: Int) { lock.withLock { n += k } }
        var value: Int { lock.withLock { n } }
    }
}
