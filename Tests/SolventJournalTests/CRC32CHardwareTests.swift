import SolventCore
@testable import SolventJournal
import SolventTestSupport
import Testing

/// The SSE 4.2 CRC-32C (CSolventCRC32C) gives the table's values: every length 0–4096 of random
/// bytes at every start offset 0–7 from random registers, the three-stream block sizes and their
/// neighbours, and the frame checksum of a journal record equals the checksum of its concatenated
/// header and body (so journals and snapshots written before keep verifying).
@Suite struct CRC32CHardwareTests {
    /// This machine is x86-64 with SSE 4.2 (every x86-64 CPU since 2008): the instruction is used.
    @Test func hardwareIsUsedOnX86() {
        #if arch(x86_64)
            #expect(CRC32C.usesHardware)
        #endif
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)  // the standard check value
    }

    @Test func hardwareEqualsTableOnEveryLengthUpTo4096() {
        var rng = SplitMix64(seed: 4096)
        let bytes = (0..<(4096 + 8)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var checked = 0
        bytes.withUnsafeBufferPointer { all in
            for length in 0...4096 {
                let offset = length % 8  // every alignment, round robin
                let slice = UnsafeBufferPointer(rebasing: all[offset..<(offset + length)])
                let state = UInt32.random(in: 0...UInt32.max, using: &rng)
                #expect(CRC32C.advance(state, slice) == CRC32C.tableAdvance(state, slice), "length \(length) offset \(offset)")
                checked += 1
            }
        }
        #expect(checked == 4097)
    }

    /// The long (3 × 8192) and short (3 × 256) blocks, one byte either side of them and a large
    /// buffer, from the standard initial register.
    @Test func hardwareEqualsTableAcrossBlockSizes() {
        var rng = SplitMix64(seed: 24_576)
        let bytes = (0..<300_007).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var checked = 0
        bytes.withUnsafeBufferPointer { all in
            for length in [767, 768, 769, 1535, 1536, 24_575, 24_576, 24_577, 25_343, 25_344, 49_152 + 768 + 7, 300_007] {
                for offset in [0, 1, 5] where offset + length <= all.count {
                    let slice = UnsafeBufferPointer(rebasing: all[offset..<(offset + length)])
                    #expect(CRC32C.advance(0xFFFF_FFFF, slice) == CRC32C.tableAdvance(0xFFFF_FFFF, slice), "length \(length) offset \(offset)")
                    checked += 1
                }
            }
        }
        #expect(checked > 30)
    }

    /// `CRC32C.frame` (no header array) equals the checksum of `"<sequence>\n<key>\n" + body` as
    /// the records on disk were checksummed, for any sequence (negative and extreme included),
    /// keys with non-ASCII text and empty bodies.
    @Test func frameEqualsConcatenatedChecksum() {
        var rng = SplitMix64(seed: 18)
        let sequences: [Int64] = [0, 1, 9, 10, 99, 100, 1_000_000, -1, -10, .max, .min]
        let keys = ["", "seq-1", "k42", "ключ-€-🔑", String(repeating: "x", count: 300)]
        var checked = 0
        for sequence in sequences + (0..<40).map({ _ in Int64.random(in: .min ... .max, using: &rng) }) {
            for key in keys {
                let body = (0..<Int.random(in: 0...700, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let expected = CRC32C.checksum(Array("\(sequence)\n\(key)\n".utf8) + body)
                #expect(JournalEntry.checksum(sequence: sequence, key: key, body: body) == expected, "\(sequence) \(key)")
                checked += 1
            }
        }
        #expect(checked == 51 * 5)
    }
}
