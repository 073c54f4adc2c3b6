import Foundation
import SolventCore
import SolventEngine
import SolventServer
import Testing

/// What a cluster node checks and publishes without PostgreSQL (docs/cluster.md "Running three
/// nodes" and "Clients"): the advertised URL must be reachable, and the engine's journal sequence
/// is readable without the actor.
@Suite struct ClusterSettingsTests {
    func configuration(host: String, port: Int, advertise: String? = nil, nodeID: String? = "a", postgres: String? = "postgres://u@h/db") -> ServiceConfiguration {
        var c = ServiceConfiguration()
        c.host = host
        c.port = port
        c.advertise = advertise
        c.nodeID = nodeID
        c.postgres = postgres
        return c
    }

    /// A wildcard host or port 0 without `advertise` is refused naming `advertise`; with it, or
    /// for a reachable host and fixed port, or for a single node, nothing is refused.
    @Test func advertiseIsRequiredWhenTheListenerCannotBeReached() {
        var refused = 0
        for host in ["0.0.0.0", "::", "[::]", "*", ""] {
            #expect(throws: InputError.self, "host \(host)") { try configuration(host: host, port: 8080).checkAdvertise() }
            do { try configuration(host: host, port: 8080).checkAdvertise() } catch {
                #expect(error.path == "advertise" && error.reason.contains("--advertise"), "\(error)")
                refused += 1
            }
        }
        #expect(refused == 5)
        #expect(throws: InputError.self) { try configuration(host: "127.0.0.1", port: 0).checkAdvertise() }
        // Accepted: an explicit advertise, a reachable listener, a single node (no node id or no postgres).
        #expect(throws: Never.self) { try configuration(host: "0.0.0.0", port: 8080, advertise: "http://10.0.0.1:8080").checkAdvertise() }
        #expect(throws: Never.self) { try configuration(host: "10.0.0.1", port: 8080).checkAdvertise() }
        #expect(throws: Never.self) { try configuration(host: "0.0.0.0", port: 0, nodeID: nil).checkAdvertise() }
        #expect(throws: Never.self) { try configuration(host: "0.0.0.0", port: 0, postgres: nil).checkAdvertise() }
        #expect(configuration(host: "10.0.0.1", port: 8080).clusterSettings?.advertise == "http://10.0.0.1:8080")
    }

    /// `journaledSequence` (the atomic ClusterMiddleware reads for Solvent-Sequence) equals the
    /// actor's `journalSequence` after opening and after every batch, duplicates included.
    @Test func journaledSequenceFollowsTheEngine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-seq-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let engine = try EngineService.open(directory: folder, genesis: try JSONParser.parse(genesis), clock: TestClock().clock)
        #expect(engine.journaledSequence == 0)
        var checked = 0
        for n in 1...5 {
            let batch = (0..<n).map { k in
                CommandRequest(TimedCommand(time: TimedCommand.unstamped, command: .deposit(account: "a\(k)", asset: "USDT", amount: FixedDecimal(10), settle: nil),
                                            key: "op/s\(n)-\(k)"))
            }
            _ = try await engine.submit(batch: batch)
            let actor = await engine.journalSequence
            #expect(engine.journaledSequence == actor, "after batch \(n)")
            #expect(actor == Int64(n * (n + 1) / 2))
            checked += 1
        }
        // A retried batch (same keys) journals nothing: the sequence stays.
        _ = try await engine.submit(batch: [CommandRequest(TimedCommand(time: TimedCommand.unstamped,
                                                                        command: .deposit(account: "a0", asset: "USDT", amount: FixedDecimal(10), settle: nil), key: "op/s1-0"))])
        let after = await engine.journalSequence
        #expect(engine.journaledSequence == 15 && after == 15)
        #expect(checked == 5)
    }
}
