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
}
