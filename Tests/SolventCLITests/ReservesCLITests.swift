import Foundation
import SolventCore
import Testing

@Suite struct ReservesCLITests {
    /// snapshot → every proof verifies (exit 0); the same journal and secret give the same root;
    /// `--at` commits to an earlier state; an altered proof exits 1; a malformed root exits 2;
    /// holdings give a collateralization report.
    @Test func snapshotAndVerify() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-reserves-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let scenario = packageRoot.appendingPathComponent("Examples/scenarios/crash-adl.json").path
        #expect(try runSolvent(["simulate", "--scenario", scenario, "--data", folder + "/data"]).status == 0)
        let holdings = folder + "/holdings.json"
        try Data(#"{"attested_at":"2020-03-12T01:00:00Z","holdings":[{"asset":"USDT","address":"0xcold","amount":"1000000"}]}"#.utf8).write(to: URL(fileURLWithPath: holdings))
        let first = try runSolvent(["reserves", "snapshot", "--data", folder + "/data", "--out", folder + "/out", "--holdings", holdings])
        #expect(first.status == 0, "\(first.stderr)")
        let root = try JSONParser.parse(first.stdout)
        guard case .string(let rootHash) = root["root_hash"] else { Issue.record("no root hash"); return }
        let proofs = try FileManager.default.contentsOfDirectory(atPath: folder + "/out/proofs").sorted()
        #expect(!proofs.isEmpty)
        for name in proofs {
            let result = try runSolvent(["reserves", "verify", "--proof", folder + "/out/proofs/" + name, "--root", rootHash])
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(try JSONParser.parse(result.stdout)["valid"] == .bool(true))
        }
        let again = try runSolvent(["reserves", "snapshot", "--data", folder + "/data", "--out", folder + "/again"])
        #expect(try JSONParser.parse(again.stdout)["root_hash"] == .string(rootHash))
        let earlier = try runSolvent(["reserves", "snapshot", "--data", folder + "/data", "--out", folder + "/earlier", "--at", "1"])
        #expect(try JSONParser.parse(earlier.stdout)["journal_sequence"] == .number("1"))

        let report = try JSONParser.parse(Data(contentsOf: URL(fileURLWithPath: folder + "/out/collateralization.json")))
        #expect(report["root_hash"] == .string(rootHash))

        let proofPath = folder + "/out/proofs/" + proofs[0]
        var text = try String(contentsOfFile: proofPath, encoding: .utf8)
        let salt = text.range(of: "\"salt\":\"")!
        let digit = text.index(salt.upperBound, offsetBy: 0)
        text.replaceSubrange(digit...digit, with: text[digit] == "0" ? "1" : "0")
        try text.write(toFile: folder + "/bad.json", atomically: true, encoding: .utf8)
        let bad = try runSolvent(["reserves", "verify", "--proof", folder + "/bad.json", "--root", rootHash])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("does not hold"))
        #expect(try runSolvent(["reserves", "verify", "--proof", proofPath, "--root", "xyz"]).status == 2)
    }

    /// Issue 22 (items 6 and 7) through the command line: with accounts "7" and "17", a
    /// 20,000,000,000.5 USDT holder and a pending deposit, every proof verifies (the holder's
    /// balance exact), account 17's proof rewritten for account 7 with the salt `salt ‖ "1"`
    /// does not, the pending deposit counts in full, and a snapshot at another journal position
    /// shares no salt with this one.
    @Test func issue22Regressions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-reserves-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let scenario = folder + "/issue-22.json"
        try Data(#"""
            {"description":"issue 22","start":{"time":"2024-01-01T00:00:00Z","assets":{"USDT":"1","BTC":"50000"},"instruments":[],"marks":{},
             "accounts":[{"id":"17","settle":"USDT","collateral":{"USDT":"1000"}},{"id":"7","settle":"USDT","collateral":{"USDT":"250.25"}},
                         {"id":"whale","settle":"USDT","collateral":{"USDT":"20000000000.5","BTC":"3"}}]},
             "parameters":{"finality_depth":6,"unconfirmed_haircut":"0.4"},
             "commands":[{"time":"2024-01-01T00:01:00Z","type":"deposit","account":"7","asset":"USDT","amount":"1"},
                         {"time":"2024-01-01T00:02:00Z","type":"chain_deposit","account":"17","asset":"USDT","amount":"5000",
                          "chain":"ethereum","height":100,"block_hash":"0xaaa100"}]}
            """#.utf8).write(to: URL(fileURLWithPath: scenario))
        let simulated = try runSolvent(["simulate", "--scenario", scenario, "--data", folder + "/data"])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        let snapshot = try runSolvent(["reserves", "snapshot", "--data", folder + "/data", "--out", folder + "/out"])
        #expect(snapshot.status == 0, "\(snapshot.stderr)")
        let root = try JSONParser.parse(snapshot.stdout)
        guard case .string(let rootHash) = root["root_hash"] else { Issue.record("no root hash"); return }
        #expect(root["totals"]?["USDT"] == .string("20000006251.75"))  // 17 is owed 1000 + 5000 pending
        #expect(root["pending_deposits"]?["USDT"] == .string("5000"))

        for (name, usdt) in [("17", "6000"), ("7", "251.25"), ("whale", "20000000000.5")] {
            let result = try runSolvent(["reserves", "verify", "--proof", folder + "/out/proofs/\(name).json", "--root", rootHash])
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(try JSONParser.parse(result.stdout)["balances"]?["USDT"] == .string(usdt))
        }

        // 17's proof, rewritten for 7 with every salt extended by "1" (hex 31).
        let genuine = try String(contentsOfFile: folder + "/out/proofs/17.json", encoding: .utf8)
        var forged = genuine.replacingOccurrences(of: #""account":"17""#, with: #""account":"7""#)
        for salt in try Self.salts(genuine) { forged = forged.replacingOccurrences(of: salt, with: salt + "31") }
        #expect(forged != genuine)
        try forged.write(toFile: folder + "/forged.json", atomically: true, encoding: .utf8)
        let rejected = try runSolvent(["reserves", "verify", "--proof", folder + "/forged.json", "--root", rootHash])
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("salt"), "\(rejected.stderr)")

        // Another journal position: no salt in common (leaves cannot be matched across snapshots).
        let earlier = try runSolvent(["reserves", "snapshot", "--data", folder + "/data", "--out", folder + "/earlier", "--at", "0"])
        #expect(earlier.status == 0, "\(earlier.stderr)")
        func salts(_ out: String) throws -> Set<String> {
            var all = Set<String>()
            for name in try FileManager.default.contentsOfDirectory(atPath: out + "/proofs") {
                all.formUnion(try Self.salts(try String(contentsOfFile: out + "/proofs/" + name, encoding: .utf8)))
            }
            return all
        }
        let now = try salts(folder + "/out"), before = try salts(folder + "/earlier")
        #expect(now.count == 6 && before.count == 6)
        #expect(now.isDisjoint(with: before))
    }

    /// The salts (hex) of a proof file.
    static func salts(_ proof: String) throws -> [String] {
        guard case .array(let pieces)? = try JSONParser.parse(proof)["pieces"] else { return [] }
        return pieces.compactMap { if case .string(let salt)? = $0["salt"] { salt } else { nil } }
    }
}
