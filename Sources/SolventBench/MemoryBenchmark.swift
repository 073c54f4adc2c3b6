#if canImport(Glibc)
import Glibc
#endif
import Foundation
public import SolventEngine
import SolventCore

/// Memory per account of the engine built by `BenchBook` (one position per account): the
/// resident set grown while building it, the resident set after it, and a
/// breakdown by the size glibc gives each allocation (`malloc_usable_size` plus its 8-byte chunk
/// header) of what the state holds per account: the inline `EngineAccount` records, each
/// account's collateral and position arrays, its other per-account containers, the account
/// index (`[String: Int]`); what remains (`other_bytes`) is the engine's derived data — the
/// at-risk index (per-account versions and band arrays, heap entries), the pool-numbers cache —
/// and the allocator's slack. Linux only (glibc); elsewhere the fields are 0.
public enum MemoryBenchmark {
    public static func run(accounts: Int, progress: BenchProgress? = nil) -> BenchResult {
        let before = heapInUse()
        progress?.report("building \(accounts) accounts")
        let engine = BenchBook.engine(accounts: accounts, progress: progress)
        let grown = heapInUse() - before
        let resident = residentBytes()
        var records = 0, balances = 0, positions = 0, containers = 0, index = 0
        #if canImport(Glibc)
        let s = engine.state
        records = arrayBufferSize(s.accounts)
        for record in s.accounts {
            balances += arrayBufferSize(record.account.collateral)
            positions += arrayBufferSize(record.account.positions)
            containers += arrayBufferSize(record.orders)
            containers += record.leverage.withOverflowBuffer { $0.map { objectSize($0 - 32) } ?? 0 }  // inline unless two or more
            if !record.isolated.isEmpty { containers += objectSize(unsafeBitCast(record.isolated, to: UnsafeRawPointer.self)) }
            if !record.procedures.isEmpty { containers += objectSize(unsafeBitCast(record.procedures, to: UnsafeRawPointer.self)) }
        }
        if !s.accountIndex.isEmpty { index = objectSize(unsafeBitCast(s.accountIndex, to: UnsafeRawPointer.self)) }
        #endif
        let n = Double(max(accounts, 1))
        let other = grown - records - balances - positions - containers - index
        withExtendedLifetime(engine) {}
        return BenchResult(title: "memory: \(accounts) one-position accounts (bytes per account)", members: [
            ("heap_bytes_per_account", "resident set grown building the engine", .number(Double(grown) / n)),
            ("rss_bytes_per_account", "resident set after building", .number(Double(resident) / n)),
            ("account_record_bytes", "EngineAccount records (array buffer; stride \(MemoryLayout<EngineAccount>.stride))", .number(Double(records) / n)),
            ("collateral_bytes", "collateral arrays", .number(Double(balances) / n)),
            ("position_bytes", "position arrays", .number(Double(positions) / n)),
            ("containers_bytes", "leverage, isolated, orders, procedures", .number(Double(containers) / n)),
            ("account_index_bytes", "account index [String: Int]", .number(Double(index) / n)),
            ("other_bytes", "the rest: at-risk index, pool cache, slack", .number(Double(other) / n)),
        ])
    }

    /// Heap bytes in use: the resident set (`/proc/self/statm`); glibc's `mallinfo2` is not in
    /// the Glibc module, and the resident growth is what the machine pays.
    static func heapInUse() -> Int { residentBytes() }

    /// The resident set (`/proc/self/statm`, pages × page size; 0 where it cannot be read).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    #if canImport(Glibc)
    /// The chunk of a heap object: its usable size and glibc's 8-byte header.
    static func objectSize(_ object: UnsafeRawPointer) -> Int { usableSize(UnsafeMutableRawPointer(mutating: object)) + 8 }

    /// glibc's `malloc_usable_size` (malloc.h is not in the Glibc module: looked up by name).
    nonisolated(unsafe) static let usableSize: @convention(c) (UnsafeMutableRawPointer?) -> Int = {
        guard let symbol = dlsym(nil, "malloc_usable_size") else { return { _ in 0 } }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutableRawPointer?) -> Int).self)
    }()

    /// The chunk of a native array's buffer (the object's 32-byte header — isa, reference
    /// counts, count, capacity — precedes the first element); 0 for an array without a buffer
    /// of its own (the shared empty array is static storage, not a heap chunk).
    static func arrayBufferSize<T>(_ array: [T]) -> Int {
        guard array.capacity > 0, MemoryLayout<T>.stride > 0 else { return 0 }
        return array.withUnsafeBufferPointer { buffer in
            guard let first = buffer.baseAddress else { return 0 }
            return objectSize(UnsafeRawPointer(first) - 32)
        }
    }
    #endif
}
