import Foundation
import Testing

/// The command line under hostile input: the range contract's refusals exit 2 with the field
/// named, and a command that traps while applied never reaches the journal (apply before
/// journal), so `replay` never dies on it.
@Suite struct HostileInputCLITests {
    /// A position leverage of 1e-18 (IM = notional/leverage overflowed): exit 2, the field named.
    @Test func evaluateLeverageOfOneAttoIsRefused() throws {
        let path = packageRoot.appendingPathComponent("Tests/SolventCLITests/Cases/evaluate-leverage-1e-18.json").path
        let result = try runSolvent(["evaluate", "--input", path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("accounts[0].positions[0].leverage: out of range") == true, "\(result.stderr)")
        #expect(result.stderr.contains("[1, 1000]"))
    }

    /// A bracket max_leverage of 1e-18: exit 2, the field named.
    @Test func evaluateBracketLeverageOfOneAttoIsRefused() throws {
        let document = """
        {"assets":{"USDT":"1"},"instruments":[{"symbol":"P","kind":"linear_perpetual","base":"B","settle":"USDT",
          "brackets":[{"notional_floor":"0","notional_cap":"1000","max_leverage":"0.000000000000000001","mmr":"0.01"}]}],
         "marks":{"P":"1000"},"accounts":[{"id":"a","settle":"USDT","positions":[{"symbol":"P","quantity":"1","entry_price":"1000"}]}]}
        """
        let result = try runSolvent(["evaluate", "--input", "-"], stdin: document)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("instruments[0].brackets[0].max_leverage: out of range"), "\(result.stderr)")
    }

    /// A command that traps during apply (injected) kills `simulate --data` before it is
    /// journaled: the journal holds exactly the commands before it, and `replay` rebuilds them.
    @Test func poisonCommandNeverReachesTheJournal() throws {
        let directory = NSTemporaryDirectory() + "solvent-poison-\(UUID().uuidString)"
        let file = directory + ".json"
        let scenario = try String(contentsOf: packageRoot.appendingPathComponent("Examples/scenarios/lender-call-cured.json"), encoding: .utf8)
        guard var document = try JSONSerialization.jsonObject(with: Data(scenario.utf8)) as? [String: Any],
              var commands = document["commands"] as? [[String: Any]], commands.count >= 3 else {
            Issue.record("the example scenario has fewer than 3 commands")
            return
        }
        commands[2]["key"] = "poison-1"
        document["commands"] = commands
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: file))
        let died = try runSolvent(["simulate", "--scenario", file, "--data", directory], environment: ["SOLVENT_INJECT_TRAP_KEY": "poison-1"])
        #expect(died.status != 0)
        #expect(died.stderr.contains("injected trap"), "\(died.stderr.suffix(300))")
        // Restarts never meet the poison command: replay works and holds the two commands before it.
        for _ in 0..<2 {
            let replay = try runSolvent(["replay", "--data", directory])
            #expect(replay.status == 0, "\(replay.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data((replay.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
            #expect(summary?["commands_applied"] as? Int == 2, "\(replay.stdout.suffix(300))")
        }
        // Without the injected fault the same scenario runs whole into a new journal.
        let clean = try runSolvent(["simulate", "--scenario", file, "--data", directory + "-clean"])
        #expect(clean.status == 0, "\(clean.stderr)")
    }
}

/// Issue 15's two input faults: floating-point flags take any float text; tiny statistics are
/// printed in the shortest round-trip form, scientific for tiny values.
@Suite struct FloatingPointOutputTests {
    @Test func optionFlagsTakeAnyFloatText() throws {
        let result = try runSolvent(["option", "--forward", "6.5e4", "--strike", "70000", "--years", "0.25", "--vol", "0.6",
                                     "--rate", "0.0010999665187135844", "--right", "call", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"price\":\"5789.154513194756\""), "\(result.stdout)")
        let bad = try runSolvent(["option", "--forward", "x", "--strike", "1", "--years", "1", "--vol", "1", "--right", "call"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("--forward:"))
    }

    @Test func tinyPValuesAreScientific() throws {
        let result = try runSolvent(["stats", "kupiec", "--observations", "100000", "--exceedances", "2", "--coverage", "0.995", "--json"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"p_value\":\"2.4186368569490687e-214\""), "\(result.stdout)")
    }
}
