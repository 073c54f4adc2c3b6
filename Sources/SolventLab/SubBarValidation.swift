import RealModule
import SolventCore
public import SolventRisk

/// Checks a sub-bar horizon estimated from coarse bars (e.g. hourly ranges, Parkinson, fat-tailed
/// quantile) against the moves that finer bars of the same market actually made (docs/dynamic-margin.md).
///
/// The rate known at the close of coarse bar `t` covers the next coarse bar; inside it, every
/// non-overlapping horizon move between fine closes (`h = horizon / fine bar` fine bars, windows
/// across a gap in the fine data left out) is compared with it. The first `warmup` coarse bars are
/// skipped (the volatility average is still settling).
public enum SubBarValidation {
    public struct Result: Sendable, Hashable {
        public var moves: Int
        public var exceedances: Int
        public var rate: Double { moves == 0 ? 0 : Double(exceedances) / Double(moves) }
        /// The quantile multiplier the model used.
        public var predictedZ: Double
        /// The multiplier the realized moves needed: the coverage quantile of `ln(1 + loss)/(σ·√h)`.
        public var realizedZ: Double
        /// `realizedZ / predictedZ − 1`.
        public var relativeError: Double { predictedZ == 0 ? 0 : realizedZ / predictedZ - 1 }
    }

    public static func run(coarse: [Bar], fine: [Bar], model: DynamicMargin, coverage: Double, warmup: Int = 24) -> Result {
        let coarseMs = model.barMs
        let fineMs = DynamicMargin.barInterval(fine.map(\.time))
        let horizonMs = Int64((model.horizonSeconds[0] * 1000).rounded())
        let h = max(1, Int(horizonMs / fineMs))
        let root = (Double(h) * Double(fineMs) / Double(coarseMs)).squareRoot()
        var fineIndex: [Int64: Int] = [:]
        for (i, bar) in fine.enumerated() { fineIndex[bar.time] = i }
        var u: [Double] = []
        var exceedances = 0
        for t in max(1, warmup)..<max(1, coarse.count - 1) {
            let step = model.steps[t - 1]
            let rate = step.rates[0], sigma = step.volatility
            guard sigma > 0 else { continue }
            let startTime = coarse[t + 1].time, end = startTime + coarseMs
            // Fine closes inside the next coarse bar, from its first fine bar.
            var time = startTime
            while time + Int64(h) * fineMs < end + 1 {
                let a = fineIndex[time], b = fineIndex[time + Int64(h) * fineMs]
                if let a, let b {
                    let p0 = DoubleBoundary.double(fine[a].close), p1 = DoubleBoundary.double(fine[b].close)
                    let ratio = p1 / p0
                    let loss = max(1 - ratio, ratio - 1)
                    if loss > rate { exceedances += 1 }
                    u.append(Double.log(onePlus: loss) / (sigma * root))
                }
                time += Int64(h) * fineMs
            }
        }
        u.sort()
        let realized = u.isEmpty ? 0 : u[min(u.count - 1, max(0, Int((Double(u.count) * coverage).rounded(.up)) - 1))]
        return Result(moves: u.count, exceedances: exceedances, predictedZ: model.z, realizedZ: realized)
    }

    /// Coarse bars built from fine ones: each complete coarse interval (aligned to `coarseMs` from
    /// the epoch, every fine bar present) becomes one bar; incomplete intervals are left out.
    public static func resample(_ fine: [Bar], coarseMs: Int64) -> [Bar] {
        let fineMs = DynamicMargin.barInterval(fine.map(\.time))
        let per = Int(coarseMs / fineMs)
        var out: [Bar] = []
        var i = 0
        while i < fine.count {
            let start = fine[i].time - ((fine[i].time % coarseMs) + coarseMs) % coarseMs
            var j = i
            while j < fine.count && fine[j].time < start + coarseMs { j += 1 }
            if j - i == per && fine[i].time == start {
                let slice = fine[i..<j]
                out.append(Bar(time: start, open: slice.first!.open, high: slice.map(\.high).max()!, low: slice.map(\.low).min()!,
                               close: slice.last!.close, volume: slice.reduce(.zero) { $0 + $1.volume }))
            }
            i = j
        }
        return out
    }
}
