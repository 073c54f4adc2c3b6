import Testing

/// `solvent bench pretrade --rate 1e-300` trapped converting an infinite interval to UInt64, and
/// `--accounts` near Int.max overflowed `accounts * 100` (attacks/README.md 26): both exit 2 naming the flag.
@Suite struct BenchArgumentAttackTests {
    @Test func hostileBenchArgumentsExitTwo() throws {
        let cases: [(arguments: [String], flag: String)] = [
            (["bench", "pretrade", "--accounts", "10", "--rate", "1e-300"], "--rate"),
            (["bench", "pretrade", "--accounts", "10", "--rate", "0.5"], "--rate"),
            (["bench", "pretrade", "--accounts", "9223372036854775807"], "--accounts"),
            (["bench", "apply", "--accounts", "9223372036854775807"], "--accounts"),
        ]
        var checked = 0
        for c in cases {
            let result = try runSolvent(c.arguments)
            #expect(result.status == 2, "\(c.arguments): \(result.stderr)")
            #expect(result.stderr.contains(c.flag), "\(c.arguments): \(result.stderr)")
            checked += 1
        }
        #expect(checked == cases.count)
    }
}
