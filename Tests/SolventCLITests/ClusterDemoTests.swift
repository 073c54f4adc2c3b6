import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SolventCore
import SolventJournal
import Testing

/// `solvent demo --cluster 3 --postgres URL` (docs/cluster.md "The demo as a cluster"), bounded:
/// a 48-bar window, 20 traders, full speed, against the test PostgreSQL (`SOLVENT_TEST_POSTGRES_URL`;
/// skipped without it outside CI, as ClusterTests). Three nodes answer, exactly one leads, every node
/// reaches the same applied sequence with the same state hash (the replay's writes landed and were
/// followed), `/v1/cluster` lists the three members, the dashboard page carries the cluster header,
/// and SIGTERM stops the demo, its nodes and drops its schema.
@Suite(.serialized) struct ClusterDemoTests {
    /// The demo's lines `node-K:  URL/#key=KEY`, read from its standard output.
    static func nodeURLs(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("node-"), let http = line.range(of: "http://") else { return nil }
            let url = line[http.lowerBound...]
            return String(url.split(separator: "/#").first ?? url)
        }
    }

    static func get(_ url: String) async -> (status: Int, body: [UInt8]) {
        guard let (data, response) = try? await ClusterTests.session.data(from: URL(string: url)!), let http = response as? HTTPURLResponse else { return (0, []) }
        return (http.statusCode, Array(data))
    }

    @Test(.enabled(if: ClusterTests.enabled), .timeLimit(.minutes(3))) func clusterDemoRunsAndConverges() async throws {
        let url = try #require(ClusterTests.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "demo_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let process = Process()
        process.executableURL = solventExecutable()
        process.arguments = ["demo", "--cluster", "3", "--postgres", url, "--schema", schema, "--port", "0", "--speed", "0", "--accounts", "20",
                             "--from", "2020-03-05T00:00:00Z", "--to", "2020-03-07T00:00:00Z", "--lease-ms", "1000"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            try? PostgresJournal(url: url, schema: schema).destroy()
        }
        // Read until the replay finished (48 bars × 10 price points, 3 commands each, through the leader).
        var text = ""
        let deadline = Date().addingTimeInterval(150)
        while !text.contains("replay finished"), Date() < deadline, process.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { try await Task.sleep(for: .milliseconds(50)) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        try #require(text.contains("replay finished"), "the demo's output: \(text)")
        let urls = Self.nodeURLs(text)
        try #require(urls.count == 3, "three node URLs printed: \(text)")

        // Every node answers; one leads; all reach the leader's sequence with its state hash.
        var documents: [JSONValue] = []
        for base in urls {
            let (status, body) = await Self.get(base + "/v1/cluster")
            #expect(status == 200, "\(base) answered")
            documents.append(try JSONParser.parse(body))
        }
        let leaders = documents.filter { $0["role"] == .string("leader") }
        #expect(leaders.count == 1, "exactly one leader: \(documents)")
        let leader = try #require(leaders.first)
        let head = try #require(leader["applied_sequence"])
        guard case .number(let headText) = head, let headSequence = Int64(headText) else { Issue.record("no applied_sequence"); return }
        #expect(headSequence > 1_400, "the replay's writes landed (\(headSequence) journaled commands)")
        var converged = 0
        for (k, base) in urls.enumerated() {
            var document = documents[k]
            let until = Date().addingTimeInterval(10)
            while document["applied_sequence"] != head, Date() < until {
                try await Task.sleep(for: .milliseconds(100))
                document = (try? JSONParser.parse(await Self.get(base + "/v1/cluster").body)) ?? document
            }
            #expect(document["applied_sequence"] == head, "\(base) reached sequence \(headSequence)")
            #expect(document["state_hash"] == leader["state_hash"], "\(base) has the leader's state hash at \(headSequence)")
            if document["state_hash"] == leader["state_hash"] { converged += 1 }
            #expect(document["leader_id"] == leader["node_id"], "\(base) names the leader")
        }
        #expect(converged == 3)
        // The members table: the leader's document lists the three nodes, one of them leading.
        let members = await Self.get(urls[0] + "/v1/cluster")
        guard case .array(let rows)? = try JSONParser.parse(members.body)["members"] else { Issue.record("no members"); return }
        #expect(rows.count == 3, "three members: \(rows)")
        #expect(rows.filter { $0["role"] == .string("leader") }.count == 1)
        // The dashboard page carries the cluster header (rendered by dashboard.js from /v1/cluster).
        let page = String(decoding: await Self.get(urls[1] + "/").body, as: UTF8.self)
        for id in ["id=\"cluster\"", "id=\"cluster-leader\"", "id=\"cluster-epoch\"", "id=\"cluster-members\"", "pollCluster"] {
            #expect(page.contains(id), "the dashboard has \(id)")
        }

        // SIGTERM: the demo stops its nodes and exits 0.
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for base in urls { #expect(await Self.get(base + "/healthz").status == 0, "\(base) stopped") }
    }
}
