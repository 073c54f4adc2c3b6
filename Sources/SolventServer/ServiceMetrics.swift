public import Prometheus
public import SolventCore
import SolventEngine
import Synchronization

/// Prometheus metrics of the service (a registry of its own, no global bootstrap), served at
/// `/metrics` in the text exposition format.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let commandDuration: DurationHistogram
    let tickToMarginEvent: DurationHistogram
    /// Breakers, mark times and overdue calls, refreshed after command batches (ProcessMetrics.swift).
    let stateGauges = EngineStateGauges()
    /// Slow consumers already counted in `solvent_stream_clients_dropped_total`.
    private let droppedCounted = Mutex<Int>(0)
    static let buckets: [Duration] = [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                      .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100), .seconds(1)]

    public init() {
        commandDuration = registry.makeDurationHistogram(name: "solvent_command_duration_seconds", buckets: Self.buckets,
                                                         help: "Time from receiving a command to its journaled, applied result")
        tickToMarginEvent = registry.makeDurationHistogram(name: "solvent_tick_to_margin_event_seconds", buckets: Self.buckets,
                                                           help: "Price command received to margin-call or liquidation events emitted")
        // Exported at 0 from the start, so that `increase()` sees the first refusal.
        for reason in ["out_of_range", "invalid", "error", "queue_full"] { refused(reason, count: 0) }
    }

    /// Submits a command to `engine`, timing it and counting it and its events.
    public func submit(_ command: CommandRequest, to engine: EngineService) async throws -> CommandOutcome {
        do { return try await submit(batch: [command], to: engine)[0] } catch {
            // Counted here only: CommandBatcher re-sends a refused batch one command at a time through this method.
            refused(error is InputError ? "invalid" : "error")
            throw error
        }
    }

    /// Submits commands in one journal transaction; each is counted, timed as the whole batch.
    public func submit(batch commands: [CommandRequest], to engine: EngineService) async throws -> [CommandOutcome] {
        let started = ContinuousClock.now
        let results = try await engine.submit(batch: commands)
        let duration = ContinuousClock.now - started
        for (result, command) in zip(results, commands) where !result.duplicate {
            record(commandType: command.command.typeName, duration: duration, eventKinds: result.kinds)
            if result.applied.contains(where: { $0.kind == .rejected && $0["code"] == .integer(Int64(RejectReason.Code.outOfRange.rawValue)) }) { refused("out_of_range") }
        }
        stateGauges.scheduleRefresh(engine)
        return results
    }

    /// In-process callers with commands in the scenario shape (the demo, tools): decoded by the
    /// one decoder, then submitted like any other.
    public func submit(batch commands: [(command: JSONValue, key: String)], to engine: EngineService) async throws -> [CommandOutcome] {
        try await submit(batch: commands.enumerated().map { n, entry in
            try CommandRequest.decode(entry.command, key: entry.key, path: commands.count == 1 ? "command" : "commands[\(n)]")
        }, to: engine)
    }

    /// Counts a command refused by the engine: `out_of_range` (reject code 1009, outside the range
    /// contract), `invalid` (malformed: HTTP 400), `error` (anything else thrown).
    func refused(_ reason: String, count: Int64 = 1) {
        registry.makeCounter(name: "solvent_commands_refused_total", labels: [("reason", reason)],
                             help: "Commands refused by the engine since start, by reason").increment(by: count)
    }

    /// Counts an applied command and the events it caused.
    func record(commandType: String, duration: Duration, eventKinds: [String]) {
        registry.makeCounter(name: "solvent_commands_applied_total", labels: [("type", commandType)],
                             help: "Commands journaled and applied, by type").increment()
        commandDuration.record(duration)
        var marginEvent = false
        for kind in eventKinds {
            registry.makeCounter(name: "solvent_events_total", labels: [("type", kind)], help: "Engine events, by type").increment()
            if kind == "margin_call" || kind == "liquidation_started" { marginEvent = true }
        }
        if marginEvent && ["mark", "index", "asset_price"].contains(commandType) { tickToMarginEvent.record(duration) }
    }

    /// Sets the state gauges (computed at scrape time) and returns the exposition text.
    func exposition(state: EngineService.Gauges, hub: EventHub, webhooks: (counts: [WebhookDelivery.Status: Int], cursor: Int64)?) -> String {
        registry.makeGauge(name: "solvent_stream_clients", help: "WebSocket clients connected").set(to: Double(hub.subscriberCount))
        let dropped = hub.droppedSubscribers
        let newlyDropped = droppedCounted.withLock { counted in defer { counted = max(counted, dropped) }; return max(0, dropped - counted) }
        registry.makeCounter(name: "solvent_stream_clients_dropped_total", help: "WebSocket clients cut off as slow consumers since start")
            .increment(by: Int64(newlyDropped))
        stateGauges.emit(into: registry)
        if let webhooks {
            for status in WebhookDelivery.Status.allCases {
                registry.makeGauge(name: "solvent_webhook_deliveries", labels: [("status", status.rawValue)], help: "Webhook deliveries by status")
                    .set(to: Double(webhooks.counts[status] ?? 0))
            }
            registry.makeGauge(name: "solvent_webhook_journal_lag", help: "Journaled commands not yet turned into webhook deliveries")
                .set(to: Double(max(0, state.journalSequence - webhooks.cursor)))
        }
        for (status, count) in state.accountsByStatus {
            registry.makeGauge(name: "solvent_accounts", labels: [("status", status)], help: "Accounts by margin status").set(to: Double(count))
        }
        for (asset, balance) in state.insuranceFund {
            registry.makeGauge(name: "solvent_insurance_fund", labels: [("asset", asset)], help: "Insurance fund balance").set(to: balance)
        }
        registry.makeGauge(name: "solvent_liquidation_backlog", help: "Accounts waiting for a liquidation step").set(to: Double(state.backlog))
        registry.makeGauge(name: "solvent_journal_sequence", help: "Commands journaled").set(to: Double(state.journalSequence))
        registry.makeGauge(name: "solvent_event_sequence", help: "Engine event sequence").set(to: Double(state.eventSequence))
        return registry.emitToString() + ProcessMetrics.exposition()
    }
}
