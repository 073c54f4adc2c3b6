public import SolventCore

/// An account's cumulative memos — `badDebt` (bad debt left on it after the waterfall) and
/// `socializedLoss` (socialized loss charged to it) — grow with every liquidation for the life
/// of the account, with no balance to bound them: about 1,700 bankruptcies of one in-contract
/// isolated position (10^9 at 10^8, marked to 10^-8: ≈ 10^17 of bad debt each) took the bad
/// debt past `FixedDecimal`'s ±1.7 × 10^20 and trapped in the liquidation — on every later
/// command, as the liquidation is retried (attack session 18). They are memos (the summary, the
/// state hash, the snapshot; no money moves by them, and the venue's own flows stay exact as
/// `RunningTotal`s, docs/range-contract.md), so each is **counted at most `memoLimit`**
/// (10^20), as a collateral value is counted at most 10^18.
extension EngineAccount {
    /// The most an account's cumulative memo counts (settle units).
    public static let memoLimit = FixedDecimal(raw: 100_000_000_000_000_000_000 * FixedDecimal.unitRaw)

    /// `total + amount` (amount ≥ 0), at most `memoLimit`.
    static func memo(_ total: FixedDecimal, adding amount: FixedDecimal) -> FixedDecimal {
        guard let sum = try? total.addingChecked(amount), sum <= memoLimit else { return memoLimit }
        return sum
    }

    /// Records `amount` more bad debt left on this account (counted at most `memoLimit`).
    mutating func recordBadDebt(_ amount: FixedDecimal) { badDebt = Self.memo(badDebt, adding: amount) }

    /// Records `amount` more socialized loss charged to this account (counted at most `memoLimit`).
    mutating func recordSocializedLoss(_ amount: FixedDecimal) { socializedLoss = Self.memo(socializedLoss, adding: amount) }
}
