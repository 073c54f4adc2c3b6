import Foundation
import HTTPTypes
import SolventCore
@testable import SolventServer
import Testing

/// The configuration layers (defaults → file → environment → flags) resolved through
/// swift-configuration, the errors naming their source, and secrets redacted.
@Suite struct ConfigurationTests {
    static func file(_ text: String) throws -> (name: String, document: JSONValue) { ("solvent.json", try JSONParser.parse(Array(text.utf8))) }

    @Test func precedence() throws {
        let file = try Self.file(#"{"port": 1000, "rate_limit": 50, "burst": 60, "host": "0.0.0.0", "stream_queue": 7}"#)
        let c = try ServiceConfiguration.resolve(file: file, environment: ["SOLVENT_PORT": "2000", "SOLVENT_BURST": "70", "SOLVENT_COMMAND_QUEUE": "9"],
                                                 flags: ["--burst", "80", "--log-level=warning"])
        #expect(c.port == 2000)  // environment over file
        #expect(c.rateLimit == 50)  // file over default
        #expect(c.burst == 80)  // flag over environment
        #expect(c.host == "0.0.0.0")
        #expect(c.streamQueue == 7)
        #expect(c.commandQueue == 9)
        #expect(c.logLevel == "warning")
        #expect(c.schema == "solvent")  // default
        #expect(c.data == nil)
    }

    @Test func errorsNameTheirSource() throws {
        func reason(_ body: () throws(InputError) -> ServiceConfiguration) -> String? {
            do { _ = try body(); return nil } catch { return "\(error.path): \(error.reason)" }
        }
        let cases: [(String?, String)] = [
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(file: try! Self.file(#"{"port": "eighty"}"#)) }, "solvent.json: port: expected an integer"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(file: try! Self.file(#"{"colour": 1}"#)) }, "solvent.json: colour: unknown setting"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(environment: ["SOLVENT_PORT": "70000"]) }, "SOLVENT_PORT: must be an integer in 0...65535"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(flags: ["--colour", "red"]) }, "--colour: unknown flag"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(flags: ["--port"]) }, "--port: a value is missing"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(flags: ["--burst", "0.5"]) }, "--burst: must be a number of at least 1.0"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(flags: ["--log-level", "loud"]) }, "--log-level: one of trace"),
            (reason { () throws(InputError) in try ServiceConfiguration.resolve(environment: ["SOLVENT_WEBHOOK_RETRY": #"{"base_ms": 5, "max_ms": 1}"#]) },
             "SOLVENT_WEBHOOK_RETRY: max_ms must be at least base_ms"),
        ]
        for (found, expected) in cases {
            #expect(found?.hasPrefix(expected) == true, "\(found ?? "no error"), expected \(expected)")
        }
        #expect(cases.count == 8)
    }

    /// Every setting has a variable and a flag derived from its key, all distinct, all in --help.
    @Test func everySettingInHelp() {
        let settings = ServiceConfiguration.settings
        #expect(Set(settings.map(\.key)).count == settings.count)
        for setting in settings {
            #expect(ServiceConfiguration.helpText.contains(setting.environment))
            #expect(ServiceConfiguration.helpText.contains(setting.flag))
        }
        #expect(settings.count >= 18)
    }

    @Test func secretsRedacted() throws {
        let webhooks = #"[{"name":"ops","url":"https://hook:pw@example.com/x","secret":"0123456789abcdef-very-secret"}]"#
        let c = try ServiceConfiguration.resolve(environment: ["SOLVENT_WEBHOOKS": webhooks],
                                                 flags: ["--postgres", "postgres://solvent:hunter2@db:5432/solvent", "--data", "/tmp/x"])
        #expect(c.postgres == "postgres://solvent:hunter2@db:5432/solvent")
        #expect(c.webhooks.first?.secret == "0123456789abcdef-very-secret")
        let text = c.description
        #expect(!text.contains("hunter2") && !text.contains("very-secret") && !text.contains(":pw@"), "\(text)")
        #expect(text.contains("postgres=postgres://solvent:<redacted>@db:5432/solvent"))
        #expect(text.contains("name ops"))
        #expect(URLRedaction.redacted("postgres://solvent@db/x") == "postgres://solvent@db/x")
    }

    /// The queue bounds reach their consumers: `command_queue` bounds the service's batcher (a
    /// flood of 50 concurrent commands behind a queue of 2 is partly refused 503), `stream_queue` the hub.
    @Test func queueBoundsFromConfiguration() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-config-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var c = try ServiceConfiguration.resolve(environment: ["SOLVENT_STREAM_QUEUE": "5"], flags: ["--command-queue", "2", "--data", folder])
        c.clock = TestClock().clock
        let service = try await SolventService(configuration: c, genesis: try JSONParser.parse(genesis))
        #expect(await service.commands.maximumQueue == 2)
        #expect(service.engine.hub.queueLimit == 5)
        let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
            for k in 0..<50 {
                group.addTask {
                    do {
                        _ = try await service.commands.submit(CommandRequest.decode(JSONParser.parse(#"{"type":"deposit","account":"a","asset":"USDT","amount":"1"}"#), key: "q\(k)"))
                        return nil
                    } catch { return error }
                }
            }
            var all: [(any Error)?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let refused = outcomes.compactMap { $0 as? APIError }.filter { $0.status == .serviceUnavailable }
        #expect(!refused.isEmpty, "some commands found the queue of 2 full")
        #expect(outcomes.filter { $0 == nil }.count + refused.count == 50)
        try await service.shutdown()
    }
}
