import CompressNIO
import Foundation
import NIOCore

/// Reads the lab's price files (CSV, or gzip-compressed CSV when the name ends in `.gz`) for
/// replays that need more than the one history a command passes in (the 2025-10-10 incident:
/// BTC and ETH marks, another venue's prices as the index, the perpetual's volume for depth).
public enum LabData {
    /// The bars of `path`, nil when the file is missing or unreadable (the caller falls back).
    public static func bars(_ path: String) -> [Bar]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text: String
        if path.hasSuffix(".gz") {
            var compressed = ByteBuffer(bytes: data)
            guard let plain = try? compressed.decompress(with: .gzip()) else { return nil }
            text = String(buffer: plain)
        } else {
            text = String(decoding: data, as: UTF8.self)
        }
        if let bars = try? PriceHistory.parse(text) { return bars }
        // Floating-point artefacts beyond the decimal's 18 fractional digits (the Gemini files'
        // volumes, e.g. 0.0037855000000000002) are cut at 18 digits (an error below 1e-18).
        return try? PriceHistory.parse(text.split(separator: "\n").map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map { field in
                guard let point = field.firstIndex(of: "."), field.distance(from: point, to: field.endIndex) > 19 else { return String(field) }
                return String(field[..<field.index(point, offsetBy: 19)])
            }.joined(separator: ",")
        }.joined(separator: "\n"))
    }

    /// The folder holding `path` ("" for a bare name).
    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }
}
