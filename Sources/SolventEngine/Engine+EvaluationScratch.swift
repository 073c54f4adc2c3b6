public import SolventCore
public import SolventRisk

extension Engine {
    /// An empty evaluation: the re-evaluation's scratch before its first use.
    static var emptyEvaluation: AccountEvaluation { .empty }

    /// `evaluateAccount(record, prices: prices)` written into `result`. `standard`: whether the
    /// account takes the standard evaluation (`isPoolCacheable(record)`: not portfolio-margined,
    /// no option position). On that path the evaluator fills `result`'s arrays in place (their
    /// capacity kept: no array allocated when `result` is uniquely referenced) and reads the
    /// market and policy in place (no `MarginEvaluator` built); the other paths assign their
    /// evaluation. The same numbers either way (`MarginEvaluator.evaluate(_:market:policy:prices:into:)`).
    func evaluateAccount(_ record: EngineAccount, prices: Bool, standard: Bool, into result: inout AccountEvaluation) {
        guard standard else {
            result = evaluateAccount(record, prices: prices)
            return
        }
        MarginEvaluator.evaluate(record.account, market: state.market, policy: state.parameters.policy, prices: prices, into: &result)
    }
}
