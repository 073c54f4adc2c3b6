public import SolventCore

/// Group commit for concurrent API writers: commands that arrive while the engine is busy
/// wait here and go to the journal together, in one transaction (one fsync), in arrival order.
/// Under no load a batch is one command; under load the batch grows with the queue, so the
/// cost of durability is shared (what TigerBeetle and PostgreSQL's commit_delay do).
///
/// A batch is all-or-nothing at validation: when one command is malformed nothing of the
/// batch is journaled, and its commands are then submitted one by one so that each caller
/// gets its own answer. Duplicate idempotency keys inside one batch are also sent one by one.
public actor CommandBatcher {
    public typealias Result = CommandOutcome
    let engine: EngineService
    let metrics: ServiceMetrics
    /// Largest batch journaled at once.
    public let maximumBatch: Int
    private var pending: [(command: JSONValue, key: String, continuation: CheckedContinuation<Result, any Error>)] = []
    private var draining = false

    public init(engine: EngineService, metrics: ServiceMetrics, maximumBatch: Int = 256) {
        precondition(maximumBatch >= 1, "maximumBatch must be at least 1")
        self.engine = engine
        self.metrics = metrics
        self.maximumBatch = maximumBatch
    }

    /// Journals and applies `command` (with its idempotency key), possibly with others.
    public func submit(_ command: JSONValue, key: String) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((command, key, continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            let commands = batch.map { (command: $0.command, key: $0.key) }
            if Set(commands.map(\.key)).count == commands.count, let results = try? await metrics.submit(batch: commands, to: engine) {
                for (entry, result) in zip(batch, results) { entry.continuation.resume(returning: result) }
                continue
            }
            for entry in batch {
                do { entry.continuation.resume(returning: try await metrics.submit(entry.command, key: entry.key, to: engine)) } catch {
                    entry.continuation.resume(throwing: error)
                }
            }
        }
        draining = false
    }
}
