import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// Stage 2 of docs/cluster.md with real processes: `solvent serve --shards 2 --shard K` nodes
/// against the test PostgreSQL (`SOLVENT_TEST_POSTGRES_URL`; under CI a missing URL fails, as
/// ClusterTests): the router (307 to the account's shard leader, market commands fanned out to
/// every shard once each) and `GET /v1/cluster`'s shards.
@Suite(.serialized) struct ShardClusterTests {
    static let enabled = ClusterTests.enabled

    /// The nodes of one sharded group (a fresh base schema; shard K's journal in `<base>_s<K>`).
    final class ShardGroup: @unchecked Sendable {
        let url: String
        let shards: Int
        let schema = "shards_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        var nodes: [ClusterTests.Node] = []
        init(url: String, shards: Int) {
            self.url = url
            self.shards = shards
        }

        func start(_ id: String, shard: Int, genesis: String? = nil) throws -> ClusterTests.Node {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-shard-\(id)-\(UUID().uuidString)").path
            for _ in 0..<5 {
                let port = 20_000 + Int.random(in: 0..<30_000)
                var arguments = [
                    "serve", "--data", folder, "--port", "\(port)", "--postgres", url, "--schema", schema, "--node-id", id,
                    "--advertise", "http://127.0.0.1:\(port)", "--lease-ms", "\(ClusterTests.leaseMilliseconds)", "--snapshot-every", "50",
                    "--shards", "\(shards)", "--shard", "\(shard)", "--log-level", "debug",
                ]
                if let genesis { arguments += ["--genesis", genesis] }
                let (process, _, output) = try ServeCLITests().launch(arguments, stderrPath: ClusterTests.Group.logPath(id))
                if output.contains("listening on") {
                    let node = ClusterTests.Node(id: id, port: port, folder: folder, process: process, output: output)
                    nodes.append(node)
                    return node
                }
                process.terminate()
                process.waitUntilExit()
            }
            throw ClusterTests.ClusterTestError("node \(id) did not start")
        }

        func stopAll() {
            for node in nodes { node.stop() }
            for k in 0..<shards { try? PostgresJournal(url: url, schema: "\(schema)_s\(k)").destroy() }
            try? PostgresJournal(url: url, schema: schema).destroy()
        }
    }

    /// POSTs `body` with `key`, not following a redirect; (status, Location, parsed body).
    static func post(_ url: String, body: String, key: String, apiKey: String, headers: [String: String] = [:]) async
        -> (status: Int, location: String?, body: JSONValue?) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        request.setValue(key, forHTTPHeaderField: "Idempotency-Key")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body.utf8)
        guard let (data, response) = try? await ClusterTests.direct.data(for: request), let http = response as? HTTPURLResponse else { return (0, nil, nil) }
        return (http.statusCode, http.value(forHTTPHeaderField: "Location"), try? JSONParser.parse(Array(data)))
    }

    /// POSTs `body` to `node`, following one 307, retried until 200 or `seconds` pass.
    static func send(_ node: ClusterTests.Node, body: String, key: String, apiKey: String, seconds: Double = 10) async -> (status: Int, body: JSONValue?) {
        let deadline = Date().addingTimeInterval(seconds)
        var last: (Int, JSONValue?) = (0, nil)
        while Date() < deadline {
            var target = node.base + "/v1/commands"
            var answer = await post(target, body: body, key: key, apiKey: apiKey)
            if answer.status == 307, let location = answer.location {
                target = location
                answer = await post(target, body: body, key: key, apiKey: apiKey)
            }
            last = (answer.status, answer.body)
            if answer.status == 200 || (400..<500).contains(answer.status) { return last }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    /// The commands of shard `k`'s journal whose client key (after the API key's id) is `key`.
    static func journaledCount(url: String, schema: String, shard k: Int, key: String) throws -> Int {
        try ClusterTests.journaled(url: url, schema: "\(schema)_s\(k)").contents.entries.filter {
            ($0.key.split(separator: "/", maxSplits: 1).last.map(String.init) ?? $0.key) == key
        }.count
    }

    /// The first account id `prefix-N` of shard `k` of `shards`.
    static func account(_ prefix: String, inShard k: Int, of shards: Int) -> String {
        var n = 0
        while ShardAssignment.shard(of: "\(prefix)-\(n)", count: shards) != k { n += 1 }
        return "\(prefix)-\(n)"
    }

    /// An account's write sent to the other shard's node is answered 307 to its shard's leader
    /// (and acknowledged there); a market command sent to either node is journaled once in each
    /// shard, and its retry with the same key is a duplicate in both; a forged forwarding header
    /// is refused; `GET /v1/cluster` shows both shards' leaders.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(2))) func routerRedirectsAndFansOut() async throws {
        let url = try #require(ClusterTests.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let group = ShardGroup(url: url, shards: 2)
        defer { group.stopAll() }
        let s0 = try group.start("s0", shard: 0)
        let apiKey = try #require(s0.operatorKey, "the first node prints the operator key")
        let s1 = try group.start("s1", shard: 1)
        #expect(s1.operatorKey == nil, "the second shard's node takes the group's keys (one place for the group)")
        for node in [s0, s1] {
            #expect(await ClusterTests.wait(node, seconds: 10) { $0["role"] == .string("leader") } != nil, "node \(node.id) leads its shard")
        }
        // Both nodes see both shards' leaders.
        let document = await ClusterTests.wait(s0, seconds: 10) { document in
            guard case .array(let shards)? = document["shards"], shards.count == 2 else { return false }
            return shards[0]["leader_id"] == .string("s0") && shards[1]["leader_id"] == .string("s1")
        }
        #expect(document != nil, "GET /v1/cluster lists each shard's leader")
        #expect(document?["shard"] == .number("0"))
        #expect(document?["shard_count"] == .number("2"))

        // An account of shard 1 written through shard 0's node: 307 to shard 1's leader.
        let a1 = Self.account("acct", inShard: 1, of: 2)
        let a0 = Self.account("acct", inShard: 0, of: 2)
        let deposit1 = #"{"type":"deposit","account":"\#(a1)","asset":"USDT","amount":"100"}"#
        let redirected = await Self.post(s0.base + "/v1/commands", body: deposit1, key: "d-1", apiKey: apiKey)
        #expect(redirected.status == 307)
        #expect(redirected.location == s1.base + "/v1/commands", "Location is shard 1's leader")
        let followed = await Self.post(try #require(redirected.location), body: deposit1, key: "d-1", apiKey: apiKey)
        #expect(followed.status == 200)
        // And the other way round.
        let deposit0 = #"{"type":"deposit","account":"\#(a0)","asset":"USDT","amount":"50"}"#
        let back = await Self.post(s1.base + "/v1/commands", body: deposit0, key: "d-0", apiKey: apiKey)
        #expect(back.status == 307)
        #expect(back.location == s0.base + "/v1/commands")
        #expect(await Self.send(s1, body: deposit0, key: "d-0", apiKey: apiKey).status == 200)
        #expect(try Self.journaledCount(url: url, schema: group.schema, shard: 1, key: "d-1") == 1)
        #expect(try Self.journaledCount(url: url, schema: group.schema, shard: 0, key: "d-1") == 0, "an account's command is in its shard only")
        #expect(try Self.journaledCount(url: url, schema: group.schema, shard: 0, key: "d-0") == 1)

        // A market command through either node: once in each shard's journal.
        var checked = 0
        for (n, node) in [s0, s1].enumerated() {
            let mark = #"{"type":"mark","symbol":"BTCUSDT","price":"\#(35_000 + n)"}"#
            let first = await Self.send(node, body: mark, key: "m-\(n)", apiKey: apiKey)
            #expect(first.status == 200, "the fan-out through \(node.id) was acknowledged: \(String(describing: first.body))")
            guard case .array(let shards)? = first.body?["shards"] else { Issue.record("no shards in \(String(describing: first.body))"); continue }
            #expect(shards.count == 2)
            #expect(first.body?["duplicate"] == .bool(false))
            let again = await Self.send(node, body: mark, key: "m-\(n)", apiKey: apiKey)
            #expect(again.status == 200)
            #expect(again.body?["duplicate"] == .bool(true), "the retry with the same key is a duplicate in every shard")
            for k in 0..<2 {
                #expect(try Self.journaledCount(url: url, schema: group.schema, shard: k, key: "m-\(n)") == 1, "m-\(n) journaled once in shard \(k)")
                checked += 1
            }
        }
        #expect(checked == 4)

        // Only nodes of the group may journal a market command in one shard alone.
        let forged = await Self.post(s0.base + "/v1/commands", body: #"{"type":"mark","symbol":"BTCUSDT","price":"1"}"#, key: "forged", apiKey: apiKey,
                                     headers: ["Solvent-Shard-Forward": "guess"])
        #expect(forged.status == 403)
        #expect(try Self.journaledCount(url: url, schema: group.schema, shard: 0, key: "forged") == 0)
        // A client never sends `deliver` (internal: the receiving shard's leader journals it).
        let deliver = #"{"type":"deliver","message_id":"s1-1","from_shard":1,"body":{"type":"fund_credit","asset":"USDT","amount":"1","account":"x"}}"#
        #expect(await Self.send(s0, body: deliver, key: "deliver", apiKey: apiKey).status == 403)
    }
}
