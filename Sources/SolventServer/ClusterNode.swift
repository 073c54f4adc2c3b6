import Foundation
public import Logging
public import ServiceLifecycle
import SolventCore
public import SolventJournal
import Synchronization

/// A node of a cluster (docs/cluster.md): `solvent serve --postgres URL --node-id ID --advertise URL`.
public struct ClusterSettings: Sendable {
    /// This node's id (unique in the group).
    public var nodeID: String
    /// The URL clients reach this node at (standbys redirect writes to the leader's).
    public var advertise: String
    /// The lease's duration; the leader renews it every third.
    public var leaseMilliseconds: Int
    /// The group's snapshot interval: standbys check their state hash at these sequences.
    public var snapshotEvery: Int
    public var postgres: String
    /// The group's schema: its API keys; its journal and lease too when there is one shard.
    public var schema: String
    /// Shards of the group (1: stage 1) and this node's (docs/cluster.md "Running shards").
    public var shards = 1
    public var shard = 0
    /// The schema of this node's journal, lease and snapshots: `<schema>_s<shard>` when there are
    /// several shards, else `schema`.
    public var journalSchema: String { shards > 1 ? "\(schema)_s\(shard)" : schema }

    public init(nodeID: String, advertise: String, leaseMilliseconds: Int = 2_000, snapshotEvery: Int = 1_000, postgres: String, schema: String) {
        self.nodeID = nodeID
        self.advertise = advertise
        self.leaseMilliseconds = leaseMilliseconds
        self.snapshotEvery = snapshotEvery
        self.postgres = postgres
        self.schema = schema
    }
}

/// A node's role: the one leader appends; standbys follow the journal.
public enum ClusterRole: String, Sendable {
    case leader, standby
}

/// What a node knows about the group (served by `GET /v1/cluster` and `/metrics`).
public struct ClusterStatus: Sendable {
    public var role: ClusterRole = .standby
    /// The epoch this node leads at (leader), or the lease's last seen epoch (standby).
    public var epoch: Int64 = 0
    public var leaderID: String?
    public var leaderURL: String?
    /// The journal's last sequence when last read.
    public var head: Int64 = 0
    /// Milliseconds this standby has been behind the journal's head (0: caught up).
    public var lagMilliseconds: Int64 = 0
    public var renewals = 0
    /// Leases lost (not renewed in time, or taken over): each a step down.
    public var losses = 0
    public var takeovers = 0
    /// Snapshot state hashes that differed from this node's own at the same sequence.
    public var divergences = 0
    /// The last snapshot sequence whose state hash this node checked.
    public var verified: Int64 = 0
}

/// Leadership and standby duty of one node: holds or watches the lease, follows the journal
/// (woken by LISTEN, and on a timer), takes over when the lease lapses, steps down when it cannot
/// renew; shares API keys through PostgreSQL. Runs as a service of the application.
public final class ClusterNode: Service, Sendable {
    public let settings: ClusterSettings
    public let engine: EngineService
    let journal: PostgresJournal
    let lease: PostgresLease
    let keys: APIKeyStore
    let logger: Logger
    /// The group's member table and this node's cached read of it (ClusterNode+Members.swift).
    let membership: ClusterMembership
    private let state = Mutex(ClusterStatus())
    /// This standby's state hashes at snapshot sequences, waiting for the leader's snapshot.
    private let ownHashes = Mutex([Int64: String]())
    /// When this standby first saw the head ahead of its engine (nil: caught up).
    private let behindSince = Mutex<ContinuousClock.Instant?>(nil)

    public var status: ClusterStatus { state.withLock { $0 } }

    init(settings: ClusterSettings, engine: EngineService, journal: PostgresJournal, lease: PostgresLease, keys: APIKeyStore, logger: Logger) {
        self.settings = settings
        self.engine = engine
        self.journal = journal
        self.lease = lease
        self.keys = keys
        self.logger = logger
        self.membership = ClusterMembership(settings: settings)
    }

    /// Opens the group's journal as a standby (creating it from `genesis` when no node did yet)
    /// and the engine recovered from it.
    public static func open(settings: ClusterSettings, genesis: () throws -> JSONValue, reservesSecret: [UInt8]?, hub: EventHub,
                            clock: ServiceClock, keys: APIKeyStore, logger: Logger) throws -> ClusterNode {
        let journal = try PostgresJournal(url: settings.postgres, schema: settings.journalSchema)
        journal.fence = .standby
        // A leader paused inside an append must not hold the lease row's lock past its lease.
        try journal.limitIdleInTransaction(milliseconds: max(100, settings.leaseMilliseconds))
        let journaled: JournaledEngine
        if try journal.read().genesis != nil {
            journaled = try JournaledEngine.recover(journal: journal, snapshotEvery: settings.snapshotEvery).engine
        } else {
            do {
                journaled = try JournaledEngine.create(scenario: genesis(), journal: journal, snapshotEvery: settings.snapshotEvery)
            } catch where (try? journal.read().genesis) != nil {
                // Another node wrote the genesis first.
                journaled = try JournaledEngine.recover(journal: journal, snapshotEvery: settings.snapshotEvery).engine
            }
        }
        let engine = EngineService(journaled: journaled, reservesSecret: reservesSecret, hub: hub, snapshotEvery: settings.snapshotEvery, clock: clock)
        let lease = try PostgresLease(url: settings.postgres, schema: settings.journalSchema, node: settings.nodeID, advertise: settings.advertise,
                                      milliseconds: settings.leaseMilliseconds, keysSchema: settings.schema)
        return ClusterNode(settings: settings, engine: engine, journal: journal, lease: lease, keys: keys, logger: logger)
    }

    // MARK: - Running

    public func run() async throws {
        // Before this node can lead (it starts as a standby): a refused batch is undone.
        await engine.keepStateBeforeBatches()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.leadershipLoop() }
                group.addTask { await self.listenLoop() }
                group.addTask { await self.keysLoop() }
                group.addTask { await self.membersLoop() }
                await group.waitForAll()
            }
        }
        await resign()
        await membership.table?.close()
    }

    /// Gives the lease up (a clean shutdown): a standby takes over without waiting for expiry.
    public func resign() async {
        let current = status
        guard current.role == .leader else { return }
        await engine.setFence(journal, .standby)
        state.withLock { $0.role = .standby }
        try? await lease.release(epoch: current.epoch)
        logger.notice("cluster: \(settings.nodeID) released the lease at epoch \(current.epoch)")
    }

    private var standbyTick: Duration { .milliseconds(min(200, max(20, settings.leaseMilliseconds / 10))) }

    private func leadershipLoop() async {
        let leaseDuration = Duration.milliseconds(settings.leaseMilliseconds)
        var lastRenewal = ContinuousClock.now
        var nextRenewal = ContinuousClock.now
        while !Task.isCancelled {
            if status.role == .leader {
                let now = ContinuousClock.now
                if now >= nextRenewal {
                    nextRenewal = now + leaseDuration / 3
                    do {
                        if try await lease.renew(epoch: status.epoch) {
                            lastRenewal = now
                            state.withLock { $0.renewals += 1 }
                        } else {
                            await stepDown("the lease expired or was taken over")
                        }
                    } catch {
                        logger.warning("cluster: renewing the lease failed: \(error)")
                    }
                }
                // PostgreSQL's clock decides (every append is fenced); this node stops accepting
                // as soon as its own clock says the lease may have lapsed.
                if status.role == .leader, ContinuousClock.now - lastRenewal >= leaseDuration {
                    await stepDown("the lease was not renewed for \(settings.leaseMilliseconds) ms")
                }
                if status.role == .leader {
                    let sequence = await engine.journalSequence
                    state.withLock { $0.head = sequence; $0.lagMilliseconds = 0 }
                }
                try? await Task.sleep(for: min(standbyTick, leaseDuration / 6))
            } else {
                await catchUp()
                let attempt = ContinuousClock.now
                if await observeLeaseAndAcquire() {
                    lastRenewal = attempt
                    nextRenewal = attempt + leaseDuration / 3
                    continue
                }
                try? await Task.sleep(for: standbyTick)
            }
        }
    }

    /// Reads the lease; when it lapsed, takes it (epoch + 1), catches up to the frozen journal and
    /// starts leading. True when this node leads now.
    private func observeLeaseAndAcquire() async -> Bool {
        do {
            let current = try await lease.current()
            state.withLock {
                $0.leaderID = current.live ? current.holder : nil
                $0.leaderURL = current.live ? current.advertise : nil
                $0.epoch = current.epoch
            }
            guard !current.live, status.divergences == 0 else { return false }
            guard let epoch = try await lease.acquire() else { return false }
            return await takeOver(epoch: epoch)
        } catch {
            logger.debug("cluster: lease: \(error)")
            return false
        }
    }

    /// Leads at `epoch`: nobody else can append now (fenced by the epoch), so the journal's head
    /// is final; catch up to it (this node's fence still refuses), then open the fence.
    private func takeOver(epoch: Int64) async -> Bool {
        do {
            while true {
                let step = try await engine.follow(journal, limit: 1000, hashEvery: 0)
                if step.applied == 0 { break }
            }
            let head = try await engine.journalHead(journal)
            let applied = await engine.journalSequence
            guard applied == head else { throw JournalError("caught up to \(applied) but the journal's head is \(head)") }
            await engine.setFence(journal, .leader(lease: lease.name, holder: settings.nodeID, epoch: epoch))
            state.withLock {
                $0.role = .leader
                $0.epoch = epoch
                $0.leaderID = settings.nodeID
                $0.leaderURL = settings.advertise
                $0.head = head
                $0.lagMilliseconds = 0
                $0.takeovers += 1
            }
            behindSince.withLock { $0 = nil }
            logger.notice("cluster: \(settings.nodeID) leads at epoch \(epoch) from sequence \(head)")
            return true
        } catch {
            logger.error("cluster: taking over at epoch \(epoch) failed: \(error)")
            await engine.setFence(journal, .standby)
            try? await lease.release(epoch: epoch)
            return false
        }
    }

    private func stepDown(_ reason: String) async {
        await engine.setFence(journal, .standby)
        state.withLock {
            $0.role = .standby
            $0.losses += 1
            $0.leaderID = nil
            $0.leaderURL = nil
        }
        logger.warning("cluster: \(settings.nodeID) steps down: \(reason)")
    }

    /// A standby's catch-up: applies every journaled command after its engine's, checks its state
    /// hash against the leader's snapshots, and records its lag.
    func catchUp() async {
        guard status.role == .standby else { return }
        do {
            let every = Int64(settings.snapshotEvery)
            while !Task.isCancelled {
                let step = try await engine.follow(journal, limit: 1000, hashEvery: every)
                if let hash = step.stateHash {
                    ownHashes.withLock {
                        $0[step.sequence] = hash
                        if $0.count > 64, let oldest = $0.keys.min() { $0.removeValue(forKey: oldest) }
                    }
                }
                if step.applied == 0 { break }
            }
            let head = try await engine.journalHead(journal)
            let applied = await engine.journalSequence
            let now = ContinuousClock.now
            let lag: Duration = behindSince.withLock { since in
                if applied >= head { since = nil; return .zero }
                if since == nil { since = now }
                return now - since!
            }
            state.withLock {
                $0.head = head
                $0.lagMilliseconds = Int64(lag / .milliseconds(1))
            }
            try await verifyHashes()
        } catch {
            logger.warning("cluster: catching up failed: \(error)")
        }
    }

    /// Compares this standby's state hashes with the leader's snapshots at the same sequences.
    private func verifyHashes() async throws {
        let verified = status.verified
        let own = ownHashes.withLock { $0 }
        guard let newest = own.keys.max(), newest > verified else { return }
        var last = verified
        for (sequence, hash) in try await engine.snapshotHashes(journal, after: verified) where sequence <= newest {
            guard let mine = own[sequence] else { continue }
            if mine != hash {
                state.withLock { $0.divergences += 1 }
                logger.critical("cluster: state hash at sequence \(sequence) is \(mine) here but \(hash) in the leader's snapshot: this node will not take over")
            }
            last = max(last, sequence)
        }
        let checked = last
        state.withLock { $0.verified = checked }
        ownHashes.withLock { hashes in hashes = hashes.filter { $0.key > checked } }
    }

    /// LISTEN on the journal's channel: each commit of the leader wakes a catch-up at once.
    private func listenLoop() async {
        while !Task.isCancelled {
            do {
                try await PostgresLease.listen(url: settings.postgres, channel: journal.notificationChannel) { [weak self] _ in
                    await self?.catchUp()
                }
            } catch {
                logger.debug("cluster: listen: \(error)")
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    // MARK: - API keys shared through PostgreSQL

    /// Publishes this node's keys to the group and takes the group's: every node authenticates the same keys.
    public func syncKeys() async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let local = await keys.exportKeys()
        try await lease.publishKeys(try local.map { ($0.hash, String(decoding: try encoder.encode($0), as: UTF8.self)) })
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let shared = try await lease.sharedKeys().compactMap { try? decoder.decode(APIKeyStore.StoredKey.self, from: Data($0.utf8)) }
        try await keys.merge(shared: shared)
    }

    private func keysLoop() async {
        while !Task.isCancelled {
            do { try await syncKeys() } catch { logger.debug("cluster: key sync: \(error)") }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Reporting

    /// `GET /v1/cluster`: node id, role, leader id and URL, epoch, applied sequence, the state hash
    /// there, the journal's head and the lag.
    public func document(extra: ((inout JSONWriter) -> Void)? = nil) async -> String {
        let (sequence, hash) = await engine.sequenceAndHash()
        let s = status
        var w = JSONWriter()
        w.beginObject()
        w.member("node_id", settings.nodeID)
        w.member("role", s.role.rawValue)
        w.key("leader_id"); if let id = s.leaderID { w.string(id) } else { w.null() }
        w.key("leader_url"); if let url = s.leaderURL { w.string(url) } else { w.null() }
        w.key("epoch"); w.integer(s.epoch)
        w.key("applied_sequence"); w.integer(sequence)
        w.member("state_hash", hash)
        w.key("head_sequence"); w.integer(max(s.head, sequence))
        w.key("lag_commands"); w.integer(max(0, s.head - sequence))
        w.key("lag_ms"); w.integer(s.lagMilliseconds)
        w.key("lease_ms"); w.integer(Int64(settings.leaseMilliseconds))
        writeMembers(&w)
        extra?(&w)
        w.endObject()
        return w.string
    }

    /// The cluster's lines of `/metrics` (Prometheus text format).
    public func metricsText(applied: Int64) -> String {
        let s = status
        return """
            # HELP solvent_cluster_role This node's role (1 for the role it has).
            # TYPE solvent_cluster_role gauge
            solvent_cluster_role{role="leader"} \(s.role == .leader ? 1 : 0)
            solvent_cluster_role{role="standby"} \(s.role == .standby ? 1 : 0)
            # HELP solvent_cluster_epoch The lease epoch this node leads at, or last saw.
            # TYPE solvent_cluster_epoch gauge
            solvent_cluster_epoch \(s.epoch)
            # HELP solvent_cluster_lag_commands Journaled commands this node has not applied yet.
            # TYPE solvent_cluster_lag_commands gauge
            solvent_cluster_lag_commands \(max(0, s.head - applied))
            # HELP solvent_cluster_lag_milliseconds How long this standby has been behind the journal's head.
            # TYPE solvent_cluster_lag_milliseconds gauge
            solvent_cluster_lag_milliseconds \(s.lagMilliseconds)
            # HELP solvent_cluster_lease_renewals_total Lease renewals by this node.
            # TYPE solvent_cluster_lease_renewals_total counter
            solvent_cluster_lease_renewals_total \(s.renewals)
            # HELP solvent_cluster_lease_losses_total Leases this node lost (stepped down).
            # TYPE solvent_cluster_lease_losses_total counter
            solvent_cluster_lease_losses_total \(s.losses)
            # HELP solvent_cluster_takeovers_total Times this node took the lease.
            # TYPE solvent_cluster_takeovers_total counter
            solvent_cluster_takeovers_total \(s.takeovers)
            # HELP solvent_cluster_divergences_total Snapshot state hashes that differed from this node's.
            # TYPE solvent_cluster_divergences_total counter
            solvent_cluster_divergences_total \(s.divergences)

            """
    }
}

extension ServiceConfiguration {
    /// This node's cluster settings: a cluster node exactly when `postgres` and `node_id` are set
    /// (docs/cluster.md); nil for a single node.
    public var clusterSettings: ClusterSettings? {
        guard let postgres, let nodeID else { return nil }
        var settings = ClusterSettings(nodeID: nodeID, advertise: advertise ?? "http://\(host):\(port)", leaseMilliseconds: leaseMilliseconds,
                                       snapshotEvery: snapshotEvery, postgres: postgres, schema: schema)
        settings.shards = shards
        settings.shard = shard
        return settings
    }
}
