import SolventCore
import SolventJournal

/// CRC-32C throughput, the CPU's instruction (what `CRC32C.checksum` uses when it can) against
/// the slicing-by-8 tables, on the same random bytes in the same run, alternating: over a whole
/// buffer (a snapshot body) and in 256-byte pieces (about a journal record).
public enum CRCBenchmark {
    /// → `hardware_mb_per_second`, `table_mb_per_second` (10^6 bytes/s), `speedup`, and the same
    /// for 256-byte pieces; `hardware` is 1 when the instruction was used.
    public static func run(bytes: Int, repeats: Int, progress: BenchProgress? = nil) -> BenchResult {
        var rng = SplitMix64(seed: 32)
        var buffer = [UInt8](repeating: 0, count: bytes)
        for n in buffer.indices { buffer[n] = UInt8(truncatingIfNeeded: rng.next()) }
        var elapsed: [UInt64] = [0, 0, 0, 0]  // hardware whole, table whole, hardware pieces, table pieces
        var sink: UInt32 = 0
        buffer.withUnsafeBufferPointer { all in
            for r in 0..<repeats {
                for k in 0..<4 {
                    let which = (r + k) % 4
                    let start = BenchClock.now()
                    switch which {
                    case 0: sink ^= CRC32C.checksum(all)
                    case 1: sink ^= CRC32C.tableChecksum(all)
                    default:
                        var offset = 0
                        while offset < all.count {
                            let piece = UnsafeBufferPointer(rebasing: all[offset..<min(offset + 256, all.count)])
                            sink ^= which == 2 ? CRC32C.checksum(piece) : CRC32C.tableChecksum(piece)
                            offset += 256
                        }
                    }
                    elapsed[which] += BenchClock.now() - start
                }
                progress?.report("\(r + 1) of \(repeats) rounds")
            }
        }
        func rate(_ which: Int) -> Double { Double(bytes * repeats) / (Double(max(elapsed[which], 1)) / 1e9) / 1e6 }
        return BenchResult(title: "CRC-32C over \(bytes) bytes × \(repeats), instruction vs tables (checksums xor \(sink))", members: [
            ("hardware", "CPU instruction used", .integer(CRC32C.usesHardware ? 1 : 0)),
            ("hardware_mb_per_second", "instruction, whole buffer (MB/s)", .number(rate(0))),
            ("table_mb_per_second", "slicing-by-8 tables, whole buffer (MB/s)", .number(rate(1))),
            ("speedup", "instruction / tables, whole buffer", .number(rate(0) / rate(1))),
            ("hardware_256_mb_per_second", "instruction, 256-byte pieces (MB/s)", .number(rate(2))),
            ("table_256_mb_per_second", "tables, 256-byte pieces (MB/s)", .number(rate(3))),
            ("speedup_256", "instruction / tables, 256-byte pieces", .number(rate(2) / rate(3))),
        ])
    }
}
