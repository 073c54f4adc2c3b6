public import SolventCore

// Order ids are scoped per account: the same id text in two accounts names two orders. An
// order is stored under its id text when no other account's open order holds that key at
// placement (every state with unique ids — all journals and snapshots from before — keeps its
// keys, so its state hash), else under `EngineState.scopedOrderKey` (account index and id).
// Every lookup goes through (account, id); no command of one account can see, take or probe
// another account's ids.

extension EngineState {
    /// The storage key of account `a`'s order `id` when the plain id key is another account's.
    public static func scopedOrderKey(account a: Int, id: String) -> String { "\(id)\u{1F}@\(a)" }

    /// Why `id` cannot name a new order, or nil: an order id holds no control character
    /// (Unicode general category Cc: U+0000–U+001F, U+007F–U+009F). The scoped key is the id, then
    /// U+001F: an id holding U+001F could be spelled as another account's scoped key, and the
    /// order placed under that key overwrote it (attack session 18: account 2's order
    /// `"x\u001f@0"` taken by account 0's `"x"`, account 2 listing an order no longer stored).
    public static func orderIDProblem(_ id: String) -> String? {
        guard let bad = id.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else { return nil }
        return "must not contain a control character (U+\(String(bad.value, radix: 16, uppercase: true).leftPadded(to: 4)))"
    }

    /// The key under which account `a`'s open order `id` is stored, or nil when it has none.
    public func orderKey(account a: Int, id: String) -> String? {
        if let order = orders[id], order.account == a { return id }
        let scoped = Self.scopedOrderKey(account: a, id: id)
        return orders[scoped] == nil ? nil : scoped
    }

    /// Account `a`'s open order `id`.
    public func openOrder(account a: Int, id: String) -> OpenOrder? {
        // The key rule of `orderKey`, one lookup per key tried (not a second one for the order).
        if let order = orders[id], order.account == a { return order }
        return orders[Self.scopedOrderKey(account: a, id: id)]
    }

    /// The accounts (indices, in account order) holding an open order with id text `id`.
    public func orderHolders(_ id: String) -> [Int] {
        accounts.indices.filter { a in accounts[a].orders.contains(id) }
    }
}

extension Engine {
    /// The account whose open order `id` a `cancel_order` names: `account` when given (nil if
    /// it holds no such order), else the one account holding an order with that id (nil if none,
    /// `ambiguous` if several: the command must name the account).
    public func orderOwner(_ id: String, account: String?) -> (owner: String?, ambiguous: Bool) {
        if let account {
            guard let a = state.accountIndex[account], state.openOrder(account: a, id: id) != nil else { return (nil, false) }
            return (account, false)
        }
        let holders = state.orderHolders(id)
        return holders.count == 1 ? (state.accounts[holders[0]].id, false) : (nil, holders.count > 1)
    }

    /// Resolves the order a `cancel_order` names to (account index, storage key).
    func resolveCancel(_ id: String, account: String?) throws(RejectReason) -> (Int, String) {
        if let account {
            let a = try accountIndex(account)
            guard let key = state.orderKey(account: a, id: id) else {
                throw RejectReason(.unknownOrder, field: "id", "no open order \"\(id)\" of account \"\(account)\"")
            }
            return (a, key)
        }
        let holders = state.orderHolders(id)
        guard holders.count <= 1 else {
            throw RejectReason(.invalidInput, field: "account", "order id \"\(id)\" names open orders of several accounts: name the account")
        }
        guard let a = holders.first, let key = state.orderKey(account: a, id: id) else {
            throw RejectReason(.unknownOrder, field: "id", "unknown order \"\(id)\"")
        }
        return (a, key)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
