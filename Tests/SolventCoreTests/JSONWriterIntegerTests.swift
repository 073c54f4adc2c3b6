import SolventCore
import Testing

/// `JSONWriter.integer` writes its digits in place (no String per integer); the text must be
/// exactly `String(value)`'s for every width and sign, boundaries included.
@Suite struct JSONWriterIntegerTests {
    static func text<T: BinaryInteger>(_ value: T) -> String {
        var w = JSONWriter()
        w.integer(value)
        return w.string
    }

    @Test func digitsEqualStringOfTheValue() {
        var checked = 0
        func check<T: BinaryInteger>(_ value: T) {
            #expect(Self.text(value) == String(value), "\(value)")
            checked += 1
        }
        for v: Int64 in [0, 1, -1, 9, 10, -10, 99, 100, 1_000_000_007, .max, .min, .max - 1, .min + 1] { check(v); check(Int(v)) }
        for v: UInt64 in [0, 1, 10, UInt64(Int64.max), UInt64(Int64.max) + 1, .max] { check(v) }
        check(Int8.min); check(Int8.max); check(UInt8.max); check(Int32.min); check(UInt32.max)
        check(Int128.min); check(Int128.max); check(UInt128.max)
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            check(power); check(power - 1); check(-power); check(-(power - 1))
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<10_000 { check(Int64.random(in: .min ... .max, using: &rng)); check(Int.random(in: -1000...1000, using: &rng)) }
        #expect(checked > 20_000)
    }

    @Test func separatorsAroundIntegers() {
        var w = JSONWriter()
        w.beginArray(); w.integer(-5); w.integer(UInt8(7)); w.null(); w.bool(true); w.bool(false); w.endArray()
        #expect(w.string == "[-5,7,null,true,false]")
    }
}
