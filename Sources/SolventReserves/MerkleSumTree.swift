public import SolventCore

/// Why a liabilities tree cannot be built.
public struct ReservesError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One leaf: a piece of one account's claims, committed under its own salt.
public struct ReservesLeaf: Sendable, Hashable {
    /// Position of the account in the claims the tree was built from.
    public var claimIndex: Int
    /// Which piece of the account this is (0 ..< piecesPerAccount).
    public var piece: Int
    /// 32 random-looking bytes given to the holder only.
    public var salt: [UInt8]
    /// The piece's amounts per asset (≥ 0, units of the asset).
    public var amounts: [FixedDecimal]
    public var hash: [UInt8]
}

/// A Merkle-sum tree over account liabilities (format version 2, docs/reserves.md).
///
/// Every account's claims are split into `piecesPerAccount` leaves by secret-derived random
/// fractions, each under its own salt, and the leaves are ordered by hash. A proof's sibling
/// sums therefore show pieces and subtotals of unknown accounts, never one account's balance.
/// Salts and splits derive from the secret *and the snapshot id*, so two snapshots share no
/// leaf, no salt and no piece: a holder cannot be followed from one snapshot to the next.
/// An odd node at the end of a level is promoted unchanged (as in RFC 6962).
public struct MerkleSumTree: Sendable {
    public let assets: [String]
    /// What the salts and splits were derived for (docs/reserves.md: `<journal sequence>:<state hash>`).
    public let snapshot: String
    public let claims: [LiabilityClaim]
    public let piecesPerAccount: Int
    /// Leaves in tree order.
    public let leaves: [ReservesLeaf]
    /// Hashes per level, level 0 = leaves; the last level has one node.
    let hashes: [[[UInt8]]]
    /// Sums per level, `assets.count` per node, flat.
    let sums: [[FixedDecimal]]
    /// Leaf positions of each claim's pieces.
    let leafPositions: [[Int]]
    public let rootHash: [UInt8]

    /// Totals per asset (the root's sums).
    public var totals: [FixedDecimal] { Array(sums[sums.count - 1][0..<assets.count]) }

    /// Builds the tree. `secret` (≥ 16 bytes) and `snapshot` derive every salt and split; the
    /// same claims, snapshot id and secret give the same root, another snapshot id gives leaves
    /// that share nothing with these. Throws when a sum would leave the decimal range.
    public init(claims: [LiabilityClaim], assets: [String], secret: [UInt8], snapshot: String,
                piecesPerAccount: Int = 2) throws(ReservesError) {
        precondition(secret.count >= 16, "the reserves secret must have at least 16 bytes")
        precondition(piecesPerAccount >= 1, "at least one piece per account")
        if claims.isEmpty { throw ReservesError("no accounts: a liabilities tree needs at least one") }
        var seen = Set<String>()
        for claim in claims {
            precondition(claim.amounts.count == assets.count, "one amount per asset")
            if !seen.insert(claim.account).inserted { throw ReservesError("account \"\(claim.account)\" appears twice") }
            if claim.account.isEmpty { throw ReservesError("an account id is empty") }
        }
        let n = assets.count
        let deriver = ReservesHashing.Deriver(secret: secret)
        var leaves: [ReservesLeaf] = []
        leaves.reserveCapacity(claims.count * piecesPerAccount)
        for (c, claim) in claims.enumerated() {
            var remaining = claim.amounts
            for piece in 0..<piecesPerAccount {
                var amounts = remaining
                if piece < piecesPerAccount - 1 {
                    for j in 0..<n {
                        let fraction = Self.splitFraction(deriver, snapshot: snapshot, account: claim.account, piece: piece, asset: j)
                        let part = FixedDecimal.minimum(remaining[j], remaining[j].multiplied(by: fraction, rounding: .down) ?? remaining[j])
                        amounts[j] = part
                        remaining[j] -= part
                    }
                }
                let salt = deriver.salt(snapshot: snapshot, account: claim.account, piece: piece)
                leaves.append(ReservesLeaf(claimIndex: c, piece: piece, salt: salt, amounts: amounts,
                                           hash: ReservesHashing.leafHash(salt: salt, account: claim.account, amounts: amounts)))
            }
        }
        leaves.sort { $0.hash.lexicographicallyPrecedes($1.hash) }
        var positions = [[Int]](repeating: [], count: claims.count)
        for (k, leaf) in leaves.enumerated() { positions[leaf.claimIndex].append(k) }

        var levelHashes = leaves.map(\.hash)
        var levelSums: [FixedDecimal] = []
        levelSums.reserveCapacity(leaves.count * n)
        for leaf in leaves { levelSums.append(contentsOf: leaf.amounts) }
        var hashes = [levelHashes]
        var sums = [levelSums]
        while levelHashes.count > 1 {
            var nextHashes: [[UInt8]] = []
            var nextSums: [FixedDecimal] = []
            nextHashes.reserveCapacity((levelHashes.count + 1) / 2)
            nextSums.reserveCapacity((levelHashes.count + 1) / 2 * n)
            var k = 0
            while k + 1 < levelHashes.count {
                let left = levelSums[(k * n)..<(k * n + n)]
                let right = levelSums[((k + 1) * n)..<((k + 1) * n + n)]
                for j in 0..<n {
                    do { nextSums.append(try left[k * n + j].addingChecked(right[(k + 1) * n + j])) } catch {
                        throw ReservesError("the sum of \(assets[j]) liabilities leaves the decimal range")
                    }
                }
                nextHashes.append(ReservesHashing.nodeHash(left: levelHashes[k], leftSums: left, right: levelHashes[k + 1], rightSums: right))
                k += 2
            }
            if k < levelHashes.count {
                nextHashes.append(levelHashes[k])
                nextSums.append(contentsOf: levelSums[(k * n)..<(k * n + n)])
            }
            levelHashes = nextHashes
            levelSums = nextSums
            hashes.append(levelHashes)
            sums.append(levelSums)
        }
        self.assets = assets
        self.snapshot = snapshot
        self.claims = claims
        self.piecesPerAccount = piecesPerAccount
        self.leaves = leaves
        self.hashes = hashes
        self.sums = sums
        self.leafPositions = positions
        self.rootHash = ReservesHashing.rootHash(leafCount: leaves.count, assets: assets, top: levelHashes[0], topSums: levelSums[0..<n])
    }

    /// The fraction of what remains that piece `piece` takes, in [0.1, 0.9), from the secret.
    static func splitFraction(_ deriver: ReservesHashing.Deriver, snapshot: String, account: String, piece: Int, asset: Int) -> FixedDecimal {
        let bytes = deriver.split(snapshot: snapshot, account: account, piece: piece, asset: asset)
        var x: UInt64 = 0
        for k in 0..<8 { x = x << 8 | UInt64(bytes[k]) }
        let spread = (UInt128(x) * 800_000_000_000_000_000) >> 64
        return FixedDecimal(raw: 100_000_000_000_000_000 + Int128(spread))
    }

    /// The inclusion proof of the claim at `claimIndex`: one authentication path per piece.
    public func proof(claimIndex: Int) -> InclusionProof {
        let n = assets.count
        let claim = claims[claimIndex]
        var pieces: [InclusionProof.Piece] = []
        for position in leafPositions[claimIndex] {
            let leaf = leaves[position]
            var steps: [InclusionProof.Step] = []
            var index = position
            for level in 0..<(hashes.count - 1) {
                let count = hashes[level].count
                let sibling: Int? = index % 2 == 1 ? index - 1 : (index + 1 < count ? index + 1 : nil)
                if let sibling {
                    steps.append(InclusionProof.Step(siblingIsLeft: sibling < index, hash: hashes[level][sibling],
                                                     sums: Array(sums[level][(sibling * n)..<(sibling * n + n)])))
                }
                index /= 2
            }
            pieces.append(InclusionProof.Piece(leafIndex: position, salt: leaf.salt, amounts: leaf.amounts, path: steps))
        }
        return InclusionProof(account: claim.account, assets: assets, leafCount: leaves.count, rootHash: rootHash, pieces: pieces)
    }
}
