import ArgumentParser
import SolventCore
import SolventLab
import SolventRisk

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Evaluate the bundled example book and print a table of account margin states.")

    @Flag(name: .long, help: "Print the example input JSON instead of the table.")
    var printInput = false

    func run() throws {
        if printInput {
            ProcessIO.writeStdout(DemoPortfolio.json + "\n")
            return
        }
        let input = try EvaluateInput.decode(JSONParser.parse(DemoPortfolio.json))
        ProcessIO.writeStdout(DemoTable.render(input))
    }
}
