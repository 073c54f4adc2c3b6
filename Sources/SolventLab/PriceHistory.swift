public import SolventCore

/// One OHLCV bar of `data/` (timestamp = bar open, UTC).
public struct Bar: Sendable, Hashable {
    public var time: Int64
    public var open: FixedDecimal
    public var high: FixedDecimal
    public var low: FixedDecimal
    public var close: FixedDecimal
    public var volume: FixedDecimal
    /// Whether open and close lie within [low, high] (one source row does not; it is kept and flagged).
    public var isConsistent: Bool { low <= open && open <= high && low <= close && close <= high && low <= high }
}

/// Reads the data folder's CSV format: header `timestamp,open,high,low,close,volume`,
/// ISO 8601 UTC timestamps, prices as decimal text.
public enum PriceHistory {
    /// Parses CSV text; errors name the line and the column.
    public static func parse(_ text: String) throws(InputError) -> [Bar] {
        var bars: [Bar] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).makeIterator()
        guard let header = lines.next() else { throw InputError(path: "line 1", reason: "empty file") }
        let columns = header.split(separator: ",").map { $0.trimmingWhitespace() }
        guard columns == ["timestamp", "open", "high", "low", "close", "volume"] else {
            throw InputError(path: "line 1", reason: "expected header timestamp,open,high,low,close,volume")
        }
        var number = 1
        while let line = lines.next() {
            number += 1
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
            guard fields.count == 6 else { throw InputError(path: "line \(number)", reason: "expected 6 fields, found \(fields.count)") }
            guard let time = Timestamp.parseISO8601(fields[0]) else { throw InputError(path: "line \(number).timestamp", reason: "not an ISO 8601 UTC time") }
            var values: [FixedDecimal] = []
            for (k, name) in ["open", "high", "low", "close", "volume"].enumerated() {
                do { values.append(try FixedDecimal(parsing: fields[k + 1])) } catch {
                    throw InputError(path: "line \(number).\(name)", reason: error.description)
                }
            }
            if let last = bars.last, time <= last.time { throw InputError(path: "line \(number).timestamp", reason: "not after the previous bar") }
            bars.append(Bar(time: time, open: values[0], high: values[1], low: values[2], close: values[3], volume: values[4]))
        }
        return bars
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\r" || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\r" || $0 == "\t" }.reversed())
    }
}
