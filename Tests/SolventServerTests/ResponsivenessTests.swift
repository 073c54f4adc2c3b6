import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SolventCore
import SolventEngine
import SolventJournal
import SolventServer
import Testing

/// A journal whose appends take `delay` (a slow disk, a slow PostgreSQL).
final class SlowJournal: Journal, @unchecked Sendable {
    let inner = MemoryJournal()
    let delay: TimeInterval
    init(delay: TimeInterval) { self.delay = delay }
    func writeGenesis(_ body: [UInt8]) throws { try inner.writeGenesis(body) }
    func append(records: [JournalRecord]) throws -> [AppendOutcome] {
        Thread.sleep(forTimeInterval: delay)  // blocks its thread, as fsync or `.wait()` does
        return try inner.append(records: records)
    }
    func read() throws -> JournalContents { try inner.read() }
    func writeSnapshot(_ snapshot: Snapshot) throws { try inner.writeSnapshot(snapshot) }
    func snapshots() throws -> [Snapshot] { try inner.snapshots() }
    func recordEvents(_ results: [(command: Int64, events: [StoredEvent])]) throws { try inner.recordEvents(results) }
    func lastEventCommand() throws -> Int64 { try inner.lastEventCommand() }
    func events(_ query: EventQuery) throws -> [StoredEvent] { try inner.events(query) }
    func events(command: Int64) throws -> [StoredEvent] { try inner.events(command: command) }
    func firstEventSequence() throws -> Int64? { try inner.firstEventSequence() }
    func sequences(forKeys keys: [String]) throws -> [String: Int64] { try inner.sequences(forKeys: keys) }
}

@Suite struct ResponsivenessTests {
    /// More engines than cores, each blocked in a slow journal write: the journal waits happen
    /// on the engines' own threads, so the cooperative pool still answers /healthz at once.
    @Test func healthzAnswersWhileJournalsAreSlow() async throws {
        let engines = try (0..<(ProcessInfo.processInfo.activeProcessorCount + 2)).map { _ in
            EngineService(journaled: try JournaledEngine.create(scenario: try JSONParser.parse(genesis), journal: SlowJournal(delay: 3)),
                          clock: TestClock().clock)
        }
        let keys = try APIKeyStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("solvent-slow-\(UUID().uuidString)").path)
        let app = SolventAPI.application(router: SolventAPI.router(engine: engines[0], keys: keys), host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        let started = ContinuousClock.now
        let writes = Task {
            await withTaskGroup(of: Void.self) { group in
                for (k, engine) in engines.enumerated() {
                    group.addTask { _ = try? await engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"a","asset":"USDT","amount":"1"}"#), key: "slow-\(k)") }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))  // every engine is inside its slow append now
        try await app.test(.router) { client in
            for _ in 0..<5 {
                let asked = ContinuousClock.now
                let status = try await request(client, .get, "/healthz", key: nil).status
                #expect(status == .ok)
                #expect(ContinuousClock.now - asked < .milliseconds(500), "healthz waited for a journal")
            }
        }
        #expect(ContinuousClock.now - started < .seconds(2), "healthz answered while the journals were still writing")
        await writes.value
        for engine in engines { #expect(await engine.commandsApplied == 1) }
    }
}
