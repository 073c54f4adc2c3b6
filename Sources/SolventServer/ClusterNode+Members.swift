import Foundation
import Logging
import SolventCore
import SolventJournal
import Synchronization

/// The group as this node last read it from `<schema>.member` (docs/cluster.md "Members"): its
/// own heartbeat every 500 ms, and every member heard from within three leases. Served inside
/// `GET /v1/cluster` as `members` from this cache (a request never waits for PostgreSQL).
final class ClusterMembership: Sendable {
    let table: PostgresMembers?
    private let cache = Mutex<[ClusterMember]>([])
    static let interval = Duration.milliseconds(500)

    init(settings: ClusterSettings) {
        table = try? PostgresMembers(url: settings.postgres, schema: settings.schema)
    }

    var members: [ClusterMember] { cache.withLock { $0 } }
    func store(_ members: [ClusterMember]) { cache.withLock { $0 = members } }
}

extension ClusterNode {
    /// This node's row of the member table, from its status and its engine's atomic sequence.
    func memberRow() -> ClusterMember {
        let s = status
        let applied = engine.journaledSequence
        return ClusterMember(shard: settings.shards > 1 ? settings.shard : 0, nodeID: settings.nodeID, url: settings.advertise, role: s.role.rawValue, epoch: s.epoch,
                             appliedSequence: applied, lagCommands: max(0, s.head - applied), lagMilliseconds: s.lagMilliseconds)
    }

    /// Heartbeats into the member table and caches the group, until cancelled.
    func membersLoop() async {
        guard let table = membership.table else { return }
        let window = Int64(3 * settings.leaseMilliseconds)
        while !Task.isCancelled {
            do {
                membership.store(try await table.heartbeat(memberRow(), withinMilliseconds: window))
            } catch {
                logger.debug("cluster: member heartbeat: \(error)")
            }
            try? await Task.sleep(for: ClusterMembership.interval)
        }
    }

    /// `members` of `GET /v1/cluster`: every node of this node's shard heard from within three
    /// leases (this node's own row as it is now), each with `shard`, `node_id`, `url`, `role`,
    /// `epoch`, `applied_sequence`, `lag_commands`, `lag_ms` and `seen_ms_ago` (ms since its
    /// heartbeat, PostgreSQL's clock). With several shards, also `members_by_shard`: one
    /// `{"shard", "members"}` per shard of the group, 0 first (the table is the group's).
    func writeMembers(_ w: inout JSONWriter) {
        let own = memberRow()
        var rows = membership.members.filter { !($0.shard == own.shard && $0.nodeID == own.nodeID) }
        rows.append(own)
        rows.sort { ($0.shard, $0.nodeID) < ($1.shard, $1.nodeID) }
        w.key("members")
        Self.writeMemberArray(&w, rows.filter { $0.shard == own.shard })
        guard settings.shards > 1 else { return }
        w.key("members_by_shard"); w.beginArray()
        for k in 0..<settings.shards {
            w.beginObject()
            w.key("shard"); w.integer(Int64(k))
            w.key("members")
            Self.writeMemberArray(&w, rows.filter { $0.shard == k })
            w.endObject()
        }
        w.endArray()
    }

    private static func writeMemberArray(_ w: inout JSONWriter, _ rows: [ClusterMember]) {
        w.beginArray()
        for m in rows {
            w.beginObject()
            w.key("shard"); w.integer(Int64(m.shard))
            w.member("node_id", m.nodeID)
            w.member("url", m.url)
            w.member("role", m.role)
            w.key("epoch"); w.integer(m.epoch)
            w.key("applied_sequence"); w.integer(m.appliedSequence)
            w.key("lag_commands"); w.integer(m.lagCommands)
            w.key("lag_ms"); w.integer(m.lagMilliseconds)
            w.key("seen_ms_ago"); w.integer(m.ageMilliseconds)
            w.endObject()
        }
        w.endArray()
    }
}
