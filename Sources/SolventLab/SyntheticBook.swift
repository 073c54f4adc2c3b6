public import SolventCore
public import SolventEngine
import SolventRisk

/// The order book the lab feeds the engine's depth model: five levels per side at 0.05 %,
/// 0.2 %, 0.5 %, 1 % and 2 % from the mark, holding 10/15/20/25/30 % of the depth.
public enum SyntheticBook {
    static let steps: [(offset: Double, share: Double)] = [(0.0005, 0.1), (0.002, 0.15), (0.005, 0.2), (0.01, 0.25), (0.02, 0.3)]

    /// The levels around `price` with `depth` base units per side; quantities are rounded to
    /// 0.001 by `rounding`, and a level rounded to zero is left out.
    public static func levels(around price: FixedDecimal, depth: Double, rounding: FloatingPointRoundingRule) -> (bids: [BookLevel], asks: [BookLevel]) {
        func level(_ offset: Double, _ share: Double, _ side: Double) -> BookLevel? {
            let quantity = (depth * share * 1000).rounded(rounding) / 1000
            guard quantity > 0 else { return nil }
            return BookLevel(price: (price * DoubleBoundary.decimal(1 + side * offset)!).rounded(toDigits: 2, rule: .halfEven),
                             quantity: DoubleBoundary.decimal(quantity)!)
        }
        return (steps.compactMap { level($0.offset, $0.share, -1) }, steps.compactMap { level($0.offset, $0.share, 1) })
    }
}
