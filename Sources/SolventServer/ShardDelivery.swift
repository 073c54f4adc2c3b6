import Foundation
public import Logging
public import ServiceLifecycle
import SolventCore
public import SolventEngine
import SolventJournal
import Synchronization

/// Delivery of cross-shard outbox messages (docs/cluster.md "Delivery of outbox messages"), run by
/// every node of a sharded group and active while the node leads its shard.
///
/// A message is an `outbox_message` event of its sender's journal (journaled with the command that
/// caused it). The **receiver's leader pulls**: for every sender shard S it reads S's event store
/// (the same PostgreSQL) after the cursor `S.delivery_cursor[receiver]`, and for each message
/// addressed to its shard appends `deliver {message id, from shard, body}` to its own journal
/// through its own command batcher (key: the message id), then moves the cursor in S's schema past
/// what it delivered. The cursor moves only after the `deliver` commands committed, so delivery is
/// at least once; the engine's idempotent consumer (keyed by message id, in its state) and the
/// journal's idempotency key make it exactly once. A new leader continues from the cursor.
///
/// Pulling needs no internal HTTP and no system key: `deliver` is never accepted from a client
/// (`Action.deliverMessages` is granted to no role); it enters a journal only here.
///
/// **Wake-up.** The node LISTENs on every other shard's journal channel (the channel each fenced
/// append notifies at its commit, `PostgresJournal.notificationChannel`, the one standbys listen
/// on): a sender's commit wakes a delivery round at once. A poll every `fallback` (1 s) remains
/// for a lost notification or a LISTEN connection being re-established.
public final class ShardDelivery: Service, Sendable {
    let router: ShardRouter
    let cluster: ClusterNode
    let batcher: CommandBatcher
    let logger: Logger
    /// Messages read per sender and round.
    static let pageSize = 256
    /// Longest pause between rounds when nothing was delivered and no sender's commit woke us
    /// (before the LISTEN wake-up: a fixed 100 ms poll).
    static let fallback = Duration.seconds(1)

    public init(router: ShardRouter, cluster: ClusterNode, batcher: CommandBatcher, logger: Logger) {
        self.router = router
        self.cluster = cluster
        self.batcher = batcher
        self.logger = logger
    }

    public func run() async throws {
        // Wake-ups: a sender's commit (LISTEN) or the fallback timer. Newest only: wake-ups that
        // arrive during a round collapse into one more round.
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for sender in 0..<self.router.shards where sender != self.router.shard {
                    group.addTask { await self.listen(to: sender, wake: wake) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.fallback)
                        wake.yield()
                    }
                }
                var next = wakeups.makeAsyncIterator()
                while !Task.isCancelled {
                    var delivered = 0
                    if self.cluster.status.role == .leader {
                        for sender in 0..<self.router.shards {
                            do { delivered += try await self.deliver(from: sender) } catch {
                                self.logger.warning("shards: delivering shard \(sender)'s messages to shard \(self.router.shard): \(error)")
                            }
                        }
                    }
                    if delivered == 0, await next.next() == nil { break }
                }
                wake.finish()
                group.cancelAll()
            }
        }
    }

    /// LISTENs on `sender`'s journal channel and wakes a round on each of its commits; reconnects
    /// after 500 ms when the connection fails (as the standbys' `ClusterNode.listenLoop`).
    private func listen(to sender: Int, wake: AsyncStream<Void>.Continuation) async {
        // PostgresJournal.notificationChannel of the sender's schema.
        let channel = "\(router.directory.schema(ofShard: sender).lowercased())_journal"
        while !Task.isCancelled {
            do {
                try await PostgresLease.listen(url: cluster.settings.postgres, channel: channel) { _ in wake.yield() }
            } catch {
                logger.debug("shards: listen to shard \(sender): \(error)")
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// One page of `sender`'s messages after this shard's cursor: delivers those addressed to this
    /// shard, then advances the cursor. Returns the messages delivered.
    @discardableResult
    func deliver(from sender: Int) async throws -> Int {
        let me = router.shard
        let directory = router.directory
        guard let cursor = try await directory.cursor(sender: sender, receiver: me) else { return 0 }
        let events = try await directory.events(sender: sender, kinds: [EventKind.outboxMessage.rawValue], after: cursor, limit: Self.pageSize)
        guard let last = events.last?.sequence else {
            router.delivery.withLock { $0[sender, default: (0, 0)].cursor = cursor }
            return 0
        }
        var delivered = 0
        for event in events {
            guard let document = try? JSONParser.parse(Array(event.body.utf8)),
                  case .number(let toText)? = document["to_shard"], Int(toText) == me else { continue }
            guard case .string(let id)? = document["id"], case .number(let fromText)? = document["from_shard"], let body = document["body"] else {
                throw JournalError("shard \(sender)'s event \(event.sequence) is not a well-formed outbox message")
            }
            let command: JSONValue = .object([("type", .string("deliver")), ("message_id", .string(id)), ("from_shard", .number(fromText)), ("body", body)])
            let request = try CommandRequest.decode(command, key: id)
            let result = try await batcher.submit(request)
            if result.conflict {
                throw JournalError("message \(id): its key was journaled with a different request (journal sequence \(result.sequence))")
            }
            if let refusal = result.applied.first(where: { $0.kind == .rejected }) {
                // The sender booked this message's money when it sent it; refused here, that money
                // is in no shard's books. Never expected (a sender keeps the delivery range
                // contract; AttackSession17Tests found two ways it did not): said loudly.
                logger.critical("shards: message \(id) from shard \(sender) was refused by shard \(me)'s engine: \(refusal.json)")
            }
            delivered += 1
            router.delivery.withLock { $0[sender, default: (0, 0)].delivered += 1 }
        }
        // Every message up to `last` addressed here is journaled in this shard.
        try await directory.advance(sender: sender, receiver: me, to: last)
        router.delivery.withLock { $0[sender, default: (0, 0)].cursor = last }
        return delivered
    }
}

extension EngineService {
    /// The shard the engine is (from its genesis; `1 of 1` without shards).
    public var shardConfiguration: ShardConfiguration { journaled.engine.shardConfiguration }
}
