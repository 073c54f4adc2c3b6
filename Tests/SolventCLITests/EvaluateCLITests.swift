import Foundation
import Testing

/// Runs the built `solvent` executable.
func runSolvent(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = solventExecutable()
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The `solvent` binary next to the test bundle (SwiftPM builds it for this target).
func solventExecutable() -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("solvent")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/solvent")
}

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct EvaluateCLITests {
    /// The README example evaluates and prints the contract's output shape.
    @Test func evaluatesExample() throws {
        let path = packageRoot.appendingPathComponent("Examples/evaluate/portfolio.json").path
        let result = try runSolvent(["evaluate", "--input", path])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let accounts = json?["accounts"] as? [[String: Any]]
        #expect(accounts?.map { $0["id"] as? String } == ["alice", "dave"])
        let pools = accounts?[0]["pools"] as? [[String: Any]]
        #expect(pools?.map { $0["pool"] as? String } == ["cross", "isolated:BTCUSDT:1"])
        #expect(pools?[0]["equity"] as? String == "18680")
    }

    /// Standard input works with `-`.
    @Test func readsStdin() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("Examples/evaluate/portfolio.json"), encoding: .utf8)
        let result = try runSolvent(["evaluate", "--input", "-"], stdin: text)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("{\"accounts\":["))
    }

    /// Bad input: exit 2, nothing on stdout, one line on stderr starting with the JSON path.
    @Test(arguments: [
        (#"{"assets":{"USDT":"1"},"instruments":[],"accounts":[{"id":"a","settle":"USDT","positions":[{"symbol":"Z","quantity":"1","entry_price":"1"}]}]}"#,
         "accounts[0].positions[0].symbol: unknown instrument"),
        (#"{"assets":{"USDT":"1x"},"instruments":[],"accounts":[]}"#, "assets.USDT: not a decimal: \"1x\""),
        (#"{"assets":{"USDT":"1"},"instruments":[],"accounts":[{"id":"a","settle":"USDT","collateral":{"BTC":"1"}}]}"#,
         "accounts[0].collateral.BTC: unknown asset"),
        ("{not json", "invalid JSON at byte 1"),
        (#"{"assets":{"USDT":"1"},"instruments":[]}"#, "accounts: missing"),
    ])
    func rejectsBadInput(document: String, expected: String) throws {
        let result = try runSolvent(["evaluate", "--input", "-"], stdin: document)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix(expected), "stderr: \(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1)
    }

    /// A missing file is a clear error with status 2.
    @Test func missingFile() throws {
        let result = try runSolvent(["evaluate", "--input", "/nonexistent/x.json"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("/nonexistent/x.json"))
    }

    /// The demo prints a table with every status.
    @Test func demoTable() throws {
        let result = try runSolvent(["demo", "--book"])
        #expect(result.status == 0)
        for word in ["healthy", "warning", "margin_call", "liquidatable", "bankrupt"] { #expect(result.stdout.contains(word)) }
    }
}
