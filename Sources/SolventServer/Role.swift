/// Who an API key belongs to, and so what it may do.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
    /// Everything.
    case operator_ = "operator"
    /// Publishes prices and order-book snapshots.
    case priceFeeder = "price-feeder"
    /// Publishes fills and orders from the matching engine.
    case fillFeeder = "fill-feeder"
    /// Reads, deposits to and withdraws from its own accounts only.
    case account

    /// Whether this role may perform `action` on `account` when the key is bound to `boundAccount`.
    public func permits(_ action: Action, account: String? = nil, boundAccount: String? = nil) -> Bool {
        switch self {
        case .operator_: return true
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
}
