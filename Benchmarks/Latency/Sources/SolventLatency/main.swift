// Open-loop latency of Solvent's hot paths, reported the way exchange-core reports its own:
// a table of offered rate against p50 / p99 / p99.9 / p99.99 / max (HDR histograms), with
// no coordinated omission: every operation has a scheduled start `t0 + i/rate`, and its latency
// is measured from that scheduled start, so time spent waiting behind a slow operation counts.
//
//   cd Benchmarks/Latency && swift run -c release SolventLatency [accounts]
import Foundation
import Histogram
import SolventCore
import SolventEngine
import SolventRisk

@inline(__always) func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// An engine over `count` healthy accounts, each long or short BTCUSDT at 5–20× with USDT collateral.
func book(_ count: Int) -> Engine {
    var rng = SplitMix64(seed: 11)
    let brackets = try! BracketTable(rows: [
        BracketTable.Row(floor: .zero, cap: FixedDecimal(50_000), maxLeverage: FixedDecimal(125), mmr: FixedDecimal("0.004")!),
        BracketTable.Row(floor: FixedDecimal(50_000), cap: FixedDecimal(1_000_000_000), maxLeverage: FixedDecimal(50), mmr: FixedDecimal("0.01")!),
    ])
    let instrument = Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: .one, brackets: brackets)
    let mark = FixedDecimal(60_000)
    let market = Market(assets: [Asset(symbol: "USDT", price: .one, haircut: .zero)], instruments: [instrument], marks: [mark])
    var parameters = EngineParameters.exchange
    parameters.markStalenessMs = 3_600_000_000
    var engine = Engine(market: market, parameters: parameters)
    for n in 0..<count {
        let leverage = FixedDecimal(Int.random(in: 5...20, using: &rng))
        let quantity = FixedDecimal(raw: Int128(Int.random(in: 10...2_000, using: &rng)) * 1_000_000_000_000_000) * (n % 2 == 0 ? .one : -.one)
        // Collateral between 1.2× and 3× the initial margin.
        let cushion = FixedDecimal(raw: Int128(Int.random(in: 1_200...3_000, using: &rng)) * 1_000_000_000_000_000)
        let collateral = (quantity.magnitude * mark / leverage * cushion).rounded(toDigits: 2)
        try! engine.openAccount(Account(id: "a\(n)", settle: 0, collateral: [CollateralBalance(asset: 0, amount: collateral)],
                                        positions: [Position(instrument: 0, quantity: quantity, entryPrice: mark, leverage: leverage, marginMode: .cross)]))
    }
    return engine
}

struct Row {
    var name: String
    var rate: Double
    var histogram: Histogram<UInt64>
    var events: Int
}

/// Runs `operations` operations at `rate` per second, open loop.
func openLoop(_ name: String, rate: Double, operations: Int, _ operation: (Int) -> Int) -> Row {
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    let interval = 1e9 / rate
    let start = now() + 1_000_000
    var events = 0
    for i in 0..<operations {
        let scheduled = start + UInt64(Double(i) * interval)
        while now() < scheduled {}
        events += operation(i)
        histogram.record(now() - scheduled)
    }
    return Row(name: name, rate: rate, histogram: histogram, events: events)
}

func format(_ ns: UInt64) -> String {
    if ns >= 1_000_000 { return String(format: "%.2f ms", Double(ns) / 1e6) }
    if ns >= 1_000 { return String(format: "%.2f µs", Double(ns) / 1e3) }
    return "\(ns) ns"
}

let accounts = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
print("building \(accounts) accounts…")
let built = now()
var engine = book(accounts)
print(String(format: "built in %.1f s", Double(now() - built) / 1e9))
if CommandLine.arguments.contains("--memory") {
    // Resident memory of the engine with `accounts` one-position accounts (index included).
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map(String.init) ?? "VmRSS: ?"
    let kilobytes = Double(rss.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
    print("\(rss.replacingOccurrences(of: "\t", with: " ")); ≈ \(Int(kilobytes * 1024 / Double(accounts))) bytes per account (one position each)")
    exit(0)
}
var rows: [Row] = []
var time: Int64 = 1_700_000_000_000
let mark = FixedDecimal(60_000)

// 1. Pre-trade margin check: a risk-increasing limit order (IM check against available margin,
//    reservation), then its cancellation outside the measurement.
_ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: mark, sourceTime: time)))
for rate in [100_000.0, 500_000.0, 1_000_000.0] {
    let n = Int(min(rate * 2, 400_000))
    var cancelIDs: [String] = []
    cancelIDs.reserveCapacity(n)
    rows.append(openLoop("pre-trade check (place order)", rate: rate, operations: n) { i in
        let id = "o\(Int(rate))-\(i)"
        let events = engine.apply(TimedCommand(time: time, command: .placeOrder(id: id, account: "a\((i * 7919) % accounts)", symbol: "BTCUSDT",
                                                                                quantity: FixedDecimal("0.001")!, price: mark, reduceOnly: false)))
        cancelIDs.append(id)
        return events.count
    })
    for id in cancelIDs { _ = engine.apply(TimedCommand(time: time, command: .cancelOrder(id: id))) }
}

// 2. Price ticks through the at-risk index. The move is chosen so that about 1 % of the
//    accounts cross a margin-call threshold on each tick (down, then back up).
let evaluator = engine.evaluator
var distances: [Double] = []
for record in engine.state.accounts {
    let pool = evaluator.evaluate(record.account).cross
    let q = Double(record.account.positions[0].quantity.description)!
    // Relative move that brings MM/equity to the warning ratio 0.70 (linear, one position).
    let equity = Double(pool.equity.description)!, mm = Double(pool.maintenanceMargin.description)!
    let notional = abs(q) * 60_000
    let needed = (equity - mm / 0.7) / (notional * (1 + 0.004 / 0.7))
    if q > 0 { distances.append(needed) }
}
distances.sort()
let move = distances[Int(Double(distances.count) * 0.02)]  // longs are half the book: 2 % of longs ≈ 1 % of accounts
print(String(format: "tick move for ~1%% crossing: %.3f%%", move * 100))
let down = (mark * FixedDecimal(String(format: "%.6f", 1 - move))!).rounded(toDigits: 2)
for (name, price2, rate, n) in [("price tick, no account crosses", mark * FixedDecimal("1.0001")!, 10_000.0, 20_000),
                                ("price tick, ~1 % of accounts cross", down, 100.0, 400),
                                ("price tick, ~1 % of accounts cross", down, 500.0, 1_000)] {
    var flip = false
    rows.append(openLoop(name, rate: rate, operations: n) { _ in
        time += 1
        flip.toggle()
        let price = flip ? price2 : mark
        return engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: price, sourceTime: time))).count
    })
}

print("")
print("| operation | offered rate | ops | p50 | p99 | p99.9 | p99.99 | max | events/op |")
print("|---|---|---|---|---|---|---|---|---|")
for row in rows {
    let h = row.histogram
    print("| \(row.name) | \(Int(row.rate))/s | \(h.totalCount) | \(format(h.valueAtPercentile(50))) | \(format(h.valueAtPercentile(99))) | \(format(h.valueAtPercentile(99.9))) | \(format(h.valueAtPercentile(99.99))) | \(format(h.max)) | \(String(format: "%.1f", Double(row.events) / Double(max(1, h.totalCount)))) |")
}
