import SolventCore

extension Engine {
    /// The option state's invariants (checked with the others, Engine+Invariants.swift): volatility
    /// slices sorted by underlying then expiry, one per pair, each with 1 to 256 points, strictly
    /// increasing strikes and vols in (0, 10] (Engine+VolSurface.swift); postponed settlements
    /// ascending, distinct, expired and without resting orders (Engine+Expiry.swift).
    func optionStateViolation() -> String? {
        guard let o = state.optionMarks else { return nil }
        let surfaces = o.surfaces ?? []
        for (k, q) in surfaces.enumerated() {
            if k > 0, (surfaces[k - 1].underlying, surfaces[k - 1].expiry) >= (q.underlying, q.expiry) {
                return "vol surface slices not sorted by (underlying, expiry) at \(q.underlying) \(q.expiry)"
            }
            if q.strikes.isEmpty || q.strikes.count > Self.maxSurfacePoints || q.vols.count != q.strikes.count {
                return "vol surface slice \(q.underlying) \(q.expiry) has \(q.strikes.count) strikes and \(q.vols.count) vols"
            }
            for j in q.strikes.indices where (j > 0 && q.strikes[j] <= q.strikes[j - 1]) || !q.vols[j].isPositive || q.vols[j] > FixedDecimal(10) {
                return "vol surface slice \(q.underlying) \(q.expiry): point \(j) breaks increasing strikes or a vol in (0, 10]"
            }
            if let f0 = q.referenceForward, !f0.isPositive {  // sticky moneyness (VolSurfaceSticky.swift)
                return "vol surface slice \(q.underlying) \(q.expiry): reference forward \(f0) is not positive"
            }
        }
        let marked = o.surfaceMarked ?? []  // Engine+SurfaceFollow.swift
        for (k, i) in marked.enumerated() {
            if k > 0, marked[k - 1] >= i { return "surface-marked options not ascending and distinct" }
            guard state.market.instruments.indices.contains(i), case let .option(_, _, expiry, underlying) = state.market.instruments[i].kind,
                  let quote = surfaces.first(where: { $0.underlying == underlying && $0.expiry == expiry }) else {
                return "surface-marked instrument \(i) is not an option with a slice"
            }
            if let source = state.markSources[i], source.sourceTime != quote.sourceTime {
                return "surface-marked \(state.market.instruments[i].symbol) has a mark source time \(source.sourceTime), its slice \(quote.sourceTime)"
            }
        }
        let pending = o.pendingSettlements ?? []
        for (k, i) in pending.enumerated() {
            if k > 0, pending[k - 1] >= i { return "postponed settlements not ascending and distinct" }
            guard state.market.instruments.indices.contains(i), isExpired(i) else { return "postponed settlement of instrument \(i), which has not expired" }
            if state.orders.values.contains(where: { $0.instrument == i }) {
                return "a resting order on \(state.market.instruments[i].symbol), whose settlement is postponed"
            }
        }
        return fedMarkFollowViolation()  // Engine+StaleOptionMarks.swift
    }
}
