public import SolventCore

extension ColumnarEvaluator {
    /// The liquidation and bankruptcy prices of linear position `p` (raw, ``ColumnarResults/absent``
    /// when none): ``PositionMath/liquidationPrice(rest:side:size:entry:inverse:brackets:startBracket:)``
    /// and ``PositionMath/bankruptcyPrice(rest:side:size:entry:inverse:)`` step for step — the same
    /// "no price" sign test, bracket walk, exhaustive fallback and roundings as ``ColumnarPrices``
    /// — over the packed rows (``ColumnarPriceBracketRow``, ``ColumnarPriceInstrumentRow``), with
    /// the position's numbers read once:
    ///
    /// - `s·Q·EP` once per position (it is the same in every candidate);
    /// - each candidate's denominator `Q·rate − s·Q = Q·(rate − s)` as the mantissa
    ///   `m_Q · c_s` at the exponent `e_Q + e_rate − 18`, where `(rate − s) = c_s·10^e_rate` is
    ///   stored per bracket and side: the exact value (`e_Q + e_rate ≥ 18`: the product `Q·rate`
    ///   needs no rounding, so `margin − s·Q` is this number), its sign and zero test from the
    ///   mantissa alone, and the quotient by ``ScaledDecimal/divide(_:by:)`` (equal to the
    ///   general half-even division);
    /// - anything outside these forms (no short size or rate, `e_Q + e_rate < 18`, a mantissa
    ///   product beyond 64 bits) solves by ``ColumnarPrices/solve(rest:rate:scaled:)``.
    ///
    /// The general path's nil cases are kept: `Q·EP` beyond the range gives no price; the
    /// exact denominator cannot overflow here (`|m_Q·c_s|·10^e < 2^63·10^18`, and
    /// `|Q·rate| ≤ |Q·(rate − s)| + |Q|` stays in the range). ColumnarEvaluatorTests and
    /// ColumnarPricesTests compare every price with ``MarginEvaluator``'s.
    @inline(__always)
    func linearPrices(_ p: Int, _ row: ColumnarPositionRow, rest: FixedDecimal, restWithoutMaintenance: FixedDecimal,
                      start: Int, _ book: ColumnarBook, _ rows: Rows) -> (liquidation: Int128, bankruptcy: Int128) {
        let side = Int(row.side)
        precondition(side == 1 || side == -1, "side must be ±1")
        let mQ = row.sizeMantissa, eQ = Int(row.sizeExponent)
        precondition(eQ >= 0 ? mQ > 0 : book.size[p].isPositive, "size must be positive")
        let i = Int(row.instrument)
        let instrument = rows.priceInstruments[i]
        let brackets = rows.priceBrackets.baseAddress.unsafelyUnwrapped + Int(instrument.first)
        let count = Int(instrument.count)
        let value: FixedDecimal
        if row.sizeTimesEntry != ColumnarResults.absent {
            value = FixedDecimal(raw: row.sizeTimesEntry)
        } else if let v = book.size[p].multiplied(by: book.entry[p], rounding: .halfEven) {
            value = v
        } else {
            return (ColumnarResults.absent, ColumnarResults.absent)  // Q·EP beyond the range: every solve is nil
        }
        let signedValue = side < 0 ? -value : value

        // The general solve (ColumnarPrices), for the forms the short path does not cover.
        func general() -> ColumnarPrices {
            ColumnarPrices(rest: rest, side: side, size: book.size[p], sizeScaled: book.sizeScaled[p],
                           sizeTimesEntry: row.sizeTimesEntry, entry: book.entry[p], instrument: i)
        }
        @inline(__always)
        func candidate(_ index: Int) -> FixedDecimal? {
            let bracket = brackets + index
            guard let shifted = try? rest.addingChecked(bracket.pointee.amount) else { return nil }
            let exponent = eQ + Int(bracket.pointee.rateExponent) - 18
            if eQ >= 0, bracket.pointee.rateExponent >= 0, exponent >= 0 {
                let c = side > 0 ? bracket.pointee.longMantissa : bracket.pointee.shortMantissa
                let (mantissa, overflow) = mQ.multipliedReportingOverflow(by: c)
                if !overflow {
                    guard let numerator = try? shifted.subtractingChecked(signedValue) else { return nil }
                    // Zero denominator, zero numerator or opposite signs: no positive price.
                    if mantissa == 0 || numerator.isZero || numerator.isNegative != (mantissa < 0) { return nil }
                    guard let price = ScaledDecimal.divide(numerator, by: ScaledDecimal(mantissa: mantissa, exponent: exponent)),
                          price.isPositive else { return nil }
                    return price
                }
            }
            let b = Int(instrument.first) + index
            return general().solve(rest: shifted, rate: book.bracketRate[b], scaled: book.bracketRateScaled[b])
        }
        let divisor: WholeDivisor? = eQ >= 0 ? rows.powerDivisors[18 - eQ] : nil
        @inline(__always)
        func notional(_ price: FixedDecimal) -> FixedDecimal {
            if let divisor, let n = ScaledDecimal.multiply(ScaledDecimal(mantissa: mQ, exponent: eQ), price, divisor: divisor) { return n }
            return book.size[p].multiplied(by: price, rounding: .halfEven) ?? .max
        }
        func liquidation() -> FixedDecimal? {
            // ColumnarPrices.noPrice: every candidate nil by the signs.
            if instrument.ratesBelowOne {
                if side > 0 {
                    if let shifted = try? rest.addingChecked(instrument.minimumAmount), shifted >= value { return nil }
                } else if let shifted = try? rest.addingChecked(instrument.maximumAmount),
                          let numerator = try? shifted.addingChecked(value), !numerator.isPositive {
                    return nil
                }
            }
            return bracketSearch(count: count, start: start, candidate: candidate, notional: notional,
                                 floor: { brackets[$0].floor }, cap: { brackets[$0].cap })
        }
        func bankruptcy() -> FixedDecimal? {
            guard eQ >= 0 else { return general().bankruptcyPrice(restWithoutMaintenance: restWithoutMaintenance) }
            guard let numerator = try? restWithoutMaintenance.subtractingChecked(signedValue) else { return nil }
            // The denominator −s·Q is negative for a long: a positive price needs a numerator of its sign.
            if numerator.isZero || numerator.isNegative != (side > 0) { return nil }
            guard let price = ScaledDecimal.divide(numerator, by: ScaledDecimal(mantissa: side < 0 ? mQ : -mQ, exponent: eQ)),
                  price.isPositive else { return nil }
            return price
        }
        return (ColumnarResults.raw(liquidation()), ColumnarResults.raw(bankruptcy()))
    }
}
