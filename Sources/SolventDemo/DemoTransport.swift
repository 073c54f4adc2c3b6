public import SolventCore
public import SolventEngine
public import SolventServer

/// What one replayed command produced, as the live demo needs it: the kinds of its events (the
/// replay's tally) and the margin calls it opened (responsive traders answer them).
public struct DemoOutcome: Sendable {
    public var kinds: [String]
    /// Each margin call: the account, the amount called (settle asset), the call's engine time (ms).
    public var marginCalls: [(account: String, amount: FixedDecimal, time: Int64)]

    public init(kinds: [String], marginCalls: [(account: String, amount: FixedDecimal, time: Int64)]) {
        self.kinds = kinds
        self.marginCalls = marginCalls
    }
}

/// Where the live demo sends its commands: the in-process engine (`solvent demo`) or a cluster's
/// leader over HTTP (`solvent demo --cluster 3`, ClusterTransport). Each command carries its own
/// (historical) time and idempotency key; a batch is applied in order.
public protocol DemoTransport: Sendable {
    func submit(_ commands: [TimedCommand]) async throws -> [DemoOutcome]
    /// The account's signed position quantity on `symbol` (nil: unknown account or symbol). `side`
    /// (+1 long, −1 short) and `mark` (the mark just submitted) let a transport that only sees the
    /// account's notional (over HTTP) derive it. Decimals cross this async requirement as their
    /// canonical text, not as `FixedDecimal`: a 16-byte-aligned Int128 passed through an async
    /// protocol witness crashed the debug build on Linux (Swift 6.3: a jump to a null resume
    /// function in the caller's task, reproduced with `solvent demo --exit-when-done`).
    func positionQuantity(account: String, symbol: String, side: Int, mark: String) async throws -> String?
}

/// The in-process transport: typed commands straight to the engine (one group commit per batch).
public struct EngineTransport: DemoTransport {
    public let engine: EngineService
    public let metrics: ServiceMetrics?

    public init(engine: EngineService, metrics: ServiceMetrics?) {
        self.engine = engine
        self.metrics = metrics
    }

    public func submit(_ commands: [TimedCommand]) async throws -> [DemoOutcome] {
        let requests = commands.map { CommandRequest($0) }
        let results = if let metrics { try await metrics.submit(batch: requests, to: engine) } else { try await engine.submit(batch: requests) }
        return results.map { result in
            DemoOutcome(kinds: result.kinds, marginCalls: result.applied.compactMap { event in
                guard event.kind == .marginCall, let account = event.account, let call = event.decimal("call_amount") else { return nil }
                return (account, call, event.time)
            })
        }
    }

    public func positionQuantity(account: String, symbol: String, side: Int, mark: String) async throws -> String? {
        await engine.positionQuantity(account: account, symbol: symbol)?.description
    }
}
