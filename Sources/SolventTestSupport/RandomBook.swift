public import SolventCore
public import SolventRisk

/// Random but realistic books for property tests and benchmarks.
public enum RandomBook {
    /// A decimal with `digits` fractional digits, uniformly in [low, high].
    public static func decimal(_ low: Double, _ high: Double, digits: Int, using rng: inout some RandomNumberGenerator) -> FixedDecimal {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let lo = Int64((low * Double(scale)).rounded())
        let hi = Int64((high * Double(scale)).rounded())
        let units = Int64.random(in: lo...hi, using: &rng)
        return FixedDecimal(raw: Int128(units) * (FixedDecimal.unitRaw / Int128(scale)))
    }

    /// Binance-like tiers scaled by `unit`: 5 brackets, rates rising, leverage falling.
    public static func brackets(unit: FixedDecimal) -> BracketTable {
        let floors: [FixedDecimal] = [0, 50_000, 500_000, 8_000_000, 50_000_000]
        let caps: [FixedDecimal] = [50_000, 500_000, 8_000_000, 50_000_000, 1_000_000_000]
        let leverage: [FixedDecimal] = [125, 100, 50, 20, 10]
        let rates = ["0.004", "0.005", "0.01", "0.025", "0.05"].map { FixedDecimal($0)! }
        let rows = (0..<5).map { BracketTable.Row(floor: floors[$0] * unit, cap: caps[$0] * unit, maxLeverage: leverage[$0], mmr: rates[$0]) }
        return try! BracketTable(rows: rows)
    }

    /// A market with USDT, USDC, BTC, ETH; a linear BTC perp, a linear ETH perp and an
    /// inverse BTC perp (contract 100 USD), with marks.
    public static func market(using rng: inout some RandomNumberGenerator) -> Market {
        let btc = decimal(20_000, 90_000, digits: 1, using: &rng)
        let eth = decimal(1_000, 4_000, digits: 2, using: &rng)
        let assets = [
            Asset(symbol: "USDT", price: 1, haircut: 0),
            Asset(symbol: "USDC", price: FixedDecimal("0.9998")!, haircut: FixedDecimal("0.01")!),
            Asset(symbol: "BTC", price: btc, haircut: FixedDecimal("0.05")!),
            Asset(symbol: "ETH", price: eth, haircut: FixedDecimal("0.08")!),
        ]
        let instruments = [
            Instrument(symbol: "BTCUSDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: 1, brackets: brackets(unit: 1)),
            Instrument(symbol: "ETHUSDT", kind: .perpetual(.linear), base: "ETH", settle: "USDT", contractSize: 1, brackets: brackets(unit: 1)),
            Instrument(symbol: "BTCUSD_PERP", kind: .perpetual(.inverse), base: "BTC", settle: "BTC", contractSize: 100,
                       brackets: brackets(unit: FixedDecimal("0.0001")!)),
        ]
        let marks: [FixedDecimal?] = [
            btc + decimal(-50, 50, digits: 1, using: &rng),
            eth + decimal(-5, 5, digits: 2, using: &rng),
            btc + decimal(-50, 50, digits: 1, using: &rng),
        ]
        return Market(assets: assets, instruments: instruments, marks: marks)
    }

    /// A random account: USDT-settled (linear perps, USDT/USDC/BTC/ETH collateral) or
    /// BTC-settled (inverse perp, BTC collateral); 1–4 positions, cross and isolated,
    /// long and short, sizes that cross brackets, some near liquidation.
    public static func account(id: String, market: Market, using rng: inout some RandomNumberGenerator) -> Account {
        let inverse = Int.random(in: 0..<4, using: &rng) == 0
        var positions: [Position] = []
        var cross = Set<Int>()
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let instrument = inverse ? 2 : Int.random(in: 0...1, using: &rng)
            let mark = market.marks[instrument]!
            let side: FixedDecimal = Bool.random(using: &rng) ? 1 : -1
            let targetNotional = decimal(100, 30_000_000, digits: 0, using: &rng)
            let quantity: FixedDecimal
            if inverse {
                quantity = FixedDecimal(Int(truncatingIfNeeded: Int64(Double(targetNotional.description)! / 100).clamped(1, 1_000_000)))
            } else {
                quantity = (targetNotional / mark).rounded(toDigits: 3, rule: .up)
            }
            let entry = mark * decimal(0.9, 1.1, digits: 4, using: &rng)
            let leverage = Bool.random(using: &rng) ? decimal(1, 100, digits: 0, using: &rng) : nil
            let isolated = Int.random(in: 0..<3, using: &rng) == 0 || cross.contains(instrument)
            let notional = inverse ? quantity * 100 / mark : quantity * mark
            let mode: MarginMode = isolated ? .isolated(margin: (notional * decimal(0.002, 0.3, digits: 4, using: &rng)).rounded(toDigits: 8)) : .cross
            if !isolated { cross.insert(instrument) }
            positions.append(Position(instrument: instrument, quantity: side * quantity.magnitude, entryPrice: entry.rounded(toDigits: 2),
                                      leverage: leverage, marginMode: mode))
        }
        var collateral: [CollateralBalance] = []
        if inverse {
            collateral.append(CollateralBalance(asset: 2, amount: decimal(-0.5, 50, digits: 8, using: &rng)))
        } else {
            for asset in 0..<4 where Bool.random(using: &rng) || asset == 0 {
                let amount = asset < 2 ? decimal(-1_000, 2_000_000, digits: 2, using: &rng) : decimal(0, 20, digits: 6, using: &rng)
                collateral.append(CollateralBalance(asset: asset, amount: amount))
            }
        }
        return Account(id: id, settle: inverse ? 2 : 0, collateral: collateral, positions: positions)
    }

    /// A whole evaluation input with `accounts` random accounts.
    public static func input(accounts: Int, seed: UInt64) -> EvaluateInput {
        var rng = SplitMix64(seed: seed)
        let market = market(using: &rng)
        let list = (0..<accounts).map { account(id: "acct-\($0)", market: market, using: &rng) }
        return EvaluateInput(policy: .standard, market: market, accounts: list)
    }
}

extension Int64 {
    fileprivate func clamped(_ low: Int64, _ high: Int64) -> Int64 { Swift.min(Swift.max(self, low), high) }
}
