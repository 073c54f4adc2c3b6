public import SolventCore

extension PoolEvaluation {
    /// What may leave the pool: `max(0, collateral − IM + min(0, uPnL))`, where `uPnL = equity −
    /// collateral`. Unrealized profit counts as margin (it is in `equity` and `available`) but is
    /// not withdrawable until realized, as Binance and Bybit rule; an unrealized loss reduces
    /// what may leave. (The engine subtracts open-order margin as well.)
    public var withdrawable: FixedDecimal {
        FixedDecimal.maximum(.zero, collateral + FixedDecimal.minimum(.zero, equity - collateral) - initialMargin)
    }
}
