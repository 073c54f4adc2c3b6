import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// The margin procedure's events are kept as compact records until read (issue 18,
/// ProcedureEventRecord.swift): the bytes the record writes must be the bytes of its field list
/// written through `EventValue`, and the field list must carry every member in order.
@Suite struct ProcedureEventRecordTests {
    static let procedureKinds: Set<EventKind> = [.marginWarning, .warningCleared, .marginCall, .marginCallCured, .liquidationStarted, .liquidationEnded]

    /// The event rebuilt from its materialized fields renders the same JSON as the record.
    static func checkSameBytes(_ events: [EngineEvent]) -> Int {
        var checked = 0
        for event in events where procedureKinds.contains(event.kind) {
            let rebuilt = EngineEvent(sequence: event.sequence, time: event.time, kind: event.kind, account: event.account, fields: event.fields)
            #expect(rebuilt.json == event.json, "\(event.json)")
            // The members any reader looks up by name.
            #expect(event.text("pool") != nil)
            #expect(event.decimal("equity") != nil)
            if case .list = event["positions"] {} else { Issue.record("no positions list in \(event.json)") }
            checked += 1
        }
        return checked
    }

    @Test func exampleScenariosRenderTheSameBytesFromRecordAndFields() throws {
        var checked = 0
        let names = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Examples/scenarios").path)
            .filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            checked += Self.checkSameBytes(try runScenario(name).1)
        }
        #expect(checked > 20)
    }

    @Test func randomBooksRenderTheSameBytesFromRecordAndFields() {
        var checked = 0, kinds = Set<EventKind>()
        for seed in UInt64(1)...6 {
            var engine = randomEngine(seed: seed, accounts: 24, fullRescan: false)
            for command in randomCommands(seed: seed, engine: engine, count: 150) {
                let events = engine.apply(command)
                checked += Self.checkSameBytes(events)
                for event in events where Self.procedureKinds.contains(event.kind) { kinds.insert(event.kind) }
            }
        }
        #expect(checked > 20)
        #expect(kinds.count >= 4, "procedure kinds seen: \(kinds)")
    }

    /// A hand-written margin call: the members, in order, with the positions list and the call's numbers.
    @Test func marginCallMembersInOrder() throws {
        let (_, events) = try runScenario("partial-liquidation.json")
        let calls = events.filter { Self.procedureKinds.contains($0.kind) }
        #expect(!calls.isEmpty)
        for event in calls {
            let names = event.fields.map(\.0)
            #expect(Array(names.prefix(9)) == ["pool", "equity", "maintenance_margin", "margin_ratio", "status", "warning_ratio",
                                               "call_ratio", "restore_ratio", "positions"])
            if event.kind == .marginCall { #expect(Array(names.dropFirst(9)) == ["call_amount", "deadline", "grace_period_ms"]) }
            // A reader that replaces the fields gets a plain field list back.
            var edited = event
            edited.fields.append(("note", .flag(true)))
            #expect(edited.json.hasSuffix(",\"note\":true}"))
            #expect(edited.json.dropLast(",\"note\":true}".count) == event.json.dropLast())
        }
    }
}
