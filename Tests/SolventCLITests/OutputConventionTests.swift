import Foundation
import Testing

/// The command-line conventions of docs/operations.md: tables on a terminal, JSON with `--json`
/// or without a terminal (tests run without one), `--version`, exit codes in `--help`, usage
/// errors exit 2.
@Suite struct OutputConventionTests {
    static let option = ["option", "--forward", "65000", "--strike", "70000", "--years", "0.25", "--vol", "0.6", "--right", "call"]
    static let kupiec = ["stats", "kupiec", "--observations", "1000", "--exceedances", "12", "--coverage", "0.995"]

    @Test func jsonWithoutTerminal() throws {
        for arguments in [Self.option, Self.kupiec, Self.option + ["--json"], Self.kupiec + ["--json"]] {
            let result = try runSolvent(arguments)
            #expect(result.status == 0)
            #expect((try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) is [String: Any], "\(arguments)")
        }
    }

    @Test func table() throws {
        let option = try runSolvent(Self.option + ["--table"])
        #expect(option.status == 0)
        #expect(option.stdout.hasPrefix("Black-76 call"))
        #expect(option.stdout.contains("theta (per year)"))
        let kupiec = try runSolvent(Self.kupiec + ["--table"])
        #expect(kupiec.stdout.contains("likelihood ratio"))
        #expect(kupiec.stdout.contains("7.0606118"))
        let volatility = try runSolvent(["volatility", "--data", packageRoot.appendingPathComponent("Examples/data/BTCUSDT-1h-2022-05-luna.csv").path, "--table"])
        #expect(volatility.status == 0)
        #expect(volatility.stdout.contains("GARCH β"))
        let both = try runSolvent(Self.option + ["--json", "--table"])
        #expect(both.status == 2)
        #expect(both.stdout.isEmpty)
    }

    @Test func version() throws {
        let result = try runSolvent(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.range(of: #"^solvent \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{7,}(-dirty)?|unknown), built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$"#,
                                    options: .regularExpression) != nil, "\(result.stdout)")
    }

    @Test func exitCodesInHelp() throws {
        for command in [["--help"], ["option", "--help"], ["volatility", "--help"], ["stats", "kupiec", "--help"], ["stats", "christoffersen", "--help"]] {
            let result = try runSolvent(command)
            #expect(result.status == 0)
            #expect(result.stdout.contains("Exit status: 0"), "\(command)")
        }
        let usage = try runSolvent(["option", "--forward", "1"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("Missing expected argument"))
    }
}
