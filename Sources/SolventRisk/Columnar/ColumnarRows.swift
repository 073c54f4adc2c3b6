public import SolventCore

/// What ``ColumnarEvaluator``'s position loop reads of one position, packed in one record so
/// that the loop walks one stream (48 bytes a position) instead of a dozen columns, with one
/// base pointer and no bounds check per column. Built once by ``ColumnarBook``; the same
/// numbers as the book's columns (``ColumnarBook/sizeScaled``, ``ColumnarBook/sizeTimesEntry``,
/// ``ColumnarBook/quantity``'s sign, ``ColumnarBook/isIsolated``, the leverage).
public struct ColumnarPositionRow: Sendable {
    /// Raw `Q·entry` when exact, else ``ColumnarResults/absent``.
    public var sizeTimesEntry: Int128
    /// The size `Q` as a ScaledDecimal's mantissa (meaningful when `sizeExponent ≥ 0`).
    public var sizeMantissa: Int64
    /// Index of the instrument.
    public var instrument: Int32
    /// Index into ``ColumnarBook/leverageRows`` (the position's leverage), −1 when it has none.
    public var leverageSlot: Int32
    /// The size's ScaledDecimal exponent, −1 when it has no short form.
    public var sizeExponent: Int8
    /// The quantity's sign (−1, 0, 1).
    public var side: Int8
    public var isolated: Bool
}

/// An instrument as the position loop reads it: the mark (and its short form, refreshed by
/// ``ColumnarBook/setMark(_:of:)``), whether it is inverse, and its bracket rows
/// `bracketFirst ... bracketLast` in ``ColumnarBook/bracketRows``.
public struct ColumnarInstrumentRow: Sendable {
    public var mark: FixedDecimal
    public var markMantissa: Int64
    /// The mark's ScaledDecimal exponent, −1 when its mantissa exceeds 64 bits.
    public var markExponent: Int8
    public var inverse: Bool
    public var bracketFirst: Int32
    public var bracketLast: Int32
}

/// A bracket as the position loop reads it (the book's bracket columns, one record).
public struct ColumnarBracketRow: Sendable {
    public var cap: FixedDecimal
    public var amount: FixedDecimal
    public var rate: FixedDecimal
    public var maxLeverage: FixedDecimal
    /// The rate's ScaledDecimal mantissa and exponent (exponent −1: no short form).
    public var rateMantissa: Int64
    public var rateExponent: Int8
    /// The maximum leverage as a whole divisor, when it is one.
    public var maxLeverageDivisor: WholeDivisor?
}

/// A distinct position leverage and its whole divisor (when it is a whole number).
public struct ColumnarLeverageRow: Sendable {
    public var value: FixedDecimal
    public var divisor: WholeDivisor?
}

extension ScaledDecimal {
    /// `(mantissa, exponent)` of `value`'s short form, exponent −1 when it has none.
    static func parts(_ value: ScaledDecimal?) -> (Int64, Int8) {
        guard let value else { return (0, -1) }
        return (value.mantissa, Int8(value.exponent))
    }
}

/// A bracket as the liquidation-price walk reads it (``ColumnarLinearPrices``): its bounds and
/// maintenance amount, and the linear denominator `Q·rate − s·Q = Q·(rate − s)` per side as a
/// mantissa at the rate's ScaledDecimal exponent: `(rate − s)`'s raw value is
/// `longMantissa · 10^rateExponent` for a long (`s = 1`) and `shortMantissa · 10^rateExponent`
/// for a short (`s = −1`). `rateExponent` is −1 when the rate has no short form or a mantissa
/// does not fit 64 bits (the walk then solves by the general path).
public struct ColumnarPriceBracketRow: Sendable {
    public var floor: FixedDecimal
    public var cap: FixedDecimal
    public var amount: FixedDecimal
    public var longMantissa: Int64
    public var shortMantissa: Int64
    public var rateExponent: Int8

    /// The row of a bracket (floor, cap, maintenance amount, rate).
    init(floor: FixedDecimal, cap: FixedDecimal, amount: FixedDecimal, rate: FixedDecimal) {
        self.floor = floor
        self.cap = cap
        self.amount = amount
        longMantissa = 0
        shortMantissa = 0
        rateExponent = -1
        guard let form = ScaledDecimal(rate) else { return }
        let unit = Int64(ScaledDecimal.powers[18 - form.exponent])  // 1 as a mantissa at the rate's exponent
        let long = form.mantissa.subtractingReportingOverflow(unit), short = form.mantissa.addingReportingOverflow(unit)
        guard !long.overflow, !short.overflow else { return }
        longMantissa = long.partialValue
        shortMantissa = short.partialValue
        rateExponent = Int8(form.exponent)
    }
}

/// An instrument's bracket table as the liquidation-price walk reads it: its first row in
/// ``ColumnarBook/priceBracketRows``, the row count, and the "no price" summary (the smallest
/// and largest maintenance amount; whether every rate lies in `0 ..< 1`).
public struct ColumnarPriceInstrumentRow: Sendable {
    public var minimumAmount: FixedDecimal
    public var maximumAmount: FixedDecimal
    public var first: Int32
    public var count: Int32
    public var ratesBelowOne: Bool
}
