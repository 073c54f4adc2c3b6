public import ServiceLifecycle

/// A service that runs `work` every `interval` until graceful shutdown (then once more, so
/// the last state is published or flushed).
public struct PeriodicTask: Service {
    public let name: String
    public let interval: Duration
    let work: @Sendable () async -> Void

    public init(name: String, interval: Duration, work: @escaping @Sendable () async -> Void) {
        precondition(interval > .zero, "interval must be positive")
        self.name = name
        self.interval = interval
        self.work = work
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await work()
            }
        }
        await work()
    }
}
