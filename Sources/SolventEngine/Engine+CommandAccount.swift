// One lookup of the account id per command (issue 18): the range contract, the command and the
// pre-trade check each resolved the id through `state.accountIndex` (a String hash and a probe,
// ≈ 0.2 K instructions) — twice per order, fill and deposit. `apply` now resolves it once for
// the commands on the hot path and every lookup of that id during the command reads it.
//
// Sound because an account's index never changes while a command runs on these paths: accounts
// are only appended (a deposit to a new id finds no entry here and looks up again after opening
// it), and the memo is cleared when `apply` returns, so no call from outside a command (the
// service's `checkOrder`) and no other command kind ever reads it.

extension Engine {
    /// Resolves the account a deposit, withdrawal, order or fill names (nil for other commands
    /// and for an id that is not an account yet).
    mutating func resolveCommandAccount(_ command: EngineCommand) {
        switch command {
        case let .deposit(id, _, _, _), let .withdraw(id, _, _), let .placeOrder(_, id, _, _, _, _), let .fill(id, _, _, _, _, _):
            commandAccount = state.accountIndex[id].map { (id, $0) }
        default:
            commandAccount = nil
        }
    }

    /// The index of account `id`: the command's resolved account when it is that id, else a
    /// lookup in `state.accountIndex` (nil: no such account).
    @inline(__always) func knownAccount(_ id: String) -> Int? {
        if let memo = commandAccount, memo.id == id { return memo.index }
        return state.accountIndex[id]
    }
}
