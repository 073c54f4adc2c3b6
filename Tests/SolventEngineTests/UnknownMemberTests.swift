import Foundation
import PropertyBased
import SolventCore
import SolventEngine
import SolventTestSupport
import Testing

/// Unknown members of a command are refused (Scenario+CommandMembers.swift, docs/range-contract.md
/// "Unknown members"): a misspelled `reduce_only` no longer places a plain order.
@Suite struct UnknownMemberTests {
    static func decode(_ value: JSONValue, path: String = "c", _ policy: UnknownMembers = .refused) throws(InputError) -> TimedCommand {
        try Scenario.decodeCommand(JSONReader(value, path: path), assetIndex: [:], defaultTime: 1_704_067_200_000, unknownMembers: policy)
    }

    static func adding(_ name: String, _ value: JSONValue = .string("x"), to body: String) throws -> JSONValue {
        guard case .object(let members) = try JSONParser.parse(body) else { throw InputError(path: "", reason: "not an object") }
        return .object(members + [(key: name, value: value)])
    }

    /// Every command type has a body in `CommandBodies`, naming every member its type knows; each
    /// decodes, and the same body with one stranger is refused at the stranger's path, the reason
    /// naming the type and listing its members; ignored (journal recovery) it decodes to the same command.
    @Test func everyTypeRefusesAStranger() throws {
        #expect(Set(CommandBodies.all.map(\.type)) == Set(Scenario.commandMembers.keys))
        var refused = 0
        for (type, body) in CommandBodies.all {
            let good = try Self.decode(JSONParser.parse(body))
            #expect(good.typeName == type)
            guard case .object(let members) = try JSONParser.parse(body) else { Issue.record("\(type)"); continue }
            let known = try #require(Scenario.knownCommandMembers(type))
            #expect(Set(members.map(\.key)).union(["time", "key"]) == Set(known), "\(type): the body names every known member")
            for name in CommandBodies.strangers {
                let bad = try Self.adding(name, to: body)
                do {
                    _ = try Self.decode(bad)
                    Issue.record("\(type) accepted \(name)")
                } catch {
                    #expect(error.path == JSONReader(bad, path: "c").childPath(name))
                    #expect(error.reason == "unknown member of \"\(type)\" (known: \(known.joined(separator: ", ")))")
                    refused += 1
                }
                #expect(try Self.decode(bad, .ignored) == good)
            }
        }
        #expect(refused == CommandBodies.all.count * CommandBodies.strangers.count)
    }

    /// The brief's case: `reduceOnly` beside a `place_order` is refused naming its path in the
    /// scenario (`commands[1].reduceOnly`), so the file is refused whole and nothing runs.
    @Test func misspelledReduceOnlyInAScenario() throws {
        let order = #"{"type":"place_order","id":"o1","account":"alice","symbol":"BTCUSDT","quantity":"-0.5","price":"60000","reduceOnly":true}"#
        let text = CommandBodies.genesis.replacingOccurrences(of: #""commands": []"#, with: #""commands": [{"type":"tick"},\#(order)]"#)
        do {
            _ = try Scenario.decode(JSONParser.parse(text))
            Issue.record("accepted")
        } catch let error as InputError {
            #expect(error.path == "commands[1].reduceOnly")
            #expect(error.reason.hasPrefix("unknown member of \"place_order\" (known: time, type, key, id, account, symbol, quantity, price, reduce_only)"))
        }
    }

    /// A scenario's `parameters`, `shard` and the root of `start` refuse strangers too (a misspelled `grace_period_ms`
    /// ran with the preset's grace period); ignored (a stored genesis) they are skipped.
    @Test func scenarioParametersAndShard() throws {
        let cases: [(String, String, String)] = [
            (#""commands": []"#, #""parameters": {"grace_period": 60000}, "commands": []"#, "parameters.grace_period"),
            (#""commands": []"#, #""parameters": {"backstop": true, "Adl": false}, "commands": []"#, "parameters.Adl"),
            (#""commands": []"#, #""shard": {"index": 0, "count": 1, "of": 2}, "commands": []"#, "shard.of"),
            (#""marks": {"#, #""haircut": {"BTC": "0.1"}, "marks": {"#, "start.haircut"),
        ]
        var checked = 0
        for (find, replace, path) in cases {
            let document = try JSONParser.parse(CommandBodies.genesis.replacingOccurrences(of: find, with: replace))
            do {
                _ = try Scenario.decode(document)
                Issue.record("accepted \(path)")
            } catch {
                #expect(error.path == path)
                #expect(error.reason.hasPrefix("unknown member of "))
                checked += 1
            }
            #expect(try Scenario.decode(document, unknownMembers: .ignored).commands.isEmpty)
        }
        #expect(checked == cases.count)
        // Every member the scenario decoder reads is known: the genesis with all of them decodes.
        let all = #""parameters": {"preset": "exchange", "grace_period_ms": 0, "hysteresis": "0.05", "liquidation_fee_rate": "0.005", "#
            + #""liquidation_step_fraction": "0.25", "liquidation_steps_per_command": 64, "liquidation_notional_cap": "1000000", "#
            + #""liquidation_cap_interval_ms": 60000, "price_band": "0.1", "oracle_divergence_limit": "0.05", "index_move_limit": "0.3", "#
            + #""index_move_window_ms": 60000, "mark_staleness_ms": 30000, "execution": "depth", "backstop": false, "adl": true, "#
            + #""finality_depth": 6, "unconfirmed_haircut": "0.5", "option_delta_hedge": false, "option_mark_tolerance": "0.01", "#
            + #""socialize_over": "all"}, "commands": []"#
        let text = CommandBodies.genesis.replacingOccurrences(of: #""commands": []"#, with: all)
        guard case .object(let parameters)? = try JSONParser.parse(text)["parameters"] else { Issue.record("no parameters"); return }
        #expect(Set(parameters.map(\.key)) == Set(Scenario.parameterMembers))
        #expect(try Scenario.decode(JSONParser.parse(text)).parameters.liquidationStepsPerCommand == 64)
    }

    /// Nested: a `debt_rates` entry with a stranger is refused at its path; `parameters` and
    /// `lending` entries already were.
    @Test func nestedObjectsOfChangeParameters() throws {
        let cases: [(String, String)] = [
            (#"{"type":"change_parameters","debt_rates":{"BTC":{"maintenance":"0.1","initail":"0.2"}}}"#, "c.debt_rates.BTC.initail"),
            (#"{"type":"change_parameters","parameters":{"hysterisis":"0.1"}}"#, "c.parameters.hysterisis"),
            (#"{"type":"change_parameters","lending":{"USDT":{"rate":"0.1","borrowcap":"1"}}}"#, "c.lending.USDT.borrowcap"),
        ]
        var checked = 0
        for (text, path) in cases {
            let value = try JSONParser.parse(text)
            do {
                _ = try Self.decode(value)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.path == path)
                #expect(error.reason.hasPrefix("unknown"))
                checked += 1
            }
        }
        #expect(checked == cases.count)
        // Journal recovery skips the nested stranger too.
        #expect(try Self.decode(JSONParser.parse(cases[0].0), .ignored).typeName == "change_parameters")
    }

    /// Property: for any member name and any command type, the body plus that member decodes iff the
    /// name is one the type knows; a refusal names the member's path.
    @Test func randomMemberNames() async throws {
        let counter = UnknownMemberCounter()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz_-ABCZ0 é\"\\.[".unicodeScalars)
        await propertyCheck(count: 1_000, input: Gen.uint8().array(of: 1...14), Gen.int(in: 0...(CommandBodies.all.count - 1))) { bytes, k in
            let name = String(String.UnicodeScalarView(bytes.map { alphabet[Int($0) % alphabet.count] }))
            let (type, body) = CommandBodies.all[k]
            let known = Scenario.knownCommandMembers(type) ?? []
            guard case .object(let members) = try JSONParser.parse(body), !members.contains(where: { $0.key == name }) else { return }
            let bad = JSONValue.object(members + [(key: name, value: .number("1"))])
            switch Result(catching: { () throws(InputError) in try Self.decode(bad) }) {
            case .success:
                #expect(known.contains(name), "\(type) accepted \(name)")
                counter.add(accepted: true)
            case .failure(let error) where !known.contains(name):
                #expect(error.path == JSONReader(bad, path: "c").childPath(name), "\(type) \(name): \(error)")
                #expect(error.reason.hasPrefix("unknown member of \"\(type)\""))
                counter.add(accepted: false)
            case .failure(let error):
                // A known member not in the body (`time`, `key`) with a value of the wrong type.
                #expect(error.path == JSONReader(bad, path: "c").childPath(name))
            }
        }
        #expect(counter.refused > 0)
    }
}

/// Cases a property test checked.
private final class UnknownMemberCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = (accepted: 0, refused: 0)
    func add(accepted: Bool) { lock.withLock { if accepted { counts.accepted += 1 } else { counts.refused += 1 } } }
    var refused: Int { lock.withLock { counts.refused } }
}
