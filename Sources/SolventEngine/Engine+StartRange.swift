import SolventCore

extension Engine {
    /// The range contract's position bound for an inverse start position (scenario start state,
    /// `openAccount`): the evaluate contract admits sizes up to 10^18 / price, but a coin-valued
    /// position's value grows as 1/F when the engine later marks its underlying down to 10^-8
    /// (docs/range-contract.md). An inverse perpetual or future: |q|·contract_size ≤ 10^9 quote
    /// units, as a fill's; a coin-settled option: its strike notional |q|·contract_size·K ≤ 10^9
    /// (`positionProblem`). Otherwise a start state could trap the first mark of 10^-8 or the
    /// expiry that settles the position (attack session 16). Throws `out_of_range` naming
    /// `positions[k].quantity`.
    func requireStartPositionsInRange(_ account: Account) throws(RejectReason) {
        for (k, position) in account.positions.enumerated() {
            let instrument = state.market.instruments[position.instrument]
            guard instrument.isInverse else { continue }
            var size = position.quantity.magnitude.multiplied(by: instrument.contractSize, rounding: .awayFromZero)
            if instrument.isInverseOption, case let .option(_, strike, _, _) = instrument.kind {
                size = size.flatMap { $0.multiplied(by: strike, rounding: .awayFromZero) }
            }
            guard let size, size <= RangeContract.maxPositionSize else {
                throw RejectReason(.outOfRange, field: "positions[\(k)].quantity",
                                   "out of range: an inverse position's size |quantity|·contract_size (times the strike for a coin-settled option) above 1e9")
            }
        }
    }
}
