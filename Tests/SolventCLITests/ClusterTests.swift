import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SolventCore
import SolventEngine
import SolventJournal
import Synchronization
import Testing

/// Stage 1 of docs/cluster.md with real processes: nodes of the built `solvent serve
/// --postgres --node-id --advertise --lease-ms` against the test PostgreSQL
/// (`SOLVENT_TEST_POSTGRES_URL`; under CI a missing URL fails), a writer with idempotency keys
/// recording every acknowledgement, `kill -9` and SIGSTOP of the leader.
@Suite(.serialized) struct ClusterTests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil
    static let leaseMilliseconds = 1_000

    /// One `solvent serve` child process of the cluster.
    final class Node: @unchecked Sendable {
        let id: String
        let port: Int
        let folder: String
        let process: Process
        let output: String
        init(id: String, port: Int, folder: String, process: Process, output: String) {
            self.id = id
            self.port = port
            self.folder = folder
            self.process = process
            self.output = output
        }
        var base: String { "http://127.0.0.1:\(port)" }
        var operatorKey: String? {
            output.split(separator: "\n").first { $0.hasPrefix("operator key: ") }.map { String($0.dropFirst("operator key: ".count)) }
        }
        func stop() {
            if process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// A group of nodes sharing one fresh schema.
    final class Group: @unchecked Sendable {
        let url: String
        let schema = "cluster_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        var nodes: [Node] = []
        init(url: String) { self.url = url }

        func start(_ id: String, environment: [String: String] = [:]) throws -> Node {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-cluster-\(id)-\(UUID().uuidString)").path
            for _ in 0..<5 {
                let port = testListenPort()
                let (process, _, output) = try ServeCLITests().launch([
                    "serve", "--data", folder, "--port", "\(port)", "--postgres", url, "--schema", schema, "--node-id", id,
                    "--advertise", "http://127.0.0.1:\(port)", "--lease-ms", "\(ClusterTests.leaseMilliseconds)", "--snapshot-every", "50",
                    "--log-level", "debug",
                ], environment: environment, stderrPath: Self.logPath(id))
                if output.contains("listening on") {
                    let node = Node(id: id, port: port, folder: folder, process: process, output: output)
                    nodes.append(node)
                    return node
                }
                process.terminate()
                process.waitUntilExit()
            }
            throw ClusterTestError("node \(id) did not start")
        }

        /// Where node `id`'s standard error (its log) goes: read back to explain a failure.
        static func logPath(_ id: String) -> String {
            FileManager.default.temporaryDirectory.appendingPathComponent("solvent-cluster-log-\(id)-\(ProcessInfo.processInfo.processIdentifier).log").path
        }

        /// The last `bytes` of every node's log and whether its process still runs, for a failure message.
        func diagnostics(bytes: Int = 3_000) -> String {
            nodes.map { node in
                let log = (try? String(contentsOfFile: Self.logPath(node.id), encoding: .utf8)) ?? ""
                return "node \(node.id) running: \(node.process.isRunning)"
                    + (node.process.isRunning ? "" : ", exit status \(node.process.terminationStatus)")
                    + "; log tail:\n" + String(log.suffix(bytes))
            }.joined(separator: "\n")
        }

        func stopAll() {
            for node in nodes { node.stop() }
            try? PostgresJournal(url: url, schema: schema).destroy()
        }
    }

    struct ClusterTestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 3
        return URLSession(configuration: configuration)
    }()

    /// Does not follow redirects (Foundation's would repeat a 307 POST without its body): the
    /// writer follows `Location` itself, with the body and the same Idempotency-Key.
    final class NoRedirect: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    static let direct: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 3
        return URLSession(configuration: configuration, delegate: NoRedirect(), delegateQueue: nil)
    }()

    /// POSTs a deposit with `key` to `url`, following one 307 to its Location with the same body and key.
    static func post(_ url: String, key: String, account: String, apiKey: String, timeout: Double = 3) async -> (status: Int, body: JSONValue?) {
        var target = url
        for _ in 0..<2 {
            var request = URLRequest(url: URL(string: target)!)
            request.httpMethod = "POST"
            request.timeoutInterval = timeout
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
            request.setValue(key, forHTTPHeaderField: "Idempotency-Key")
            request.httpBody = Data(#"{"type":"deposit","account":"\#(account)","asset":"USDT","amount":"1"}"#.utf8)
            guard let (data, response) = try? await direct.data(for: request), let http = response as? HTTPURLResponse else { return (0, nil) }
            if http.statusCode == 307, let location = http.value(forHTTPHeaderField: "Location") {
                target = location
                continue
            }
            return (http.statusCode, try? JSONParser.parse(Array(data)))
        }
        return (307, nil)
    }

    /// `GET /v1/cluster` of a node (nil: no answer).
    static func cluster(_ node: Node) async -> JSONValue? {
        guard let (data, response) = try? await session.data(from: URL(string: node.base + "/v1/cluster")!),
              (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return try? JSONParser.parse(Array(data))
    }

    /// Polls until `condition` holds for `node`'s cluster document, up to `seconds`.
    static func wait(_ node: Node, seconds: Double, until condition: (JSONValue) -> Bool) async -> JSONValue? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let document = await cluster(node), condition(document) { return document }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// An acknowledged write: its idempotency key, the sequence the cluster answered, when.
    struct Ack: Sendable {
        var key: String
        var sequence: Int64
        var duplicate: Bool
        var at: Date
        var port: Int
    }

    final class Acks: Sendable {
        let list = Mutex<[Ack]>([])
        func add(_ ack: Ack) { list.withLock { $0.append(ack) } }
        var all: [Ack] { list.withLock { $0 } }
    }

    /// Sends one deposit with `key` to the nodes in turn (following a 307 to the leader) until
    /// one acknowledges it or `seconds` pass; the same key on every attempt.
    static func write(key: String, account: String, apiKey: String, ports: [Int], seconds: Double) async -> Ack? {
        let deadline = Date().addingTimeInterval(seconds)
        var attempt = 0
        while Date() < deadline {
            let port = ports[attempt % ports.count]
            attempt += 1
            let (status, body) = await post("http://127.0.0.1:\(port)/v1/commands", key: key, account: account, apiKey: apiKey)
            if status == 200, case .number(let text)? = body?["sequence"], let sequence = Int64(text) {
                return Ack(key: key, sequence: sequence, duplicate: body?["duplicate"] == .bool(true), at: Date(), port: port)
            }
            try? await Task.sleep(for: .milliseconds(30))
        }
        return nil
    }

    /// The journal's commands by the client key (the part after the API key's id).
    static func journaled(url: String, schema: String) throws -> (contents: JournalContents, byKey: [String: Int64]) {
        let contents = try PostgresJournal(url: url, schema: schema).read()
        var byKey: [String: Int64] = [:]
        for entry in contents.entries {
            let clientKey = entry.key.split(separator: "/", maxSplits: 1).last.map(String.init) ?? entry.key
            byKey[clientKey] = entry.sequence
        }
        return (contents, byKey)
    }

    /// The state hash of a single-node replay of the journal from its genesis (no snapshot).
    static func replayHash(_ contents: JournalContents) throws -> (sequence: Int64, hash: String) {
        let memory = MemoryJournal()
        try memory.writeGenesis(try #require(contents.genesis))
        _ = try memory.append(batch: contents.entries.map { ($0.key, $0.body) })
        let replayed = try JournaledEngine.recover(journal: memory, snapshotEvery: 0).engine
        return (replayed.lastSequence, replayed.engine.stateHash())
    }

    /// kill -9 of the leader under load: a standby serves writes within 5 s, no acknowledged
    /// write is missing, every node's state hash at the head equals a single-node replay.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(2))) func killLeaderUnderLoad() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let group = Group(url: url)
        defer { group.stopAll() }
        let a = try group.start("a")
        let apiKey = try #require(a.operatorKey, "the first node prints the operator key")
        #expect(await Self.wait(a, seconds: 10) { $0["role"] == .string("leader") } != nil, "the first node leads")
        let b = try group.start("b")
        let c = try group.start("c")
        for standby in [b, c] {
            #expect(await Self.wait(standby, seconds: 10) { $0["role"] == .string("standby") && $0["leader_id"] == .string("a") } != nil)
        }
        let ports = [a.port, b.port, c.port]
        let acks = Acks()
        // The writer: one command at a time, each retried with its key until acknowledged.
        let writer = Task {
            for n in 0..<90 {
                guard let ack = await Self.write(key: "w-\(n)", account: "w\(n % 4)", apiKey: apiKey, ports: ports, seconds: 15) else { break }
                acks.add(ack)
            }
        }
        let loaded = Date().addingTimeInterval(30)
        while acks.all.count < 30, Date() < loaded { try await Task.sleep(for: .milliseconds(10)) }
        try #require(acks.all.count >= 30, "the leader acknowledged the first 30 writes")
        let killedAt = Date()
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        await writer.value
        let all = acks.all
        #expect(all.count == 90, "every write was acknowledged (by the leader or its successor)")
        let firstAfter = try #require(all.first { $0.at > killedAt && $0.port != a.port })
        let takeover = firstAfter.at.timeIntervalSince(killedAt)
        #expect(takeover < 5, "a standby serves writes \(takeover) s after the kill")
        print("cluster: takeover (kill -9 to first acknowledged write) \(Int(takeover * 1000)) ms")

        // Every acknowledged write is in the journal at the sequence it was acknowledged with.
        let (contents, byKey) = try Self.journaled(url: url, schema: group.schema)
        for ack in all { #expect(byKey[ack.key] == ack.sequence, "\(ack.key) acknowledged at \(ack.sequence)") }
        #expect(contents.discardedTail == 0)
        #expect(contents.entries.map(\.sequence) == Array(1...Int64(contents.entries.count)), "no gap, no fork")
        // Both survivors reach the head with the replay's state hash.
        let replay = try Self.replayHash(contents)
        var compared = 0
        for node in [b, c] {
            let document = await Self.wait(node, seconds: 10) { $0["applied_sequence"] == .number(String(replay.sequence)) }
            #expect(document?["state_hash"] == .string(replay.hash), "node \(node.id) at sequence \(replay.sequence)")
            compared += 1
        }
        #expect(compared == 2)
        let leaders = await [b, c].asyncMap { await Self.cluster($0)?["role"] }.filter { $0 == .string("leader") }
        #expect(leaders.count == 1, "exactly one leader")
    }

    /// SIGSTOP the leader past its lease: a standby takes over; after SIGCONT the old leader's
    /// appends are refused, it becomes a standby of the new leader, and the journal has no fork.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(2))) func pausedLeaderIsFenced() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let group = Group(url: url)
        defer { group.stopAll() }
        let a = try group.start("a")
        let apiKey = try #require(a.operatorKey)
        #expect(await Self.wait(a, seconds: 10) { $0["role"] == .string("leader") } != nil)
        let b = try group.start("b")
        #expect(await Self.wait(b, seconds: 10) { $0["leader_id"] == .string("a") } != nil)
        var acks: [Ack] = []
        for n in 0..<10 {
            acks.append(try #require(await Self.write(key: "p-\(n)", account: "p", apiKey: apiKey, ports: [a.port], seconds: 5)))
        }
        let epochA = await Self.cluster(a)?["epoch"]

        kill(a.process.processIdentifier, SIGSTOP)
        // Writes sent to the paused leader wait in its socket; they are answered after SIGCONT.
        let stale = Task { () -> [Int] in
            var statuses: [Int] = []
            // 200: redirected (307) to the new leader, which journaled it; 503: refused — by the
            // fence (the old leader still thought it led) or while it learns the new leader.
            for n in 0..<5 {
                statuses.append(await Self.post(a.base + "/v1/commands", key: "stale-\(n)", account: "stale", apiKey: apiKey, timeout: 15).status)
            }
            return statuses
        }
        let took = await Self.wait(b, seconds: 10) { $0["role"] == .string("leader") }
        #expect(took != nil, "the standby took over while the leader was paused")
        #expect(took?["epoch"] != epochA)
        for n in 10..<15 {
            acks.append(try #require(await Self.write(key: "p-\(n)", account: "p", apiKey: apiKey, ports: [b.port], seconds: 5)))
        }
        kill(a.process.processIdentifier, SIGCONT)
        let staleStatuses = await stale.value
        print("cluster: writes sent to the paused leader were answered \(staleStatuses) after SIGCONT")
        #expect(staleStatuses.allSatisfy { $0 == 200 || $0 == 503 }, "redirected to the new leader (200) or refused (503)")
        // The old leader steps down and follows the new one.
        let rejoined = await Self.wait(a, seconds: 10) { $0["role"] == .string("standby") && $0["leader_id"] == .string("b") }
        #expect(rejoined != nil, "the old leader became a standby of b")
        print("cluster: old leader after SIGCONT: \(rejoined.map { String(describing: $0) } ?? "nil")")
        let metrics = try await Self.session.data(from: URL(string: a.base + "/metrics")!).0
        #expect(String(decoding: metrics, as: UTF8.self).contains("solvent_cluster_lease_losses_total 1"), "the old leader counted its lost lease")

        let (contents, byKey) = try Self.journaled(url: url, schema: group.schema)
        for ack in acks { #expect(byKey[ack.key] == ack.sequence, "\(ack.key) acknowledged at \(ack.sequence)") }
        #expect(contents.entries.map(\.sequence) == Array(1...Int64(contents.entries.count)), "no gap, no fork")
        // Whatever the paused leader answered, nothing it journaled after the takeover exists:
        // each stale write is either absent or was journaled once, by the new leader (after a 307).
        let staleSequences = (0..<5).compactMap { byKey["stale-\($0)"] }
        let takeoverSequence = acks[9].sequence
        #expect(staleSequences.allSatisfy { $0 > takeoverSequence })
        let replay = try Self.replayHash(contents)
        for node in [a, b] {
            let document = await Self.wait(node, seconds: 10) { $0["applied_sequence"] == .number(String(replay.sequence)) }
            #expect(document?["state_hash"] == .string(replay.hash), "node \(node.id) at sequence \(replay.sequence)")
        }
    }
}

/// A PostgreSQL of the test's own (scripts/postgres-test-cluster), so that restarting it cuts no
/// other suite's connections.
final class DedicatedPostgres: @unchecked Sendable {
    let url: String
    let directory: String
    let port: String
    let bin: String

    init() throws {
        let started = try Self.run(["/usr/bin/env", "bash", packageRoot.appendingPathComponent("scripts/postgres-test-cluster").path])
        guard started.status == 0,
              let urlPart = started.output.split(separator: " ").first(where: { $0.hasPrefix("SOLVENT_TEST_POSTGRES_URL=") }),
              let dirPart = started.output.split(separator: " ").first(where: { $0.hasPrefix("SOLVENT_TEST_POSTGRES_DIR=") }) else {
            throw ClusterTests.ClusterTestError("scripts/postgres-test-cluster failed: \(started.output)")
        }
        url = String(urlPart.dropFirst("SOLVENT_TEST_POSTGRES_URL=".count))
        directory = String(dirPart.dropFirst("SOLVENT_TEST_POSTGRES_DIR=".count)).trimmingCharacters(in: .whitespacesAndNewlines)
        port = URLComponents(string: url)?.port.map(String.init) ?? ""
        bin = try Self.run(["/bin/sh", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a command through posix_spawn and waitpid (output through a file: the script's
    /// PostgreSQL daemon must not inherit a pipe the test waits on).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-pg-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let argv = ["/bin/sh", "-c", "\(quoted) >'\(file)' 2>/dev/null </dev/null"]
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &cArguments, environ) == 0 else { throw ClusterTests.ClusterTestError("cannot spawn \(quoted)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return ((status >> 8) & 0xff, output)
    }

    func stop() throws {
        _ = try Self.run(["/usr/bin/env", "runuser", "-u", "postgres", "--", bin + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"])
    }

    func start() throws {
        let started = try Self.run(["/usr/bin/env", "runuser", "-u", "postgres", "--", bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-w",
                                    "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
        guard started.status == 0 else { throw ClusterTests.ClusterTestError("PostgreSQL did not restart: \(started.output)") }
    }

    func destroy() {
        _ = try? Self.run(["/usr/bin/env", "bash", packageRoot.appendingPathComponent("scripts/postgres-test-cluster").path, "stop", directory])
    }
}

extension ClusterTests {
    /// PostgreSQL restarted under load: while it is down every write is refused 503 (never
    /// acknowledged); the nodes reconnect, a leader takes the lease again, every acknowledged write
    /// is in the journal, and the nodes' state hashes equal a single-node replay.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(2))) func postgresRestartedUnderLoad() async throws {
        _ = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let postgres = try DedicatedPostgres()
        defer { postgres.destroy() }
        let group = Group(url: postgres.url)
        defer { group.stopAll() }
        let a = try group.start("a")
        let apiKey = try #require(a.operatorKey)
        #expect(await Self.wait(a, seconds: 10) { $0["role"] == .string("leader") } != nil)
        let b = try group.start("b")
        #expect(await Self.wait(b, seconds: 10) { $0["leader_id"] == .string("a") } != nil)
        let ports = [a.port, b.port]
        let acks = Acks()
        let writer = Task {
            for n in 0..<60 {
                guard let ack = await Self.write(key: "r-\(n)", account: "r\(n % 3)", apiKey: apiKey, ports: ports, seconds: 30) else { break }
                acks.add(ack)
            }
        }
        let loaded = Date().addingTimeInterval(30)
        while acks.all.count < 15, Date() < loaded { try await Task.sleep(for: .milliseconds(10)) }
        try #require(acks.all.count >= 15, "the leader acknowledged the first 15 writes")
        try postgres.stop()
        let stoppedAt = Date()
        // While PostgreSQL is down: writes to either node are refused (503), none acknowledged.
        var probes: [Int] = []
        for n in 0..<10 {
            for port in ports {
                // A standby that still knows the old leader redirects there (followed once).
                let (status, body) = await Self.post("http://127.0.0.1:\(port)/v1/commands", key: "down-\(n)-\(port)", account: "down", apiKey: apiKey)
                if status != 503 { print("cluster: while PostgreSQL was down, port \(port) answered \(status): \(body.map { String(describing: $0) } ?? "-")") }
                probes.append(status)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let acknowledgedWhileDown = acks.all.filter { $0.at > stoppedAt.addingTimeInterval(0.05) }
        try postgres.start()
        print("cluster: writes while PostgreSQL was down answered \(Dictionary(grouping: probes, by: { $0 }).mapValues(\.count))")
        if !probes.allSatisfy({ $0 == 503 }) { print("cluster: diagnostics after the outage:\n\(group.diagnostics())") }
        #expect(probes.allSatisfy { $0 == 503 }, "every write while PostgreSQL is down is refused 503 (a redirect from a standby is followed)")
        #expect(acknowledgedWhileDown.isEmpty, "nothing acknowledged while PostgreSQL was down")
        await writer.value
        let all = acks.all
        #expect(all.count == 60, "every write acknowledged once PostgreSQL is back")

        let (contents, byKey) = try Self.journaled(url: postgres.url, schema: group.schema)
        for ack in all { #expect(byKey[ack.key] == ack.sequence, "\(ack.key) acknowledged at \(ack.sequence)") }
        #expect(contents.entries.map(\.sequence) == Array(1...Int64(contents.entries.count)), "no gap, no fork")
        let replay = try Self.replayHash(contents)
        for node in [a, b] {
            let document = await Self.wait(node, seconds: 10) { $0["applied_sequence"] == .number(String(replay.sequence)) }
            #expect(document?["state_hash"] == .string(replay.hash), "node \(node.id) at sequence \(replay.sequence)")
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        for element in self { result.append(await transform(element)) }
        return result
    }
}
