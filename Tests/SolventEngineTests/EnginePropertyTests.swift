@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventTestSupport
import Testing

@Suite struct EnginePropertyTests {
    /// Money is conserved by every command: per asset, opening + deposited − withdrawn =
    /// balances + insurance fund + fees + external, exactly, after every command.
    @Test(.shrinking(false)) func conservationOfMoney() async {
        await propertyCheck(count: 10, input: Gen.uint64()) { seed in
            var engine = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            #expect(conserved(engine))
            for command in randomCommands(seed: seed, engine: engine, count: 100) {
                _ = engine.apply(command)
                #expect(conserved(engine), "seed \(seed) after \(command)")
            }
        }
    }

    /// The at-risk index finds exactly what a full rescan finds: the same events, byte
    /// for byte, and the same state hash, at every step of random books and price paths.
    @Test(.shrinking(false)) func indexEqualsFullRescan() async {
        await propertyCheck(count: 10, input: Gen.uint64()) { seed in
            let parameters = mixedParameters(seed)
            var fast = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: parameters)
            var oracle = randomEngine(seed: seed, accounts: 12, fullRescan: true, parameters: parameters)
            for command in randomCommands(seed: seed, engine: fast, count: 100) {
                let a = fast.apply(command).map(\.json)
                let b = oracle.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
            }
            #expect(fast.stateHash() == oracle.stateHash())
        }
    }

    /// The heap of the liquidation drain takes accounts in exactly the order of a scan of the
    /// whole backlog at every step: the same events, byte for byte, and the same state hash.
    @Test(.shrinking(false)) func liquidationHeapEqualsBacklogScan() async {
        await propertyCheck(count: 16, input: Gen.uint64()) { seed in
            let parameters = mixedParameters(seed)
            var fast = randomEngine(seed: seed, accounts: 24, fullRescan: false, parameters: parameters)
            var reference = randomEngine(seed: seed, accounts: 24, fullRescan: false, parameters: parameters)
            reference.referenceLiquidationOrder = true
            for command in randomCommands(seed: seed, engine: fast, count: 150) {
                let a = fast.apply(command).map(\.json)
                let b = reference.apply(command).map(\.json)
                #expect(a == b, "seed \(seed) at \(command)")
                if a != b { return }
            }
            #expect(fast.stateHash() == reference.stateHash())
        }
    }

    /// The same commands give byte-identical events and the same state hash.
    @Test(.shrinking(false)) func determinism() async {
        await propertyCheck(count: 4, input: Gen.uint64()) { seed in
            var first = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            var second = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            let commands = randomCommands(seed: seed, engine: first, count: 40)
            let a = commands.flatMap { first.apply($0) }.map(\.json)
            let b = commands.flatMap { second.apply($0) }.map(\.json)
            #expect(a == b)
            #expect(first.stateHash() == second.stateHash())
        }
    }

    /// A rejected command changes no account, order or total (only engine time and the command count).
    @Test func rejectionChangesNothing() async {
        await propertyCheck(count: 20, input: Gen.int64(in: 1...1_000_000)) { cents in
            var rng = SplitMix64(seed: UInt64(cents))
            let market = RandomBook.market(using: &rng)
            var engine = Engine(market: market)
            _ = engine.apply(TimedCommand(time: 1, command: .deposit(account: "a", asset: "USDT", amount: FixedDecimal(raw: Int128(cents) * 10_000_000_000_000_000), settle: nil)))
            let before = (engine.state.accounts, engine.state.orders, engine.state.totals)
            let tooMuch = FixedDecimal(raw: Int128(cents + 1) * 10_000_000_000_000_000)
            let events = engine.apply(TimedCommand(time: 2, command: .withdraw(account: "a", asset: "USDT", amount: tooMuch)))
            #expect(events.first?.kind == .rejected)
            #expect(engine.state.accounts == before.0 && engine.state.orders == before.1 && engine.state.totals == before.2)
        }
    }
}

@Suite struct RestoreTests {
    /// A state encoded and decoded (a snapshot) restores to the same hash, and the restored
    /// engine answers the following commands with byte-identical events.
    @Test(.shrinking(false)) func restoreIsEquivalent() async {
        await propertyCheck(count: 6, input: Gen.uint64()) { seed in
            var original = randomEngine(seed: seed, accounts: 10, fullRescan: false, parameters: mixedParameters(seed))
            let commands = randomCommands(seed: seed, engine: original, count: 120)
            for command in commands.prefix(60) { _ = original.apply(command) }
            let data = try! JSONEncoder().encode(original.state)
            var restored = Engine(restoring: try! JSONDecoder().decode(EngineState.self, from: data))
            #expect(restored.stateHash() == original.stateHash())
            for command in commands.dropFirst(60) {
                #expect(restored.apply(command).map(\.json) == original.apply(command).map(\.json), "seed \(seed)")
            }
            #expect(restored.stateHash() == original.stateHash())
        }
    }
}
