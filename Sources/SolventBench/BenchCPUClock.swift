import Foundation

/// The calling thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`): what a path cost
/// in instructions executed, without the time it waited for a core or for the disk (an fsync),
/// so it stays comparable on a loaded machine where wall-clock rates do not.
public enum BenchCPUClock {
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
