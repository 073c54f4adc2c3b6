import Foundation
import SolventCore
import SolventEngine
import SolventReserves
import SolventRisk
import SolventTestSupport
import Testing

private let secret = [UInt8](repeating: 7, count: 32)
private let snap = "1:snapshot-a"

private func dec(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

/// Claims with distinct, non-zero balances in two assets (so a leak would be recognizable).
private func claims(_ count: Int, seed: UInt64) -> [LiabilityClaim] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { k in
        LiabilityClaim(account: "acct-\(seed)-\(k)",
                       amounts: [RandomBook.decimal(1, 1_000_000, digits: 6, using: &rng), RandomBook.decimal(0.001, 50, digits: 8, using: &rng)],
                       negativeParts: [.zero, .zero])
    }
}

private func engineState(accounts: Int, seed: UInt64) -> Engine {
    var rng = SplitMix64(seed: seed)
    let market = RandomBook.market(using: &rng)
    var engine = Engine(market: market)
    for n in 0..<accounts {
        var account = RandomBook.account(id: "a\(n)", market: market, using: &rng)
        var seen = Set<Int>()
        account.positions = account.positions.filter { seen.insert($0.instrument).inserted }
        try! engine.openAccount(account)
    }
    return engine
}

@Suite struct ReservesTests {
    /// Every account's proof verifies against the root, its pieces add up to its claims, and the
    /// authenticated totals are the sums of all claims, for tree sizes that exercise odd levels.
    @Test(arguments: [1, 2, 3, 7, 50, 257])
    func everyProofVerifies(accounts: Int) throws {
        let input = claims(accounts, seed: UInt64(accounts))
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: snap, piecesPerAccount: 2)
        let expectedTotals = (0..<2).map { j in input.reduce(FixedDecimal.zero) { $0 + $1.amounts[j] } }
        #expect(tree.totals == expectedTotals)
        for k in input.indices {
            let proof = tree.proof(claimIndex: k)
            let verified = try proof.verify(root: tree.rootHash)
            #expect(verified.balances == input[k].amounts)
            #expect(verified.totals == expectedTotals)
            // The file format round-trips.
            let reread = try InclusionProof(json: Array(proof.json().utf8))
            #expect(reread == proof)
        }
    }

    /// One altered balance, one altered sibling sum, a negative sum, a flipped side, a dropped
    /// step or another account's id: each makes the proof fail.
    @Test func tamperedProofsFail() throws {
        let input = claims(40, seed: 11)
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        let proof = tree.proof(claimIndex: 5)
        _ = try proof.verify(root: tree.rootHash)

        var balance = proof
        balance.pieces[0].amounts[0] += dec("0.000001")
        #expect(throws: ProofError.self) { try balance.verify(root: tree.rootHash) }

        var sibling = proof
        sibling.pieces[1].path[2].sums[1] += dec("1")
        #expect(throws: ProofError.self) { try sibling.verify(root: tree.rootHash) }

        // Moving value from the sibling into a negative amount keeps the total but is refused.
        var negative = proof
        negative.pieces[0].path[0].sums[0] = -dec("5")
        #expect(throws: ProofError.self) { try negative.verify(root: tree.rootHash) }

        var side = proof
        side.pieces[0].path[0].siblingIsLeft.toggle()
        #expect(throws: ProofError.self) { try side.verify(root: tree.rootHash) }

        var short = proof
        short.pieces[0].path.removeLast()
        #expect(throws: ProofError.self) { try short.verify(root: tree.rootHash) }

        var other = proof
        other.account = input[6].account
        #expect(throws: ProofError.self) { try other.verify(root: tree.rootHash) }

        var wrongRoot = tree.rootHash
        wrongRoot[0] ^= 1
        #expect(throws: ProofError.self) { try proof.verify(root: wrongRoot) }
    }

    /// A proof names no other account and shows no other account's balance: the sibling sums are
    /// random pieces and subtotals, never a whole account.
    @Test func proofsRevealNoOtherAccount() throws {
        let input = claims(64, seed: 3)
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        for k in input.indices {
            let text = tree.proof(claimIndex: k).json()
            let proof = tree.proof(claimIndex: k)
            let shown = Set(proof.pieces.flatMap { $0.path.map(\.sums) })
            for (other, claim) in input.enumerated() where other != k {
                #expect(!text.contains("\"\(claim.account)\""))
                #expect(!shown.contains(claim.amounts))
                #expect(!text.contains("\"\(claim.amounts[0])\""))
            }
        }
    }

    /// The root depends only on the claims and the secret: not on the order of accounts, and the
    /// same state gives the same root; a different secret gives another root with the same totals.
    @Test func rootIsDeterministic() throws {
        let input = claims(100, seed: 9)
        let a = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        let b = try MerkleSumTree(claims: input.reversed(), assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        #expect(a.rootHash == b.rootHash)
        let c = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: [UInt8](repeating: 8, count: 32), snapshot: snap)
        #expect(c.rootHash != a.rootHash)
        #expect(c.totals == a.totals)
        var changed = input
        changed[42].amounts[1] += FixedDecimal.ulp
        #expect(try MerkleSumTree(claims: changed, assets: ["USDT", "BTC"], secret: secret, snapshot: snap).rootHash != a.rootHash)
    }

    /// Sums that would leave the decimal range are refused when building, never wrapped.
    @Test func overflowIsRefused() {
        let huge = FixedDecimal(raw: Int128.max / 2 + 1)
        let input = [LiabilityClaim(account: "x", amounts: [huge], negativeParts: [.zero]),
                     LiabilityClaim(account: "y", amounts: [huge], negativeParts: [.zero])]
        #expect(throws: ReservesError.self) { try MerkleSumTree(claims: input, assets: ["USDT"], secret: secret, snapshot: snap, piecesPerAccount: 1) }
        #expect(throws: ReservesError.self) { try MerkleSumTree(claims: [], assets: ["USDT"], secret: secret, snapshot: snap) }
    }

    /// Claims from an engine: balances, cross PnL on the settle asset, isolated pools clamped at
    /// zero, a negative claim left out of the tree and reported; the tree's totals are the sums
    /// of the clamped claims.
    @Test func claimsFromEngineState() throws {
        let engine = engineState(accounts: 300, seed: 5)
        let state = engine.state
        let claims = try LiabilityClaims.extract(from: state)
        #expect(claims.count == 300)
        let evaluator = engine.evaluator
        for (k, claim) in claims.enumerated() {
            let account = state.accounts[k].account
            let evaluation = evaluator.evaluate(account)
            var settle = account.collateral.first { $0.asset == account.settle }?.amount ?? .zero
            for (p, position) in account.positions.enumerated() {
                let pnl = evaluation.positions[p].unrealizedPnl
                if case .isolated(let margin) = position.marginMode { settle += FixedDecimal.maximum(.zero, margin + pnl) } else { settle += pnl }
            }
            #expect(claim.amounts[account.settle] == FixedDecimal.maximum(.zero, settle))
            #expect(claim.negativeParts[account.settle] == FixedDecimal.minimum(.zero, settle))
            #expect(claim.amounts.allSatisfy { !$0.isNegative })
        }
        let snapshot = try ReservesSnapshot(state: state, stateHash: engine.stateHash(), secret: secret)
        for j in state.market.assets.indices {
            #expect(snapshot.tree.totals[j] == claims.reduce(FixedDecimal.zero) { $0 + $1.amounts[j] })
            #expect(snapshot.negativeClaims[j] == claims.reduce(FixedDecimal.zero) { $0 + $1.negativeParts[j] })
        }
        let root = try JSONParser.parse(snapshot.rootJSON())
        #expect(root["root_hash"] == .string(snapshot.tree.rootHash.hexString))
    }

    /// Reserves / liabilities per asset, and a shortfall covered by another asset's surplus only
    /// at its haircut value: BTC surplus 1 at 60,000 with a 10% haircut covers 54,000.
    @Test func collateralization() throws {
        let assets = [Asset(symbol: "USDT", price: .one, haircut: .zero), Asset(symbol: "BTC", price: dec("60000"), haircut: dec("0.1"))]
        let holdings = try ReserveHoldings(json: Array("""
            {"attested_at":"2024-05-01T00:00:00Z","holdings":[
             {"asset":"USDT","address":"0xabc","amount":"950000"},
             {"asset":"BTC","address":"bc1q1","amount":"10"},
             {"asset":"BTC","address":"bc1q2","amount":"2"}]}
            """.utf8), assets: ["USDT", "BTC"])
        let short = CollateralizationReport(liabilities: [dec("1000000"), dec("11")], holdings: holdings, assets: assets)
        #expect(short.lines[0].ratio == dec("0.95"))
        #expect(short.lines[1].surplus == dec("1"))
        #expect(short.haircutSurplusValue == dec("54000"))
        #expect(short.shortfallValue == dec("50000"))
        #expect(short.fullyCovered)
        let worse = CollateralizationReport(liabilities: [dec("1000000"), dec("11.9")], holdings: holdings, assets: assets)
        #expect(!worse.fullyCovered)
        #expect(throws: InputError.self) {
            try ReserveHoldings(json: Array(#"{"attested_at":0,"holdings":[{"asset":"DOGE","address":"x","amount":"1"}]}"#.utf8), assets: ["USDT"])
        }
        #expect(throws: InputError.self) {
            try ReserveHoldings(json: Array(#"{"attested_at":0,"holdings":[{"asset":"USDT","address":"x","amount":"-1"}]}"#.utf8), assets: ["USDT"])
        }
    }

    // MARK: - Issue 22, item 6: one leaf for two accounts; linkable snapshots; pending deposits

    /// The byte layouts of docs/reserves.md, pinned by the test vector printed there (computed
    /// from the layout alone, by hand-assembled bytes in Python): leaf, node and root hashes, and
    /// the one-piece proof of account "17" that verifies against that root.
    @Test func byteLayoutTestVector() throws {
        let salt = (0..<32).map { UInt8($0) }
        let leaf = ReservesHashing.leafHash(salt: salt, account: "17", amounts: [dec("1.5"), .zero])
        #expect(leaf.hexString == "0c0c4b028bd0a0d8534fdf6c24789fedfddbd300e2fcab6d4a9adcc5cdb5b153")
        let right = [UInt8](repeating: 0xff, count: 32)
        let node = ReservesHashing.nodeHash(left: leaf, leftSums: [dec("1.5"), .zero], right: right, rightSums: [dec("2"), .ulp])
        #expect(node.hexString == "b5d2cf19551f067dc50bf1ed12b2e9c7b9549272701ccdd5b6459df31015f02c")
        let root = ReservesHashing.rootHash(leafCount: 2, assets: ["USDT", "BTC"], top: node, topSums: [dec("3.5"), .ulp])
        #expect(root.hexString == "a0c4e93c4fe4fd74b75b96782a6137c3346ffc6dbc585c840d9593e784e66c24")
        let proof = try InclusionProof(json: Array(Self.vectorProof.utf8))
        let verified = try proof.verify(root: root)
        #expect(verified.balances == [dec("1.5"), .zero])
        #expect(verified.totals == [dec("3.5"), .ulp])
    }

    /// docs/reserves.md's test-vector proof (account "17", one piece, leaf 0 of 2).
    static let vectorProof = #"{"version":2,"account":"17","assets":["USDT","BTC"],"leaf_count":2,"root_hash":"a0c4e93c4fe4fd74b75b96782a6137c3346ffc6dbc585c840d9593e784e66c24","balances":{"USDT":"1.5","BTC":"0"},"pieces":[{"leaf_index":0,"salt":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","amounts":["1.5","0"],"path":[{"side":"right","hash":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","sums":["2","0.000000000000000001"]}]}]}"#

    /// Account 17's proof rewritten for account 7 with a longer salt (`salt ‖ "1"`, id "7"): under
    /// the version-1 encoding `salt ‖ id` both hashed the same bytes. Now the verifier rejects a
    /// salt that is not 32 bytes, and the leaf encoding alone separates the two (the id is
    /// length-prefixed), so no salt of any length makes one leaf serve two accounts.
    @Test func forgedLongerSaltIsRejected() throws {
        var input = claims(20, seed: 22)
        input[3].account = "17"
        input[4].account = "7"
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        let genuine = tree.proof(claimIndex: 3)
        _ = try genuine.verify(root: tree.rootHash)
        var forged = genuine
        forged.account = "7"
        for p in forged.pieces.indices { forged.pieces[p].salt += Array("1".utf8) }
        #expect(throws: ProofError.self) { try forged.verify(root: tree.rootHash) }
        // Through the file format as well (the parser reads the salt; verify rejects its length).
        let reread = try InclusionProof(json: Array(forged.json().utf8))
        #expect(throws: ProofError.self) { try reread.verify(root: tree.rootHash) }
        // The encoding separates the fields without the length check too.
        for piece in genuine.pieces {
            let real = ReservesHashing.leafHash(salt: piece.salt, account: "17", amounts: piece.amounts)
            #expect(ReservesHashing.leafHash(salt: piece.salt + Array("1".utf8), account: "7", amounts: piece.amounts) != real)
            // The version-1 ambiguity, for the record: the two concatenations are the same bytes.
            #expect(piece.salt + Array("1".utf8) + Array("7".utf8) == piece.salt + Array("17".utf8))
        }
        // Any salt length other than 32 is refused, the right one included in a wrong account.
        for length in [0, 31, 33, 64] {
            var wrong = genuine
            wrong.pieces[0].salt = [UInt8](repeating: 1, count: length)
            #expect(throws: ProofError.self) { try wrong.verify(root: tree.rootHash) }
        }
        var emptyID = genuine
        emptyID.account = ""
        #expect(throws: ProofError.self) { try emptyID.verify(root: tree.rootHash) }
    }

    /// Fields of the wrong length or form are refused: a list of sums one short, a 31-byte
    /// sibling hash, an amount with a sign, an exponent or 19 fractional digits, hex with a space.
    @Test func malformedFieldsAreRejected() throws {
        let tree = try MerkleSumTree(claims: claims(9, seed: 4), assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        let proof = tree.proof(claimIndex: 2)
        var fewer = proof
        fewer.pieces[0].path[0].sums.removeLast()
        #expect(throws: ProofError.self) { try fewer.verify(root: tree.rootHash) }
        var shortHash = proof
        shortHash.pieces[0].path[0].hash.removeLast()
        #expect(throws: ProofError.self) { try shortHash.verify(root: tree.rootHash) }
        let text = proof.json()
        let amount = proof.pieces[0].amounts[0].description
        for bad in ["+" + amount, amount + "e0", "-0", "1.0000000000000000001", ".5", "5."] {
            let changed = text.replacingOccurrences(of: "\"amounts\":[\"\(amount)\"", with: "\"amounts\":[\"\(bad)\"")
            #expect(changed != text)
            #expect(throws: InputError.self) { try InclusionProof(json: Array(changed.utf8)) }
        }
        let salt = proof.pieces[0].salt.hexString
        let spaced = text.replacingOccurrences(of: salt, with: String(salt.prefix(2)) + " " + String(salt.dropFirst(2)))
        #expect(throws: InputError.self) { try InclusionProof(json: Array(spaced.utf8)) }
        let old = text.replacingOccurrences(of: "\"version\":2", with: "\"version\":1")
        #expect(throws: InputError.self) { try InclusionProof(json: Array(old.utf8)) }
    }

    /// Two snapshots of the same claims under the same secret share no leaf hash, no salt and
    /// no piece (the splits are per snapshot too), so a holder's leaves cannot be followed from
    /// one to the next; the same snapshot id gives the same root.
    @Test func snapshotsShareNoLeaf() throws {
        let input = claims(60, seed: 8)
        let first = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: "1:aaaa")
        let second = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: "2:bbbb")
        #expect(first.totals == second.totals)
        #expect(first.rootHash != second.rootHash)
        #expect(Set(first.leaves.map(\.hash)).isDisjoint(with: second.leaves.map(\.hash)))
        #expect(Set(first.leaves.map(\.salt)).isDisjoint(with: second.leaves.map(\.salt)))
        // With 2 pieces the last piece is the remainder: all pieces differ when the first does.
        #expect(Set(first.leaves.map(\.amounts)).isDisjoint(with: second.leaves.map(\.amounts)))
        let again = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: "1:aaaa")
        #expect(again.rootHash == first.rootHash)
        // The snapshot id is one length-prefixed field: "1:a" + account "b" is not "1:" + "ab".
        let x = try MerkleSumTree(claims: [LiabilityClaim(account: "b", amounts: [.one], negativeParts: [.zero])], assets: ["USDT"], secret: secret, snapshot: "1:a", piecesPerAccount: 1)
        let y = try MerkleSumTree(claims: [LiabilityClaim(account: "ab", amounts: [.one], negativeParts: [.zero])], assets: ["USDT"], secret: secret, snapshot: "1:", piecesPerAccount: 1)
        #expect(x.leaves[0].salt != y.leaves[0].salt)

        // Through the engine: a snapshot at another journal position derives other salts even
        // for an account whose claims did not change.
        let engine = engineState(accounts: 30, seed: 12)
        var later = engine
        _ = later.apply(TimedCommand(time: engine.state.time + 1, command: .deposit(account: "a0", asset: engine.state.market.assets[0].symbol, amount: .one, settle: nil)))
        let a = try ReservesSnapshot(state: engine.state, stateHash: engine.stateHash(), secret: secret)
        let b = try ReservesSnapshot(state: later.state, stateHash: later.stateHash(), secret: secret)
        #expect(a.tree.snapshot != b.tree.snapshot)
        #expect(Set(a.tree.leaves.map(\.hash)).isDisjoint(with: b.tree.leaves.map(\.hash)))
    }

    // MARK: - Issue 22, item 7: amounts beyond 28 significant digits

    /// A 20,000,000,000.5 USDT holder: every piece has 11 integer and up to 18 fractional digits
    /// (29 significant digits, where a 28-digit decimal context rounds); every proof verifies,
    /// the holder's balance is exact, and the file format round-trips.
    @Test func twentyBillionAndAHalfVerifies() throws {
        var input = claims(12, seed: 29)
        input[5].amounts[0] = dec("20000000000.5")
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: snap)
        let expectedTotals = (0..<2).map { j in input.reduce(FixedDecimal.zero) { $0 + $1.amounts[j] } }
        var longest = 0
        for k in input.indices {
            let proof = tree.proof(claimIndex: k)
            let reread = try InclusionProof(json: Array(proof.json().utf8))
            let verified = try reread.verify(root: tree.rootHash)
            #expect(verified.balances == input[k].amounts)
            #expect(verified.totals == expectedTotals)
            for piece in proof.pieces { longest = max(longest, piece.amounts[0].description.filter(\.isNumber).count) }
        }
        #expect(longest >= 29)
    }

    /// A pending on-chain deposit counts at its full amount in the liabilities, whatever share the
    /// engine credits while it is unconfirmed (60 % here, or nothing without a haircut); once
    /// final the claim is unchanged; root.json reports the pending total.
    @Test(arguments: [dec("0.4"), nil] as [FixedDecimal?])
    func pendingDepositCountsInFull(haircut: FixedDecimal?) throws {
        var parameters = EngineParameters.exchange
        parameters.finalityDepth = 3
        parameters.unconfirmedHaircut = haircut
        let market = Market(assets: [Asset(symbol: "USDT", price: .one, haircut: .zero)], instruments: [], marks: [])
        var engine = Engine(market: market, parameters: parameters)
        try engine.openAccount(Account(id: "holder", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1000)], positions: []))
        try engine.openAccount(Account(id: "other", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 300)], positions: []))
        _ = engine.apply(TimedCommand(time: 1, command: .chainDeposit(account: "holder", asset: "USDT", amount: 5000, settle: nil,
                                                                      chain: "eth", height: 10, blockHash: "h10")))
        #expect(engine.state.accounts[0].balance(0) == (haircut == nil ? dec("1000") : dec("4000")))  // what the engine credits
        let pending = try ReservesSnapshot(state: engine.state, stateHash: engine.stateHash(), secret: secret)
        #expect(pending.tree.claims[0].amounts == [dec("6000")])
        #expect(pending.tree.totals == [dec("6300")])
        #expect(pending.pendingDeposits == [dec("5000")])
        #expect(pending.pendingDepositCount == 1)
        let root = try JSONParser.parse(pending.rootJSON())
        #expect(root["pending_deposits"]?["USDT"] == .string("5000"))
        let verified = try pending.tree.proof(claimIndex: 0).verify(root: pending.tree.rootHash)
        #expect(verified.balances == [dec("6000")])

        _ = engine.apply(TimedCommand(time: 2, command: .chainTip(chain: "eth", height: 12)))
        #expect(engine.state.accounts[0].balance(0) == dec("6000"))
        let final = try ReservesSnapshot(state: engine.state, stateHash: engine.stateHash(), secret: secret)
        #expect(final.tree.claims[0].amounts == [dec("6000")])
        #expect(final.pendingDeposits == [.zero])
    }
}

/// attacks/02: a journaled state whose claims leave the decimal range used to trap while the
/// liabilities were summed (for any key, on every restart); it is now a typed `ReservesError`.
@Suite struct ReservesRangeTests {
    @Test func claimsBeyondTheRangeAreATypedError() throws {
        let document = """
        {"start":{"time":"2024-01-01T00:00:00Z","assets":{"USDT":"1"},"instruments":[],"marks":{},
          "accounts":[{"id":"a","settle":"USDT","collateral":{"USDT":"1000"}},{"id":"b","settle":"USDT","collateral":{"USDT":"1000"}}]},"commands":[]}
        """
        var state = try Scenario.decode(JSONParser.parse(document)).makeEngine().state
        // Balances no command can create (the engine bounds them): summing them must not trap.
        state.accounts[0].account.collateral[0].amount = FixedDecimal.max
        state.accounts[1].account.collateral[0].amount = FixedDecimal.max
        #expect(throws: ReservesError.self) {
            _ = try ReservesSnapshot(state: state, stateHash: "x", secret: [UInt8](repeating: 7, count: 32))
        }
    }
}
