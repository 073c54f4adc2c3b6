public import SolventCore

/// The implied-volatility shock of a scenario.
public enum VolShock: String, Sendable, Hashable, CaseIterable {
    case down, none, up
}

/// One scenario of a group: a relative move of every price in the group, a vol shock, and
/// the weight its loss counts at.
public struct Scenario: Sendable, Hashable {
    /// Relative price move (−0.15 = −15 %).
    public var move: FixedDecimal
    public var volShock: VolShock
    /// 1, or the extreme fraction for the two extreme moves.
    public var weight: FixedDecimal

    public init(move: FixedDecimal, volShock: VolShock, weight: FixedDecimal) {
        self.move = move
        self.volShock = volShock
        self.weight = weight
    }
}

extension PortfolioPolicy {
    /// The grid for a group of range `range`: N moves from −R to +R, each with vol down, none
    /// and up (weight 1), then ±E·R with vol up at the extreme fraction; 3N + 2 scenarios.
    public func scenarios(range: FixedDecimal) -> [Scenario] {
        precondition(priceSteps >= 3 && priceSteps % 2 == 1, "price steps must be odd and at least 3")
        var grid: [Scenario] = []
        grid.reserveCapacity(3 * priceSteps + 2)
        let last = FixedDecimal(priceSteps - 1)
        for k in 0..<priceSteps {
            // R·(2k/(N−1) − 1), rounded once.
            let move = (range * FixedDecimal(2 * k - (priceSteps - 1))).divided(by: last, rounding: .halfEven)!
            for shock in VolShock.allCases { grid.append(Scenario(move: move, volShock: shock, weight: .one)) }
        }
        let extreme = extremeMultiple * range
        grid.append(Scenario(move: -extreme, volShock: .up, weight: extremeFraction))
        grid.append(Scenario(move: extreme, volShock: .up, weight: extremeFraction))
        return grid
    }

    /// Relative vol shock for a tenor of `years`: `min(cap, shock·√(ref / max(T·365, 1)))`.
    public func volShockSize(years: Double) -> Double {
        let days = max(years * 365, 1)
        let base = DoubleBoundary.double(volShock) * (Double(volShockReferenceDays) / days).squareRoot()
        return min(DoubleBoundary.double(volShockCap), base)
    }
}
