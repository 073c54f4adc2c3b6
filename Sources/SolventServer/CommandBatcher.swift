import HTTPTypes

/// Group commit for concurrent API writers: commands that arrive while the engine is busy
/// wait here and go to the journal together, in one transaction (one fsync), in arrival order.
/// Under no load a batch is one command; under load the batch grows with the queue, so the
/// cost of durability is shared (what TigerBeetle and PostgreSQL's commit_delay do).
///
/// The queue is bounded (`maximumQueue` commands waiting): beyond it a command is refused at
/// once with 503 and `Retry-After` rather than queued without limit.
///
/// A batch is all-or-nothing: when one command is refused (its time goes back) nothing of the
/// batch is journaled, and its commands are then submitted one by one so that each caller
/// gets its own answer. Duplicate idempotency keys inside one batch are also sent one by one.
public actor CommandBatcher {
    public typealias Result = CommandOutcome
    let engine: EngineService
    let metrics: ServiceMetrics
    /// Largest batch journaled at once.
    public let maximumBatch: Int
    /// Largest number of commands waiting; beyond it `submit` throws a 503.
    public let maximumQueue: Int
    /// Seconds a refused client is told to wait (`Retry-After`).
    public let retryAfterSeconds: Int
    private var pending: [(command: CommandRequest, continuation: CheckedContinuation<Result, any Error>)] = []
    private var draining = false

    public init(engine: EngineService, metrics: ServiceMetrics, maximumBatch: Int = 256, maximumQueue: Int = 10_000, retryAfterSeconds: Int = 1) {
        precondition(maximumBatch >= 1, "maximumBatch must be at least 1")
        precondition(maximumQueue >= 1, "maximumQueue must be at least 1")
        self.engine = engine
        self.metrics = metrics
        self.maximumBatch = maximumBatch
        self.maximumQueue = maximumQueue
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Commands waiting now.
    public var queued: Int { pending.count }

    /// Journals and applies `command`, possibly with others; a 503 `APIError` when the queue is full.
    public func submit(_ command: CommandRequest) async throws -> Result {
        guard pending.count < maximumQueue else {
            metrics.refused("queue_full")
            throw APIError(.serviceUnavailable, field: "", reason: "the command queue is full (\(maximumQueue) commands waiting): retry later",
                               retryAfter: retryAfterSeconds)
        }
        return try await withCheckedThrowingContinuation { continuation in
            pending.append((command, continuation))
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
            let commands = batch.map(\.command)
            let keys = commands.map(\.command.key)
            if Set(keys).count == keys.count, let results = try? await metrics.submit(batch: commands, to: engine) {
                for (entry, result) in zip(batch, results) { entry.continuation.resume(returning: result) }
                continue
            }
            for entry in batch {
                do { entry.continuation.resume(returning: try await metrics.submit(entry.command, to: engine)) } catch {
                    entry.continuation.resume(throwing: error)
                }
            }
        }
        draining = false
    }
}
