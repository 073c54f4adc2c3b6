public import SolventCore
public import SolventEngine

/// An engine whose every command is journaled before it is applied, and which can be
/// rebuilt from its journal (genesis + the intact commands, in order).
public struct JournaledEngine: Sendable {
    public private(set) var engine: Engine
    public let journal: any Journal
    private let assetIndex: [String: Int]

    private init(engine: Engine, journal: any Journal) {
        self.engine = engine
        self.journal = journal
        self.assetIndex = Dictionary(uniqueKeysWithValues: engine.state.market.assets.enumerated().map { ($1.symbol, $0) })
    }

    /// Starts a new journal: `scenario` is a scenario document (docs/scenarios.md); its
    /// starting book and parameters become the genesis (its `commands` are not journaled).
    public static func create(scenario: JSONValue, journal: any Journal) throws -> JournaledEngine {
        let genesis = genesisDocument(scenario)
        let engine = try Scenario.decode(genesis).makeEngine()
        var writer = JSONWriter()
        writer.value(genesis)
        try journal.writeGenesis(writer.bytes)
        return JournaledEngine(engine: engine, journal: journal)
    }

    /// The scenario document with an empty command list.
    static func genesisDocument(_ scenario: JSONValue) -> JSONValue {
        guard case .object(let members) = scenario else { return scenario }
        return .object(members.filter { $0.key != "commands" } + [(key: "commands", value: .array([]))])
    }

    /// Validates a command (scenario command shape), journals it with its time made
    /// explicit, then applies it. A repeated idempotency key applies nothing.
    public mutating func submit(_ command: JSONValue, path: String = "command") throws -> (outcome: AppendOutcome, events: [EngineEvent]) {
        let timed = try Scenario.decodeCommand(JSONReader(command, path: path), assetIndex: assetIndex, defaultTime: engine.state.time)
        var writer = JSONWriter()
        writer.value(Self.withTime(command, timed.time))
        let outcome = try journal.append(key: timed.key, body: writer.bytes)
        guard case .appended = outcome else { return (outcome, []) }
        return (outcome, engine.apply(timed))
    }

    static func withTime(_ command: JSONValue, _ time: Int64) -> JSONValue {
        guard case .object(let members) = command else { return command }
        return .object([(key: "time", value: .number(String(time)))] + members.filter { $0.key != "time" })
    }

    /// Rebuilds the engine from the journal. Returns it with the number of records of a
    /// damaged tail that were left out (recovery stops at the last complete command).
    public static func recover(journal: any Journal, limit: Int? = nil) throws -> (engine: JournaledEngine, discardedTail: Int) {
        let contents = try journal.read()
        guard let genesisBytes = contents.genesis else { throw JournalError("the journal has no genesis document") }
        let genesis = try JSONParser.parse(genesisBytes)
        var recovered = JournaledEngine(engine: try Scenario.decode(genesis).makeEngine(), journal: journal)
        for entry in contents.entries.prefix(limit ?? contents.entries.count) {
            let json = try JSONParser.parse(entry.body)
            var timed = try Scenario.decodeCommand(JSONReader(json, path: "journal[\(entry.sequence)]"), assetIndex: recovered.assetIndex,
                                                   defaultTime: recovered.engine.state.time)
            timed.key = entry.key
            _ = recovered.engine.apply(timed)
        }
        return (recovered, contents.discardedTail)
    }
}
