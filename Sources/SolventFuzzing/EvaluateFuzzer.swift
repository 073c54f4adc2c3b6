public import SolventCore
import SolventRisk

/// The evaluate fuzzer: a byte string is either JSON text (when it starts with `{`), fed as
/// is to the parser, the evaluate decoder and the evaluator; or a stream of choices that
/// builds an evaluate document (linear, inverse and option instruments, cross, isolated and
/// portfolio accounts) with values at and beyond the range contract's bounds. Any trap is a
/// crash for libFuzzer; a decoder refusal is the expected answer to bad input.
public enum EvaluateFuzzer {
    /// Runs one input.
    public static func run(_ bytes: [UInt8]) {
        let text: [UInt8]
        if bytes.first == UInt8(ascii: "{") {
            text = bytes
        } else {
            var input = FuzzInput(bytes)
            var writer = JSONWriter()
            writer.value(document(&input))
            text = writer.bytes
        }
        guard let json = try? JSONParser.parse(text), let decoded = try? EvaluateInput.decode(json) else { return }
        var total = 0
        EvaluateOutput.render(decoded, chunkBytes: 1 << 16) { total += $0.count }
        precondition(total > 0, "evaluate rendered nothing for a valid document")
    }

    /// An evaluate document built from the input.
    public static func document(_ input: inout FuzzInput) -> JSONValue {
        func d() -> JSONValue { .string(input.decimalText()) }
        func obj(_ members: [(String, JSONValue)]) -> JSONValue { .object(members.map { (key: $0.0, value: $0.1) }) }
        let kinds = ["linear_perpetual", "inverse_perpetual", "option", "linear_future", "inverse_option", "inverse_future"]
        var instruments: [JSONValue] = []
        var marks: [(String, JSONValue)] = []
        var vols: [(String, JSONValue)] = []
        for k in 0..<(1 + input.pick(3)) {
            let kind = input.choose(kinds)
            var members: [(String, JSONValue)] = [
                ("symbol", .string("I\(k)")), ("kind", .string(kind)), ("base", .string("B")),
                ("settle", .string(kind.hasPrefix("inverse") ? "B" : "USDT")),
                ("contract_size", input.byte() & 1 == 0 ? .string("1") : d()),
                ("brackets", .array([obj([("notional_floor", .string("0")), ("notional_cap", input.byte() & 1 == 0 ? .string("1000000") : d()),
                                          ("max_leverage", input.byte() & 1 == 0 ? .string("100") : d()),
                                          ("mmr", input.byte() & 1 == 0 ? .string("0.01") : d())])])),
            ]
            if kind == "option" || kind == "inverse_option" {
                members += [("underlying", .string("I0")), ("strike", d()), ("expiry", .string("2025-01-01T00:00:00Z")),
                            ("right", .string(input.choose(["call", "put"])))]
            }
            if kind.hasSuffix("_future") { members.append(("expiry", .string("2025-01-01T00:00:00Z"))) }
            if kind.hasSuffix("option") { vols.append(("I\(k)", input.byte() & 1 == 0 ? .string("0.6") : d())) }
            instruments.append(obj(members))
            marks.append(("I\(k)", input.byte() & 1 == 0 ? .string("50000") : d()))
        }
        var accounts: [JSONValue] = []
        for k in 0..<(1 + input.pick(3)) {
            var positions: [JSONValue] = []
            for _ in 0..<input.pick(3) {
                var p: [(String, JSONValue)] = [("symbol", .string("I\(input.pick(instruments.count))")), ("quantity", d()),
                                                ("entry_price", input.byte() & 1 == 0 ? .string("50000") : d())]
                if input.byte() & 1 == 1 { p.append(("leverage", d())) }
                if input.byte() & 3 == 0 { p += [("margin_mode", .string("isolated")), ("isolated_margin", d())] }
                positions.append(obj(p))
            }
            var account: [(String, JSONValue)] = [("id", .string("a\(k)")), ("settle", .string(input.byte() & 3 == 0 ? "B" : "USDT")),
                                                  ("collateral", obj([("USDT", d()), ("B", d())])), ("positions", .array(positions))]
            if input.byte() & 3 == 0 { account.append(("mode", .string("portfolio"))) }
            accounts.append(obj(account))
        }
        return obj([("time", .string("2024-06-01T00:00:00Z")), ("valuation_time", .string("2024-06-01T00:00:00Z")),
                    ("implied_vols", .object(vols.map { (key: $0.0, value: $0.1) })), ("assets", obj([("USDT", .string("1")), ("B", d())])),
                    ("haircuts", obj([("B", input.byte() & 1 == 0 ? .string("0.1") : d())])),
                    ("instruments", .array(instruments)), ("marks", .object(marks.map { (key: $0.0, value: $0.1) })),
                    ("accounts", .array(accounts))])
    }
}
