import SolventCore

/// Reading the journal's previous formats, once, when a data folder is migrated: before the
/// event store, a command's events were kept only as JSON lines in `result`, and the API's
/// request hash inside the command's JSON body. The migrations copy them into the `event`
/// table and the `request_sha256` column; nothing else reads these formats.
enum LegacyFormat {
    /// The events of a `result` body (JSON lines, one `EngineEvent.json` per line), each
    /// line kept byte for byte as the stored body.
    static func events(result body: [UInt8], command: Int64) -> [StoredEvent] {
        body.split(separator: UInt8(ascii: "\n")).compactMap { line -> StoredEvent? in
            guard let event = try? JSONParser.parse(Array(line)), case .string(let kind)? = event["type"],
                  case .number(let seq)? = event["seq"], let sequence = Int64(seq),
                  case .number(let t)? = event["time"], let time = Int64(t) else { return nil }
            let account: String? = if case .string(let a)? = event["account"] { a } else { nil }
            return StoredEvent(sequence: sequence, command: command, time: time, kind: kind, account: account,
                               body: String(decoding: line, as: UTF8.self))
        }
    }

    /// The `request_sha256` member of a command body journaled by the previous format.
    static func requestHash(body: [UInt8]) -> String? {
        guard let text = Optional(String(decoding: body, as: UTF8.self)), text.contains("\"request_sha256\""),
              case .string(let hash)? = try? JSONParser.parse(body)["request_sha256"] else { return nil }
        return hash
    }
}
