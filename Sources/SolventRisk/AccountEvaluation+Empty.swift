public import SolventCore

extension AccountEvaluation {
    /// No pools, no positions, healthy: the starting value of a scratch evaluation that
    /// `MarginEvaluator.evaluate(_:market:policy:prices:into:)` fills (the engine's re-evaluation).
    public static let empty = AccountEvaluation(status: .healthy, pools: [], positions: [])
}
