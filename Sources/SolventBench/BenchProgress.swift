import Foundation

/// Progress of a benchmark on standard error, only for runs longer than a second: phases
/// reported during the first second are held back, and the latest one is printed once the
/// run passes a second (a tiny run prints nothing).
public final class BenchProgress: @unchecked Sendable {
    private let start = BenchClock.now()
    private let label: String
    private let write: (String) -> Void
    private var pending: String? = nil
    private var shown = false

    /// `label` prefixes every line (e.g. `bench tick`); `write` prints one line (standard error).
    public init(label: String, write: @escaping (String) -> Void) {
        self.label = label
        self.write = write
    }

    /// Reports the phase now running.
    public func report(_ phase: String) {
        pending = phase
        poll()
    }

    /// Prints the held-back phase once the run is older than a second (call it from loops).
    public func poll() {
        guard let phase = pending else { return }
        if shown || BenchClock.now() - start >= 1_000_000_000 {
            shown = true
            pending = nil
            write("\(label): \(phase) (\(String(format: "%.1f", Double(BenchClock.now() - start) / 1e9)) s)")
        }
    }
}

/// Monotonic nanoseconds.
public enum BenchClock {
    @inline(__always) public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// Exact percentiles of a sample (sorted once; nearest rank, as HdrHistogram reports them).
public struct Percentiles: Sendable {
    public let sorted: [UInt64]
    public init(_ sample: [UInt64]) { sorted = sample.sorted() }
    /// The smallest value with at least `p` % of the sample at or below it (p in 0...100).
    public func value(at p: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(sorted.count - 1, Swift.max(0, rank - 1))]
    }
    public var max: UInt64 { sorted.last ?? 0 }
}
