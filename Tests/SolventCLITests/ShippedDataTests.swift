import CompressNIO
import Foundation
import NIOCore
import Testing

/// The data shipped in data/ (data/PROVENANCE.md) is read in process, gzip included (compress-nio,
/// no child process): a compressed file gives the same answer as its text, and a corrupt one is a
/// one-line error with status 2.
@Suite struct ShippedDataTests {
    @Test func gzipAndPlainTextGiveTheSameVolatility() throws {
        let plain = packageRoot.appendingPathComponent("data/btcusd-1d/BTCUSD.csv").path
        let folder = NSTemporaryDirectory() + "solvent-gz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Compressed here by compress-nio (gzip format, no child process), read by solvent.
        let compressed = folder + "/BTCUSD.csv.gz"
        var text = ByteBuffer(bytes: try #require(FileManager.default.contents(atPath: plain)))
        let gzip = try text.compress(with: .gzip())
        #expect(gzip.getBytes(at: gzip.readerIndex, length: 2) == [0x1f, 0x8b], "a gzip member")
        #expect(FileManager.default.createFile(atPath: compressed, contents: Data(gzip.readableBytesView)))
        let fromText = try runSolvent(["volatility", "--data", plain, "--last", "1500"])
        let fromGzip = try runSolvent(["volatility", "--data", compressed, "--last", "1500"])
        #expect(fromText.status == 0, "\(fromText.stderr)")
        #expect(fromGzip.status == 0, "\(fromGzip.stderr)")
        #expect(!fromText.stdout.isEmpty && fromText.stdout == fromGzip.stdout)
    }

    @Test func everyShippedFileIsReadable() throws {
        for file in ["data/binance-usdm-1h/ETHUSDT.csv.gz", "data/btcusd-cccagg-1h/BTCUSD.csv.gz", "data/ethusdt-spot-4h/ETHUSDT.csv.gz"] {
            let result = try runSolvent(["volatility", "--data", packageRoot.appendingPathComponent(file).path, "--last", "500"])
            #expect(result.status == 0, "\(file): \(result.stderr)")
            #expect(result.stdout.contains("\"returns\":500"), "\(file)")
        }
    }

    @Test func corruptGzipIsAOneLineError() throws {
        let path = NSTemporaryDirectory() + "solvent-bad-\(UUID().uuidString).csv.gz"
        try Data([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x01, 0x02]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runSolvent(["volatility", "--data", path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}
