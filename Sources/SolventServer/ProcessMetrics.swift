import Foundation
import Prometheus
import SolventCore
import SolventEngine
import Synchronization

/// The process metrics that Prometheus client libraries export by convention (the names and
/// meanings of the Go and Python clients' process collectors), read from `/proc/self` on
/// Linux. Appended to `/metrics` as exposition text; on a system without `/proc` only
/// `process_start_time_seconds` and the descriptor limit are exported.
enum ProcessMetrics {
    /// When the process started, Unix seconds (taken when this type is first used, at the
    /// service's start; on Linux, from the kernel's start time of the process).
    static let startTime: Double = linuxStartTime() ?? Date().timeIntervalSince1970

    /// The process metrics as exposition text (HELP, TYPE, one sample each).
    static func exposition() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value, value.isFinite else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        let stat = selfStat()
        metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", stat.map { $0.cpuSeconds })
        metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", stat.map { $0.residentBytes })
        metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat.map { $0.virtualBytes })
        metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", startTime)
        metric("process_open_fds", "gauge", "Number of open file descriptors.", openDescriptors())
        metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", maxDescriptors())
        return out
    }

    /// A sample value: integers without a fraction, others with Swift's shortest round-trip form.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    struct Stat { var cpuSeconds: Double; var virtualBytes: Double; var residentBytes: Double; var startTicks: Double }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    /// `/proc/self/stat` (proc(5)): utime 14, stime 15, starttime 22, vsize 23, rss 24 (pages).
    /// Fields are counted after the command name, which is in parentheses and may hold spaces.
    static func selfStat() -> Stat? { parseStat(try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)) }

    static func parseStat(_ text: String?) -> Stat? {
        guard let text, let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is the first.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ n: Int) -> Double? { n - 3 < fields.count ? Double(fields[n - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24),
              ticksPerSecond > 0 else { return nil }
        return Stat(cpuSeconds: (utime + stime) / ticksPerSecond, virtualBytes: vsize, residentBytes: rss * pageSize, startTicks: start)
    }

    /// Boot time (`btime` of `/proc/stat`) plus the process's start in clock ticks since boot.
    static func linuxStartTime() -> Double? {
        guard let stat = selfStat(), let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return nil }
        return boot + stat.startTicks / ticksPerSecond
    }

    /// Entries of `/proc/self/fd` (the listing's own descriptor is closed again before counting ends).
    static func openDescriptors() -> Double? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        return Double(max(0, entries.count - 1))
    }

    /// The soft limit on open files (`RLIMIT_NOFILE`).
    static func maxDescriptors() -> Double? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return limit.rlim_cur == rlim_t.max ? nil : Double(limit.rlim_cur)
    }
}

/// Gauges of the engine state that `EngineService.Gauges` does not carry — circuit breakers,
/// mark times, margin calls past their deadline, engine time — recomputed off the request
/// path: after a command batch, one refresh is scheduled (at most one in flight; a batch that
/// lands while one is pending is covered by it). The cost is O(instruments + open margin
/// calls) on the engine actor, never O(accounts).
final class EngineStateGauges: Sendable {
    struct Values: Sendable {
        /// Per instrument: symbol, the reasons liquidations are paused, the mark's source time (ms).
        var instruments: [(symbol: String, paused: [String], markTime: Int64?)] = []
        var engineTime: Int64 = 0
        var callsOpen = 0
        var callsPastDeadline = 0
    }

    /// The breaker reasons of `BreakerState.pausedReasons`: each is exported (0 or 1) per instrument.
    static let breakerReasons = ["stale_mark", "oracle_divergence", "index_move"]

    private let values = Mutex<Values?>(nil)
    private let pending = Atomic<Bool>(false)

    /// Schedules a refresh from `engine` unless one is already pending.
    func scheduleRefresh(_ engine: EngineService) {
        guard pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        Task.detached(priority: .utility) { [self] in
            // Cleared before reading, so a batch applied after the read schedules another refresh.
            pending.store(false, ordering: .releasing)
            let v = await engine.stateGaugeValues()
            values.withLock { $0 = v }
        }
    }

    /// The gauges of `engine`'s state.
    static func values(of engine: Engine) -> Values {
        let state = engine.state
        var v = Values()
        v.engineTime = state.time
        for (k, instrument) in state.market.instruments.enumerated() {
            v.instruments.append((instrument.symbol, k < state.breakers.count ? state.breakers[k].pausedReasons : [],
                                  k < state.markSources.count ? state.markSources[k]?.sourceTime : nil))
        }
        for a in state.calledAccounts where a < state.accounts.count {
            for procedure in state.accounts[a].procedures.values {
                guard case .called(let deadline, _) = procedure else { continue }
                v.callsOpen += 1
                if deadline < state.time { v.callsPastDeadline += 1 }
            }
        }
        return v
    }

    /// Sets the gauges in `registry` (nothing before the first refresh).
    func emit(into registry: PrometheusCollectorRegistry) {
        guard let v = values.withLock({ $0 }) else { return }
        for instrument in v.instruments {
            for reason in Self.breakerReasons {
                registry.makeGauge(name: "solvent_breaker_paused", labels: [("symbol", instrument.symbol), ("reason", reason)],
                                   help: "1 while liquidations of the instrument are paused by this circuit breaker")
                    .set(to: instrument.paused.contains(reason) ? 1 : 0)
            }
            if let t = instrument.markTime {
                registry.makeGauge(name: "solvent_mark_time_seconds", labels: [("symbol", instrument.symbol)],
                                   help: "Source time of the instrument's current mark price, Unix seconds").set(to: Double(t) / 1000)
            }
        }
        registry.makeGauge(name: "solvent_engine_time_seconds", help: "Engine time (the last command's time), Unix seconds")
            .set(to: Double(v.engineTime) / 1000)
        registry.makeGauge(name: "solvent_margin_calls_open", help: "Pools in a margin call").set(to: Double(v.callsOpen))
        registry.makeGauge(name: "solvent_margin_calls_past_deadline", help: "Pools in a margin call whose deadline is before the engine time (not yet liquidated)")
            .set(to: Double(v.callsPastDeadline))
    }
}

extension EngineService {
    /// The values of `EngineStateGauges`, computed on the actor (O(instruments + open calls)), so
    /// that no copy of the state outlives the call (a copy held off the actor would make the
    /// next command copy the state's arrays).
    func stateGaugeValues() -> EngineStateGauges.Values { EngineStateGauges.values(of: readView().engine) }
}
