public import SolventCore
import SolventRisk

/// A margin-procedure event (`margin_warning`, `warning_cleared`, `margin_call`,
/// `margin_call_cured`, `liquidation_started`, `liquidation_ended` from `Engine.advance`) kept
/// as typed numbers until someone reads it (issue 18: building the field array, the position
/// list and their `EventValue`s, and destroying them through the generic tuple witnesses, was
/// ≈ 20 % of a crossing tick).
///
/// One allocation per event (this object; a pool's first position is held inline, further
/// ones in `tail`). `write(into:)` writes exactly the members, in the order and with the JSON
/// calls, that `fields` would write through `EventValue.write`: `pool`, the explanation
/// (`equity`, `maintenance_margin`, `margin_ratio`, `status`, `warning_ratio`, `call_ratio`,
/// `restore_ratio`, `positions`), then the kind's own members (`ProcedureEventExtra`).
/// `EngineEvent.fields` materializes the same list when a reader asks for it.
final class ProcedureEventRecord: Sendable {
    /// One position of the pool, as the explanation lists it.
    struct Position: Sendable {
        var symbol: String
        var quantity: FixedDecimal
        var entryPrice: FixedDecimal
        var mark: FixedDecimal?
        /// The mark's source time (ms since epoch), 0 without a sourced mark.
        var markSourceTime: Int64
        var maintenanceMargin: FixedDecimal
        var unrealizedPnl: FixedDecimal

        var fields: [(String, EventValue)] {
            [("symbol", .text(symbol)), ("quantity", .decimal(quantity)), ("entry_price", .decimal(entryPrice)),
             ("mark", .optionalDecimal(mark)), ("mark_source_time", .integer(markSourceTime)),
             ("maintenance_margin", .decimal(maintenanceMargin)), ("unrealized_pnl", .decimal(unrealizedPnl))]
        }

        func write(into writer: inout JSONWriter) {
            writer.beginObject()
            writer.key("symbol"); writer.string(symbol)
            writer.key("quantity"); writer.decimal(quantity)
            writer.key("entry_price"); writer.decimal(entryPrice)
            writer.key("mark"); writer.optionalDecimal(mark)
            writer.key("mark_source_time"); writer.integer(markSourceTime)
            writer.key("maintenance_margin"); writer.decimal(maintenanceMargin)
            writer.key("unrealized_pnl"); writer.decimal(unrealizedPnl)
            writer.endObject()
        }
    }

    let pool: String
    let equity: FixedDecimal
    let maintenanceMargin: FixedDecimal
    let marginRatio: FixedDecimal?
    let status: MarginStatus
    let warningRatio: FixedDecimal
    let callRatio: FixedDecimal
    let restoreRatio: FixedDecimal
    /// The pool's first position (nil: none), then the others in the account's order.
    let head: Position?
    let tail: [Position]
    let extra: ProcedureEventExtra

    init(pool: String, equity: FixedDecimal, maintenanceMargin: FixedDecimal, marginRatio: FixedDecimal?, status: MarginStatus,
         warningRatio: FixedDecimal, callRatio: FixedDecimal, restoreRatio: FixedDecimal, head: Position?, tail: [Position],
         extra: ProcedureEventExtra) {
        self.pool = pool
        self.equity = equity
        self.maintenanceMargin = maintenanceMargin
        self.marginRatio = marginRatio
        self.status = status
        self.warningRatio = warningRatio
        self.callRatio = callRatio
        self.restoreRatio = restoreRatio
        self.head = head
        self.tail = tail
        self.extra = extra
    }

    /// The members as `EventValue`s (the event's `fields`).
    var fields: [(String, EventValue)] {
        var positions: [[(String, EventValue)]] = []
        if let head { positions.append(head.fields) }
        for position in tail { positions.append(position.fields) }
        var fields: [(String, EventValue)] = [
            ("pool", .text(pool)), ("equity", .decimal(equity)), ("maintenance_margin", .decimal(maintenanceMargin)),
            ("margin_ratio", .optionalDecimal(marginRatio)), ("status", .text(status.name)), ("warning_ratio", .decimal(warningRatio)),
            ("call_ratio", .decimal(callRatio)), ("restore_ratio", .decimal(restoreRatio)), ("positions", .list(positions)),
        ]
        switch extra {
        case .none: break
        case .reason(let reason): fields.append(("reason", .text(reason)))
        case .call(let amount, let deadline, let gracePeriodMs):
            fields.append(("call_amount", .decimal(amount)))
            fields.append(("deadline", .integer(deadline)))
            fields.append(("grace_period_ms", .integer(gracePeriodMs)))
        case .reasonAndDeadline(let reason, let deadline):
            fields.append(("reason", .text(reason)))
            fields.append(("deadline", .integer(deadline)))
        }
        return fields
    }

    /// Writes the members (keys and values, inside the event's object) as `fields` would.
    func write(into writer: inout JSONWriter) {
        writer.key("pool"); writer.string(pool)
        writer.key("equity"); writer.decimal(equity)
        writer.key("maintenance_margin"); writer.decimal(maintenanceMargin)
        writer.key("margin_ratio"); writer.optionalDecimal(marginRatio)
        writer.key("status"); writer.string(status.name)
        writer.key("warning_ratio"); writer.decimal(warningRatio)
        writer.key("call_ratio"); writer.decimal(callRatio)
        writer.key("restore_ratio"); writer.decimal(restoreRatio)
        writer.key("positions")
        writer.beginArray()
        head?.write(into: &writer)
        for position in tail { position.write(into: &writer) }
        writer.endArray()
        switch extra {
        case .none: break
        case .reason(let reason): writer.key("reason"); writer.string(reason)
        case .call(let amount, let deadline, let gracePeriodMs):
            writer.key("call_amount"); writer.decimal(amount)
            writer.key("deadline"); writer.integer(deadline)
            writer.key("grace_period_ms"); writer.integer(gracePeriodMs)
        case .reasonAndDeadline(let reason, let deadline):
            writer.key("reason"); writer.string(reason)
            writer.key("deadline"); writer.integer(deadline)
        }
    }
}

/// The members a procedure event adds after the explanation, by kind.
enum ProcedureEventExtra: Sendable {
    case none
    /// `reason` (text).
    case reason(String)
    /// `margin_call`: `call_amount` (settle units), `deadline` (ms since epoch), `grace_period_ms`.
    case call(amount: FixedDecimal, deadline: Int64, gracePeriodMs: Int64)
    /// `liquidation_started` after a missed call: `reason`, `deadline` (ms since epoch).
    case reasonAndDeadline(String, deadline: Int64)
}

/// How an event holds its members: a field list, or a procedure record rendered when read.
enum EngineEventPayload: Sendable {
    case fields([(String, EventValue)])
    case procedure(ProcedureEventRecord)
    /// An `order_accepted`, `deposited` or `filled` event (CommandEventRecord.swift).
    case command(CommandEventRecord)
}

extension Engine {
    /// Emits a procedure event of pool `key` of account `a` (the explanation of
    /// `appendExplanation` plus `extra`) as a compact record.
    mutating func emitProcedureEvent(_ kind: EventKind, _ a: Int, _ key: PoolKey, _ pool: PoolEvaluation, _ evaluation: AccountEvaluation,
                                     _ extra: ProcedureEventExtra) {
        let policy = state.parameters.policy
        var head: ProcedureEventRecord.Position? = nil
        var hasHead = false  // a flag, not `head == nil` (which copied the optional position)
        var tail: [ProcedureEventRecord.Position] = []
        let positions = state.accounts[a].account.positions
        for k in positions.indices where state.accounts[a].pool(of: positions[k].instrument) == key {
            let i = positions[k].instrument
            let position = ProcedureEventRecord.Position(
                symbol: state.market.instruments[i].symbol, quantity: positions[k].quantity, entryPrice: positions[k].entryPrice,
                mark: state.market.marks[i], markSourceTime: state.markSources[i]?.sourceTime ?? 0,
                maintenanceMargin: evaluation.positions[k].maintenanceMargin, unrealizedPnl: evaluation.positions[k].unrealizedPnl)
            if hasHead {
                tail.append(position)
            } else {
                head = position
                hasHead = true
            }
        }
        let record = ProcedureEventRecord(pool: poolName(key, account: a), equity: pool.equity, maintenanceMargin: pool.maintenanceMargin,
                                          marginRatio: pool.marginRatio, status: pool.status, warningRatio: policy.warningRatio,
                                          callRatio: policy.callRatio, restoreRatio: policy.restoreRatio, head: head, tail: tail, extra: extra)
        state.eventSequence += 1
        events.append(EngineEvent(sequence: state.eventSequence, time: state.time, kind: kind, account: state.accounts[a].id, procedure: record))
    }
}
