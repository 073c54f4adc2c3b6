public import SolventCore

extension EngineState {
    /// The first structural fault of a state read from outside the process (a snapshot body),
    /// described with the path of the field; nil when every cross-reference holds.
    ///
    /// A snapshot body carries a CRC-32C, which catches damage but is not a signature: a body
    /// with a valid checksum can still hold an account whose position names instrument 999 or
    /// parameters no command could have set. `Engine(restoring:)` evaluates every account to
    /// rebuild the at-risk index and would trap on such a body before the state hash is
    /// compared — on every restart, since recovery reads the newest snapshot first. Recovery
    /// therefore refuses a body with a structural fault here (it then falls back to an older
    /// snapshot or the journal), as it refuses one whose hash differs.
    ///
    /// Checked: the parameters' own validation; the per-instrument and per-asset arrays have
    /// one entry per instrument and asset; every index an account, order or set holds (settle
    /// asset, collateral assets, position and isolated instruments, leverage keys, order
    /// owners and instruments, the backlog and the called set) lies in its array. (The account
    /// index is derived; `Snapshot.decodedState` checks it and rebuilds it from the ids.)
    public func structuralProblem() -> String? {
        if let (field, reason) = parameters.validationError() { return "parameters.\(field): \(reason)" }
        let instruments = market.instruments.count
        let assets = market.assets.count
        if market.marks.count != instruments { return "market.marks: \(market.marks.count) entries for \(instruments) instruments" }
        for (name, count) in [("mark_sources", markSources.count), ("index_prices", indexPrices.count), ("books", books.count), ("breakers", breakers.count)]
        where count != instruments {
            return "\(name): \(count) entries for \(instruments) instruments"
        }
        if totals.count != assets { return "totals: \(totals.count) entries for \(assets) assets" }
        for (a, record) in accounts.enumerated() {
            var path: String { "accounts[\(a)]" }  // formed only for a problem (not once per account)
            let account = record.account
            guard account.settle >= 0, account.settle < assets else { return "\(path).settle: asset \(account.settle) of \(assets)" }
            for (k, balance) in account.collateral.enumerated() where balance.asset < 0 || balance.asset >= assets {
                return "\(path).collateral[\(k)].asset: asset \(balance.asset) of \(assets)"
            }
            for (k, position) in account.positions.enumerated() where position.instrument < 0 || position.instrument >= instruments {
                return "\(path).positions[\(k)].instrument: instrument \(position.instrument) of \(instruments)"
            }
            for i in record.isolated where i < 0 || i >= instruments { return "\(path).isolated: instrument \(i) of \(instruments)" }
            for (i, _) in record.leverage where i < 0 || i >= instruments { return "\(path).leverage: instrument \(i) of \(instruments)" }
            for (pool, _) in record.procedures {
                if case .isolated(let i) = pool, i < 0 || i >= instruments { return "\(path).procedures: instrument \(i) of \(instruments)" }
            }
        }
        for (key, order) in orders {
            guard order.account >= 0, order.account < accounts.count else { return "orders[\(key)].account: account \(order.account) of \(accounts.count)" }
            guard order.instrument >= 0, order.instrument < instruments else { return "orders[\(key)].instrument: instrument \(order.instrument) of \(instruments)" }
        }
        for a in backlog where a < 0 || a >= accounts.count { return "backlog: account \(a) of \(accounts.count)" }
        for a in calledAccounts where a < 0 || a >= accounts.count { return "called_accounts: account \(a) of \(accounts.count)" }
        return nil
    }
}
