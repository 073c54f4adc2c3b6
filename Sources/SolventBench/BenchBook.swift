public import SolventCore
public import SolventEngine
import SolventRisk

/// The books `solvent bench` measures on: `count` healthy accounts, each long or short BTCUSDT
/// (linear perpetual, two brackets) at 5–20× leverage with USDT collateral between 1.2× and 3×
/// the initial margin, mark 60,000; seeded (SplitMix64 seed 11), so every run holds the same
/// book. The same book as `Benchmarks/Latency` (its open-loop figures are comparable).
public enum BenchBook {
    /// The mark every account opens at.
    public static let mark = FixedDecimal(60_000)

    /// The market: USDT, BTCUSDT with brackets 0.4 % up to 50,000 notional and 1 % above.
    public static func market() -> Market {
        let brackets = try! BracketTable(rows: [
            BracketTable.Row(floor: .zero, cap: FixedDecimal(50_000), maxLeverage: FixedDecimal(125), mmr: FixedDecimal(raw: 4_000_000_000_000_000)),
            BracketTable.Row(floor: FixedDecimal(50_000), cap: FixedDecimal(1_000_000_000), maxLeverage: FixedDecimal(50), mmr: FixedDecimal(raw: 10_000_000_000_000_000)),
        ])
        let instrument = Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: .one, brackets: brackets)
        return Market(assets: [Asset(symbol: "USDT", price: .one, haircut: .zero)], instruments: [instrument], marks: [mark])
    }

    /// An engine over `count` accounts `a0 … a<count−1>` (stale-mark breaker disabled, so that a
    /// benchmark's clock never pauses liquidations). `progress` is told every 100,000 accounts.
    public static func engine(accounts count: Int, progress: BenchProgress? = nil) -> Engine {
        var rng = SplitMix64(seed: 11)
        var parameters = EngineParameters.exchange
        parameters.markStalenessMs = 3_600_000_000
        var engine = Engine(market: market(), parameters: parameters)
        let unit: Int128 = 1_000_000_000_000_000
        for n in 0..<count {
            let leverage = FixedDecimal(Int.random(in: 5...20, using: &rng))
            let quantity = FixedDecimal(raw: Int128(Int.random(in: 10...2_000, using: &rng)) * unit) * (n % 2 == 0 ? .one : -.one)
            let cushion = FixedDecimal(raw: Int128(Int.random(in: 1_200...3_000, using: &rng)) * unit)
            let collateral = (quantity.magnitude * mark / leverage * cushion).rounded(toDigits: 2)
            try! engine.openAccount(Account(id: "a\(n)", settle: 0, collateral: [CollateralBalance(asset: 0, amount: collateral)],
                                            positions: [Position(instrument: 0, quantity: quantity, entryPrice: mark, leverage: leverage, marginMode: .cross)]))
            if n % 100_000 == 99_999 { progress?.report("built \(n + 1) of \(count) accounts") }
        }
        return engine
    }
}
