extension CRC32C {
    /// CRC-32C over `"<sequence>\n<key>\n"` followed by `body` (a command record's checksum,
    /// ``JournalEntry/checksum(sequence:key:body:)``), the same value as the checksum of the
    /// concatenated bytes but without building them: the decimal sequence is written into a
    /// stack buffer and the key's UTF-8 is read in place, so a record costs no allocation.
    public static func frame(sequence: Int64, key: String, body: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var state: UInt32 = 0xFFFF_FFFF
        // "-9223372036854775808\n" is the longest header prefix: 21 bytes.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var magnitude = sequence.magnitude
            var start = 24
            start -= 1
            digits[start] = 0x0A  // "\n"
            repeat {
                start -= 1
                digits[start] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if sequence < 0 {
                start -= 1
                digits[start] = 0x2D  // "-"
            }
            state = advance(state, UnsafeBufferPointer(rebasing: digits[start...]))
        }
        var key = key
        state = key.withUTF8 { advance(state, $0) }
        state = table[Int((state ^ 0x0A) & 0xFF)] ^ (state >> 8)  // "\n"
        return advance(state, body) ^ 0xFFFF_FFFF
    }
}
