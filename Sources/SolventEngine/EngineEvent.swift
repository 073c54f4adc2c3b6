public import SolventCore

/// A value carried by an event field.
public enum EventValue: Sendable, Hashable {
    case decimal(FixedDecimal)
    case optionalDecimal(FixedDecimal?)
    case text(String)
    case integer(Int64)
    case flag(Bool)
    /// A list of objects, e.g. the per-position breakdown of a margin call.
    case list([[(String, EventValue)]])
    /// One nested object, e.g. an outbox message's body.
    case object([(String, EventValue)])

    public static func == (a: EventValue, b: EventValue) -> Bool {
        var wa = JSONWriter(), wb = JSONWriter()
        a.write(into: &wa)
        b.write(into: &wb)
        return wa.bytes == wb.bytes
    }

    public func hash(into hasher: inout Hasher) {
        var w = JSONWriter()
        write(into: &w)
        hasher.combine(w.bytes)
    }

    func write(into writer: inout JSONWriter) {
        switch self {
        case .decimal(let d): writer.decimal(d)
        case .optionalDecimal(let d): writer.optionalDecimal(d)
        case .text(let t): writer.string(t)
        case .integer(let i): writer.integer(i)
        case .flag(let b): writer.bool(b)
        case .list(let items):
            writer.beginArray()
            for item in items {
                writer.beginObject()
                for (key, value) in item {
                    writer.key(key)
                    value.write(into: &writer)
                }
                writer.endObject()
            }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            for (key, value) in members {
                writer.key(key)
                value.write(into: &writer)
            }
            writer.endObject()
        }
    }
}

/// What happened. Every event names its kind; its fields carry the numbers that caused it.
public enum EventKind: String, Sendable, Hashable, CaseIterable {
    case rejected, accountOpened = "account_opened", deposited, withdrew, orderAccepted = "order_accepted",
         orderCancelled = "order_cancelled", filled, funding, leverageSet = "leverage_set", marginModeSet = "margin_mode_set",
         isolatedMarginMoved = "isolated_margin_moved", parametersScheduled = "parameters_scheduled",
         parametersApplied = "parameters_applied", marginWarning = "margin_warning", warningCleared = "warning_cleared",
         marginCall = "margin_call", marginCallCured = "margin_call_cured", liquidationStarted = "liquidation_started",
         ordersCancelledForLiquidation = "orders_cancelled_for_liquidation", liquidationFill = "liquidation_fill",
         liquidationEnded = "liquidation_ended", insuranceFundContribution = "insurance_fund_contribution",
         insuranceFundDraw = "insurance_fund_draw", autoDeleveraged = "auto_deleveraged", socializedLoss = "socialized_loss",
         badDebt = "bad_debt", liquidationsPaused = "liquidations_paused", liquidationsResumed = "liquidations_resumed",
         liquidationThrottled = "liquidation_throttled", collateralConverted = "collateral_converted",
         chainDepositSeen = "chain_deposit_seen", chainDepositFinal = "chain_deposit_final",
         chainDepositOrphaned = "chain_deposit_orphaned", chainReorganized = "chain_reorganized",
         accountModeSet = "account_mode_set", settlementPriceSet = "settlement_price_set",
         volSurfaceSet = "vol_surface_set", optionMarkComputed = "option_mark_computed", optionMarkStale = "option_mark_stale",
         settlementPostponed = "settlement_postponed",
         marginRestated = "margin_restated", orderResized = "order_resized", reorganizationCost = "reorganization_cost",
         settled, expired,
         borrowed, repaid, interestCharged = "interest_charged", loanWrittenOff = "loan_written_off",
         outboxMessage = "outbox_message", messageApplied = "message_applied", messageIgnored = "message_ignored"
}

/// One event. `sequence` is the engine's event sequence number (gap-free, from 1).
public struct EngineEvent: Sendable, Hashable {
    public var sequence: Int64
    /// Engine time, ms since epoch.
    public var time: Int64
    public var kind: EventKind
    /// The account concerned, if any.
    public var account: String?
    /// Named values in a fixed order (a margin-procedure event keeps them as a compact record
    /// until read: ProcedureEventRecord.swift; `write(into:)` renders the same bytes).
    public var fields: [(String, EventValue)] {
        get {
            switch payload {
            case .fields(let fields): return fields
            case .procedure(let record): return record.fields
            case .command(let record): return record.fields
            }
        }
        set { payload = .fields(newValue) }
    }
    var payload: EngineEventPayload

    public init(sequence: Int64, time: Int64, kind: EventKind, account: String?, fields: [(String, EventValue)]) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.account = account
        payload = .fields(fields)
    }

    init(sequence: Int64, time: Int64, kind: EventKind, account: String?, procedure: ProcedureEventRecord) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.account = account
        payload = .procedure(procedure)
    }

    init(sequence: Int64, time: Int64, kind: EventKind, account: String?, command: CommandEventRecord) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.account = account
        payload = .command(command)
    }

    public static func == (a: EngineEvent, b: EngineEvent) -> Bool { a.json == b.json }
    public func hash(into hasher: inout Hasher) { hasher.combine(json) }

    /// The value of field `name`.
    public subscript(name: String) -> EventValue? { fields.first { $0.0 == name }?.1 }

    /// The decimal value of field `name`.
    public func decimal(_ name: String) -> FixedDecimal? {
        switch self[name] {
        case .decimal(let d): return d
        case .optionalDecimal(let d): return d
        default: return nil
        }
    }

    /// The text value of field `name`.
    public func text(_ name: String) -> String? {
        if case .text(let t) = self[name] { return t }
        return nil
    }

    /// One JSON object: `{"type":…,"seq":…,"time":…,"account":…, fields…}`.
    public var json: String {
        var writer = JSONWriter()
        write(into: &writer)
        return writer.string
    }

    public func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("type", kind.rawValue)
        writer.key("seq")
        writer.integer(sequence)
        writer.key("time")
        writer.integer(time)
        if let account { writer.member("account", account) }
        switch payload {
        case .fields(let fields):
            for (key, value) in fields {
                writer.key(key)
                value.write(into: &writer)
            }
        case .procedure(let record): record.write(into: &writer)
        case .command(let record): record.write(into: &writer)
        }
        writer.endObject()
    }
}
