import HTTPTypes
import Foundation
public import Hummingbird
public import HummingbirdWebSocket
public import Logging
public import ServiceLifecycle
import SolventCore
import SolventEngine
import SolventJournal
import SolventReserves

/// `solvent serve` assembled: the journaled engine, API keys, webhook outbox, streams and the
/// HTTP server, from a `ServiceConfiguration`.
public struct SolventService: Sendable {
    public let configuration: ServiceConfiguration
    public let engine: EngineService
    public let keys: APIKeyStore
    public let webhooks: WebhookDispatcher?
    public let metrics: ServiceMetrics
    /// The group commit of API writers, bounded by `configuration.commandQueue` (503 beyond it).
    public let commands: CommandBatcher
    /// The first operator key, when this start created the folder's key store (shown once, never stored).
    public let newOperatorKey: String?
    public let logger: Logger
    /// This node in its cluster (nil: a single node; docs/cluster.md).
    public let cluster: ClusterNode?
    /// The shard router and outbox delivery of a sharded group (nil: one shard; docs/cluster.md "Running shards").
    public let shardRouter: ShardRouter?

    /// Opens (or creates) everything in the data folder. `genesis` is used for a new journal.
    public init(configuration: ServiceConfiguration, cluster clusterSettings: ClusterSettings? = nil,
                genesis: @autoclosure () throws -> JSONValue) async throws {
        guard let data = configuration.data else { throw APIError(.badRequest, field: "data", reason: "the data folder is required") }
        self.configuration = configuration
        var logger = Logger(label: "solvent")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        self.logger = logger
        // Secrets (webhook secrets, the PostgreSQL password) are redacted by the description.
        logger.info("configuration: \(configuration)")
        if let clusterSettings {
            // A cluster node (docs/cluster.md): the group's journal as a standby, the group's keys.
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            keys = try APIKeyStore(directory: data)
            let node = try ClusterNode.open(settings: clusterSettings, genesis: { try clusterSettings.shardGenesis(genesis()) },
                                            reservesSecret: try ReservesSecret.load(path: data + "/reserves.secret", create: true),
                                            hub: EventHub(queueLimit: configuration.streamQueue), clock: configuration.clock, keys: keys, logger: logger)
            try await node.syncKeys()
            engine = node.engine
            cluster = node
            shardRouter = clusterSettings.shards > 1 ? try ShardRouter(settings: clusterSettings, logger: logger) : nil
            // A shard's journal was started for this shard (its genesis names it): never another's.
            let configured = await node.engine.shardConfiguration
            guard configured == ShardConfiguration(index: clusterSettings.shards > 1 ? clusterSettings.shard : 0, count: clusterSettings.shards) else {
                throw APIError(.badRequest, field: "shard", reason: "the journal in schema \(clusterSettings.journalSchema) is shard \(configured.index) of \(configured.count), not --shard \(clusterSettings.shard) of --shards \(clusterSettings.shards)")
            }
        } else {
            engine = try EngineService.open(directory: data, genesis: try genesis(), postgres: configuration.postgres, schema: configuration.schema,
                                            snapshotEvery: configuration.snapshotEvery, hub: EventHub(queueLimit: configuration.streamQueue),
                                            clock: configuration.clock)
            keys = try APIKeyStore(directory: data)
            cluster = nil
            shardRouter = nil
        }
        newOperatorKey = await keys.isEmpty ? try await keys.create(role: .operator_, account: nil) : nil
        if newOperatorKey != nil { try await cluster?.syncKeys() }
        if let clusterSettings {
            // A cluster's subscriptions and outbox are the group's (docs/cluster.md "Webhooks in a cluster"):
            // every node has a dispatcher, only the leader runs its rounds.
            // A shard's outbox follows its own journal; subscriptions are the whole group's.
            webhooks = WebhookDispatcher(outbox: try PostgresWebhookOutbox(url: clusterSettings.postgres, schema: clusterSettings.journalSchema,
                                                                           subscriptionsSchema: clusterSettings.schema,
                                                                           shard: clusterSettings.shards > 1 ? clusterSettings.shard : nil,
                                                                           subscriptions: configuration.webhooks),
                                         subscriptions: [], policy: configuration.webhookRetry, logger: logger)
            // Connecting publishes this node's subscriptions to the group (retried by every round).
            _ = try? await webhooks?.outbox.cursor()
        } else {
            webhooks = configuration.webhooks.isEmpty ? nil
                : WebhookDispatcher(outbox: try SQLiteWebhookOutbox(path: data + "/outbox.sqlite", subscriptions: configuration.webhooks),
                                    subscriptions: configuration.webhooks, policy: configuration.webhookRetry, logger: logger)
        }
        metrics = ServiceMetrics()
        commands = CommandBatcher(engine: engine, metrics: metrics, maximumQueue: configuration.commandQueue)
        let limit = FileLimit.raise()
        if limit.soft < 4096 { logger.warning("open files limited to \(limit.soft) (hard limit \(limit.hard)): each connection needs one") }
    }

    /// The HTTP server with its timers (risk summaries; webhook rounds) and `extra` services.
    /// `onRunning` receives the bound port (useful with port 0).
    public func application(extra: [any Service] = [], onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<SolventRequestContext>> {
        let engine = self.engine
        let router = SolventAPI.router(engine: engine, keys: keys, metrics: metrics,
                                       limiter: RateLimiter(perSecond: configuration.rateLimit, burst: configuration.burst), webhooks: webhooks,
                                       cluster: cluster, batcher: commands, shards: shardRouter)
        var services: [any Service] = extra
        if let cluster { services.append(cluster) }
        if let shardRouter, let cluster {
            services.append(shardRouter)
            services.append(ShardDelivery(router: shardRouter, cluster: cluster, batcher: commands, logger: logger))
        }
        services.append(PeriodicTask(name: "risk-stream", interval: .milliseconds(configuration.riskInterval)) { await engine.publishRiskIfChanged() })
        if let webhooks {
            let logger = self.logger
            let cluster = self.cluster
            services.append(PeriodicTask(name: "webhooks", interval: .milliseconds(configuration.webhookInterval)) {
                // In a cluster only the leader delivers; a new leader continues the group's outbox.
                if let cluster, cluster.status.role != .leader {
                    // A standby delivers nothing but keeps its connection, so its subscriptions are
                    // published (again after PostgreSQL restarted) even if it never leads.
                    _ = try? await webhooks.outbox.cursor()
                    return
                }
                do { try await webhooks.round(engine: engine) } catch { logger.error("webhook outbox: \(error)") }
            })
        }
        return SolventAPI.application(router: router, host: configuration.host, port: configuration.port, logger: logger,
                                      services: services, idleTimeout: .milliseconds(configuration.idleTimeout),
                                      headerTimeout: .milliseconds(configuration.headerTimeout), onRunning: onRunning)
    }

    /// After the server stopped: close streams, write a snapshot (the journal is already durable).
    public func shutdown() async throws {
        engine.hub.closeAll(reason: "server shutting down")
        await cluster?.resign()
        // A cluster node whose engine awaits a rebuild (a refused append) writes no snapshot.
        if await engine.isClean { try await engine.snapshot() }
        await closeConnections()
    }

    /// Closes the PostgreSQL connections of a cluster node, in order (member table, lease and
    /// keys, webhook outbox, shard directory), once nothing uses them: postgres-nio asserts a
    /// connection is closed before it is released, and a `deinit` cannot wait for its close.
    public func closeConnections() async {
        await cluster?.closeConnections()
        if let outbox = webhooks?.outbox as? PostgresWebhookOutbox { await outbox.close() }
        await shardRouter?.directory.close()
    }
}

/// The process's open-file limit: `solvent serve` raises the soft limit to the hard limit at
/// start (each connection is a descriptor; with the header and idle timeouts, silent clients
/// are cut before they exhaust it).
enum FileLimit {
    @discardableResult
    static func raise() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}
