public import SolventCore

/// The canonical encoding of a command: the scenario command shape of docs/scenarios.md
/// (`Scenario.decodeCommand` reads it back to the same value), with every field explicit
/// (the time, defaults such as `source_time`, `fee`, `reduce_only`, `effective_time`), members
/// in a fixed order, decimals as canonical strings. The journal stores this and nothing else;
/// the idempotency key travels beside it (the journal's key column), never inside.
extension TimedCommand {
    /// The canonical JSON bytes.
    public var canonicalJSON: [UInt8] {
        var w = JSONWriter(reservingCapacity: 256)
        writeCanonical(into: &w)
        return w.bytes
    }

    /// The command's `type` in the scenario shape.
    public var typeName: String { command.typeName }

    public func writeCanonical(into w: inout JSONWriter) {
        w.beginObject()
        w.key("time"); w.integer(time)
        w.member("type", command.typeName)
        switch command {
        case let .deposit(account, asset, amount, settle):
            w.member("account", account); w.member("asset", asset); w.member("amount", amount)
            if let settle { w.member("settle", settle) }
        case let .withdraw(account, asset, amount):
            w.member("account", account); w.member("asset", asset); w.member("amount", amount)
        case let .placeOrder(id, account, symbol, quantity, price, reduceOnly):
            w.member("id", id); w.member("account", account); w.member("symbol", symbol)
            w.member("quantity", quantity); w.member("price", price)
            w.key("reduce_only"); w.bool(reduceOnly)
        case let .cancelOrder(id, account):
            w.member("id", id)
            if let account { w.member("account", account) }
        case let .fill(account, symbol, quantity, price, fee, orderID):
            w.member("account", account); w.member("symbol", symbol); w.member("quantity", quantity)
            w.member("price", price); w.member("fee", fee)
            if let orderID { w.member("order_id", orderID) }
        case let .markPrice(symbol, price, sourceTime), let .indexPrice(symbol, price, sourceTime):
            w.member("symbol", symbol); w.member("price", price)
            w.key("source_time"); w.integer(sourceTime)
        case let .assetPrice(asset, price):
            w.member("asset", asset); w.member("price", price)
        case let .book(symbol, bids, asks):
            w.member("symbol", symbol)
            for (name, levels) in [("bids", bids), ("asks", asks)] {
                w.key(name); w.beginArray()
                for level in levels { w.beginArray(); w.decimal(level.price); w.decimal(level.quantity); w.endArray() }
                w.endArray()
            }
        case let .funding(symbol, rate):
            w.member("symbol", symbol); w.member("rate", rate)
        case let .setLeverage(account, symbol, leverage):
            w.member("account", account); w.member("symbol", symbol); w.member("leverage", leverage)
        case let .setMarginMode(account, symbol, isolated):
            w.member("account", account); w.member("symbol", symbol); w.member("mode", isolated ? "isolated" : "cross")
        case let .moveIsolatedMargin(account, symbol, amount):
            w.member("account", account); w.member("symbol", symbol); w.member("amount", amount)
        case let .changeParameters(change, effectiveTime):
            if !change.brackets.isEmpty {
                w.key("brackets"); w.beginObject()
                for (symbol, table) in change.brackets.sorted(by: { $0.key < $1.key }) {
                    w.key(symbol); w.beginArray()
                    for b in table.brackets {
                        w.beginObject()
                        w.member("notional_floor", b.notionalFloor); w.member("notional_cap", b.notionalCap)
                        w.member("max_leverage", b.maxLeverage); w.member("mmr", b.maintenanceMarginRate)
                        w.member("maintenance_amount", b.maintenanceAmount)
                        w.endObject()
                    }
                    w.endArray()
                }
                w.endObject()
            }
            if !change.haircuts.isEmpty {
                w.key("haircuts"); w.beginObject()
                for (asset, haircut) in change.haircuts.sorted(by: { $0.key < $1.key }) { w.member(asset, haircut) }
                w.endObject()
            }
            if let update = change.parameters { w.key("parameters"); update.writeCanonical(into: &w) }
            change.writeLendingCanonical(into: &w)  // Engine+Borrowing.swift
            w.key("effective_time"); w.integer(effectiveTime)
        case .tick:
            break
        case let .chainDeposit(account, asset, amount, settle, chain, height, blockHash):
            w.member("account", account); w.member("asset", asset); w.member("amount", amount)
            if let settle { w.member("settle", settle) }
            w.member("chain", chain); w.key("height"); w.integer(height); w.member("block_hash", blockHash)
        case let .chainTip(chain, height):
            w.member("chain", chain); w.key("height"); w.integer(height)
        case let .chainReorg(chain, forkHeight, newHashes):
            w.member("chain", chain); w.key("fork_height"); w.integer(forkHeight)
            w.key("new_hashes"); w.beginObject()
            for (height, hash) in newHashes.sorted(by: { $0.key < $1.key }) { w.member(String(height), hash) }
            w.endObject()
        case let .optionMark(symbol, price, impliedVol, sourceTime):
            w.member("symbol", symbol); w.member("price", price); w.member("implied_vol", impliedVol)
            w.key("source_time"); w.integer(sourceTime)
        case let .setAccountMode(account, portfolio):
            w.member("account", account); w.member("mode", portfolio ? "portfolio" : "standard")
        case let .settlementPrice(symbol, price):
            w.member("symbol", symbol); w.member("price", price)
        case let .volSurface(underlying, expiry, strikes, vols, sourceTime, sticky):
            w.member("underlying", underlying); w.key("expiry"); w.integer(expiry)
            w.key("strikes"); w.beginArray(); for k in strikes { w.decimal(k) }; w.endArray()
            w.key("vols"); w.beginArray(); for v in vols { w.decimal(v) }; w.endArray()
            w.key("source_time"); w.integer(sourceTime)
            if sticky != .strike { w.member("sticky", sticky.rawValue) }  // absent by default: older encodings unchanged
        case let .borrow(account, asset, amount), let .repay(account, asset, amount):
            w.member("account", account); w.member("asset", asset); w.member("amount", amount)
        case let .deliver(messageID, fromShard, body):
            w.member("message_id", messageID); w.key("from_shard"); w.integer(Int64(fromShard))
            w.key("body"); body.writeCanonical(into: &w)  // ShardOutbox.swift
        }
        w.endObject()
    }

    /// Time of a command decoded without one (`Scenario.decodeCommand` with this `defaultTime`):
    /// the service stamps it when it accepts the command (`stamped(at:)`).
    public static let unstamped: Int64 = .min

    /// The command at `time`, with the fields that default to the command's time (a price's
    /// `source_time`, a parameter change's `effective_time`) following it when they were left
    /// to their default (decoded with `unstamped`).
    public func stamped(at newTime: Int64) -> TimedCommand {
        var copy = self
        copy.time = newTime
        switch command {
        case let .markPrice(symbol, price, sourceTime) where sourceTime == Self.unstamped:
            copy.command = .markPrice(symbol: symbol, price: price, sourceTime: newTime)
        case let .indexPrice(symbol, price, sourceTime) where sourceTime == Self.unstamped:
            copy.command = .indexPrice(symbol: symbol, price: price, sourceTime: newTime)
        case let .optionMark(symbol, price, vol, sourceTime) where sourceTime == Self.unstamped:
            copy.command = .optionMark(symbol: symbol, price: price, impliedVol: vol, sourceTime: newTime)
        case let .volSurface(underlying, expiry, strikes, vols, sourceTime, sticky) where sourceTime == Self.unstamped:
            copy.command = .volSurface(underlying: underlying, expiry: expiry, strikes: strikes, vols: vols, sourceTime: newTime, sticky: sticky)
        case let .changeParameters(change, effectiveTime) where effectiveTime == Self.unstamped:
            copy.command = .changeParameters(change, effectiveTime: newTime)
        default: break
        }
        return copy
    }
}

extension EngineCommand {
    /// The `type` of the command in the scenario shape.
    public var typeName: String {
        switch self {
        case .deposit: "deposit"
        case .withdraw: "withdraw"
        case .placeOrder: "place_order"
        case .cancelOrder: "cancel_order"
        case .fill: "fill"
        case .markPrice: "mark"
        case .indexPrice: "index"
        case .assetPrice: "asset_price"
        case .book: "book"
        case .funding: "funding"
        case .setLeverage: "set_leverage"
        case .setMarginMode: "set_margin_mode"
        case .moveIsolatedMargin: "move_isolated_margin"
        case .changeParameters: "change_parameters"
        case .tick: "tick"
        case .chainDeposit: "chain_deposit"
        case .chainTip: "chain_tip"
        case .chainReorg: "chain_reorg"
        case .optionMark: "option_mark"
        case .setAccountMode: "set_account_mode"
        case .settlementPrice: "settlement_price"
        case .volSurface: "vol_surface"
        case .borrow: "borrow"
        case .repay: "repay"
        case .deliver: "deliver"
        }
    }

    /// The account the command acts on, if it names one.
    public var account: String? {
        switch self {
        case let .deposit(account, _, _, _), let .withdraw(account, _, _), let .placeOrder(_, account, _, _, _, _),
             let .fill(account, _, _, _, _, _), let .setLeverage(account, _, _), let .setMarginMode(account, _, _),
             let .moveIsolatedMargin(account, _, _), let .chainDeposit(account, _, _, _, _, _, _),
             let .borrow(account, _, _), let .repay(account, _, _), let .setAccountMode(account, _):
            return account
        case .cancelOrder(_, let account?):
            return account
        case .cancelOrder, .markPrice, .indexPrice, .assetPrice, .book, .funding, .changeParameters, .tick, .chainTip, .chainReorg,
             .optionMark, .settlementPrice, .deliver, .volSurface:
            return nil
        }
    }

    /// Whether the command moves prices (mark, index or an asset's price).
    public var movesPrices: Bool {
        switch self {
        case .markPrice, .indexPrice, .assetPrice, .optionMark, .volSurface: true
        default: false
        }
    }
}

extension ParameterUpdate {
    /// The named fields, by their scenario names, in a fixed order (`null` clears a nullable one).
    public func writeCanonical(into w: inout JSONWriter) {
        w.beginObject()
        if let v = warningRatio { w.member("warning_ratio", v) }
        if let v = callRatio { w.member("call_ratio", v) }
        if let v = restoreRatio { w.member("restore_ratio", v) }
        if let v = gracePeriodMs { w.key("grace_period_ms"); w.integer(v) }
        if let v = hysteresis { w.member("hysteresis", v) }
        if let v = liquidationFeeRate { w.member("liquidation_fee_rate", v) }
        if let v = liquidationStepFraction { w.member("liquidation_step_fraction", v) }
        if let v = liquidationStepsPerCommand { w.key("liquidation_steps_per_command"); w.integer(v) }
        if let v = liquidationNotionalCap { w.key("liquidation_notional_cap"); w.optionalDecimal(v.value) }
        if let v = liquidationCapIntervalMs { w.key("liquidation_cap_interval_ms"); w.integer(v) }
        if let v = priceBand { w.member("price_band", v) }
        if let v = oracleDivergenceLimit { w.member("oracle_divergence_limit", v) }
        if let v = indexMoveLimit { w.member("index_move_limit", v) }
        if let v = indexMoveWindowMs { w.key("index_move_window_ms"); w.integer(v) }
        if let v = markStalenessMs { w.key("mark_staleness_ms"); w.integer(v) }
        if let v = execution { w.member("execution", v.rawValue) }
        if let v = backstopEnabled { w.key("backstop"); w.bool(v) }
        if let v = adlEnabled { w.key("adl"); w.bool(v) }
        if let v = finalityDepth { w.key("finality_depth"); w.integer(v) }
        if let v = unconfirmedHaircut { w.key("unconfirmed_haircut"); w.optionalDecimal(v.value) }
        if let v = socializeOver { w.member("socialize_over", v.rawValue) }
        if let v = optionDeltaHedge { w.key("option_delta_hedge"); w.bool(v) }
        if let v = optionMarkTolerance { w.member("option_mark_tolerance", v) }
        w.endObject()
    }
}
