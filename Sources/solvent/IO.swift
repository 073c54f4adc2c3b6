import ArgumentParser
import Foundation

/// Process-level I/O helpers for the command line (the libraries do no I/O).
enum ProcessIO {
    /// Reads a whole file, or standard input for `-`.
    static func readInput(_ path: String) throws -> [UInt8] {
        if path == "-" {
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read input file \"\(path)\"")
        }
        return [UInt8](data)
    }

    static func writeStdout(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    static func writeStdout(_ text: String) { writeStdout(Array(text.utf8)) }

    /// Creates a folder (and its parents) if it does not exist.
    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Prints one line on standard error.
    static func writeStderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints one line on standard error and exits with `status`.
    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((message.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
        exit(status)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The output convention of commands meant for people (docs/operations.md, "Command-line
/// conventions"): a readable table when standard output is a terminal, JSON (one document)
/// with `--json` or when it is not (pipes, files, tests and scripts always get JSON).
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (the default when standard output is not a terminal).") var json = false
    @Flag(name: .long, help: "Print a table (the default on a terminal).") var table = false

    func validate() throws {
        if json && table { throw ValidationError("--json and --table exclude each other") }
    }

    /// Whether to print the table.
    var asTable: Bool { table || (!json && isatty(1) != 0) }

    /// Prints `json` (plus a newline), or the ready-made `table` (the lab commands' wide tables).
    func print(json: String, table: String) {
        ProcessIO.writeStdout(asTable ? table.trimmingCharacters(in: .newlines) + "\n" : json + "\n")
    }

    /// Prints `json` (plus a newline), or the table of `rows` (label, value) with `title`.
    func print(json: String, title: String, rows: [(String, String)]) {
        ProcessIO.writeStdout(asTable ? TextTable.render(title: title, rows: rows) : json + "\n")
    }
}

/// A two-column text table: labels left-aligned, values right-aligned; numbers shown with at
/// most 8 significant digits (the JSON output keeps every digit).
enum TextTable {
    static func render(title: String, rows: [(String, String)]) -> String {
        let shown = rows.map { ($0.0, readable($0.1)) }
        let labelWidth = shown.map(\.0.count).max() ?? 0
        let valueWidth = shown.map(\.1.count).max() ?? 0
        var out = title + "\n" + String(repeating: "─", count: max(title.count, labelWidth + 2 + valueWidth)) + "\n"
        for (label, value) in shown {
            out += label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: valueWidth - value.count) + value + "\n"
        }
        return out
    }

    /// `text` with at most 8 significant digits when it is a number with a fraction.
    static func readable(_ text: String) -> String {
        guard text.contains("."), let value = Double(text), value.isFinite else { return text }
        var s = String(format: "%.8g", value)
        if s.contains("e") { return s }
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}
