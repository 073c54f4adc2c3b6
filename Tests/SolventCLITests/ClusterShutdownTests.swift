import Foundation
import Testing

/// A cluster node stopped with SIGTERM (issue 19): graceful shutdown through
/// swift-service-lifecycle, then every PostgreSQL connection (member table, lease and keys,
/// webhook outbox, shard directory) closed in order. Before, the node printed `serve: stopped
/// cleanly` and then hit postgres-nio's debug assertion "PostgresConnection deinitialized before
/// being closed" (exit 132) from the webhook outbox's deinit. Debug binary; PostgreSQL from
/// `SOLVENT_TEST_POSTGRES_URL` (under CI a missing URL fails, elsewhere the suite is skipped).
@Suite(.serialized) struct ClusterShutdownTests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// Starts a node with `extra` flags, lets it lead for a moment, sends SIGTERM and returns its
    /// exit status and standard error (bounded: killed after 30 s).
    func stopWithSIGTERM(url: String, extra: [String]) throws -> (status: Int32, stderr: String) {
        let schema = "shutdown_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-shutdown-\(UUID().uuidString)").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-shutdown-\(UUID().uuidString).log").path
        defer {
            try? FileManager.default.removeItem(atPath: folder)
            try? FileManager.default.removeItem(atPath: log)
        }
        for _ in 0..<5 {
            let port = testListenPort()
            let (process, _, output) = try ServeCLITests().launch([
                "serve", "--data", folder, "--port", "\(port)", "--postgres", url, "--schema", schema, "--node-id", "n1",
                "--advertise", "http://127.0.0.1:\(port)", "--lease-ms", "1000",
            ] + extra, stderrPath: log)
            guard output.contains("listening on") else {
                process.terminate()
                process.waitUntilExit()
                continue
            }
            // Long enough to lead, heartbeat, sync keys and open the outbox (and the shard directory).
            Thread.sleep(forTimeInterval: 2)
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return (process.terminationStatus, stderr)
        }
        throw ClusterTests.ClusterTestError("the node did not start")
    }

    @Test(.enabled(if: enabled), arguments: [[String](), ["--shards", "2", "--shard", "0"]])
    func sigtermClosesEveryConnection(extra: [String]) throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let (status, stderr) = try stopWithSIGTERM(url: url, extra: extra)
        #expect(stderr.contains("serve: stopped cleanly"), "\(stderr.suffix(2000))")
        #expect(!stderr.contains("deinitialized before being closed"), "\(stderr.suffix(2000))")
        #expect(status == 0, "exit status \(status): \(stderr.suffix(2000))")
    }
}
