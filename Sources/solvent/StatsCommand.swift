import ArgumentParser
import Foundation
import SolventCore
import SolventLab
import SolventRisk

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Backtesting statistics of margin exceedances.",
        discussion: """
            Each test prints a table on a terminal; JSON with --json or when standard output is not a terminal.

            Exit status: 0 printed; 2 bad input (the message names the flag or the line).
            """,
        subcommands: [Kupiec.self, Christoffersen.self])

    static let exitCodes = "Exit status: 0 printed; 2 bad input (the message names the flag or the line)."

    static func print(_ test: BacktestStatistics.Test, title: String, extra: [(String, String)] = [], output: OutputOptions) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("lr", DoubleBoundary.shortestText(test.statistic))
        writer.member("p_value", DoubleBoundary.shortestText(test.pValue))
        writer.key("degrees_of_freedom")
        writer.integer(test.degreesOfFreedom)
        for (key, value) in extra { writer.member(key, value) }
        writer.endObject()
        let rows = [("likelihood ratio", DoubleBoundary.shortestText(test.statistic)), ("p-value", DoubleBoundary.shortestText(test.pValue)),
                    ("degrees of freedom", String(test.degreesOfFreedom))] + extra.map { ($0.0.replacingOccurrences(of: "_", with: " "), $0.1) }
        output.print(json: writer.string, title: title, rows: rows)
    }

    struct Kupiec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kupiec proportion-of-failures test: {lr, p_value, degrees_of_freedom}.",
            discussion: "A table on a terminal; JSON with --json or when standard output is not a terminal.\n\n" + StatsCommand.exitCodes)
        @Option(name: .long, help: "Number of observations, > 0.") var observations: Int
        @Option(name: .long, help: "Number of exceedances, 0...observations.") var exceedances: Int
        @Option(name: .long, help: "Target coverage, e.g. 0.995.") var coverage: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard observations > 0 else { ProcessIO.fail("--observations: must be positive", status: 2) }
            guard (0...observations).contains(exceedances) else { ProcessIO.fail("--exceedances: must be in 0...\(observations)", status: 2) }
            guard let c = FixedDecimal(coverage), c.isPositive, c < .one else { ProcessIO.fail("--coverage: must be a decimal in (0, 1), got \"\(coverage)\"", status: 2) }
            StatsCommand.print(BacktestStatistics.kupiec(observations: observations, exceedances: exceedances, coverage: DoubleBoundary.double(c)),
                               title: "Kupiec POF: \(exceedances) exceedances in \(observations) observations, coverage \(coverage)", output: output)
        }
    }

    struct Christoffersen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Christoffersen independence test of a 0/1 exceedance series (one flag a line): {lr, p_value, n00…n11}.",
            discussion: "A table on a terminal; JSON with --json or when standard output is not a terminal.\n\n" + StatsCommand.exitCodes)
        @Option(name: .long, help: "File of 0/1 flags, one a line (- for standard input).") var series: String
        @Option(name: .long, help: "With a coverage, also print the conditional-coverage test (χ² with 2 degrees of freedom).") var coverage: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bytes: [UInt8]
            do { bytes = try ProcessIO.readInput(series) } catch { ProcessIO.fail("\(error)", status: 2) }
            var flags: [Bool] = []
            for (n, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                guard text == "0" || text == "1" else { ProcessIO.fail("--series: line \(n + 1): expected 0 or 1, got \"\(text.prefix(20))\"", status: 2) }
                flags.append(text == "1")
            }
            guard flags.count >= 2 else { ProcessIO.fail("--series: needs at least two observations", status: 2) }
            let test = BacktestStatistics.christoffersenIndependence(flags)
            let t = BacktestStatistics.transitions(flags)
            var extra = [("n00", String(t.n00)), ("n01", String(t.n01)), ("n10", String(t.n10)), ("n11", String(t.n11))]
            if let coverage {
                guard let c = FixedDecimal(coverage), c.isPositive, c < .one else { ProcessIO.fail("--coverage: must be a decimal in (0, 1)", status: 2) }
                let cc = BacktestStatistics.conditionalCoverage(flags, coverage: DoubleBoundary.double(c))
                extra += [("conditional_coverage_lr", DoubleBoundary.shortestText(cc.statistic)), ("conditional_coverage_p_value", DoubleBoundary.shortestText(cc.pValue))]
            }
            StatsCommand.print(test, title: "Christoffersen independence: \(flags.count) observations, \(flags.filter { $0 }.count) exceedances",
                               extra: extra, output: output)
        }
    }
}
