/// A rejected input: the JSON path of the fault and the reason, e.g.
/// `accounts[0].positions[1].entry_price: not a decimal: "6e4x"`.
public struct InputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// JSON path of the faulty value (`accounts[0].positions[1].entry_price`, `marks.BTCUSDT`).
    public var path: String
    /// Why it was rejected.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: reason`, one line.
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Typed readers of JSON fields that report the JSON path on every failure.
public struct JSONReader: Sendable {
    /// Largest magnitude accepted for any input decimal: ``RangeContract/maxMagnitude`` (10^15).
    public static let inputLimit = RangeContract.maxMagnitude

    public let value: JSONValue
    public let path: String

    public init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    /// The path of member `key` below this one.
    public func childPath(_ key: String) -> String {
        let simple = !key.isEmpty && key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D }
        let part = simple ? key : "[\"\(key)\"]"
        if path.isEmpty { return part }
        return simple ? "\(path).\(part)" : "\(path)\(part)"
    }

    public func error(_ reason: String) -> InputError { InputError(path: path, reason: reason) }

    /// The members of an object.
    public func members() throws(InputError) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = value else { throw error("expected an object, found \(value.typeName)") }
        return members
    }

    /// The elements of an array.
    public func elements() throws(InputError) -> [JSONValue] {
        guard case .array(let elements) = value else { throw error("expected an array, found \(value.typeName)") }
        return elements
    }

    /// Member `key`, or nil when absent or null.
    public func optional(_ key: String) throws(InputError) -> JSONReader? {
        guard case .object = value else { throw error("expected an object, found \(value.typeName)") }
        guard let child = value[key] else { return nil }
        if case .null = child { return nil }
        return JSONReader(child, path: childPath(key))
    }

    /// Member `key`; throws "missing" when absent.
    public func required(_ key: String) throws(InputError) -> JSONReader {
        guard let child = try optional(key) else { throw InputError(path: childPath(key), reason: "missing") }
        return child
    }

    /// A string value.
    public func string() throws(InputError) -> String {
        guard case .string(let text) = value else { throw error("expected a string, found \(value.typeName)") }
        return text
    }

    /// A non-empty string value.
    public func nonEmptyString() throws(InputError) -> String {
        let text = try string()
        if text.isEmpty { throw error("must not be empty") }
        return text
    }

    /// An exact decimal, from a JSON string (or a JSON number without exponent), within ±1e15
    /// (``RangeContract/maxMagnitude``).
    public func decimal() throws(InputError) -> FixedDecimal {
        let text: String
        switch value {
        case .string(let s): text = s
        case .number(let s): text = s
        default: throw error("expected a decimal string, found \(value.typeName)")
        }
        let parsed: FixedDecimal
        do { parsed = try FixedDecimal(parsing: text) } catch { throw self.error(error.description) }
        if parsed.magnitude > Self.inputLimit { throw error("out of range: magnitude above 1e15") }
        return parsed
    }

    /// A decimal > 0.
    public func positiveDecimal() throws(InputError) -> FixedDecimal {
        let d = try decimal()
        if !d.isPositive { throw error("must be positive, got \(d)") }
        return d
    }

    /// A decimal ≥ 0.
    public func nonNegativeDecimal() throws(InputError) -> FixedDecimal {
        let d = try decimal()
        if d.isNegative { throw error("must not be negative, got \(d)") }
        return d
    }

    /// A decimal in [0, 1].
    public func fraction() throws(InputError) -> FixedDecimal {
        let d = try decimal()
        if d.isNegative || d > .one { throw error("must be in [0, 1], got \(d)") }
        return d
    }

    /// A price in [1e-8, 1e8] (``RangeContract/priceProblem(_:)``).
    public func price() throws(InputError) -> FixedDecimal {
        let d = try decimal()
        if let problem = RangeContract.priceProblem(d) { throw error(problem) }
        return d
    }

    /// A leverage in [1, 1000] (``RangeContract/leverageProblem(_:)``).
    public func leverage() throws(InputError) -> FixedDecimal {
        let d = try decimal()
        if let problem = RangeContract.leverageProblem(d) { throw error(problem) }
        return d
    }

    /// A duration in ms, in [0, 100 years] (``RangeContract/durationProblem(_:)``).
    public func duration() throws(InputError) -> Int64 {
        let n = try integer()
        if let problem = RangeContract.durationProblem(n) { throw error(problem) }
        return n
    }

    /// A boolean.
    public func bool() throws(InputError) -> Bool {
        guard case .bool(let b) = value else { throw error("expected a boolean, found \(value.typeName)") }
        return b
    }

    /// An integer (JSON number without fraction or exponent).
    public func integer() throws(InputError) -> Int64 {
        guard case .number(let text) = value, let n = Int64(text) else { throw error("expected an integer, found \(value.typeName)") }
        return n
    }

    /// A time: an integer of milliseconds since the epoch, or an ISO 8601 UTC string, in
    /// [1970, 9999] (``RangeContract/timeProblem(_:)``).
    public func time() throws(InputError) -> Int64 {
        switch value {
        case .number:
            let ms = try integer()
            if let problem = RangeContract.timeProblem(ms) { throw error(problem) }
            return ms
        case .string(let text):
            guard let ms = Timestamp.parseISO8601(text) else { throw error("not an ISO 8601 UTC time: \"\(text)\"") }
            if let problem = RangeContract.timeProblem(ms) { throw error(problem) }
            return ms
        default: throw error("expected a time (ISO 8601 string or epoch milliseconds), found \(value.typeName)")
        }
    }
}
