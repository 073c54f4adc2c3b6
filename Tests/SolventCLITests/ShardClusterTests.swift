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
                let port = testListenPort()
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
        // An account's view is read in its shard: 307 there too.
        var read = URLRequest(url: URL(string: s0.base + "/v1/accounts/\(a1)")!)
        read.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        let (_, readResponse) = try await ClusterTests.direct.data(for: read)
        #expect((readResponse as? HTTPURLResponse)?.statusCode == 307)
        #expect((readResponse as? HTTPURLResponse)?.value(forHTTPHeaderField: "Location") == s1.base + "/v1/accounts/\(a1)")

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

    // MARK: - Money conserved across shards

    /// The venue of Examples/scenarios/crash-adl.json without its starting accounts (they are
    /// opened by deposits and fills sent through the nodes): BTCUSDT at 8000, a thin book, a
    /// 200 USDT insurance fund, depth execution with ADL.
    static func crashGenesis() throws -> JSONValue {
        let example = try JSONParser.parse(Array(try Data(contentsOf: packageRoot.appendingPathComponent("Examples/scenarios/crash-adl.json"))))
        guard case .object(let members) = example, case .object(let start)? = example["start"] else { throw ClusterTests.ClusterTestError("crash-adl.json") }
        var genesis = members.filter { $0.key != "commands" && $0.key != "description" }
        genesis = genesis.map { $0.key == "start" ? (key: "start", value: .object(start.map { $0.key == "accounts" ? (key: "accounts", value: .array([])) : $0 })) : $0 }
        return .object(genesis)
    }

    /// The commands, in order (operator key, explicit times): the four accounts of crash-adl.json
    /// opened by deposits and fills at 8000 (l1 and s2 in shard 0, l2 and s1 in shard 1), a move
    /// to 7900 (the shorts' ADL rankings reach the fund shard), then the example's crash: a thin
    /// book and the index and mark at 7500 — l1 and l2 are liquidated through the book, the
    /// fills beyond bankruptcy drain the fund, ADL closes the shorts.
    static let openingCommands: [String] = {
        let t0 = "2020-03-12T00:00:00Z"
        var commands: [String] = []
        for (account, amount, leverage, quantity) in [("l1", "4000", "20", "10"), ("l2", "2500", "20", "5"), ("s1", "20000", "5", "-10"), ("s2", "5000", "10", "-5")] {
            commands.append(#"{"time":"\#(t0)","type":"deposit","account":"\#(account)","asset":"USDT","amount":"\#(amount)"}"#)
            commands.append(#"{"time":"\#(t0)","type":"set_leverage","account":"\#(account)","symbol":"BTCUSDT","leverage":"\#(leverage)"}"#)
            commands.append(#"{"time":"\#(t0)","type":"fill","account":"\#(account)","symbol":"BTCUSDT","quantity":"\#(quantity)","price":"8000","fee":"0"}"#)
        }
        commands.append(#"{"time":"2020-03-12T00:00:01Z","type":"index","symbol":"BTCUSDT","price":"8000"}"#)
        commands.append(#"{"time":"2020-03-12T00:00:30Z","type":"index","symbol":"BTCUSDT","price":"7900"}"#)
        commands.append(#"{"time":"2020-03-12T00:00:30Z","type":"mark","symbol":"BTCUSDT","price":"7900"}"#)
        return commands
    }()
    static let crashCommands: [String] = [
        #"{"time":"2020-03-12T00:01:00Z","type":"book","symbol":"BTCUSDT","bids":[["7300","3"],["7100","4"],["6900","20"]],"asks":[["7600","10"]]}"#,
        #"{"time":"2020-03-12T00:01:00Z","type":"index","symbol":"BTCUSDT","price":"7500"}"#,
        #"{"time":"2020-03-12T00:01:00Z","type":"mark","symbol":"BTCUSDT","price":"7500"}"#,
    ]

    /// Per asset: Σ balances, the fund, fees, the clearing side (`external`), socialized losses;
    /// and each account's ADL'd quantity.
    struct Books: Equatable, CustomStringConvertible {
        var perAsset: [String: [String: RunningTotal]] = [:]
        var adl: [String: FixedDecimal] = [:]
        mutating func add(_ state: EngineState) {
            for (a, asset) in state.market.assets.enumerated() {
                let t = state.totals[a]
                var row = perAsset[asset.symbol] ?? [:]
                for (name, value) in [("balances", RunningTotal(state.balances(of: a))), ("insurance_fund", RunningTotal(t.insuranceFund)),
                                      ("fees", t.fees), ("external", t.external), ("socialized_loss", t.socializedLoss)] {
                    row[name] = (row[name] ?? .zero) + value
                }
                perAsset[asset.symbol] = row
            }
        }
        mutating func addADL(account: String?, quantity: FixedDecimal?) {
            guard let account, let quantity, quantity != .zero else { return }
            adl[account] = (adl[account] ?? .zero) + quantity
        }
        var description: String {
            perAsset.keys.sorted().map { asset in
                asset + ": " + (perAsset[asset] ?? [:]).keys.sorted().map { "\($0) \(perAsset[asset]![$0]!)" }.joined(separator: ", ")
            }.joined(separator: "; ") + "; ADL " + adl.keys.sorted().map { "\($0) \(adl[$0]!)" }.joined(separator: ", ")
        }
    }

    /// The engine of a single-node replay of a journal from its genesis (no snapshot).
    static func replay(_ contents: JournalContents) throws -> Engine {
        let memory = MemoryJournal()
        try memory.writeGenesis(try #require(contents.genesis))
        _ = try memory.append(batch: contents.entries.map { ($0.key, $0.body) })
        return try JournaledEngine.recover(journal: memory, snapshotEvery: 0).engine.engine
    }

    /// The outbox messages every shard's event store holds, and whether each is journaled (as
    /// `deliver`, keyed by its id) in its receiver.
    static func outbox(url: String, schema: String, shards: Int) throws -> (messages: Int, undelivered: Int) {
        var messages = 0, undelivered = 0
        var journals: [PostgresJournal] = []
        for k in 0..<shards { journals.append(try PostgresJournal(url: url, schema: "\(schema)_s\(k)")) }
        for k in 0..<shards {
            for event in try journals[k].events(EventQuery(kind: "outbox_message", limit: 10_000)) {
                let body = try JSONParser.parse(Array(event.body.utf8))
                guard case .string(let id)? = body["id"], case .number(let to)? = body["to_shard"], let receiver = Int(to) else { continue }
                messages += 1
                if try journals[receiver].sequences(forKeys: [id])[id] == nil { undelivered += 1 }
            }
        }
        return (messages, undelivered)
    }

    /// Waits until every outbox message of every shard is journaled in its receiver (twice in a row).
    static func drain(url: String, schema: String, shards: Int, seconds: Double) async throws -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        var previous: Int? = nil
        while Date() < deadline {
            let now = try outbox(url: url, schema: schema, shards: shards)
            if now.undelivered == 0 {
                if previous == now.messages { return now.messages }
                previous = now.messages
            } else {
                previous = nil
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        return nil
    }

    /// 2 shards × 1 node: deposits, fills and a crash sent through either node (the router sends
    /// each account's to its shard, the market's to both); the liquidations' deficits reach the
    /// fund shard as `fund_draw`, ADL and socialized charges come back as messages. After the
    /// outbox drained, per asset the sum over shards of balances, the fund, fees, the clearing
    /// side and socialized losses, and each account's ADL'd quantity, equal a single-node run of
    /// the same commands.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(2))) func moneyConservedAcrossShards() async throws {
        try await crashThroughShards(killFundLeader: false)
    }

    /// The same with a standby for the fund shard: its leader is killed (-9) as soon as the crash
    /// was acknowledged (usually with the crash's messages still to deliver: printed); the standby takes over,
    /// continues delivery from the cursors in PostgreSQL (a message journaled twice is a duplicate
    /// of its key), and the books still equal the single node's.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(2))) func fundShardTakeoverKeepsDelivering() async throws {
        try await crashThroughShards(killFundLeader: true)
    }

    func crashThroughShards(killFundLeader: Bool) async throws {
        let url = try #require(ClusterTests.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let genesis = try Self.crashGenesis()
        let genesisPath = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-shard-genesis-\(UUID().uuidString).json").path
        var writer = JSONWriter()
        writer.value(genesis)
        try Data(writer.bytes).write(to: URL(fileURLWithPath: genesisPath))
        defer { try? FileManager.default.removeItem(atPath: genesisPath) }
        let group = ShardGroup(url: url, shards: 2)
        defer { group.stopAll() }
        let s0 = try group.start("c0", shard: 0, genesis: genesisPath)
        let apiKey = try #require(s0.operatorKey)
        let s1 = try group.start("c1", shard: 1, genesis: genesisPath)
        for node in [s0, s1] {
            #expect(await ClusterTests.wait(node, seconds: 10) { $0["role"] == .string("leader") } != nil)
        }
        let standby = killFundLeader ? try group.start("c0b", shard: 0, genesis: genesisPath) : nil
        if let standby {
            #expect(await ClusterTests.wait(standby, seconds: 10) { $0["role"] == .string("standby") && $0["leader_id"] == .string("c0") } != nil)
        }
        #expect(await ClusterTests.wait(s1, seconds: 10) { document in
            guard case .array(let shards)? = document["shards"] else { return false }
            return shards.count == 2 && shards.allSatisfy { $0["leader_id"] != .null }
        } != nil, "both shards' leaders are known")
        for (n, command) in Self.openingCommands.enumerated() {
            let answer = await Self.send([s0, s1][n % 2], body: command, key: "c-\(n)", apiKey: apiKey)
            #expect(answer.status == 200, "command \(n) through node \(n % 2): \(String(describing: answer.body))")
        }
        let before = try await Self.drain(url: url, schema: group.schema, shards: 2, seconds: 20)
        #expect(before != nil, "the rankings were delivered before the crash")
        for (n, command) in Self.crashCommands.enumerated() {
            let answer = await Self.send([s1, s0][n % 2], body: command, key: "x-\(n)", apiKey: apiKey)  // fanned out to both shards
            #expect(answer.status == 200, "crash command \(n): \(String(describing: answer.body))")
        }
        if let standby {
            kill(s0.process.processIdentifier, SIGKILL)
            s0.process.waitUntilExit()
            let atKill = try Self.outbox(url: url, schema: group.schema, shards: 2)
            print("shards: at the fund leader's kill, \(atKill.undelivered) of \(atKill.messages) messages were not journaled in their receiver yet")
            #expect(await ClusterTests.wait(standby, seconds: 10) { $0["role"] == .string("leader") } != nil, "the fund shard's standby took over")
        }
        let messages = try #require(try await Self.drain(url: url, schema: group.schema, shards: 2, seconds: 30), "the outbox drains")
        if !killFundLeader {
            // The fund shard's leader journaled the messages shard 1 sent it (its metrics say so).
            let metrics = String(decoding: try await ClusterTests.session.data(from: URL(string: s0.base + "/metrics")!).0, as: UTF8.self)
            let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"solvent_shard_messages_delivered_total{from="1"} "#) }
            #expect((line?.split(separator: " ").last.flatMap { Int($0) } ?? 0) > 0, "delivered from shard 1: \(line ?? "no line")")
            #expect(metrics.contains(#"solvent_shard_leader_known{shard="1"} 1"#))
        }
        #expect(messages > (before ?? 0), "the crash sent cross-shard messages (fund draws, ADL, socialized charges)")

        // The cluster: each shard's journal replayed, and its ADL events.
        var sharded = Books()
        for k in 0..<2 {
            let schema = "\(group.schema)_s\(k)"
            let state = try Self.replay(try ClusterTests.journaled(url: url, schema: schema).contents).state
            sharded.add(state)
            if let transfers = state.shardStorage?.transfers { print("shards: shard \(k) transfers \(transfers)") }
            for event in try PostgresJournal(url: url, schema: schema).events(EventQuery(kind: "auto_deleveraged", limit: 10_000)) {
                let body = try JSONParser.parse(Array(event.body.utf8))
                if case .string(let account)? = body["account"], case .string(let quantity)? = body["quantity"] {
                    sharded.addADL(account: account, quantity: FixedDecimal(quantity))
                }
            }
        }
        // One node, the same commands.
        var document = genesis
        if case .object(var members) = document {
            members.append((key: "commands", value: .array(try (Self.openingCommands + Self.crashCommands).map { try JSONParser.parse(Array($0.utf8)) })))
            document = .object(members)
        }
        let scenario = try Scenario.decode(document)
        var engine = try scenario.makeEngine()
        var single = Books()
        var fundDraws = 0
        for command in scenario.commands {
            for event in engine.apply(command) {
                if event.kind == .autoDeleveraged { single.addADL(account: event.account, quantity: event.decimal("quantity")) }
                if event.kind == .insuranceFundDraw { fundDraws += 1 }
            }
        }
        single.add(engine.state)
        print("shards: single node \(single)")
        print("shards: 2 shards    \(sharded)")
        #expect(fundDraws > 0, "the crash draws on the insurance fund")
        #expect(!single.adl.isEmpty, "the crash deleverages")
        #expect(sharded == single, "per asset the shards together hold what one node holds")
    }
}

