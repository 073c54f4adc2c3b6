import Foundation
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
        // Compressed by the system's gzip here (the test's side), read by solvent without it.
        let compressed = folder + "/BTCUSD.csv.gz"
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(plain)' > '\(compressed)'"]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
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
