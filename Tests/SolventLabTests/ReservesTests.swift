import Foundation
import SolventCore
import SolventEngine
import SolventLab
import SolventRisk
import SolventTestSupport
import Testing

private let secret = [UInt8](repeating: 7, count: 32)

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
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, piecesPerAccount: 2)
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
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret)
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
        let tree = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret)
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
        let a = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret)
        let b = try MerkleSumTree(claims: input.reversed(), assets: ["USDT", "BTC"], secret: secret)
        #expect(a.rootHash == b.rootHash)
        let c = try MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: [UInt8](repeating: 8, count: 32))
        #expect(c.rootHash != a.rootHash)
        #expect(c.totals == a.totals)
        var changed = input
        changed[42].amounts[1] += FixedDecimal.ulp
        #expect(try MerkleSumTree(claims: changed, assets: ["USDT", "BTC"], secret: secret).rootHash != a.rootHash)
    }

    /// Sums that would leave the decimal range are refused when building, never wrapped.
    @Test func overflowIsRefused() {
        let huge = FixedDecimal(raw: Int128.max / 2 + 1)
        let input = [LiabilityClaim(account: "x", amounts: [huge], negativeParts: [.zero]),
                     LiabilityClaim(account: "y", amounts: [huge], negativeParts: [.zero])]
        #expect(throws: ReservesError.self) { try MerkleSumTree(claims: input, assets: ["USDT"], secret: secret, piecesPerAccount: 1) }
        #expect(throws: ReservesError.self) { try MerkleSumTree(claims: [], assets: ["USDT"], secret: secret) }
    }

    /// Claims from an engine: balances, cross PnL on the settle asset, isolated pools clamped at
    /// zero, a negative claim left out of the tree and reported; the tree's totals are the sums
    /// of the clamped claims.
    @Test func claimsFromEngineState() throws {
        let engine = engineState(accounts: 300, seed: 5)
        let state = engine.state
        let claims = LiabilityClaims.extract(from: state)
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
}
