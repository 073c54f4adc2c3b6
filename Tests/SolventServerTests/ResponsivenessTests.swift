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

/// A journal whose appends block their thread until the test opens `gate` (a stuck disk, a
/// stuck PostgreSQL), as fsync or `.wait()` would: no timing, so a loaded machine cannot make
/// the test pass or fail by chance.
final class SlowJournal: Journal, @unchecked Sendable {
    let inner = MemoryJournal()
    let gate: DispatchSemaphore
    let entered: DispatchSemaphore
    init(gate: DispatchSemaphore, entered: DispatchSemaphore) {
        self.gate = gate
        self.entered = entered
    }
    func writeGenesis(_ body: [UInt8]) throws { try inner.writeGenesis(body) }
    func append(records: [JournalRecord]) throws -> [AppendOutcome] {
        entered.signal()
        gate.wait()  // blocks this thread until the test lets the appends through
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
    /// More engines than cores, each blocked in a journal write that only the test can end: the
    /// journal waits happen on the engines' own threads, so the cooperative pool still answers
    /// /healthz while every append is blocked (were they on the pool, /healthz would never
    /// answer and the time limit would fail the test).
    @Test(.timeLimit(.minutes(1))) func healthzAnswersWhileJournalsAreSlow() async throws {
        let gate = DispatchSemaphore(value: 0), entered = DispatchSemaphore(value: 0)
        let engines = try (0..<(ProcessInfo.processInfo.activeProcessorCount + 2)).map { _ in
            EngineService(journaled: try JournaledEngine.create(scenario: try JSONParser.parse(genesis),
                                                                journal: SlowJournal(gate: gate, entered: entered)),
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
        // Wait (off the cooperative pool) until every engine is blocked inside its append.
        let count = engines.count
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                for _ in 0..<count { entered.wait() }
                done.resume()
            }
        }
        try await app.test(.router) { client in
            for _ in 0..<5 {
                let status = try await request(client, .get, "/healthz", key: nil).status
                #expect(status == .ok)
            }
        }
        // /healthz answered five times while every journal append was still blocked.
        for _ in 0..<count { gate.signal() }
        _ = started
        await writes.value
        for engine in engines { #expect(await engine.commandsApplied == 1) }
    }
}
