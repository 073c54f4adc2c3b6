import Foundation
public import SolventCore
public import SolventRisk

/// The process's CPU time in nanoseconds (`CLOCK_PROCESS_CPUTIME_ID`, every thread): a pass's
/// cost without the time it waited for a core, comparable on a loaded machine (the numpy
/// peer reports `time.process_time()` per pass, the same clock).
private func processCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Which evaluation path `solvent bench rescan` measures.
public enum RescanPath: String, Sendable, CaseIterable {
    /// ``ColumnarEvaluator`` over a ``ColumnarBook`` into preallocated columns (the default).
    case columnar
    /// ``MarginEvaluator/evaluate(_:prices:)`` per account (one ``AccountEvaluation`` each).
    case legacy
}

extension EngineBenchmarks {
    /// The columnar rescan: the book is laid out once (untimed), then each pass evaluates every
    /// account into the same result columns. Delegated accounts (portfolio margin,
    /// per-account haircuts) are evaluated in the pass by the contract's own path.
    /// → `positions`, `positions_per_second` (over the median pass).
    public static func columnarRescan(_ input: EvaluateInput, repeats: Int, prices: Bool, progress: BenchProgress? = nil) -> BenchResult {
        progress?.report("laying out \(input.accounts.count) accounts in columns")
        let book = ColumnarBook(input)
        let results = ColumnarResults(for: book)
        let columnar = ColumnarEvaluator(market: input.market, policy: input.policy)
        let delegated = (0..<book.accountCount).filter { book.isDelegated(ColumnarAccountIndex($0)) }
        let portfolio = PortfolioMargin(market: input.market, policy: input.policy, portfolio: input.portfolio, options: input.options)
        var checksum = 0
        func pass() {
            columnar.evaluate(book, into: results, prices: prices)
            for k in delegated {
                let account = input.accounts[k]
                if let policy = input.haircuts {
                    let (market, _) = policy.market(for: account, base: input.market)
                    if input.modes[k] == .portfolio {
                        checksum &+= PortfolioMargin(market: market, policy: input.policy, portfolio: input.portfolio, options: input.options)
                            .evaluate(account).status.rawValue
                    } else {
                        checksum &+= MarginEvaluator(market: market, policy: input.policy).evaluate(account, prices: prices).status.rawValue
                    }
                } else {
                    checksum &+= portfolio.evaluate(account).status.rawValue
                }
            }
            checksum &+= results.accountStatus.count
        }
        pass()  // untimed: warms caches
        var passes: [UInt64] = [], cpu: [UInt64] = []
        for r in 0..<repeats {
            progress?.report("pass \(r + 1) of \(repeats)")
            let start = BenchClock.now(), startCPU = processCPUNanoseconds()
            pass()
            passes.append(BenchClock.now() - start)
            cpu.append(processCPUNanoseconds() - startCPU)
        }
        precondition(checksum != 0 || input.accounts.isEmpty)
        let median = Percentiles(passes).value(at: 50)
        let rate = Double(book.positionCount) / (Double(max(median, 1)) / 1e9)
        let cpuRate = Double(book.positionCount) / (Double(max(Percentiles(cpu).value(at: 50), 1)) / 1e9)
        return BenchResult(title: "rescan (columnar): \(book.positionCount) positions, \(prices ? "with" : "without") liquidation prices, median of \(repeats) passes", members: [
            ("positions", "positions", .integer(book.positionCount)),
            ("positions_per_second", "positions per second", .number(rate)),
            ("cpu_positions_per_second", "positions per CPU second (process CPU time)", .number(cpuRate)),
        ])
    }
}
