/// A growable byte buffer on raw memory for writers that append millions of small values (the
/// snapshot's account coder, `BinaryAccountSink`; the state hash's account text,
/// `CanonicalAccountWriter`): one capacity check per value (`reserve`), then stores through
/// `base` without the uniqueness and capacity checks an `[UInt8]` append makes per byte.
///
/// Not a value type in the usual sense: copies share the memory. The owner frees it once with
/// `deallocate()` (or hands `base` and `capacity` on, as the binary coder does with its scratch
/// buffer); growing moves the bytes to new memory and frees the old.
public struct RawByteBuffer {
    /// The first byte; `count` bytes from here are written, `capacity` allocated.
    public var base: UnsafeMutablePointer<UInt8>
    public var capacity: Int
    /// The bytes written (a writer storing through `base` after `reserve` advances it itself).
    public var count = 0

    /// A new buffer of `capacity` bytes (at least 1), empty.
    @inlinable public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    /// Frees the memory (the buffer and its copies are not used afterwards).
    @inlinable public func deallocate() { base.deallocate() }

    /// The bytes written so far.
    @inlinable public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Room for `n` more bytes after `count`.
    @inlinable @inline(__always) public mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    /// Moves the bytes to memory of at least `needed` bytes (double the capacity, or `needed`).
    @usableFromInline mutating func grow(_ needed: Int) {
        let newCapacity = max(2 * capacity, needed)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    /// Appends one byte.
    @inlinable @inline(__always) public mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    /// Appends one byte into room already reserved.
    @inlinable @inline(__always) public mutating func reservedByte(_ value: UInt8) {
        base[count] = value
        count += 1
    }

    /// Appends `n` bytes from `source`.
    @inlinable @inline(__always) public mutating func append(_ source: UnsafePointer<UInt8>, count n: Int) {
        reserve(n)
        (base + count).update(from: source, count: n)
        count += n
    }

    /// Appends `bytes` (an empty buffer, maybe without a base address, appends nothing).
    @inlinable @inline(__always) public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        append(source, count: bytes.count)
    }

    /// Appends a static string's UTF-8 bytes.
    @inlinable @inline(__always) public mutating func append(_ text: StaticString) {
        append(text.utf8Start, count: text.utf8CodeUnitCount)
    }
}
