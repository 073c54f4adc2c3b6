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
