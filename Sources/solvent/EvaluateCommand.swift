import ArgumentParser
import SolventCore
import SolventRisk

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate portfolios by the evaluation contract (DESIGN.md) and print the result as JSON.",
        discussion: "Invalid input exits with status 2 and one line on stderr naming the JSON path and the reason.")

    @Option(name: .long, help: "The input JSON file, or - for standard input.")
    var input: String

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try ProcessIO.readInput(input) } catch { ProcessIO.fail("\(error)", status: 2) }
        let document: JSONValue
        do { document = try JSONParser.parse(bytes) } catch { ProcessIO.fail(error.description, status: 2) }
        let decoded: EvaluateInput
        do { decoded = try EvaluateInput.decode(document) } catch { ProcessIO.fail(error.description, status: 2) }
        EvaluateOutput.render(decoded) { ProcessIO.writeStdout($0) }
    }
}
