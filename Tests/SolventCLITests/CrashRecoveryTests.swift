import Foundation
import SolventCore
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
        let process = Process()
        process.executableURL = solventExecutable()
        process.arguments = ["simulate", "--scenario", file, "--data", directory]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // "Any moment" of journaling: once the journal exists (before that there is nothing to recover).
        let start = Date()
        while !FileManager.default.fileExists(atPath: directory + "/journal.sqlite-wal"), Date().timeIntervalSince(start) < 30 {
            Thread.sleep(forTimeInterval: 0.005)
        }
        Thread.sleep(forTimeInterval: seconds)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
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
}
