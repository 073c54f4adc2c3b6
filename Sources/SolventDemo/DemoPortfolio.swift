/// The example book that `solvent demo` evaluates: Binance-like USDⓈ-M brackets for
/// BTCUSDT and ETHUSDT and COIN-M brackets for BTCUSD_PERP (realistic numbers in the
/// shape of Binance's published tiers, not its current table), seven accounts from
/// healthy to bankrupt.
public enum DemoPortfolio {
    /// The portfolio in the evaluation contract's input shape.
    public static let json = #"""
    {
      "policy": { "warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70" },
      "assets": { "USDT": "1", "USDC": "0.9998", "BTC": "65000", "ETH": "3200" },
      "haircuts": { "USDT": "0", "USDC": "0.01", "BTC": "0.05", "ETH": "0.08" },
      "instruments": [
        { "symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
          "brackets": [
            { "notional_floor": "0", "notional_cap": "50000", "max_leverage": "125", "mmr": "0.004" },
            { "notional_floor": "50000", "notional_cap": "500000", "max_leverage": "100", "mmr": "0.005" },
            { "notional_floor": "500000", "notional_cap": "8000000", "max_leverage": "50", "mmr": "0.01" },
            { "notional_floor": "8000000", "notional_cap": "50000000", "max_leverage": "20", "mmr": "0.025" },
            { "notional_floor": "50000000", "notional_cap": "80000000", "max_leverage": "10", "mmr": "0.05" },
            { "notional_floor": "80000000", "notional_cap": "100000000", "max_leverage": "5", "mmr": "0.1" },
            { "notional_floor": "100000000", "notional_cap": "200000000", "max_leverage": "4", "mmr": "0.125" },
            { "notional_floor": "200000000", "notional_cap": "300000000", "max_leverage": "3", "mmr": "0.15" },
            { "notional_floor": "300000000", "notional_cap": "500000000", "max_leverage": "2", "mmr": "0.25" },
            { "notional_floor": "500000000", "notional_cap": "1000000000000", "max_leverage": "1", "mmr": "0.5" } ] },
        { "symbol": "ETHUSDT", "kind": "linear_perpetual", "base": "ETH", "settle": "USDT", "contract_size": "1",
          "brackets": [
            { "notional_floor": "0", "notional_cap": "50000", "max_leverage": "100", "mmr": "0.005" },
            { "notional_floor": "50000", "notional_cap": "500000", "max_leverage": "75", "mmr": "0.0065" },
            { "notional_floor": "500000", "notional_cap": "8000000", "max_leverage": "50", "mmr": "0.01" },
            { "notional_floor": "8000000", "notional_cap": "50000000", "max_leverage": "20", "mmr": "0.02" },
            { "notional_floor": "50000000", "notional_cap": "80000000", "max_leverage": "10", "mmr": "0.05" },
            { "notional_floor": "80000000", "notional_cap": "100000000", "max_leverage": "5", "mmr": "0.1" },
            { "notional_floor": "100000000", "notional_cap": "200000000", "max_leverage": "4", "mmr": "0.125" },
            { "notional_floor": "200000000", "notional_cap": "300000000", "max_leverage": "3", "mmr": "0.15" },
            { "notional_floor": "300000000", "notional_cap": "500000000", "max_leverage": "2", "mmr": "0.25" },
            { "notional_floor": "500000000", "notional_cap": "1000000000000", "max_leverage": "1", "mmr": "0.5" } ] },
        { "symbol": "BTCUSD_PERP", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC", "contract_size": "100",
          "brackets": [
            { "notional_floor": "0", "notional_cap": "5", "max_leverage": "125", "mmr": "0.004" },
            { "notional_floor": "5", "notional_cap": "10", "max_leverage": "100", "mmr": "0.005" },
            { "notional_floor": "10", "notional_cap": "20", "max_leverage": "50", "mmr": "0.01" },
            { "notional_floor": "20", "notional_cap": "50", "max_leverage": "20", "mmr": "0.025" },
            { "notional_floor": "50", "notional_cap": "100", "max_leverage": "10", "mmr": "0.05" },
            { "notional_floor": "100", "notional_cap": "200", "max_leverage": "5", "mmr": "0.1" },
            { "notional_floor": "200", "notional_cap": "400", "max_leverage": "4", "mmr": "0.125" },
            { "notional_floor": "400", "notional_cap": "1000", "max_leverage": "3", "mmr": "0.15" },
            { "notional_floor": "1000", "notional_cap": "1500", "max_leverage": "2", "mmr": "0.25" },
            { "notional_floor": "1500", "notional_cap": "1000000000", "max_leverage": "1", "mmr": "0.5" } ] }
      ],
      "marks": { "BTCUSDT": "65010", "ETHUSDT": "3201.5", "BTCUSD_PERP": "65020" },
      "accounts": [
        { "id": "alice", "settle": "USDT", "collateral": { "USDT": "10000", "BTC": "0.1" },
          "positions": [
            { "symbol": "BTCUSDT", "quantity": "0.5", "entry_price": "60000", "leverage": "20", "margin_mode": "cross" },
            { "symbol": "BTCUSDT", "quantity": "-0.2", "entry_price": "64000", "leverage": "10", "margin_mode": "isolated", "isolated_margin": "1300" } ] },
        { "id": "bob", "settle": "USDT", "collateral": { "USDT": "10410" },
          "positions": [
            { "symbol": "ETHUSDT", "quantity": "60", "entry_price": "3350", "leverage": "75", "margin_mode": "cross" } ] },
        { "id": "carol", "settle": "USDT", "collateral": { "USDC": "20000", "ETH": "4" },
          "positions": [
            { "symbol": "BTCUSDT", "quantity": "-12", "entry_price": "63100", "leverage": "50", "margin_mode": "cross" },
            { "symbol": "ETHUSDT", "quantity": "40", "entry_price": "3150", "leverage": "50", "margin_mode": "cross" } ] },
        { "id": "dave", "settle": "BTC", "collateral": { "BTC": "1.5" },
          "positions": [
            { "symbol": "BTCUSD_PERP", "quantity": "2000", "entry_price": "62000", "leverage": "10", "margin_mode": "cross" } ] },
        { "id": "erin", "settle": "USDT", "collateral": { "USDT": "1830" },
          "positions": [
            { "symbol": "BTCUSDT", "quantity": "2", "entry_price": "65600", "leverage": "100", "margin_mode": "cross" } ] },
        { "id": "frank", "settle": "USDT", "collateral": { "USDT": "1845" },
          "positions": [
            { "symbol": "ETHUSDT", "quantity": "-30", "entry_price": "3150", "leverage": "100", "margin_mode": "cross" } ] },
        { "id": "gina", "settle": "USDT", "collateral": { "USDT": "3000" },
          "positions": [
            { "symbol": "ETHUSDT", "quantity": "60", "entry_price": "3350", "leverage": "75", "margin_mode": "cross" } ] }
      ]
    }
    """#
}
