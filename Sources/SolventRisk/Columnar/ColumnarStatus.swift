public import SolventCore

/// A pool's status for ``ColumnarEvaluator``: ``MarginEvaluator/status(equity:maintenance:policy:hasPositions:)``
/// step for step, with the two ratio tests `MM ≥ equity·ratio` (the call and warning ratios)
/// decided without the 256-bit products of ``FixedDecimal/compareProducts(_:_:_:_:)`` when the
/// ratio has a short form (``ScaledDecimal``): with `ratio = m·10^e` (raw), `MM·1 ⋛ equity·ratio`
/// compares `MM.raw·10^18` with `equity.raw·m·10^e`; dividing both by `10^e > 0` leaves
/// `MM.raw·10^(18−e)` against `equity.raw·m`, two 128-bit products, exact whenever neither
/// overflows (the general comparison otherwise). ColumnarStatusTests prove it against
/// compareProducts over the full range, ties included.
public struct ColumnarStatusRule: Sendable {
    public let policy: MarginPolicy
    /// `10^(18−e)` and `m` of the call and warning ratios (`scale` 0: no short form).
    let callScale: Int128, callMantissa: Int128
    let warningScale: Int128, warningMantissa: Int128
    /// The restore ratio's short form (nil without one, or when it is zero): the call amount's
    /// divisor (``ScaledDecimal/divideUp(_:by:)``).
    let restore: ScaledDecimal?

    public init(policy: MarginPolicy) {
        self.policy = policy
        (callScale, callMantissa) = Self.parts(policy.callRatio)
        (warningScale, warningMantissa) = Self.parts(policy.warningRatio)
        restore = ScaledDecimal(policy.restoreRatio).flatMap { $0.mantissa != 0 ? $0 : nil }
    }

    /// `(10^(18−e), m)` of a ratio's short form, `(0, 0)` without one.
    static func parts(_ ratio: FixedDecimal) -> (Int128, Int128) {
        guard let form = ScaledDecimal(ratio) else { return (0, 0) }
        return (Int128(ScaledDecimal.powers[18 - form.exponent]), Int128(form.mantissa))
    }

    /// `compareProducts(maintenance, 1, equity, ratio) >= 0`, with `(scale, mantissa)` the
    /// ratio's short form (scale 0: none).
    @inline(__always)
    static func atLeast(_ maintenance: FixedDecimal, _ equity: FixedDecimal, ratio: FixedDecimal, scale: Int128, mantissa: Int128) -> Bool {
        if scale != 0 {
            let left = maintenance.raw.multipliedReportingOverflow(by: scale)
            let right = equity.raw.multipliedReportingOverflow(by: mantissa)
            if !left.overflow, !right.overflow { return left.partialValue >= right.partialValue }
        }
        return FixedDecimal.compareProducts(maintenance, .one, equity, ratio) >= 0
    }

    /// `MM ≥ equity·ratio` as the status rule decides it (the shortcut when the ratio has a
    /// short form), for its test.
    public static func maintenance(_ maintenance: FixedDecimal, atLeast equity: FixedDecimal, times ratio: FixedDecimal) -> Bool {
        let (scale, mantissa) = parts(ratio)
        return atLeast(maintenance, equity, ratio: ratio, scale: scale, mantissa: mantissa)
    }

    /// `MM / restore ratio` rounded up (nil beyond the range or for a zero ratio), as
    /// MarginEvaluator's call amount computes it.
    @inline(__always)
    func callTarget(_ maintenance: FixedDecimal) -> FixedDecimal? {
        if let restore { return ScaledDecimal.divideUp(maintenance, by: restore) }
        return maintenance.divided(by: policy.restoreRatio, rounding: .up)
    }

    /// The pool's status, equal to ``MarginEvaluator/status(equity:maintenance:policy:hasPositions:)``.
    @inline(__always)
    public func status(equity: FixedDecimal, maintenance: FixedDecimal, hasPositions: Bool) -> MarginStatus {
        guard hasPositions else { return .healthy }
        if !equity.isPositive { return .bankrupt }
        if maintenance >= equity { return .liquidatable }
        if Self.atLeast(maintenance, equity, ratio: policy.callRatio, scale: callScale, mantissa: callMantissa) { return .marginCall }
        if Self.atLeast(maintenance, equity, ratio: policy.warningRatio, scale: warningScale, mantissa: warningMantissa) { return .warning }
        return .healthy
    }
}
