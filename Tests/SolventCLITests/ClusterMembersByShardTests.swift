import Foundation
import SolventCore
import Testing

/// `GET /v1/cluster` of a sharded group lists members per shard (issue 19, docs/cluster.md
/// "Members"): a node of shard 0 and a node of shard 1 with the same node id share the group's
/// member table without overwriting each other's row; shard 0's node serves only its shard in
/// `members` and both in `members_by_shard`. Debug binary; PostgreSQL from
/// `SOLVENT_TEST_POSTGRES_URL` (under CI a missing URL fails, elsewhere the suite is skipped).
@Suite(.serialized) struct ClusterMembersByShardTests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// `shard/node_id@url` of each member object in `value` (an array).
    static func members(_ value: JSONValue?) -> [String] {
        guard case .array(let rows)? = value else { return [] }
        return rows.compactMap { row in
            guard case .number(let shard)? = row["shard"], case .string(let id)? = row["node_id"], case .string(let url)? = row["url"] else { return nil }
            return "\(shard)/\(id)@\(url)"
        }
    }

    @Test(.enabled(if: enabled)) func membersAreListedPerShard() throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "members_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        var nodes: [(process: Process, port: Int, folder: String)] = []
        defer {
            for node in nodes {
                if node.process.isRunning { kill(node.process.processIdentifier, SIGKILL) }
                node.process.waitUntilExit()
                try? FileManager.default.removeItem(atPath: node.folder)
            }
        }
        for shard in 0..<2 {
            for attempt in 0..<5 {
                let port = testListenPort()
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-members-\(UUID().uuidString)").path
                let (process, _, output) = try ServeCLITests().launch([
                    "serve", "--data", folder, "--port", "\(port)", "--postgres", url, "--schema", schema, "--node-id", "n1",
                    "--advertise", "http://127.0.0.1:\(port)", "--lease-ms", "1000", "--shards", "2", "--shard", "\(shard)",
                ])
                if output.contains("listening on") {
                    nodes.append((process, port, folder))
                    break
                }
                process.terminate()
                process.waitUntilExit()
                try #require(attempt < 4, "shard \(shard)'s node did not start")
            }
        }
        let expected0 = "0/n1@http://127.0.0.1:\(nodes[0].port)", expected1 = "1/n1@http://127.0.0.1:\(nodes[1].port)"
        var document: JSONValue?
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let body = try ServeCLITests().curl(["http://127.0.0.1:\(nodes[0].port)/v1/cluster"])
            document = try? JSONParser.parse(body)
            if case .array(let shards)? = document?["members_by_shard"], shards.count == 2,
               Self.members(shards[1]["members"]).contains(expected1) { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let doc = try #require(document, "no /v1/cluster document from shard 0's node")
        #expect(Self.members(doc["members"]) == [expected0], "members: this node's shard only")
        guard case .array(let shards)? = doc["members_by_shard"] else { Issue.record("no members_by_shard: \(doc)"); return }
        #expect(shards.count == 2)
        #expect(shards.map { $0["shard"] } == [.number("0"), .number("1")])
        #expect(Self.members(shards.first?["members"]) == [expected0])
        #expect(Self.members(shards.last?["members"]) == [expected1], "shard 1's n1 has a row of its own")
        for node in nodes { kill(node.process.processIdentifier, SIGTERM) }
    }
}
