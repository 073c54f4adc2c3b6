extension CRC32C {
    /// CRC-32C over `"<sequence>\n<key>\n"` followed by `body` (a command record's checksum,
    /// ``JournalEntry/checksum(sequence:key:body:)``), the same value as the checksum of the
    /// concatenated bytes but without building them: the decimal sequence is written into a
    /// stack buffer and the key's UTF-8 is read in place, so a record costs no allocation.
    public static func frame(sequence: Int64, key: String, body: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let state = sequenceRegister(sequence)
        var key = key
        return key.withUTF8 { frame(sequencePrefix: state, keyUTF8: $0, body: body) }
    }

    /// The register after the initial value and `"<sequence>\n"`.
    private static func sequenceRegister(_ sequence: Int64) -> UInt32 {
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
        return state
    }

    /// ``frame(sequence:key:body:)`` with the key given as its UTF-8 bytes.
    public static func frame(sequence: Int64, keyUTF8: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>) -> UInt32 {
        frame(sequencePrefix: sequenceRegister(sequence), keyUTF8: keyUTF8, body: body)
    }

    private static func frame(sequencePrefix state: UInt32, keyUTF8: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var state = advance(state, keyUTF8)
        state = table[Int((state ^ 0x0A) & 0xFF)] ^ (state >> 8)  // "\n"
        return advance(state, body) ^ 0xFFFF_FFFF
    }
}
