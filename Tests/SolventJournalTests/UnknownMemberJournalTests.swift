import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import SolventTestSupport
import Testing

/// A command with a member its type does not know is refused before anything is applied or
/// journaled; a stored journal keeps replaying whatever members it holds (recovery decodes with
/// `UnknownMembers.ignored`). docs/range-contract.md "Unknown members".
@Suite struct UnknownMemberJournalTests {
    static func object(_ text: String, adding name: String? = nil) throws -> JSONValue {
        guard case .object(let members) = try JSONParser.parse(text) else { throw InputError(path: "", reason: "not an object") }
        return .object(members + (name.map { [(key: $0, value: JSONValue.bool(true))] } ?? []))
    }

    /// Per command type: the body with `reduceOnly` beside it is refused naming `command.reduceOnly`,
    /// and the journal's length, its last sequence and the state hash are unchanged; the body
    /// itself is then journaled.
    @Test func refusedCommandsChangeNothing() throws {
        let journal = MemoryJournal()
        var engine = try JournaledEngine.create(scenario: JSONParser.parse(CommandBodies.genesis), journal: journal, snapshotEvery: 0)
        var refused = 0
        for (type, body) in CommandBodies.all {
            let hash = engine.engine.stateHash()
            let sequence = engine.lastSequence
            let entries = try journal.read().entries.count
            do {
                _ = try engine.submit(Self.object(body, adding: "reduceOnly"))
                Issue.record("\(type) accepted reduceOnly")
            } catch let error as InputError {
                #expect(error.path == "command.reduceOnly", "\(type)")
                #expect(error.reason.hasPrefix("unknown member of \"\(type)\""), "\(type)")
                refused += 1
            }
            #expect(engine.engine.stateHash() == hash, "\(type)")
            #expect(engine.lastSequence == sequence, "\(type)")
            #expect(try journal.read().entries.count == entries, "\(type)")
            _ = try engine.submit(Self.object(body))
            #expect(engine.lastSequence == sequence + 1, "\(type) journaled")
        }
        #expect(refused == CommandBodies.all.count)
    }

    /// A batch whose second command carries a stranger journals nothing (group commit: all or none).
    @Test func aBatchWithOneStrangerJournalsNothing() throws {
        let journal = MemoryJournal()
        var engine = try JournaledEngine.create(scenario: JSONParser.parse(CommandBodies.genesis), journal: journal, snapshotEvery: 0)
        let hash = engine.engine.stateHash()
        let batch = [try Self.object(CommandBodies.all[0].body), try Self.object(#"{"type":"mark","symbol":"BTCUSDT","price":"61000"}"#, adding: "sourceTime")]
        #expect(throws: InputError(path: "commands[1].sourceTime", reason: "unknown member of \"mark\" (known: time, type, key, symbol, price, source_time)")) {
            _ = try engine.submit(batch: batch)
        }
        #expect(engine.engine.stateHash() == hash && engine.lastSequence == 0)
        #expect(try journal.read().entries.isEmpty)
    }

    /// A journal holding a command with a member the decoder does not know (as a writer before
    /// this rule, or a future one, could have stored it) still recovers: the member is skipped,
    /// and the state is the one the command without it gives.
    @Test func storedJournalsKeepReplaying() throws {
        let journal = MemoryJournal()
        var engine = try JournaledEngine.create(scenario: JSONParser.parse(CommandBodies.genesis), journal: journal, snapshotEvery: 0)
        _ = try engine.submit(Self.object(CommandBodies.all[0].body))
        let stored = #"{"time":1704067200000,"type":"mark","symbol":"BTCUSDT","price":"61000","source_time":1704067200000,"comment":"older writer","debt_rates":{"BTC":{"x":1}}}"#
        _ = try journal.append(key: "", body: Array(stored.utf8))
        let recovered = try JournaledEngine.recover(journal: journal).engine
        #expect(recovered.lastSequence == 2)

        let plainJournal = MemoryJournal()
        var plain = try JournaledEngine.create(scenario: JSONParser.parse(CommandBodies.genesis), journal: plainJournal, snapshotEvery: 0)
        _ = try plain.submit(Self.object(CommandBodies.all[0].body))
        _ = try plain.submit(JSONParser.parse(#"{"time":1704067200000,"type":"mark","symbol":"BTCUSDT","price":"61000","source_time":1704067200000}"#))
        #expect(recovered.engine.stateHash() == plain.engine.stateHash())
        // The same text from outside is refused.
        #expect(throws: InputError.self) { _ = try plain.submit(JSONParser.parse(stored)) }
    }

    /// A stored genesis whose `parameters` hold a name the decoder does not know recovers too
    /// (read with `.ignored`), while the same document is refused as a new scenario.
    @Test func storedGenesisKeepsReplaying() throws {
        let text = CommandBodies.genesis.replacingOccurrences(of: #""commands": []"#, with: #""parameters": {"mark_staleness_ms": 45000, "retired_knob": 1}, "commands": []"#)
        let journal = MemoryJournal()
        try journal.writeGenesis(Array(text.utf8))
        _ = try journal.append(key: "", body: Array(#"{"time":1704067200000,"type":"tick"}"#.utf8))
        let recovered = try JournaledEngine.recover(journal: journal).engine
        #expect(recovered.lastSequence == 1)
        #expect(recovered.engine.state.parameters.markStalenessMs == 45000)
        #expect(throws: InputError(path: "parameters.retired_knob", reason: JSONReader.unknownMemberReason(of: "parameters", known: Scenario.parameterMembers))) {
            _ = try JournaledEngine.create(scenario: JSONParser.parse(text), journal: MemoryJournal())
        }
    }
}
