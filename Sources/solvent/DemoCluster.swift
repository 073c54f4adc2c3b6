import Foundation
import SolventCore
import SolventDemo
import SolventJournal
import Synchronization

/// `solvent demo --cluster N --postgres URL` (docs/cluster.md "The demo as a cluster"): N
/// `solvent serve` child processes of this binary, one group on one fresh PostgreSQL schema, on
/// consecutive ports, each with its own data folder (`node-K` under the demo's folder),
/// `--node-id node-K` and `--advertise http://HOST:PORT`; the demo's replay writes through
/// whichever node leads (ClusterTransport: 307 followed, retried across a takeover). Every
/// node serves the dashboard, whose header shows the group (`GET /v1/cluster`'s `members`).
/// `--kill-leader-after S` sends SIGKILL to the leader S seconds into the replay and restarts it
/// 5 s later (it rejoins as a standby): a takeover, live.
struct DemoCluster {
    let size: Int
    let postgres: String
    let schema: String
    /// Whether the schema is the demo's own (dropped at exit).
    let dropSchema: Bool
    let host: String
    let ports: [Int]
    let folder: String
    let temporary: Bool
    let leaseMilliseconds: Int
    let killLeaderAfter: Double?

    /// One `solvent serve` child.
    final class Node: @unchecked Sendable {
        let id: String
        let port: Int
        let folder: String
        let lock = NSLock()
        var process: Process?
        var output = ""
        init(id: String, port: Int, folder: String) {
            self.id = id
            self.port = port
            self.folder = folder
        }
        /// Set once this demo reaped the process (waitpid).
        var reaped = true
        func append(_ text: String) { lock.lock(); output += text; lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return output }
        /// The running process's id (nil once it exited and was reaped).
        var pid: Int32? {
            lock.lock(); defer { lock.unlock() }
            guard let process, !reaped else { return nil }
            let id = process.processIdentifier
            var status: Int32 = 0
            let result = waitpid(id, &status, WNOHANG)
            // Exited (reaped here), or already reaped by Foundation (ECHILD).
            if result == id || (result == -1 && errno == ECHILD) { reaped = true; return nil }
            return id
        }
        /// SIGKILL, then waits until it is gone (the demo reaps its children itself: Foundation's
        /// `waitUntilExit` did not return for a child that exited while the demo ignored SIGTERM).
        func kill9() {
            guard let id = pid else { return }
            kill(id, SIGCONT)
            kill(id, SIGKILL)
            while pid != nil { Thread.sleep(forTimeInterval: 0.02) }
        }
    }

    /// This binary (the children are `solvent serve` of the same build).
    static var executable: String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    /// `count` free TCP ports on 127.0.0.1 (bound to port 0 and released; consecutive when `base` is given).
    static func ports(base: Int, count: Int) -> [Int] {
        if base != 0 { return (0..<count).map { base + $0 } }
        return (0..<count).map { _ in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }

    func url(_ node: Node) -> String { "http://\(host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host):\(node.port)" }

    /// Starts `node` (its stdout read into `node.output`, its log in its folder) and waits up to
    /// 30 s for its `listening on` line.
    func start(_ node: Node, genesis: String) throws {
        try FileManager.default.createDirectory(atPath: node.folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", "--data", node.folder, "--host", host, "--port", "\(node.port)", "--postgres", postgres, "--schema", schema,
                             "--node-id", node.id, "--advertise", url(node), "--lease-ms", "\(leaseMilliseconds)", "--genesis", genesis,
                             "--rate-limit", "100000", "--burst", "100000", "--log-level", "warning"]
        let out = Pipe()
        process.standardOutput = out
        FileManager.default.createFile(atPath: node.folder + "/serve.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: node.folder + "/serve.log")
        node.lock.lock(); node.output = ""; node.lock.unlock()
        try process.run()
        node.lock.lock(); node.process = process; node.reaped = false; node.lock.unlock()
        let reader = out.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                node.append(String(decoding: data, as: UTF8.self))
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while !node.text.contains("listening on"), Date() < deadline, node.pid != nil { Thread.sleep(forTimeInterval: 0.05) }
        guard node.text.contains("listening on") else {
            throw DemoClusterError("node \(node.id) did not start (see \(node.folder)/serve.log): \(node.text.suffix(500))")
        }
    }

    /// Stops every node: SIGTERM (each releases its lease, writes a snapshot), SIGKILL after 10 s.
    static func stop(_ nodes: [Node]) {
        for node in nodes { if let pid = node.pid { kill(pid, SIGCONT); kill(pid, SIGTERM) } }
        let deadline = Date().addingTimeInterval(10)
        for node in nodes {
            while node.pid != nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            node.kill9()
        }
    }

    /// Everything the demo made: the nodes, then its folder (when temporary) and its schema.
    func cleanUp(_ nodes: [Node]) {
        Self.stop(nodes)
        if temporary { try? FileManager.default.removeItem(atPath: folder) }
        if dropSchema { try? PostgresJournal(url: postgres, schema: schema).destroy() }
    }
}

struct DemoClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension DemoCluster {
    /// Runs the cluster demo: starts the nodes, prints their URLs, replays `demo` through the
    /// leader, and on SIGINT/SIGTERM (or at the end with `exitWhenDone`) stops everything.
    func run(demo: LiveDemo, barsPerSecond: Double?, exitWhenDone: Bool, description: String) async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let genesisPath = folder + "/genesis.json"
        var genesisWriter = JSONWriter()
        genesisWriter.value(demo.genesis())
        try Data(genesisWriter.bytes).write(to: URL(fileURLWithPath: genesisPath))
        let nodes = (0..<size).map { Node(id: "node-\($0 + 1)", port: ports[$0], folder: folder + "/node-\($0 + 1)") }
        let cleanup = { [self] in cleanUp(nodes) }
        // Ctrl-C and SIGTERM stop the children and remove what the demo made.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                ProcessIO.writeStderr("demo: stopping the cluster")
                cleanup()
                ProcessIO.writeStderr("demo: stopped cleanly")
                exit(0)
            }
            source.resume()
            return source
        }
        defer { _ = sources }
        do {
            // The first node writes the genesis and creates the operator key; the others take both from PostgreSQL.
            try start(nodes[0], genesis: genesisPath)
            for node in nodes.dropFirst() { try start(node, genesis: genesisPath) }
        } catch {
            cleanup()
            throw error
        }
        guard let key = nodes[0].text.split(separator: "\n").first(where: { $0.hasPrefix("operator key: ") }).map({ String($0.dropFirst("operator key: ".count)) }) else {
            cleanup()
            throw DemoClusterError("node-1 printed no operator key (is schema \(schema) already used by another group? choose another with --schema)")
        }
        let transport = ClusterTransport(nodes: nodes.map(url), apiKey: key)
        // Wait for a leader (the first node takes the lease within one renewal tick).
        var leader: String? = nil
        for _ in 0..<100 {
            leader = await leaderID(transport)
            if leader != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        var lines = [description, "cluster:      \(size) nodes, PostgreSQL schema \(schema) (lease \(leaseMilliseconds) ms), leader \(leader ?? "not yet known")"]
        for node in nodes { lines.append("\(node.id):       \(url(node))/#key=\(key)") }
        lines += ["operator key: \(key)", "try:          curl \(url(nodes[0]))/v1/cluster",
                  "data:         \(folder)\(temporary ? " (temporary)" : "") — each node's log in node-K/serve.log",
                  "Ctrl-C stops it.", ""]
        ProcessIO.writeStdout(lines.joined(separator: "\n") + "\n")

        let killer: Task<Void, Never>? = killLeaderAfter.map { seconds in
            Task { [self] in
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                guard let id = await leaderID(transport), let node = nodes.first(where: { $0.id == id }), let pid = node.pid else { return }
                ProcessIO.writeStdout("kill -9 of the leader \(id) (pid \(pid)); a standby takes over after the lease (\(leaseMilliseconds) ms)\n")
                _ = pid
                node.kill9()
                try? await Task.sleep(for: .seconds(5))
                ProcessIO.writeStdout("new leader: \(await leaderID(transport) ?? "none yet"); restarting \(id) as a standby\n")
                do { try start(node, genesis: genesisPath) } catch { ProcessIO.writeStderr("demo: restarting \(id): \(error)") }
            }
        }
        do {
            let tally = try await demo.run(transport: transport, barsPerSecond: barsPerSecond) { bar, count, time in
                if bar % 24 == 0 || bar == count { ProcessIO.writeStdout("bar \(bar)/\(count)  \(Timestamp.formatISO8601(time))\n") }
            }
            let names = ["margin_warning", "margin_call", "margin_call_cured", "liquidation_started", "auto_deleveraged", "insurance_fund_draw", "socialized_loss"]
            ProcessIO.writeStdout("replay finished: " + names.map { "\($0) \(tally[$0] ?? 0)" }.joined(separator: ", ")
                                  + " (\(transport.redirects) redirects followed, \(transport.retries) retries)\n")
        } catch {
            ProcessIO.writeStderr("demo: the replay stopped: \(error)")
        }
        await killer?.value
        if exitWhenDone {
            cleanup()
            ProcessIO.writeStderr("demo: stopped cleanly")
            return
        }
        // Keep serving until Ctrl-C (the signal handler stops the cluster and exits).
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// The leader's node id, as any node answers `GET /v1/cluster`.
    func leaderID(_ transport: ClusterTransport) async -> String? {
        for base in transport.nodes {
            if let document = try? await transport.getOnce(base + "/v1/cluster"), case .string(let id)? = document["leader_id"] { return id }
        }
        return nil
    }
}
