import Foundation
import SolventCore
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
    func start(data: String, port: Int) throws -> (Process, Pipe, String) {
        let process = Process()
        process.executableURL = solventExecutable()
        process.arguments = ["serve", "--data", data, "--port", "\(port)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
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
        let port = 20_000 + Int.random(in: 0..<20_000)
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
}
