@testable import SolventJournal
import Testing

/// `solvent serve --postgres` with a malformed URL printed the URL, password included, in its
/// error (attacks/README.md, 22). The message now names it redacted; no server is needed (the
/// URL is refused before any connection).
@Suite struct PostgresURLRedactionTests {
    @Test func malformedURLErrorHidesThePassword() {
        var checked = 0
        for url in ["postgres//solvent:hunter2@db/x", "postgres:/solvent:hunter2@db/x", "solvent:hunter2@db/x"] {
            do {
                _ = try PostgresJournal(url: url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(!"\(error)".contains("hunter2"), "\(error)")
                #expect("\(error)".contains("not a PostgreSQL URL"), "\(error)")
                checked += 1
            }
            #expect(!PostgresURL.redacted(url).contains("hunter2"))
        }
        #expect(checked == 3)
        #expect(PostgresURL.redacted("postgres://solvent:hunter2@db:5432/x") == "postgres://<redacted>@db:5432/x")
    }
}
