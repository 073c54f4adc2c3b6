import Benchmark
import SolventCore
import SolventLab
import SolventReserves

/// Proof of liabilities: building the Merkle-sum tree (two leaves per account, two assets:
/// salts, splits, leaf and node hashes, the sort by leaf hash) and issuing every proof.
func reservesBenchmarks() {
    func claims(_ accounts: Int) -> [LiabilityClaim] {
        (0..<accounts).map { k in
            LiabilityClaim(account: "account-\(k)",
                           amounts: [FixedDecimal(raw: Int128(k % 977 + 1) * 1_000_000_000_000_000_000 + Int128(k)), FixedDecimal(raw: Int128(k % 13) * 10_000_000_000_000_000)],
                           negativeParts: [.zero, .zero])
        }
    }
    let secret = [UInt8](repeating: 42, count: 32)
    for accounts in [100_000, 1_000_000] {
        Benchmark("reserves tree build, \(accounts) accounts",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident], maxDuration: .seconds(60), maxIterations: 3)) { benchmark in
            let input = claims(accounts)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try! MerkleSumTree(claims: input, assets: ["USDT", "BTC"], secret: secret, snapshot: "bench"))
            }
            benchmark.stopMeasurement()
        }
        if accounts == 100_000 {
            let tree = ReservesTree()
            Benchmark("reserves proof issue + verify, \(accounts) accounts tree",
                      configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(10), maxIterations: 1_000)) { benchmark in
                let tree = tree.tree(claims(accounts), secret)
                benchmark.startMeasurement()
                var k = 0
                for _ in benchmark.scaledIterations {
                    let proof = tree.proof(claimIndex: k % accounts)
                    blackHole(try! proof.verify(root: tree.rootHash))
                    k += 7919
                }
                benchmark.stopMeasurement()
            }
        }
    }
}

/// The tree for the proof benchmark, built once outside any measurement.
final class ReservesTree: @unchecked Sendable {
    private var built: MerkleSumTree?
    func tree(_ claims: @autoclosure () -> [LiabilityClaim], _ secret: [UInt8]) -> MerkleSumTree {
        if let built { return built }
        let tree = try! MerkleSumTree(claims: claims(), assets: ["USDT", "BTC"], secret: secret, snapshot: "bench")
        built = tree
        return tree
    }
}
