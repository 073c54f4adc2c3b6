import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// One PostgreSQL connection of a cluster part (lease, keys, members, shard directory, webhook
/// outbox), kept apart from the journal's so a slow append never delays it (docs/cluster.md).
///
/// - Opened on the first `query`, then set up by `setup` (schemas, tables, session settings);
///   kept only once set up: a connection whose setup failed is closed, and the next call
///   connects afresh instead of querying tables that may not exist.
/// - After a failed statement that closed the connection, the next call reconnects.
/// - Errors are `JournalError`s named by `purpose`: "`purpose`: cannot connect to PostgreSQL: …",
///   "`purpose`: setting up PostgreSQL: …", "`purpose`: PostgreSQL: …".
/// - `close()` closes it in order (postgres-nio asserts a connection is closed before it is
///   released); `deinit` closes what is left, then stops its one-thread event loop group.
///
/// Concurrent callers may both connect when none is open; the first one kept wins and the other
/// closes its own, so at most one connection stays open.
public final class ReconnectingPostgresConnection: Sendable {
    /// Names the connection in errors and logs, e.g. `lease`, `keys`, `members`.
    public let purpose: String
    private let configuration: PostgresConnection.Configuration
    private let connectionID: Int
    private let setup: @Sendable (PostgresConnection) async throws -> Void
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let current = Mutex<PostgresConnection?>(nil)

    /// - Parameters:
    ///   - purpose: the name in errors and the logger's label (`solvent.postgres.<purpose>`).
    ///   - configuration: where to connect (`PostgresURL.configuration`).
    ///   - id: postgres-nio's connection id (shows in its logs).
    ///   - setup: statements run once on each new connection before it is used.
    public init(purpose: String, configuration: PostgresConnection.Configuration, id: Int,
                setup: @escaping @Sendable (PostgresConnection) async throws -> Void = { _ in }) {
        self.purpose = purpose
        self.configuration = configuration
        connectionID = id
        self.setup = setup
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        logger = Logger(label: "solvent.postgres.\(purpose)")
    }

    deinit {
        if let open = current.withLock({ $0 }) { let closing: EventLoopFuture<Void> = open.close(); _ = closing }
        let group = self.group
        group.shutdownGracefully { _ in }
    }

    /// The open connection, or a new one once `setup` has run on it.
    public func connected() async throws -> PostgresConnection {
        if let open = current.withLock({ c -> PostgresConnection? in
            if let c, !c.isClosed { return c }
            return nil
        }) { return open }
        let fresh: PostgresConnection
        do {
            fresh = try await PostgresConnection.connect(on: group.next(), configuration: configuration, id: connectionID, logger: logger).get()
        } catch {
            throw JournalError("\(purpose): cannot connect to PostgreSQL: \(String(reflecting: error))")
        }
        do {
            try await setup(fresh)
        } catch {
            try? await fresh.close().get()
            throw JournalError("\(purpose): setting up PostgreSQL: \(String(reflecting: error))")
        }
        let kept = current.withLock { c -> PostgresConnection in
            if let c, !c.isClosed { return c }
            c = fresh
            return fresh
        }
        if kept !== fresh { try? await fresh.close().get() }
        return kept
    }

    /// Runs `sql` with `binds` (reconnecting first when needed). With `quoting`, a failure's
    /// message ends with the statement's first 80 characters.
    @discardableResult
    public func query(_ sql: String, _ binds: [PostgresData] = [], quoting: Bool = false) async throws -> PostgresQueryResult {
        let connection = try await connected()
        do {
            return try await connection.query(sql, binds).get()
        } catch {
            if connection.isClosed || Self.losesConnection(error) {
                current.withLock { c in if c === connection { c = nil } }
                // Closed before it is released (postgres-nio asserts it).
                if !connection.isClosed { try? await connection.close().get() }
            }
            throw JournalError("\(purpose): PostgreSQL: \(String(reflecting: error))" + (quoting ? " in: \(sql.prefix(80))" : ""))
        }
    }

    /// Whether `error` means the connection is gone or going, though `isClosed` may not say so
    /// yet (postgres-nio closes it asynchronously): the socket closed or failed, or the server
    /// ended the session — SQLSTATE class 08 (connection exception) or 57P (operator
    /// intervention, e.g. `pg_terminate_backend`, a shutdown). Such a connection is dropped and
    /// the next call connects afresh; any other error keeps it.
    static func losesConnection(_ error: any Error) -> Bool {
        // The future-based `query(_:_:)` reports the legacy `PostgresError`.
        if let legacy = error as? PostgresError {
            switch legacy {
            case .connectionClosed: return true
            case .server(let message):
                let state = message.fields[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P")
            case .protocol: return false
            }
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default: return false
        }
    }

    /// Closes the connection, if open (the next call reconnects).
    public func close() async {
        let open = current.withLock { c -> PostgresConnection? in
            defer { c = nil }
            return c
        }
        if let open { try? await open.close().get() }
    }
}
