public import SolventCore

/// The event of an accepted order, a deposit or a fill (`order_accepted`, `deposited`,
/// `filled`) kept as typed values until someone reads it (issue 18: building the field array of
/// `(String, EventValue)` tuples and destroying it through the generic tuple witnesses was
/// ≈ 1.5 K instructions of each pre-trade order; the procedure events do the same:
/// ProcedureEventRecord.swift).
///
/// One allocation per event (this object). `write(into:)` writes exactly the members, in the
/// order and with the JSON calls, that `fields` would write through `EventValue.write`;
/// `EngineEvent.fields` materializes the same list when a reader asks for it.
final class CommandEventRecord: Sendable {
    /// The members of each kind, in the order the event lists them.
    enum Members: Sendable {
        /// `deposited`: `asset` (symbol), `amount`, `balance` (the asset's balance after, asset units).
        case deposited(asset: String, amount: FixedDecimal, balance: FixedDecimal)
        /// `order_accepted`: `order` (id), `symbol`, `quantity` (signed contracts), `price`,
        /// `reserved_margin` (settle units).
        case orderAccepted(order: String, symbol: String, quantity: FixedDecimal, price: FixedDecimal, reservedMargin: FixedDecimal)
        /// `filled`: `symbol`, `quantity` (signed, as applied), `price`, `fee`, `realized_pnl`
        /// (settle units), `position` (the signed position after).
        case filled(symbol: String, quantity: FixedDecimal, price: FixedDecimal, fee: FixedDecimal, realizedPnl: FixedDecimal, position: FixedDecimal)
    }

    let members: Members

    init(_ members: Members) { self.members = members }

    /// The members as `EventValue`s (the event's `fields`).
    var fields: [(String, EventValue)] {
        switch members {
        case let .deposited(asset, amount, balance):
            return [("asset", .text(asset)), ("amount", .decimal(amount)), ("balance", .decimal(balance))]
        case let .orderAccepted(order, symbol, quantity, price, reservedMargin):
            return [("order", .text(order)), ("symbol", .text(symbol)), ("quantity", .decimal(quantity)), ("price", .decimal(price)),
                    ("reserved_margin", .decimal(reservedMargin))]
        case let .filled(symbol, quantity, price, fee, realizedPnl, position):
            return [("symbol", .text(symbol)), ("quantity", .decimal(quantity)), ("price", .decimal(price)), ("fee", .decimal(fee)),
                    ("realized_pnl", .decimal(realizedPnl)), ("position", .decimal(position))]
        }
    }

    /// Writes the members (keys and values, inside the event's object) as `fields` would.
    func write(into writer: inout JSONWriter) {
        switch members {
        case let .deposited(asset, amount, balance):
            writer.key("asset"); writer.string(asset)
            writer.key("amount"); writer.decimal(amount)
            writer.key("balance"); writer.decimal(balance)
        case let .orderAccepted(order, symbol, quantity, price, reservedMargin):
            writer.key("order"); writer.string(order)
            writer.key("symbol"); writer.string(symbol)
            writer.key("quantity"); writer.decimal(quantity)
            writer.key("price"); writer.decimal(price)
            writer.key("reserved_margin"); writer.decimal(reservedMargin)
        case let .filled(symbol, quantity, price, fee, realizedPnl, position):
            writer.key("symbol"); writer.string(symbol)
            writer.key("quantity"); writer.decimal(quantity)
            writer.key("price"); writer.decimal(price)
            writer.key("fee"); writer.decimal(fee)
            writer.key("realized_pnl"); writer.decimal(realizedPnl)
            writer.key("position"); writer.decimal(position)
        }
    }
}

extension Engine {
    /// Emits a `deposited`, `order_accepted` or `filled` event of account `a` as a compact record.
    mutating func emitCommandEvent(_ kind: EventKind, account a: Int, _ members: CommandEventRecord.Members) {
        state.eventSequence += 1
        events.append(EngineEvent(sequence: state.eventSequence, time: state.time, kind: kind, account: state.accounts[a].id,
                                  command: CommandEventRecord(members)))
    }
}
