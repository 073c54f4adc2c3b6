import Foundation  // malloc, realloc, free
import SolventEngine

/// Hand-written paths for the two containers that hold one entry per account in the engine
/// state — `accounts: [EngineAccount]` and `accountIndex: [String: Int]` — inside the binary
/// state coder: the same bytes the standard library's `Array` and `Dictionary` conformances write
/// through the generic coder (format `SOLVBIN1` unchanged), without an existential container and
/// a container-stack check per element (BENCHMARKS.md, "Snapshot").
///
/// `Dictionary<String, _>` encodes as a keyed container whose keys are
/// `_DictionaryCodingKey(stringValue:)`, which carries `intValue: Int(key)`: a key that is an
/// `Int`'s own text ("42", "-7") is written as an integer key (`BinaryStateCoding.integerKey`),
/// any other ("007", "+7", "-0") as its string, so every key decodes as the text it was.
/// The fast writer does the same; the fast reader accepts only string keys (interned or inline)
/// that do not parse as an `Int`, integer values and distinct keys, and otherwise gives the container to the generic decoder, so
/// what decodes and what is refused stays the generic decoder's decision (BinaryBulkCodingTests;
/// the FuzzSnapshot harness reaches both paths through `EngineState`).
extension BinaryEncodingCore {
    /// `accounts` as `Array.encode(to:)` writes it: an unkeyed container of the accounts.
    func writeAccounts(_ accounts: [EngineAccount]) {
        bytes.append(Tag.unkeyed)
        for (n, record) in accounts.enumerated() {
            let before = bytes.count
            writeAccount(record)
            // After the first account, room for the others at its size (one growth instead of
            // a doubling every few hundred thousand accounts).
            if n == 0 {
                let (others, overflow) = (bytes.count - before).multipliedReportingOverflow(by: accounts.count - 1)
                if !overflow, others <= 1 << 40 { bytes.reserveCapacity(bytes.count + others + others / 8 + 4096) }
            }
        }
        bytes.append(Tag.end)
    }

    /// `index` as `Dictionary<String, Int>.encode(to:)` writes it (see the extension's documentation).
    func writeStringIntDictionary(_ index: [String: Int]) {
        bytes.append(Tag.keyed)
        for (key, value) in index {
            if let int = Int(key), String(int) == key {  // BinaryStateCoding.integerKey of _DictionaryCodingKey(stringValue:)
                writeVarint(2)
                writeVarint(UInt64(bitPattern: (Int64(int) << 1) ^ (Int64(int) >> 63)))
            } else {
                writeKey(BinaryNamedKey(stringValue: key))
            }
            writeSigned(Int64(value))
        }
        bytes.append(Tag.end)
    }
}

extension BinaryDecodingCore {
    /// The accounts at `p` (an unkeyed container) and the offset past it, or nil when one of them
    /// is not exactly the layout `writeAccount` writes (then the generic decoder reads the array).
    /// The array is built at its exact size (no growth slack: one per account of the restored engine).
    func fastAccounts(at p: Int) -> ([EngineAccount], Int)? {
        guard p < bytes.count, bytes[p] == Tag.unkeyed else { return nil }
        // The records are gathered in `malloc`ed memory grown by `realloc` (Swift values are
        // bitwise movable): a large block grows by remapping its pages (glibc `mremap`) instead of
        // the copy per doubling an `allocate`/`moveInitialize` growth made (≈ 0.1 s at 1M).
        let stride = MemoryLayout<EngineAccount>.stride
        var capacity = 1024
        guard let first = malloc(capacity * stride) else { return nil }
        var buffer = first.bindMemory(to: EngineAccount.self, capacity: capacity)
        var count = 0
        func discard() {
            buffer.deinitialize(count: count)
            free(buffer)
        }
        var q = p + 1
        while q < bytes.count, bytes[q] != Tag.end {
            guard let (record, end) = fastAccount(at: q) else {
                discard()
                return nil
            }
            if count == capacity {
                guard let grown = realloc(buffer, 2 * capacity * stride) else {
                    discard()
                    return nil
                }
                capacity *= 2
                buffer = grown.bindMemory(to: EngineAccount.self, capacity: capacity)
            }
            (buffer + count).initialize(to: record)
            count += 1
            q = end
        }
        guard q < bytes.count else {  // truncated: the generic decoder reports it
            discard()
            return nil
        }
        let accounts = [EngineAccount](unsafeUninitializedCapacity: count) { out, initialized in
            if count > 0 { out.baseAddress!.moveInitialize(from: buffer, count: count) }
            initialized = count
        }
        free(buffer)
        return (accounts, q + 1)
    }

    /// The `[String: Int]` at `p` and the offset past it, or nil when it holds an integer key, a
    /// repeated key or a value that is not an `Int` (then the generic decoder reads it).
    func fastStringIntDictionary(at p: Int) -> ([String: Int], Int)? {
        guard p < bytes.count, bytes[p] == Tag.keyed else { return nil }
        do {
            // First pass: count the entries (so the table is allocated once, at its size).
            var q = p + 1
            var entries = 0
            while try byte(q) != Tag.end {
                q = try skip(skipKey(q))
                entries += 1
            }
            var index = [String: Int](minimumCapacity: entries)
            q = p + 1
            while try byte(q) != Tag.end {
                let v = try varint(&q)
                let key: String
                switch v & 3 {
                case 0:
                    let id = Int(v >> 2)
                    guard id < keys.count else { return nil }
                    key = keys[id]
                case 1:
                    let n = Int(v >> 2)
                    guard q + n <= bytes.count else { return nil }
                    key = String(decoding: bytes[q..<(q + n)], as: UTF8.self)
                    q += n
                default:
                    return nil
                }
                // A string key that is an `Int`'s own text is never written (it is an integer key,
                // `BinaryStateCoding.integerKey`): let the generic reader decide on one.
                guard Int(key).map({ String($0) != key }) ?? true else { return nil }
                let (value, end) = try integer(Int.self, q)
                q = end
                guard index.updateValue(value, forKey: key) == nil else { return nil }
            }
            return (index, q + 1)
        } catch {
            return nil
        }
    }
}
