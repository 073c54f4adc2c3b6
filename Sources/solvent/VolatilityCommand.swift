import ArgumentParser
import CompressNIO
import Foundation
import NIOCore
import SolventCore
import SolventLab
import SolventRisk

struct VolatilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volatility",
        abstract: "EWMA and GARCH(1,1) volatility of a price history (CSV with header timestamp,open,high,low,close,volume, .gz allowed; e.g. Examples/data).",
        discussion: """
            Returns are percent log returns of closes. Prints the EWMA volatility and the GARCH(1,1) maximum-likelihood fit: \
            a table on a terminal; JSON with --json or when standard output is not a terminal.

            Exit status: 0 printed; 2 bad input (the message names the flag, or the file and line).
            """)

    @Option(name: .long, help: "CSV file: timestamp,open,high,low,close,volume (gzip when it ends in .gz).") var data: String
    @Option(name: .long, help: "Use only the last N returns.") var last: Int?
    @Option(name: .long, help: "EWMA decay λ.") var lambda: String = "0.94"
    @OptionGroup var output: OutputOptions

    func run() throws {
        let text: String
        do { text = try Self.readText(data) } catch { ProcessIO.fail("--data: \(error)", status: 2) }
        let bars: [Bar]
        do { bars = try PriceHistory.parse(text) } catch { ProcessIO.fail("\(data): \(error.description)", status: 2) }
        guard let l = FixedDecimal(lambda), l.isPositive, l < .one else { ProcessIO.fail("--lambda: must be a decimal in (0, 1)", status: 2) }
        var returns = VolatilityModels.percentLogReturns(bars.map { DoubleBoundary.double($0.close) })
        if let last { returns = Array(returns.suffix(max(0, last))) }
        guard returns.count >= 20 else { ProcessIO.fail("--data: needs at least 20 returns, found \(returns.count)", status: 2) }
        let garch = VolatilityModels.fitGarch(returns)
        let inconsistent = bars.filter { !$0.isConsistent }.count
        let ewma = DoubleBoundary.shortestText(VolatilityModels.ewmaVariance(returns, lambda: DoubleBoundary.double(l)).squareRoot())
        var w = JSONWriter()
        w.beginObject()
        w.key("returns"); w.integer(returns.count)
        w.key("inconsistent_bars"); w.integer(inconsistent)
        w.member("ewma_volatility_percent", ewma)
        w.key("garch"); w.beginObject()
        w.member("omega", DoubleBoundary.shortestText(garch.omega))
        w.member("alpha", DoubleBoundary.shortestText(garch.alpha))
        w.member("beta", DoubleBoundary.shortestText(garch.beta))
        w.member("log_likelihood", DoubleBoundary.shortestText(garch.logLikelihood))
        w.member("long_run_volatility_percent", DoubleBoundary.shortestText(garch.longRunVariance.squareRoot()))
        w.endObject()
        w.endObject()
        output.print(json: w.string, title: "Volatility of \(data) (percent log returns of closes)", rows: [
            ("returns", String(returns.count)), ("inconsistent bars", String(inconsistent)),
            ("EWMA volatility % (λ \(lambda))", ewma),
            ("GARCH ω", DoubleBoundary.shortestText(garch.omega)), ("GARCH α", DoubleBoundary.shortestText(garch.alpha)), ("GARCH β", DoubleBoundary.shortestText(garch.beta)),
            ("GARCH log-likelihood", DoubleBoundary.shortestText(garch.logLikelihood)),
            ("GARCH long-run volatility %", DoubleBoundary.shortestText(garch.longRunVariance.squareRoot())),
        ])
    }

    /// The file's text; `.gz` files are inflated in process (compress-nio's zlib), no child process.
    static func readText(_ path: String) throws -> String {
        let bytes = try ProcessIO.readInput(path)
        guard path.hasSuffix(".gz") else { return String(decoding: bytes, as: UTF8.self) }
        var compressed = ByteBuffer(bytes: bytes)
        do {
            return String(buffer: try compressed.decompress(with: .gzip()))
        } catch {
            throw CLIError("cannot decompress \(path): \(error)")
        }
    }
}
