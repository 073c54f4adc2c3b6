/// A small map from instrument index to a value, in ascending instrument order: what an account
/// keeps per instrument (its chosen leverage). Most accounts hold no entry or one, so the first
/// entry is stored inline and only a second one allocates (a sorted array). A `[Int: Value]`
/// with one entry costs 144 bytes of heap per account (BENCHMARKS.md "Snapshot write / restore
/// and memory per account"); this costs none.
///
/// Same semantics as the dictionary it replaces: one value per key, `subscript` get/set (nil
/// removes), `merge`, iteration as `(key:, value:)` pairs — here always in ascending key order,
/// which a dictionary gives in no fixed order. Equality and hashing are those of the set of
/// pairs (the representation is canonical: no entry ⇔ `.empty`, one ⇔ `.one`, more ⇔ `.many`
/// with two or more sorted entries). `Codable` as `Dictionary<Int, Value>` codes itself: a keyed
/// container with integer keys (text `"\(key)"`), written in ascending key order, and decoded by
/// the dictionary's own decoder (a repeated key: the last wins), so snapshots written with the
/// dictionary read back unchanged and the maps written here read as dictionaries.
public struct InstrumentMap<Value> {
    /// One entry.
    public typealias Element = (key: Int, value: Value)

    @usableFromInline
    struct Entry {
        @usableFromInline var key: Int
        @usableFromInline var value: Value
        @inlinable init(key: Int, value: Value) {
            self.key = key
            self.value = value
        }
    }

    @usableFromInline
    enum Storage {
        case empty
        case one(Entry)
        /// Two or more entries, ascending and distinct keys.
        case many([Entry])
    }

    @usableFromInline var storage: Storage

    /// No entries.
    @inlinable public init() { storage = .empty }

    /// The entries of `dictionary`.
    @inlinable public init(_ dictionary: [Int: Value]) {
        storage = .empty
        for (key, value) in dictionary { self[key] = value }
    }

    /// Number of entries.
    @inlinable public var count: Int {
        switch storage {
        case .empty: return 0
        case .one: return 1
        case .many(let entries): return entries.count
        }
    }

    @inlinable public var isEmpty: Bool {
        if case .empty = storage { return true }
        return false
    }

    /// The value for `key`, or nil; setting nil removes the entry.
    @inlinable public subscript(key: Int) -> Value? {
        get {
            switch storage {
            case .empty: return nil
            case .one(let entry): return entry.key == key ? entry.value : nil
            case .many(let entries):
                let k = Self.position(of: key, in: entries)
                return k < entries.count && entries[k].key == key ? entries[k].value : nil
            }
        }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Sets the value for `key`; returns the value it replaced (nil when the key was new), as
    /// `Dictionary.updateValue(_:forKey:)`.
    @inlinable @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: Int) -> Value? {
        switch storage {
        case .empty:
            storage = .one(Entry(key: key, value: value))
            return nil
        case .one(let entry):
            if entry.key == key {
                storage = .one(Entry(key: key, value: value))
                return entry.value
            }
            let added = Entry(key: key, value: value)
            var entries: [Entry] = []
            entries.reserveCapacity(2)
            if entry.key < key { entries.append(entry); entries.append(added) } else { entries.append(added); entries.append(entry) }
            storage = .many(entries)
            return nil
        case .many(var entries):
            storage = .empty  // the array uniquely referenced while it changes
            let k = Self.position(of: key, in: entries)
            var old: Value? = nil
            if k < entries.count && entries[k].key == key {
                old = entries[k].value
                entries[k].value = value
            } else {
                entries.insert(Entry(key: key, value: value), at: k)
            }
            storage = .many(entries)
            return old
        }
    }

    /// Removes the entry for `key`; returns its value (nil when there was none).
    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Int) -> Value? {
        switch storage {
        case .empty:
            return nil
        case .one(let entry):
            guard entry.key == key else { return nil }
            storage = .empty
            return entry.value
        case .many(var entries):
            let k = Self.position(of: key, in: entries)
            guard k < entries.count, entries[k].key == key else { return nil }
            storage = .empty
            let old = entries.remove(at: k).value
            storage = entries.count == 1 ? .one(entries[0]) : .many(entries)
            return old
        }
    }

    /// Merges `other` into the map, `combine` choosing the value of a key in both (as
    /// `Dictionary.merge(_:uniquingKeysWith:)`).
    @inlinable
    public mutating func merge(_ other: [Int: Value], uniquingKeysWith combine: (Value, Value) throws -> Value) rethrows {
        for (key, value) in other {
            if let old = self[key] { self[key] = try combine(old, value) } else { self[key] = value }
        }
    }

    /// The keys, ascending.
    @inlinable public var keys: [Int] { map { $0.key } }

    /// The first index of `entries` whose key is not below `key` (binary search).
    @inlinable static func position(of key: Int, in entries: [Entry]) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].key < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Calls `body` with the start of the `.many` array's elements (nil when the entries are
    /// inline), so `bench memory` can ask the allocator for the buffer's size.
    package func withOverflowBuffer<R>(_ body: (UnsafeRawPointer?) -> R) -> R {
        if case .many(let entries) = storage { return entries.withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress)) } }
        return body(nil)
    }
}

extension InstrumentMap: Sequence {
    public struct Iterator: IteratorProtocol {
        @usableFromInline let map: InstrumentMap
        @usableFromInline var offset = 0
        @inlinable init(map: InstrumentMap) { self.map = map }

        @inlinable public mutating func next() -> Element? {
            defer { offset += 1 }
            switch map.storage {
            case .empty: return nil
            case .one(let entry): return offset == 0 ? (entry.key, entry.value) : nil
            case .many(let entries): return offset < entries.count ? (entries[offset].key, entries[offset].value) : nil
            }
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(map: self) }
    @inlinable public var underestimatedCount: Int { count }
}

extension InstrumentMap: ExpressibleByDictionaryLiteral {
    /// A literal's entries (a repeated key: the last wins).
    @inlinable public init(dictionaryLiteral elements: (Int, Value)...) {
        storage = .empty
        for (key, value) in elements { self[key] = value }
    }
}

extension InstrumentMap.Entry: Equatable where Value: Equatable {}
extension InstrumentMap.Entry: Hashable where Value: Hashable {}
extension InstrumentMap.Storage: Equatable where Value: Equatable {}
extension InstrumentMap.Storage: Hashable where Value: Hashable {}
extension InstrumentMap: Equatable where Value: Equatable {}
extension InstrumentMap: Hashable where Value: Hashable {}
extension InstrumentMap.Entry: Sendable where Value: Sendable {}
extension InstrumentMap.Storage: Sendable where Value: Sendable {}
extension InstrumentMap: Sendable where Value: Sendable {}

extension InstrumentMap: CustomStringConvertible {
    /// As a dictionary describes itself: `[:]`, `[1: 20]`, `[1: 20, 3: 5]` (here in key order).
    public var description: String { isEmpty ? "[:]" : "[" + map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]" }
}

/// The key `Dictionary<Int, _>` codes its keys with: integer value, decimal text.
struct InstrumentMapCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(intValue: Int) {
        self.intValue = intValue
        stringValue = "\(intValue)"
    }
    init?(stringValue: String) {
        self.stringValue = stringValue
        intValue = Int(stringValue)
    }
}

extension InstrumentMap: Encodable where Value: Encodable {
    /// As `Dictionary<Int, Value>.encode(to:)`: a keyed container, integer keys, in ascending order.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: InstrumentMapCodingKey.self)
        for (key, value) in self { try container.encode(value, forKey: InstrumentMapCodingKey(intValue: key)) }
    }
}

extension InstrumentMap: Decodable where Value: Decodable {
    /// As `Dictionary<Int, Value>.init(from:)` decodes (it does the decoding).
    public init(from decoder: any Decoder) throws {
        self.init(try [Int: Value](from: decoder))
    }
}
