import Foundation
import SolventCore
import SolventEngine
import SolventJournal
import Testing

@Suite struct CrashRecoveryTests {
    /// A long scenario: the crash book, then marks walking down and up, deposits and ticks.
    static func longScenario(commands: Int) throws -> String {
        let base = try String(contentsOf: packageRoot.appendingPathComponent("Examples/scenarios/crash-adl.json"), encoding: .utf8)
        guard case .object(var members) = try JSONParser.parse(base) else { throw CocoaError(.fileReadCorruptFile) }
        var list: [JSONValue] = []
        for n in 0..<commands {
            let time = JSONValue.number(String(1_583_971_200_000 + Int64(n + 1) * 1000))
            switch n % 5 {
            case 4:
                list.append(.object([("time", time), ("type", .string("deposit")), ("account", .string("s\(n % 2 + 1)")),
                                     ("asset", .string("USDT")), ("amount", .string("1"))]))
            default:
                let price = 8000 - (n % 200) * 3 + (n / 200 % 2) * 300
                list.append(.object([("time", time), ("type", .string("mark")), ("symbol", .string("BTCUSDT")), ("price", .string(String(price)))]))
                list.append(.object([("time", time), ("type", .string("index")), ("symbol", .string("BTCUSDT")), ("price", .string(String(price)))]))
            }
        }
        members = members.map { $0.key == "commands" ? (key: "commands", value: .array(list)) : $0 }
        var writer = JSONWriter()
        writer.value(.object(members))
        return writer.string
    }

    /// SIGKILL at any moment: `replay` succeeds and its state hash equals that of
    /// `simulate --limit commands_applied` on the same scenario.
    @Test(arguments: [0.0, 0.05, 0.3, 0.8])
    func killAndReplay(after seconds: Double) throws {
        let directory = NSTemporaryDirectory() + "solvent-crash-\(UUID().uuidString)"
        let file = directory + ".json"
        try Self.longScenario(commands: 4000).write(toFile: file, atomically: true, encoding: .utf8)
        _ = try KillLoopTests.killChild(scenario: file, directory: directory, delay: seconds)
        let replay = try runSolvent(["replay", "--data", directory])
        #expect(replay.status == 0, "\(replay.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any]
        let applied = try #require(summary?["commands_applied"] as? Int)
        let reference = try runSolvent(["simulate", "--scenario", file, "--limit", String(applied)])
        let lastLine = try #require(reference.stdout.split(separator: "\n").last)
        let expected = try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any]
        #expect(summary?["state_hash"] as? String == expected?["state_hash"] as? String, "after \(applied) commands")
    }
}

@Suite struct ReplayErrorTests {
    /// Replaying a folder with no journal is a clear error, not a crash.
    @Test func emptyFolder() throws {
        let directory = NSTemporaryDirectory() + "solvent-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try runSolvent(["replay", "--data", directory])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no genesis"))
        #expect(result.stdout.isEmpty)
    }
}

@Suite struct PostgresCLITests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// `simulate --postgres` journals into PostgreSQL and `replay --postgres` rebuilds the same state.
    @Test(.enabled(if: enabled)) func simulateAndReplayThroughPostgres() throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let scenario = packageRoot.appendingPathComponent("Examples/scenarios/short-squeeze-socialized.json").path
        let simulated = try runSolvent(["simulate", "--scenario", scenario, "--postgres", url, "--schema", schema])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        let replayed = try runSolvent(["replay", "--postgres", url, "--schema", schema])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(simulated.stdout.split(separator: "\n").last.map(String.init) == replayed.stdout.split(separator: "\n").last.map(String.init))
    }

    /// `serve --postgres`: an acknowledged command is in PostgreSQL and survives a restart.
    @Test(.enabled(if: enabled)) func serveWithPostgresJournal() throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "serve_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-serve-pg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let serve = ServeCLITests()
        let port = testListenPort()
        let (first, _, output) = try serve.start(data: folder, port: port, extra: ["--postgres", url, "--schema", schema])
        let key = try #require(output.split(separator: "\n").first { $0.hasPrefix("operator key: ") }.map { String($0.dropFirst("operator key: ".count)) })
        let ack = try serve.curl(["-H", "Authorization: Bearer \(key)", "-H", "Idempotency-Key: pg1", "-X", "POST", "http://127.0.0.1:\(port)/v1/commands",
                                  "-d", #"{"type":"deposit","account":"alice","asset":"USDT","amount":"42"}"#])
        #expect(try JSONParser.parse(ack)["duplicate"] == .bool(false))
        first.terminate()
        first.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: folder + "/journal.sqlite"), "the journal is in PostgreSQL, not SQLite")
        let (second, _, _) = try serve.start(data: folder, port: port, extra: ["--postgres", url, "--schema", schema])
        defer { second.terminate(); second.waitUntilExit() }
        let account = try JSONParser.parse(try serve.curl(["-H", "Authorization: Bearer \(key)", "http://127.0.0.1:\(port)/v1/accounts/alice"]))
        #expect(account["state"]?["balances"]?["USDT"] == .string("42"))
    }
}

/// Many SIGKILLs at seeded random moments while a child journals commands.
@Suite(.serialized) struct KillLoopTests {
    /// The state hash after every prefix of the long scenario, computed in process.
    static func prefixHashes(_ text: String) throws -> [String] {
        let json = try JSONParser.parse(text)
        var engine = try JournaledEngine.create(scenario: json, journal: MemoryJournal(), snapshotEvery: 0)
        var hashes = [engine.engine.stateHash()]
        guard case .array(let commands)? = json["commands"] else { return hashes }
        for command in commands {
            _ = try engine.submit(command)
            hashes.append(engine.engine.stateHash())
        }
        return hashes
    }

    /// Runs `simulate --data --ack` and kills it after `delay`; returns the highest acknowledged sequence.
    static func killChild(scenario: String, directory: String, delay: Double) throws -> Int {
        let process = Process()
        process.executableURL = solventExecutable()
        process.arguments = ["simulate", "--scenario", scenario, "--data", directory, "--ack", "--snapshot-every", "250"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // "Any moment" of journaling: once the journal exists (before that there is nothing to recover).
        let start = Date()
        while !FileManager.default.fileExists(atPath: directory + "/journal.sqlite"), Date().timeIntervalSince(start) < 30 {
            Thread.sleep(forTimeInterval: 0.002)
        }
        Thread.sleep(forTimeInterval: delay)
        kill(process.processIdentifier, SIGKILL)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var acked = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("{\"type\":\"ack\"") {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let sequence = object["sequence"] as? Int {
                acked = max(acked, sequence)
            }
        }
        return acked
    }

    static func replay(_ directory: String) throws -> (applied: Int, hash: String) {
        let result = try runSolvent(["replay", "--data", directory])
        guard result.status == 0,
              let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let applied = summary["commands_applied"] as? Int, let hash = summary["state_hash"] as? String else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "replay failed: \(result.stderr)"])
        }
        return (applied, hash)
    }

    /// 100 kills at seeded random moments: every acknowledged command survives, and the
    /// recovered state equals a clean run of exactly the surviving commands.
    @Test func hundredKills() throws {
        let text = try CrashRecoveryTests.longScenario(commands: 1500)
        let file = NSTemporaryDirectory() + "solvent-kills-\(UUID().uuidString).json"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let hashes = try Self.prefixHashes(text)
        var state: UInt64 = 0x5EED
        var killedMidway = 0
        for round in 0..<100 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let delay = Double(state >> 40 % 1000) / 1000 * 0.25
            let directory = NSTemporaryDirectory() + "solvent-kill-\(round)-\(UUID().uuidString)"
            let acked = try Self.killChild(scenario: file, directory: directory, delay: delay)
            let (applied, hash) = try Self.replay(directory)
            #expect(applied >= acked, "round \(round): \(acked) acknowledged, \(applied) recovered")
            #expect(hash == hashes[applied], "round \(round): state after \(applied) commands")
            if applied > 0 && applied < hashes.count - 1 { killedMidway += 1 }
            try? FileManager.default.removeItem(atPath: directory)
        }
        #expect(killedMidway >= 50, "most kills should land while commands are being journaled")
    }

    /// Torn writes: the write-ahead log cut at random lengths after a kill recovers to the
    /// last complete command (never a half-written one).
    @Test func tornWriteAheadLog() throws {
        let text = try CrashRecoveryTests.longScenario(commands: 1500)
        let file = NSTemporaryDirectory() + "solvent-torn-\(UUID().uuidString).json"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let hashes = try Self.prefixHashes(text)
        var torn = 0  // rounds whose log was actually cut: a test that never tears it checks nothing
        for round in 0..<10 {
            let directory = NSTemporaryDirectory() + "solvent-torn-\(round)-\(UUID().uuidString)"
            _ = try Self.killChild(scenario: file, directory: directory, delay: 0.05 + Double(round) * 0.02)
            let wal = directory + "/journal.sqlite-wal"
            if let size = (try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int, size > 0 {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: wal))
                try handle.truncate(atOffset: UInt64(max(0, size - 1 - (round * 997) % 8192)))
                try handle.close()
                torn += 1
            }
            let (applied, hash) = try Self.replay(directory)
            #expect(hash == hashes[applied], "round \(round): state after \(applied) commands")
            try? FileManager.default.removeItem(atPath: directory)
        }
        #expect(torn >= 5, "the write-ahead log was cut in only \(torn) of 10 rounds")
    }
}
