import Synchronization
public import SolventEngine

/// What a stream subscriber receives.
public enum StreamChannel: String, Sendable, CaseIterable {
    /// Engine events (all, or one account's).
    case events
    /// Mark prices after each price command.
    case prices
    /// Risk summaries (docs/service.md "Risk summary"), at most a few per second.
    case risk
}

/// Fan-out of engine events, prices and risk summaries to WebSocket clients.
///
/// Publishing never waits: each subscriber has a bounded queue (`queueLimit` messages). A
/// subscriber whose queue is full is cut off (its stream ends and `closingReason` says why),
/// so a slow client never stalls the engine; every message carries the engine sequence and
/// a per-connection `stream_seq`, so a client that reconnects re-syncs from `/v1/events`.
public final class EventHub: Sendable {
    /// Which messages one subscriber wants.
    public struct Filter: Sendable, Equatable {
        /// Only events of this account (nil: every event; an operator's stream).
        public var account: String?
        public var channels: Set<StreamChannel>
        public init(account: String?, channels: Set<StreamChannel>) {
            self.account = account
            self.channels = channels
        }
    }

    struct Subscriber {
        var filter: Filter
        var continuation: AsyncStream<String>.Continuation
        /// Messages sent to this subscriber so far (the next one gets streamSeq + 1).
        var streamSeq: Int64 = 0
    }

    struct State {
        var nextID: UInt64 = 1
        var subscribers: [UInt64: Subscriber] = [:]
        /// Why a subscriber was cut off, with its last stream sequence, until its writer reads it.
        var closed: [UInt64: (reason: String, streamSeq: Int64)] = [:]
        var droppedSubscribers: Int = 0
    }

    private let state = Mutex(State())
    /// Largest number of messages queued for one subscriber before it is cut off.
    public let queueLimit: Int

    public init(queueLimit: Int = 4096) {
        precondition(queueLimit >= 1, "queueLimit must be at least 1")
        self.queueLimit = queueLimit
    }

    /// Subscribers connected now.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
    /// Subscribers cut off for being slow since start.
    public var droppedSubscribers: Int { state.withLock { $0.droppedSubscribers } }

    /// Registers a subscriber; its messages arrive on the returned stream, oldest first.
    public func subscribe(_ filter: Filter) -> (id: UInt64, messages: AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
        let id = state.withLock { state -> UInt64 in
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(filter: filter, continuation: continuation)
            return id
        }
        return (id, stream)
    }

    /// Removes a subscriber (its client left); returns why it was cut off, if it was.
    @discardableResult
    public func unsubscribe(_ id: UInt64) -> (reason: String, streamSeq: Int64)? {
        state.withLock { state in
            state.subscribers.removeValue(forKey: id)?.continuation.finish()
            return state.closed.removeValue(forKey: id)
        }
    }

    /// Engine events after a command, with the JSON already rendered for the journal's
    /// result: each to the subscribers whose filter takes it.
    public func publish(events rendered: [(event: EngineEvent, json: String)]) {
        guard !rendered.isEmpty else { return }
        deliver(channel: .events) { filter in
            rendered.compactMap { event, json in
                if let account = filter.account, !Self.concerns(event, account: account) { return nil }
                return ("event", event.sequence, "\"event\":" + json)
            }
        }
    }

    /// A message of `channel` with the given JSON members (without braces), at engine `sequence`.
    public func publish(channel: StreamChannel, type: String, sequence: Int64, members: String) {
        deliver(channel: channel) { _ in [(type, sequence, members)] }
    }

    /// The `prices` message: the marks after a price command, at engine `sequence`.
    public func publish(prices: MarksView, sequence: Int64) {
        publish(channel: .prices, type: "prices", sequence: sequence, members: prices.streamMembers)
    }

    /// The `risk` message: a risk summary (without the fund history), at its sequence.
    public func publish(risk: RiskSummary) {
        publish(channel: .risk, type: "risk", sequence: risk.sequence, members: risk.streamMembers)
    }

    /// Whether an event concerns `account`: its own, or a counterparty role it plays.
    static func concerns(_ event: EngineEvent, account: String) -> Bool {
        if event.account == account { return true }
        return event.text("bankrupt_account") == account
    }

    private func deliver(channel: StreamChannel, _ messages: (Filter) -> [(type: String, sequence: Int64, members: String)]) {
        state.withLock { state in
            var cutOff: [UInt64] = []
            for (id, var subscriber) in state.subscribers where subscriber.filter.channels.contains(channel) {
                for (type, sequence, members) in messages(subscriber.filter) {
                    subscriber.streamSeq += 1
                    let text = "{\"type\":\"\(type)\",\"stream_seq\":\(subscriber.streamSeq),\"sequence\":\(sequence)" + (members.isEmpty ? "}" : "," + members + "}")
                    if case .dropped = subscriber.continuation.yield(text) {
                        cutOff.append(id)
                        state.closed[id] = ("slow consumer: \(queueLimit) messages queued", subscriber.streamSeq)
                        break
                    }
                }
                state.subscribers[id] = subscriber
            }
            for id in cutOff {
                state.subscribers.removeValue(forKey: id)?.continuation.finish()
                state.droppedSubscribers += 1
            }
        }
    }

    /// Ends every stream (shutdown): writers send their clients a closing message.
    public func closeAll(reason: String) {
        state.withLock { state in
            for (id, subscriber) in state.subscribers {
                state.closed[id] = (reason, subscriber.streamSeq)
                subscriber.continuation.finish()
            }
            state.subscribers.removeAll()
        }
    }
}
