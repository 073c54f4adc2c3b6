import SolventServer
import Testing

/// A PostgreSQL URL with a typo kept its password in the startup log line and the error message
/// (attacks/README.md, 22): the configuration's description redacts text that is not a URL but
/// holds an `@`, as its doc comment says.
@Suite struct SecretRedactionAttackTests {
    static let malformed = ["postgres//solvent:hunter2@db/x", "postgres:/solvent:hunter2@db/x", "solvent:hunter2@db/x",
                            "postgres:solvent:hunter2@db", "solvent:hunter2@db://x"]

    @Test func malformedURLsAreRedacted() throws {
        var checked = 0
        for url in Self.malformed {
            #expect(!URLRedaction.redacted(url).contains("hunter2"), "\(url)")
            let c = try ServiceConfiguration.resolve(environment: [:], flags: ["--postgres", url, "--data", "/tmp/x"])
            #expect(!c.description.contains("hunter2"), "\(c.description)")
            checked += 1
        }
        #expect(checked == Self.malformed.count)
        // Well-formed URLs keep their shape.
        #expect(URLRedaction.redacted("postgres://solvent:hunter2@db:5432/x") == "postgres://solvent:<redacted>@db:5432/x")
        #expect(URLRedaction.redacted("postgres://solvent@db/x") == "postgres://solvent@db/x")
        #expect(URLRedaction.redacted("https://example.com/hook") == "https://example.com/hook")
    }
}
