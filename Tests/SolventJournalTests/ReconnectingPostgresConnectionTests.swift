import Foundation
import NIOCore
import PostgresNIO
@testable import SolventJournal
import Synchronization
import Testing

/// The one reconnecting connection the lease, the keys, the member table, the shard directory and
/// the webhook outbox share (Sources/SolventJournal/ReconnectingPostgresConnection.swift).
/// PostgreSQL from `SOLVENT_TEST_POSTGRES_URL`; under CI a missing URL fails, elsewhere skipped.
@Suite(.serialized) struct ReconnectingPostgresConnectionTests {
    static let enabled = Backend.available.contains(.postgres)

    /// A setup that fails is not kept: the call fails naming the purpose and "setting up", and
    /// the next call runs the setup again on a new connection (two setups, one connection kept).
    @Test(.enabled(if: enabled)) func failedSetupRunsAgainOnTheNextCall() async throws {
        let url = try LeaseTests.url()
        let setups = Mutex(0)
        let connection = ReconnectingPostgresConnection(purpose: "probe", configuration: try PostgresURL.configuration(url), id: 9) { c in
            let n = setups.withLock { n -> Int in n += 1; return n }
            _ = try await c.query("SELECT 1", []).get()
            if n == 1 { throw JournalError("first setup refused") }
        }
        var message = ""
        do { try await connection.query("SELECT 1") } catch { message = "\(error)" }
        #expect(message.hasPrefix("probe: setting up PostgreSQL:"), "got \(message)")
        let rows = try await connection.query("SELECT 41 + 1 AS n")
        var values: [Int64] = []
        for row in rows.rows { if let n = row.column("n")?.int64 { values.append(n) } }
        #expect(values == [42])
        #expect(setups.withLock { $0 } == 2, "the setup ran again on the next call")
        _ = try await connection.query("SELECT 1")
        #expect(setups.withLock { $0 } == 2, "a set-up connection is kept: no third setup")
        await connection.close()
    }

    /// A statement that fails without closing the connection keeps it; one that kills the
    /// backend closes it, and the next call connects (and sets up) afresh.
    @Test(.enabled(if: enabled)) func reconnectsAfterTheBackendDies() async throws {
        let url = try LeaseTests.url()
        let setups = Mutex(0)
        let connection = ReconnectingPostgresConnection(purpose: "probe", configuration: try PostgresURL.configuration(url), id: 9) { _ in
            setups.withLock { $0 += 1 }
        }
        var message = ""
        do { try await connection.query("SELECT * FROM no_such_table_here", quoting: true) } catch { message = "\(error)" }
        #expect(message.hasPrefix("probe: PostgreSQL:"), "got \(message)")
        #expect(message.hasSuffix("in: SELECT * FROM no_such_table_here"), "quoting names the statement: \(message)")
        _ = try await connection.query("SELECT 1")
        #expect(setups.withLock { $0 } == 1, "a failed statement on a live connection keeps it")
        var killed = 0
        do { try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())") } catch {
            // SQLSTATE 57P01 (admin_shutdown): the connection is dropped at once, though postgres-nio
            // may not report it closed yet — reusing it would fail with "connection closed".
            killed += 1
        }
        #expect(killed == 1, "terminating its own backend fails the statement")
        _ = try await connection.query("SELECT 1")
        #expect(setups.withLock { $0 } == 2, "the next call connected and set up afresh")
        await connection.close()
        _ = try await connection.query("SELECT 1")
        #expect(setups.withLock { $0 } == 3, "after close() the next call reconnects")
        await connection.close()
    }

    /// A refused connection names the purpose and "cannot connect".
    @Test func refusedConnectionNamesThePurpose() async throws {
        let connection = ReconnectingPostgresConnection(purpose: "probe", configuration: try PostgresURL.configuration("postgres://nobody@127.0.0.1:1/none"), id: 9)
        var message = ""
        do { try await connection.query("SELECT 1") } catch { message = "\(error)" }
        #expect(message.hasPrefix("probe: cannot connect to PostgreSQL:"), "got \(message)")
    }

    /// Which errors drop the connection, without a server: the future-based API's legacy
    /// `PostgresError` (what `query` sees; the backend test above can pass by a race when
    /// postgres-nio has already marked the connection closed) and other errors.
    @Test func lostConnectionErrorsAreRecognised() throws {
        #expect(ReconnectingPostgresConnection.losesConnection(PostgresError.connectionClosed))
        #expect(!ReconnectingPostgresConnection.losesConnection(PostgresError.protocol("unexpected message")))
        #expect(!ReconnectingPostgresConnection.losesConnection(JournalError("not PostgreSQL's")))
        #expect(ReconnectingPostgresConnection.losesConnection(PostgresError.server(try Self.serverError(sqlState: "57P01"))), "admin_shutdown")
        #expect(ReconnectingPostgresConnection.losesConnection(PostgresError.server(try Self.serverError(sqlState: "08006"))), "connection_failure")
        #expect(!ReconnectingPostgresConnection.losesConnection(PostgresError.server(try Self.serverError(sqlState: "42P01"))), "undefined_table keeps it")
    }

    /// An ErrorResponse body as the server sends it: (field byte, text, NUL)*.
    @available(*, deprecated, message: "PostgresMessage.Error.parse is the only public way to build one")
    static func serverError(sqlState: String) throws -> PostgresMessage.Error {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(ascii: "C"))
        buffer.writeString(sqlState)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt8(ascii: "M"))
        buffer.writeString("probe")
        buffer.writeInteger(UInt8(0))
        return try PostgresMessage.Error.parse(from: &buffer)
    }
}
