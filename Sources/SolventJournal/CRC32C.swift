import CSolventCRC32C

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected as 0x82F63B78), the checksum of
/// journal frames and snapshots: it detects torn writes and bit flips in a journal tail.
///
/// Computed with the SSE 4.2 `crc32` instruction when the CPU has it (CSolventCRC32C, checked
/// once at run time), else with the slicing-by-8 tables below; both give the same values
/// (CRC32CHardwareTests compares them on random buffers of every length 0–4096).
public enum CRC32C {
    /// Whether this process computes CRC-32C with the CPU's instruction (x86-64 with SSE 4.2).
    public static let usesHardware: Bool = solvent_crc32c_hw_available() != 0

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? (0x82F6_3B78 ^ (c >> 1)) : (c >> 1) }
        return c
    }

    /// Slicing-by-8 tables (Kounavis and Berry, "A Systematic Approach to Building High
    /// Performance Software-Based CRC Generators", 2005): entry `k·256 + n` is the CRC of byte
    /// `n` followed by `k` zero bytes, so eight bytes are folded per step with eight lookups.
    static let slices: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 { t[n] = table[n] }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The checksum of `bytes` (standard check value: "123456789" → 0xE3069283). Contiguous
    /// bytes (arrays, slices, buffers) go eight at a time; the value is the byte-at-a-time one.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ sliced($0) }) { return crc }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The checksum of `head` followed by `tail`, as of their concatenation, without joining
    /// them (a snapshot's header and its body of hundreds of megabytes).
    public static func checksum(_ head: [UInt8], followedBy tail: [UInt8]) -> UInt32 {
        let state = head.withUnsafeBufferPointer { advance(0xFFFF_FFFF, $0) }
        return tail.withUnsafeBufferPointer { advance(state, $0) } ^ 0xFFFF_FFFF
    }

    static func sliced(_ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 { advance(0xFFFF_FFFF, buffer) ^ 0xFFFF_FFFF }

    /// The register after folding `buffer` into `state` (no initial or final inversion).
    static func advance(_ state: UInt32, _ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if usesHardware, let base = buffer.baseAddress { return solvent_crc32c_hw_advance(state, base, buffer.count) }
        return tableAdvance(state, buffer)
    }

    /// The checksum of `bytes` with the slicing-by-8 tables, whatever the CPU (the fallback; the
    /// reference `solvent bench crc` measures the instruction against).
    public static func tableChecksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 { tableAdvance(0xFFFF_FFFF, bytes) ^ 0xFFFF_FFFF }

    /// ``advance(_:_:)`` with the slicing-by-8 tables only (the fallback, and the reference the
    /// hardware path is tested and measured against).
    static func tableAdvance(_ state: UInt32, _ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = state
        let n = buffer.count
        var i = 0
        slices.withUnsafeBufferPointer { t in
            while i + 8 <= n {
                let low = (UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24) ^ crc
                let high = UInt32(buffer[i + 4]) | UInt32(buffer[i + 5]) << 8 | UInt32(buffer[i + 6]) << 16 | UInt32(buffer[i + 7]) << 24
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)] ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)] ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(buffer[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return crc
    }
}
