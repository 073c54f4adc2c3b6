import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport

/// Generated books, built once in a benchmark's setup hook and shared by its iterations.
final class Books: @unchecked Sendable {
    static let shared = Books()
    private let lock = NSLock()
    private var inputs: [Int: EvaluateInput] = [:]
    private var engines: [Int: Engine] = [:]

    /// A random book of `accounts` accounts (about 2.5 positions each), seed 7.
    func input(accounts: Int) -> EvaluateInput {
        lock.lock()
        defer { lock.unlock() }
        if let input = inputs[accounts] { return input }
        let input = RandomBook.input(accounts: accounts, seed: 7)
        inputs[accounts] = input
        return input
    }

    /// An engine over a healthy book: `accounts` accounts, each long or short BTCUSDT at
    /// 5–20× leverage with USDT collateral, marks at 60000.
    func engine(accounts: Int) -> Engine {
        lock.lock()
        defer { lock.unlock() }
        if let engine = engines[accounts] { return engine }
        var rng = SplitMix64(seed: 11)
        let market = RandomBook.market(using: &rng)
        var engine = Engine(market: market)
        let mark = market.marks[0]!
        for n in 0..<accounts {
            let leverage = RandomBook.decimal(5, 20, digits: 0, using: &rng)
            let quantity = RandomBook.decimal(0.01, 2, digits: 3, using: &rng) * (n % 2 == 0 ? 1 : -1)
            let collateral = (quantity.magnitude * mark / leverage).rounded(toDigits: 2) * 2
            try! engine.openAccount(Account(id: "a\(n)", settle: 0, collateral: [CollateralBalance(asset: 0, amount: collateral)],
                                            positions: [Position(instrument: 0, quantity: quantity, entryPrice: mark, leverage: leverage, marginMode: .cross)]))
        }
        engines[accounts] = engine
        return engine
    }

    /// Number of positions in a book.
    static func positions(_ input: EvaluateInput) -> Int { input.accounts.reduce(0) { $0 + $1.positions.count } }
}
