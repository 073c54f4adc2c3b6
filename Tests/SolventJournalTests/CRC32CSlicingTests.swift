import SolventCore
@testable import SolventJournal
import SolventTestSupport
import Testing

/// The slicing-by-8 CRC-32C equals the byte-at-a-time definition on every length and offset
/// (journal frames and snapshot bodies on disk keep their checksums).
@Suite struct CRC32CSlicingTests {
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = CRC32C.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    @Test func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum(AnySequence(Array("123456789".utf8))) == 0xE306_9283)  // not contiguous: the byte loop
    }

    @Test func slicedEqualsByteAtATime() {
        var rng = SplitMix64(seed: 32)
        var checked = 0
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CRC32C.checksum(bytes) == Self.reference(bytes), "length \(length)")
            if length > 3 { #expect(CRC32C.checksum(bytes[3...]) == Self.reference(Array(bytes[3...])), "slice of \(length)") }
            checked += 1
        }
        let large = (0..<100_003).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(CRC32C.checksum(large) == Self.reference(large))
        #expect(checked == 200)
    }
}
