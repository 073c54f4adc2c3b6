public import SolventCore
public import SolventEngine

/// A published liabilities commitment: the tree plus what the root file states.
public struct ReservesSnapshot: Sendable {
    public let tree: MerkleSumTree
    /// Σ of negative claims per asset (≤ 0): accounts owing the venue, kept out of the tree.
    public let negativeClaims: [FixedDecimal]
    public let accountsWithNegativeClaims: Int
    /// Journal sequence (commands applied) and state hash of the engine state committed to.
    public let journalSequence: Int64
    public let stateHash: String
    /// Engine time of the state (ms since the epoch).
    public let time: Int64
    /// Σ of pending (not yet final) on-chain deposits per asset, counted in full in the claims.
    public let pendingDeposits: [FixedDecimal]
    public let pendingDepositCount: Int

    /// The snapshot id salts and splits derive from: `<journal sequence>:<state hash>`. Two
    /// snapshots of different states share no leaf; the same state gives the same root.
    public static func snapshotID(journalSequence: Int64, stateHash: String) -> String { "\(journalSequence):\(stateHash)" }

    public init(state: EngineState, stateHash: String, secret: [UInt8], piecesPerAccount: Int = 2) throws(ReservesError) {
        let claims = try LiabilityClaims.extract(from: state)
        tree = try MerkleSumTree(claims: claims, assets: state.market.assets.map(\.symbol), secret: secret,
                                 snapshot: Self.snapshotID(journalSequence: state.commandsApplied, stateHash: stateHash),
                                 piecesPerAccount: piecesPerAccount)
        var pending = [FixedDecimal](repeating: .zero, count: state.market.assets.count)
        var pendingCount = 0
        for deposit in state.chainDeposits where !deposit.isFinal {
            pending[deposit.asset] += deposit.amount
            pendingCount += 1
        }
        pendingDeposits = pending
        pendingDepositCount = pendingCount
        var negative = [FixedDecimal](repeating: .zero, count: state.market.assets.count)
        var count = 0
        for claim in claims {
            var owes = false
            for (j, part) in claim.negativeParts.enumerated() where part.isNegative {
                negative[j] += part
                owes = true
            }
            if owes { count += 1 }
        }
        negativeClaims = negative
        accountsWithNegativeClaims = count
        journalSequence = state.commandsApplied
        self.stateHash = stateHash
        time = state.time
    }

    /// `root.json`: the root hash, the totals per asset and how the tree was built.
    public func rootJSON() -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("version"); w.integer(ReservesHashing.version)
        w.member("root_hash", tree.rootHash.hexString)
        w.key("assets"); w.beginArray(); for symbol in tree.assets { w.string(symbol) }; w.endArray()
        w.key("totals"); w.beginObject()
        for (j, symbol) in tree.assets.enumerated() { w.member(symbol, tree.totals[j]) }
        w.endObject()
        w.key("negative_claims"); w.beginObject()
        for (j, symbol) in tree.assets.enumerated() { w.member(symbol, negativeClaims[j]) }
        w.endObject()
        w.key("accounts_with_negative_claims"); w.integer(accountsWithNegativeClaims)
        w.key("pending_deposits"); w.beginObject()
        for (j, symbol) in tree.assets.enumerated() { w.member(symbol, pendingDeposits[j]) }
        w.endObject()
        w.key("pending_deposit_count"); w.integer(pendingDepositCount)
        w.key("account_count"); w.integer(tree.claims.count)
        w.key("leaf_count"); w.integer(tree.leaves.count)
        w.key("pieces_per_account"); w.integer(tree.piecesPerAccount)
        w.member("snapshot", tree.snapshot)
        w.key("journal_sequence"); w.integer(journalSequence)
        w.member("state_hash", stateHash)
        w.member("time", Timestamp.formatISO8601(time))
        w.endObject()
        return w.string
    }
}
