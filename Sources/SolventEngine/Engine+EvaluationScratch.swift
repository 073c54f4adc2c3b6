public import SolventCore
public import SolventRisk

extension Engine {
    /// An empty evaluation: the re-evaluation's scratch (`evaluationScratch`) before its first
    /// use. `evaluateAndAdvance` fills the scratch in place for a standard account
    /// (`MarginEvaluator.evaluate(_:market:policy:prices:into:)`: its arrays keep their capacity,
    /// so no result array is allocated per account) and assigns the evaluation of the others.
    static var emptyEvaluation: AccountEvaluation { .empty }
}
