public import SolventCore

extension Engine {
    /// Updates every instrument's pause reasons (stale mark, mark/index divergence,
    /// index move within the window) and the throttle window; emits pause/resume events.
    mutating func refreshBreakers() {
        let p = state.parameters
        for i in state.market.instruments.indices {
            var breaker = state.breakers[i]
            var reasons: [String] = []
            if state.market.marks[i] != nil, isStale(i) { reasons.append("stale_mark") }
            if let mark = state.market.marks[i], let index = state.indexPrices[i]?.price {
                if (mark - index).magnitude > index * p.oracleDivergenceLimit { reasons.append("oracle_divergence") }
                if breaker.indexWindowReference == nil || state.time - breaker.indexWindowStart >= p.indexMoveWindowMs {
                    breaker.indexWindowStart = state.time
                    breaker.indexWindowReference = index
                }
                if let reference = breaker.indexWindowReference, (index - reference).magnitude > reference * p.indexMoveLimit {
                    reasons.append("index_move")
                }
            }
            if state.time - breaker.capWindowStart >= p.liquidationCapIntervalMs {
                breaker.capWindowStart = state.time - (state.time - breaker.capWindowStart) % p.liquidationCapIntervalMs
                breaker.capUsed = .zero
                breaker.throttleReported = false
            }
            let symbol = state.market.instruments[i].symbol
            if reasons != breaker.pausedReasons {
                if reasons.isEmpty {
                    emit(.liquidationsResumed, [("symbol", .text(symbol)), ("previous_reasons", .text(breaker.pausedReasons.joined(separator: ",")))])
                } else {
                    emit(.liquidationsPaused, [("symbol", .text(symbol)), ("reasons", .text(reasons.joined(separator: ","))),
                                               ("mark", .optionalDecimal(state.market.marks[i])),
                                               ("mark_source_time", .integer(state.markSources[i]?.sourceTime ?? 0)),
                                               ("index", .optionalDecimal(state.indexPrices[i]?.price))])
                }
                breaker.pausedReasons = reasons
            }
            state.breakers[i] = breaker
        }
    }
}
