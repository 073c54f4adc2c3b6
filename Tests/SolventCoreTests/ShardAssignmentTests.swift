import Foundation
import PropertyBased
import SolventCore
import Testing

/// `ShardAssignment`: FNV-1a-64 of the account id's UTF-8 bytes, mod the shard count.
@Suite struct ShardAssignmentTests {
    /// Published FNV-1a 64-bit test vectors (L. C. Noll's FNV test suite, test_fnv.c "fnv1a_64_vector";
    /// also IETF draft-eastlake-fnv, appendix C): "" → cbf29ce484222325 (the offset basis),
    /// "a" → af63dc4c8601ec8c, "foobar" → 85944171f73967e8.
    @Test func publishedVectors() {
        let vectors: [(String, UInt64)] = [("", 0xcbf2_9ce4_8422_2325), ("a", 0xaf63_dc4c_8601_ec8c), ("foobar", 0x8594_4171_f739_67e8)]
        for (text, expected) in vectors { #expect(ShardAssignment.fnv1a64(text.utf8) == expected, "\(text)") }
        // The shard is the hash mod N: "a" → 0xaf63dc4c8601ec8c, even (0 of 2), mod 3 = 1 (computed by hand: 12638187200555641996 = 3·4212729066851880665 + 1).
        #expect(ShardAssignment.shard(of: "a", count: 2) == 0)
        #expect(ShardAssignment.shard(of: "a", count: 3) == 1)
        #expect(ShardAssignment.shard(of: "foobar", count: 2) == 0)
    }

    /// Stable (the same id, the same shard, also from its bytes), in range, and N = 1 gives 0.
    @Test func stableAndInRange() async {
        let checked = ShardCaseCounter()
        await propertyCheck(count: 500, input: Gen.uint8().array(of: 1...40), Gen.int(in: 1...ShardAssignment.maximumShards)) { bytes, count in
            let id = String(decoding: bytes.map { 0x21 + $0 % 94 }, as: UTF8.self)  // printable ASCII
            let shard = ShardAssignment.shard(of: id, count: count)
            #expect(shard >= 0 && shard < count)
            #expect(shard == ShardAssignment.shard(of: String(id), count: count))
            #expect(UInt64(shard) == ShardAssignment.fnv1a64(Array(id.utf8)) % UInt64(count))
            #expect(ShardAssignment.shard(of: id, count: 1) == 0)
            checked.add()
        }
        #expect(checked.value > 0)
    }
}

/// Cases a property test checked.
private final class ShardCaseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
