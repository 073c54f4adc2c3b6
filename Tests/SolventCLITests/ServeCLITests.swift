import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SolventCore
import Synchronization
import Testing

/// `solvent serve` as a process: the operator key printed once at the first start, a write
/// acknowledged over HTTP, SIGTERM (clean stop and snapshot), a restart that still holds the
/// acknowledged write and prints no new key.
@Suite struct ServeCLITests {
    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "10"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts the server and waits for its "listening" line; returns the process and its output so far.
    func start(data: String, port: Int, extra: [String] = [], environment: [String: String] = [:]) throws -> (Process, Pipe, String) {
        try launch(["serve", "--data", data, "--port", "\(port)"] + extra, environment: environment)
    }

    /// Runs `solvent ARGUMENTS` and waits (up to 30 s) for its "listening" line.
    /// Starts `solvent` with `arguments` and waits for "listening on"; its standard error goes to
    /// `stderrPath` when given (a file the caller reads to explain a failure), else nowhere.
    func launch(_ arguments: [String], environment: [String: String] = [:], stderrPath: String? = nil) throws -> (Process, Pipe, String) {
        let process = Process()
        process.executableURL = solventExecutable()
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe()
        process.standardOutput = out
        if let stderrPath, FileManager.default.createFile(atPath: stderrPath, contents: nil), let file = FileHandle(forWritingAtPath: stderrPath) {
            process.standardError = file
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("listening on"), Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.05) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        Thread.sleep(forTimeInterval: 0.3)
        return (process, out, text)
    }

    @Test func serveSurvivesRestart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-serve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = testListenPort()
        let (first, _, output) = try start(data: folder, port: port)
        let line = output.split(separator: "\n").first { $0.hasPrefix("operator key: ") }
        let key = try #require(line.map { String($0.dropFirst("operator key: ".count)) })
        let ack = try curl(["-H", "Authorization: Bearer \(key)", "-H", "Idempotency-Key: w1", "-X", "POST", "http://127.0.0.1:\(port)/v1/commands",
                            "-d", #"{"type":"deposit","account":"alice","asset":"USDT","amount":"250","settle":"USDT"}"#])
        #expect(try JSONParser.parse(ack)["sequence"] == .number("1"))
        first.terminate()  // SIGTERM
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)

        let (second, _, again) = try start(data: folder, port: port)
        defer { second.terminate(); second.waitUntilExit() }
        #expect(!again.contains("operator key"))
        let account = try JSONParser.parse(try curl(["-H", "Authorization: Bearer \(key)", "http://127.0.0.1:\(port)/v1/accounts/alice"]))
        #expect(account["state"]?["balances"]?["USDT"] == .string("250"))
        // The same idempotency key after the restart: the original result, nothing applied twice.
        let repeatAck = try JSONParser.parse(try curl(["-H", "Authorization: Bearer \(key)", "-H", "Idempotency-Key: w1", "-X", "POST", "http://127.0.0.1:\(port)/v1/commands",
                                                       "-d", #"{"type":"deposit","account":"alice","asset":"USDT","amount":"250","settle":"USDT"}"#]))
        #expect(repeatAck["duplicate"] == .bool(true))
    }

    /// Runs `solvent ARGUMENTS` to completion: (exit status, stdout, stderr).
    func solvent(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = solventExecutable()
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// HTTP status of a request (curl -w).
    func status(_ arguments: [String]) throws -> String {
        try curl(["-o", "/dev/null", "-w", "%{http_code}"] + arguments)
    }

    /// `solvent keys create|list|revoke` against a running server: list prints no secret, a
    /// revoked key is refused from the next request without a restart; the attack cases of
    /// issue 14 are typed 4xx, the server stays up, and a restart still works.
    @Test func keysLifecycleAndAttacksAgainstARunningServer() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = testListenPort()
        let (server, _, output) = try start(data: folder, port: port)
        let line = output.split(separator: "\n").first { $0.hasPrefix("operator key: ") }
        let operatorKey = try #require(line.map { String($0.dropFirst("operator key: ".count)) })
        let base = "http://127.0.0.1:\(port)"

        let (created, aliceKey, idLine) = try solvent(["keys", "create", "--role", "account", "--account", "alice", "--expires", "30d", "--data", folder])
        #expect(created == 0)
        let aliceKeyText = aliceKey.trimmingCharacters(in: .whitespacesAndNewlines)
        let id = try #require(idLine.split(separator: " ").dropFirst(2).first.map { String($0.prefix(12)) })
        #expect(try solvent(["keys", "create", "--role", "account", "--account", "caf\u{e9}", "--data", folder]).0 == 2)
        #expect(try solvent(["keys", "create", "--role", "operator", "--expires", "2001-01-01T00:00:00Z", "--data", folder]).0 == 2)

        let (listed, table, _) = try solvent(["keys", "list", "--data", folder])
        #expect(listed == 0)
        #expect(table.contains(id) && table.contains("alice") && table.contains("active"))
        #expect(!table.contains(aliceKeyText) && !table.contains(String(aliceKeyText.dropFirst(4).prefix(16))), "no secret printed")
        let keysJSON = try String(contentsOfFile: folder + "/keys.json", encoding: .utf8)
        #expect(!keysJSON.contains(aliceKeyText))

        let deposit = #"{"type":"deposit","account":"alice","asset":"USDT","amount":"10"}"#
        #expect(try status(["-H", "Authorization: Bearer \(aliceKeyText)", "-H", "Idempotency-Key: d1", "-X", "POST", "\(base)/v1/commands", "-d", deposit]) == "200")
        #expect(try solvent(["keys", "revoke", id, "--data", folder]).0 == 0)
        #expect(try status(["-H", "Authorization: Bearer \(aliceKeyText)", "\(base)/v1/accounts/alice"]) == "401", "revoked without a restart")
        let (_, after, _) = try solvent(["keys", "list", "--json", "--data", folder])
        #expect(after.contains("\"revoked\""))

        // Issue 14's attacks on the edge: typed refusals, the process stays up.
        let op = ["-H", "Authorization: Bearer \(operatorKey)"]
        #expect(try status(op + ["-H", "Idempotency-Key: r1", "-X", "POST", "\(base)/v1/webhooks/deliveries/-9223372036854775808/retry"]) == "400")
        #expect(try status(op + ["-H", "Idempotency-Key: t1", "-X", "POST", "\(base)/v1/commands",
                                 "-d", #"{"type":"deposit","account":"cafe\u0301","asset":"USDT","amount":"1"}"#]) == "400")
        #expect(try status(op + ["-H", "Idempotency-Key: d2", "-X", "POST", "\(base)/v1/commands", "-d", deposit]) == "200")
        #expect(try status(op + ["-H", "Idempotency-Key: d2", "-X", "POST", "\(base)/v1/commands",
                                 "-d", #"{"type":"deposit","account":"alice","asset":"USDT","amount":"11"}"#]) == "422")
        #expect(try status(op + ["-X", "GET", "\(base)/v1/commands"]) == "405")
        #expect(try status(["\(base)/healthz"]) == "200")
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)

        // A restart: the retry still gets the original result; the revoked key stays refused.
        let (second, _, _) = try start(data: folder, port: port)
        defer { second.terminate(); second.waitUntilExit() }
        let retry = try JSONParser.parse(try curl(op + ["-H", "Idempotency-Key: d2", "-X", "POST", "\(base)/v1/commands", "-d", deposit]))
        #expect(retry["duplicate"] == .bool(true))
        #expect(try status(op + ["-H", "Idempotency-Key: d2", "-X", "POST", "\(base)/v1/commands",
                                 "-d", #"{"type":"deposit","account":"alice","asset":"USDT","amount":"11"}"#]) == "422")
        #expect(try status(["-H", "Authorization: Bearer \(aliceKeyText)", "\(base)/v1/accounts/alice"]) == "401")
        let account = try JSONParser.parse(try curl(op + ["\(base)/v1/accounts/alice"]))
        #expect(account["state"]?["balances"]?["USDT"] == .string("20"))
    }

    /// SIGTERM while eight clients keep writing: the server stops cleanly, and after a restart
    /// every command it acknowledged is there (a repeat of its idempotency key is a duplicate,
    /// and each account holds at least the deposits acknowledged to it).
    @Test func sigtermUnderLoadLosesNoAcknowledgedCommand() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-sigterm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = testListenPort()
        let (server, _, output) = try start(data: folder, port: port, extra: ["--rate-limit", "100000", "--burst", "100000"])
        let key = try #require(output.split(separator: "\n").first { $0.hasPrefix("operator key: ") }.map { String($0.dropFirst("operator key: ".count)) })
        let acknowledged = Acknowledged()
        let pid = server.processIdentifier
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    var failures = 0
                    for n in 0..<100_000 where failures < 3 {
                        if await Self.deposit(port: port, key: key, client: client, n: n, into: acknowledged) { failures = 0 } else { failures += 1 }
                    }
                }
            }
            group.addTask {
                // Let the load build up, then SIGTERM mid-stream.
                while acknowledged.count < 400 { try? await Task.sleep(for: .milliseconds(20)) }
                kill(pid, SIGTERM)
            }
        }
        server.waitUntilExit()
        #expect(server.terminationStatus == 0, "a clean stop under load")
        let acks = acknowledged.all
        #expect(acks.count >= 400)

        let (restarted, _, _) = try start(data: folder, port: port)
        defer { restarted.terminate(); restarted.waitUntilExit() }
        var perClient = [Int](repeating: 0, count: 8)
        for ack in acks { perClient[ack.client] += 1 }
        for client in 0..<8 where perClient[client] > 0 {
            let account = try JSONParser.parse(try curl(["-H", "Authorization: Bearer \(key)", "http://127.0.0.1:\(port)/v1/accounts/load-\(client)"]))
            guard case .string(let text)? = account["state"]?["balances"]?["USDT"], let balance = Int(text.split(separator: ".")[0]) else {
                Issue.record("no balance for load-\(client)"); continue
            }
            #expect(balance >= perClient[client], "load-\(client): \(balance) < \(perClient[client]) acknowledged")
        }
        // A sample of acknowledged keys, repeated: each one is already in the journal.
        for ack in acks.suffix(20) {
            let repeated = try JSONParser.parse(try curl(["-H", "Authorization: Bearer \(key)", "-H", "Idempotency-Key: \(ack.key)", "-X", "POST",
                                                          "http://127.0.0.1:\(port)/v1/commands", "-d", #"{"type":"deposit","account":"load-\#(ack.client)","asset":"USDT","amount":"1"}"#]))
            #expect(repeated["duplicate"] == .bool(true), "\(ack.key) was acknowledged but is not in the journal")
        }
    }

    /// Commands the server answered 200 (not duplicate) to.
    final class Acknowledged: Sendable {
        let list = Mutex<[(client: Int, key: String)]>([])
        var count: Int { list.withLock { $0.count } }
        var all: [(client: Int, key: String)] { list.withLock { $0 } }
        func add(_ client: Int, _ key: String) { list.withLock { $0.append((client, key)) } }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 5
        return URLSession(configuration: configuration)
    }()

    /// One deposit of 1 USDT to `load-<client>` with key `c<client>-<n>`; true when acknowledged.
    static func deposit(port: Int, key: String, client: Int, n: Int, into acknowledged: Acknowledged) async -> Bool {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/commands")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("c\(client)-\(n)", forHTTPHeaderField: "Idempotency-Key")
        request.httpBody = Data(#"{"type":"deposit","account":"load-\#(client)","asset":"USDT","amount":"1"}"#.utf8)
        guard let (data, response) = try? await session.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200,
              (try? JSONParser.parse(Array(data)))?["duplicate"] == .bool(false) else { return false }
        acknowledged.add(client, "c\(client)-\(n)")
        return true
    }

    /// Configuration precedence: flags over environment over file; a bad setting exits 2 naming it.
    @Test func configurationSources() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let filePort = Int.random(in: 20_000..<26_000)
        let envPort = filePort + 6_000  // both below the ephemeral range (TestListenPort.swift)
        let file = folder + "/solvent.json"
        try #"{"port": \#(filePort), "rate_limit": 50, "log_level": "warning"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        // The environment's port wins over the file's; the file's rate limit holds.
        let (process, _, text) = try launch(["serve", "--config", file], environment: ["SOLVENT_PORT": "\(envPort)", "SOLVENT_DATA": folder + "/data"])
        process.terminate()
        process.waitUntilExit()
        #expect(text.contains("listening on http://127.0.0.1:\(envPort)"))

        try #"{"port": "eighty", "colour": 1}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try runSolvent(["serve", "--config", file, "--data", folder + "/data"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("port: expected an integer"))
        let badEnv = try runSolvent(["serve", "--data", folder + "/data"], environment: ["SOLVENT_WEBHOOKS": #"[{"name":"x","url":"ftp://a","secret":"0123456789abcdef"}]"#])
        #expect(badEnv.status == 2)
        #expect(badEnv.stderr.contains("SOLVENT_WEBHOOKS[0].url: an http:// or https:// URL"))
        let help = try runSolvent(["serve", "--help"])
        for name in ["SOLVENT_PORT", "SOLVENT_WEBHOOKS", "webhook_retry", "stream_queue", "SOLVENT_POSTGRES"] { #expect(help.stdout.contains(name)) }
    }

    /// The live demo replays the crash through the server and stops cleanly: liquidations
    /// happen on Black Thursday, the dashboard URL carries the key in its fragment.
    @Test func liveDemo() throws {
        let result = try runSolvent(["demo", "--port", "0", "--speed", "0", "--exit-when-done", "--accounts", "80",
                                     "--from", "2020-03-10T00:00:00Z", "--to", "2020-03-14T00:00:00Z"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("/#key=slv_"))
        let summary = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("replay finished: ") })
        let liquidations = summary.split(separator: ",").first { $0.contains("liquidation_started") }?.split(separator: " ").last.flatMap { Int($0) }
        #expect((liquidations ?? 0) > 0, "\(summary)")
        #expect(result.stderr.contains("demo: stopped cleanly"))
    }
}
