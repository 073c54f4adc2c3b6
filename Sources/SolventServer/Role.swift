public import SolventEngine

/// Who an API key belongs to, and so what it may do.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
    /// Everything a client may do (every action but `deliverMessages`, which is internal).
    case operator_ = "operator"
    /// Publishes prices and order-book snapshots.
    case priceFeeder = "price-feeder"
    /// Publishes fills and orders from the matching engine.
    case fillFeeder = "fill-feeder"
    /// Reads, deposits to and withdraws from its own account, places and cancels its own orders; nothing on other accounts.
    case account

    /// Whether this role may perform `action` on `account` when the key is bound to `boundAccount`.
    public func permits(_ action: Action, account: String? = nil, boundAccount: String? = nil) -> Bool {
        switch self {
        case .operator_: return action != .deliverMessages
        case .priceFeeder: return action == .publishPrices
        case .fillFeeder: return action == .publishFills || action == .placeOrders
        case .account:
            guard action == .readAccount || action == .moveCollateral || action == .placeOrders else { return false }
            guard let account, let boundAccount else { return false }
            return account == boundAccount
        }
    }
}

/// What an API request does, for authorization.
public enum Action: String, Sendable, Hashable, CaseIterable, Codable {
    case readAccount, moveCollateral, placeOrders, publishFills, publishPrices, changeParameters, readAll, manageKeys
    /// Delivering a cross-shard message (`deliver`): no client role may, not even the operator;
    /// only the cluster's own delivery between shard leaders (docs/cluster.md, stage 2) appends it.
    case deliverMessages
}

extension Action {
    /// What a command does and the account it acts on, for authorization: an exhaustive switch
    /// over the typed command, so a new command cannot reach the engine unclassified.
    /// `orderOwner` is the account holding the order a `cancel_order` names (nil: no such open order).
    public static func of(_ command: EngineCommand, orderOwner: String?) -> (action: Action, account: String?) {
        switch command {
        case let .deposit(account, _, _, _), let .withdraw(account, _, _), let .moveIsolatedMargin(account, _, _),
             let .borrow(account, _, _), let .repay(account, _, _):
            return (.moveCollateral, account)
        case let .placeOrder(_, account, _, _, _, _), let .setLeverage(account, _, _), let .setMarginMode(account, _, _),
             let .setAccountMode(account, _):
            return (.placeOrders, account)
        case .cancelOrder:
            return (.placeOrders, orderOwner)
        case let .fill(account, _, _, _, _, _):
            return (.publishFills, account)
        case .markPrice, .indexPrice, .assetPrice, .book, .funding, .optionMark, .settlementPrice, .volSurface:
            return (.publishPrices, nil)
        case .changeParameters, .tick, .chainDeposit, .chainTip, .chainReorg:
            return (.changeParameters, nil)
        case .deliver:
            return (.deliverMessages, nil)
        }
    }
}
