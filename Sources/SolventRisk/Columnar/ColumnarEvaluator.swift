public import SolventCore

/// Evaluates every account of a ``ColumnarBook`` into preallocated ``ColumnarResults``: the
/// evaluation contract of ``MarginEvaluator`` (DESIGN.md, "The evaluation contract"), the same
/// exact decimal operations in the same order, so every number equals
/// ``MarginEvaluator/evaluate(_:prices:)``'s to the last unit (ColumnarEvaluatorTests prove
/// it over random books and the example documents). No heap allocation per account: it reads
/// the book's flat columns and writes the result columns in place.
///
/// `prices: false` computes pool numbers (collateral, equity, IM, MM, margin ratio, available,
/// call amount, debt, margin level) and statuses; `prices: true` adds the liquidation and
/// bankruptcy prices of every position and the collateral liquidation prices
/// (``PositionMath/liquidationPrice(rest:side:size:entry:inverse:brackets:startBracket:)``).
/// Delegated accounts (portfolio margin, per-account haircuts) are skipped.
public struct ColumnarEvaluator: Sendable {
    public let evaluator: MarginEvaluator
    /// The pool status rule with its exact shortcut (ColumnarStatus.swift).
    public let statusRule: ColumnarStatusRule

    public init(market: Market, policy: MarginPolicy) {
        evaluator = MarginEvaluator(market: market, policy: policy)
        statusRule = ColumnarStatusRule(policy: policy)
    }

    /// Evaluates every non-delegated account of `book` (at the book's marks) into `results`.
    public func evaluate(_ book: ColumnarBook, into results: ColumnarResults, prices: Bool) {
        precondition(results.notional.count == book.positionCount && results.equity.count == book.poolCount,
                     "results sized for another book")
        results.hasPrices = prices
        book.positionRows.withUnsafeBufferPointer { positions in
            book.instrumentRows.withUnsafeBufferPointer { instruments in
                book.bracketRows.withUnsafeBufferPointer { brackets in
                    book.leverageRows.withUnsafeBufferPointer { leverages in
                        book.priceBracketRows.withUnsafeBufferPointer { priceBrackets in
                            book.priceInstrumentRows.withUnsafeBufferPointer { priceInstruments in
                                let rows = Rows(positions: positions, instruments: instruments, brackets: brackets, leverages: leverages,
                                                priceBrackets: priceBrackets, priceInstruments: priceInstruments,
                                                powerDivisors: ScaledDecimal.powerDivisors)
                                for k in 0..<book.accountCount where !book.delegated[k] {
                                    evaluate(account: k, book, rows, into: results, prices: prices)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The book's packed records (ColumnarRows.swift) for the duration of one evaluation.
    struct Rows {
        let positions: UnsafeBufferPointer<ColumnarPositionRow>
        let instruments: UnsafeBufferPointer<ColumnarInstrumentRow>
        let brackets: UnsafeBufferPointer<ColumnarBracketRow>
        let leverages: UnsafeBufferPointer<ColumnarLeverageRow>
        let priceBrackets: UnsafeBufferPointer<ColumnarPriceBracketRow>
        let priceInstruments: UnsafeBufferPointer<ColumnarPriceInstrumentRow>
        /// ``ScaledDecimal/powerDivisors``, read once per evaluation.
        let powerDivisors: [WholeDivisor]
    }

    /// Evaluates account `k` into `results` (its position, pool and balance rows).
    @inline(__always)
    func evaluate(account k: Int, _ book: ColumnarBook, _ rows: Rows, into results: ColumnarResults, prices: Bool) {
        let first = book.positionStart[k], end = book.positionStart[k + 1]
        var crossPnl = FixedDecimal.zero, crossMM = FixedDecimal.zero, crossIM = FixedDecimal.zero
        // Each isolated position's pool is stored as soon as its numbers are known (pools
        // crossPool + 1, + 2, … in position order), the cross pool after the loop.
        var isolatedPool = book.poolStart[k] + 1
        var worst = MarginStatus.healthy
        for p in first..<end {
            let row = rows.positions[p]
            let i = Int(row.instrument)
            let instrument = rows.instruments[i]
            let mark = instrument.mark
            let side = Int(row.side)
            // Exact fast paths (ScaledDecimal, WholeDivisor): the same numbers as the general
            // operations, which run whenever a fast path does not apply.
            var notional = FixedDecimal.zero
            var scaledMantissa: Int128 = 0, scaledExponent = -1  // Q·mark's exact form, exponent −1: none
            if !instrument.inverse, row.sizeExponent >= 0, instrument.markExponent >= 0 {
                let e = Int(row.sizeExponent) + Int(instrument.markExponent) - 18
                if e >= 0 {
                    let product = row.sizeMantissa.multipliedFullWidth(by: instrument.markMantissa)
                    let mantissa = Int128(product.high) << 64 | Int128(product.low)
                    if let value = ScaledDecimal.value(mantissa: mantissa, exponent: e) {
                        notional = value
                        scaledMantissa = mantissa
                        scaledExponent = e
                    }
                }
            }
            if scaledExponent < 0 {
                notional = PositionMath.notional(size: book.size[p], mark: mark, inverse: instrument.inverse)
            }
            var b = Int(instrument.bracketFirst)
            let last = Int(instrument.bracketLast)
            while b < last, notional >= rows.brackets[b].cap { b += 1 }
            let bracket = rows.brackets.baseAddress.unsafelyUnwrapped + b  // fields read where used (no copy of the record)
            let pnl: FixedDecimal
            if scaledExponent >= 0, row.sizeTimesEntry != ColumnarResults.absent {
                // Q·mark and Q·entry exact ⇒ Q·(mark − entry) = Q·mark − Q·entry exactly.
                let move = notional.raw - row.sizeTimesEntry
                pnl = FixedDecimal(raw: side < 0 ? -move : move)
            } else {
                pnl = PositionMath.unrealizedPnl(side: side, size: book.size[p], entry: book.entry[p], mark: mark, inverse: instrument.inverse)
            }
            var maintenance: FixedDecimal? = nil
            if scaledExponent >= 0, bracket.pointee.rateExponent >= 0, let small = Int64(exactly: scaledMantissa),
               let product = ScaledDecimal.multiply(ScaledDecimal(mantissa: small, exponent: scaledExponent),
                                                    ScaledDecimal(mantissa: bracket.pointee.rateMantissa, exponent: Int(bracket.pointee.rateExponent))) {
                maintenance = product - bracket.pointee.amount
            }
            let mm = maintenance ?? notional * bracket.pointee.rate - bracket.pointee.amount
            let initial: FixedDecimal
            if row.leverageSlot >= 0, rows.leverages[Int(row.leverageSlot)].value < bracket.pointee.maxLeverage {
                let leverage = rows.leverages[Int(row.leverageSlot)]
                initial = leverage.divisor?.divide(notional) ?? notional / leverage.value
            } else {
                initial = bracket.pointee.maxLeverageDivisor?.divide(notional) ?? notional / bracket.pointee.maxLeverage
            }
            results.notional[p] = notional
            results.unrealizedPnl[p] = pnl
            results.maintenanceMargin[p] = mm
            results.initialMargin[p] = initial
            results.bracket[p] = Int32(truncatingIfNeeded: b - Int(instrument.bracketFirst))
            if !row.isolated {
                crossPnl += pnl
                crossMM += mm
                crossIM += initial
            } else {
                let pool = storePool(collateral: book.isolatedMargin[p], pnl: pnl, mm: mm, im: initial, count: 1,
                                     at: isolatedPool, into: results)
                if pool > worst { worst = pool }
                isolatedPool += 1
            }
        }
        // Collateral and debt (docs/loans.md), as MarginEvaluator.collateralValue(of:) and debtMargin(of:).
        let settle = book.settle[k]
        var collateral = FixedDecimal.zero
        var debt = FixedDecimal.zero, debtMM = FixedDecimal.zero, debtIM = FixedDecimal.zero
        for b in book.balanceStart[k] ..< book.balanceStart[k + 1] {
            let balance = CollateralBalance(asset: book.balanceAsset[b], amount: book.balanceAmount[b])
            let value = collateralValue(b, balance, settle: settle, book)
            collateral += value
            if balance.amount.isNegative {
                let owed = -value
                let rates = evaluator.policy.debtRates(for: balance.asset)
                debt += owed
                debtMM += owed.multiplied(by: rates.maintenance, rounding: .halfEven) ?? RangeContract.maxCollateralValue
                debtIM += owed.multiplied(by: rates.initial, rounding: .halfEven) ?? RangeContract.maxCollateralValue
            }
        }
        crossMM += debtMM
        crossIM += debtIM
        let crossPool = book.poolStart[k]
        let crossStatus = storePool(collateral: collateral, pnl: crossPnl, mm: crossMM, im: crossIM,
                                    count: book.crossCount[k], debt: debt, at: crossPool, into: results)
        if crossStatus > worst { worst = crossStatus }
        results.accountStatus[k] = worst
        guard prices else { return }
        accountPrices(k, first: first, end: end, collateral: collateral, crossPnl: crossPnl, crossMM: crossMM,
                      crossPool: crossPool, book, rows, into: results)
    }

    /// The prices of account `k` (its positions' liquidation and bankruptcy prices, its
    /// collateral liquidation prices), after its pools are stored: a function of its own, so
    /// that the pool path above is compiled (and its helpers inlined) without it.
    @inline(never)
    func accountPrices(_ k: Int, first: Int, end: Int, collateral: FixedDecimal, crossPnl: FixedDecimal, crossMM: FixedDecimal,
                       crossPool: Int, _ book: ColumnarBook, _ rows: Rows, into results: ColumnarResults) {
        let settle = book.settle[k]
        let crossEquity = results.equity[crossPool]
        for p in first..<end {
            let row = rows.positions[p]
            let rest: FixedDecimal, restWithoutMaintenance: FixedDecimal
            if row.isolated {
                rest = book.isolatedMargin[p]
                restWithoutMaintenance = rest
            } else {
                let others = collateral + (crossPnl - results.unrealizedPnl[p])
                restWithoutMaintenance = others
                rest = others - (crossMM - results.maintenanceMargin[p])
            }
            let i = Int(row.instrument)
            let side = Int(row.side)
            if !rows.instruments[i].inverse {
                let prices = linearPrices(p, row, rest: rest, restWithoutMaintenance: restWithoutMaintenance,
                                          start: Int(results.bracket[p]), book, rows)
                results.liquidationPrice[p] = prices.liquidation
                results.bankruptcyPrice[p] = prices.bankruptcy
                continue
            }
            results.liquidationPrice[p] = ColumnarResults.raw(PositionMath.liquidationPrice(
                rest: rest, side: side, size: book.size[p], entry: book.entry[p], inverse: book.inverse[i],
                brackets: evaluator.market.instruments[i].brackets, startBracket: Int(results.bracket[p])))
            results.bankruptcyPrice[p] = ColumnarResults.raw(PositionMath.bankruptcyPrice(
                rest: restWithoutMaintenance, side: side, size: book.size[p], entry: book.entry[p], inverse: book.inverse[i]))
        }
        // Collateral liquidation prices, as MarginEvaluator.collateralLiquidationPrices.
        let crossMaintenance = results.poolMaintenanceMargin[crossPool]
        let settlePrice = evaluator.market.assets[settle].price
        for b in book.balanceStart[k] ..< book.balanceStart[k + 1] where book.balanceAmount[b].isPositive {
            var price = ColumnarResults.absent
            let assetIndex = book.balanceAsset[b], amount = book.balanceAmount[b]
            let asset = evaluator.market.assets[assetIndex]
            if assetIndex != settle, asset.haircut < .one {
                // The same steps with the exact shortcuts: the balance's value as the pool's
                // collateral loop computes it; `amount·(1 − haircut)` by ScaledDecimal; a settle
                // price of 1 multiplies exactly; the division by the weighted amount's short form.
                let balance = CollateralBalance(asset: assetIndex, amount: amount)
                let rest = crossEquity - collateralValue(b, balance, settle: settle, book)
                let needed = crossMaintenance - rest
                if needed.isPositive {
                    var weighted: FixedDecimal? = nil
                    if let a = book.balanceAmountScaled[b], let w = book.assetWeightScaled[assetIndex] { weighted = ScaledDecimal.multiply(a, w) }
                    if weighted == nil { weighted = amount.multiplied(by: .one - asset.haircut, rounding: .halfEven) }
                    if let weighted, weighted.isPositive,
                       let scaled = settlePrice == .one ? needed : needed.multiplied(by: settlePrice, rounding: .halfEven) {
                        let quotient = ScaledDecimal.shortForm(weighted).map { ScaledDecimal.divide(scaled, by: $0) }
                            ?? scaled.divided(by: weighted, rounding: .halfEven)
                        if let p = quotient, p.isPositive { price = p.raw }
                    }
                }
            }
            results.collateralLiquidationPrice[b] = price
        }
    }

    /// MarginEvaluator.collateralValue(_:settle:) with the exact fast paths: each product by
    /// ScaledDecimal and the division by the settle price by WholeDivisor where they apply
    /// (each step equal to FixedDecimal's, the general operation otherwise).
    @inline(__always)
    func collateralValue(_ b: Int, _ balance: CollateralBalance, settle: Int, _ book: ColumnarBook) -> FixedDecimal {
        let asset = balance.asset
        let positive = balance.amount.isPositive
        guard let amount = book.balanceAmountScaled[b], let weight = positive ? book.assetWeightScaled[asset] : ScaledDecimal(mantissa: 1, exponent: 18) else {
            return evaluator.collateralValue(balance, settle: settle)
        }
        let weightValue = positive ? FixedDecimal.one - evaluator.market.assets[asset].haircut : FixedDecimal.one
        let bound = RangeContract.maxCollateralValue
        let value: FixedDecimal?
        if asset == settle {
            value = ScaledDecimal.multiply(amount, weight) ?? balance.amount.multiplied(by: weightValue, rounding: .halfEven)
        } else {
            let price = evaluator.market.assets[asset].price
            var first: FixedDecimal? = nil, firstScaled: ScaledDecimal? = nil
            if let p = book.assetPriceScaled[asset], let product = ScaledDecimal.product(amount, p),
               let v = ScaledDecimal.value(mantissa: product.mantissa, exponent: product.exponent) {
                first = v
                if let m = Int64(exactly: product.mantissa) { firstScaled = ScaledDecimal(mantissa: m, exponent: product.exponent) }
            } else {
                first = balance.amount.multiplied(by: price, rounding: .halfEven)
            }
            let second: FixedDecimal?
            if let f = firstScaled, let v = ScaledDecimal.multiply(f, weight) { second = v } else { second = first?.multiplied(by: weightValue, rounding: .halfEven) }
            if let second, let divisor = book.assetPriceDivisor[settle] {
                value = divisor.divide(second)
            } else {
                value = second?.divided(by: evaluator.market.assets[settle].price, rounding: .halfEven)
            }
        }
        guard let value, value.magnitude <= bound else { return balance.amount.isNegative ? -bound : bound }
        return value
    }

    /// ``MarginEvaluator``'s `makePool` written to row `q` (the same operations in the same
    /// order), with one exact shortcut: the margin ratio `MM / equity` divides by the equity's
    /// short form (``ScaledDecimal/shortForm(_:)``, ``ScaledDecimal/divide(_:by:)``: a
    /// 192/64-bit division, equal to the general half-even quotient) when it has one. Returns
    /// the pool's status.
    @inline(__always)
    func storePool(collateral: FixedDecimal, pnl: FixedDecimal, mm: FixedDecimal, im: FixedDecimal, count: Int,
                   debt: FixedDecimal = .zero, at q: Int, into results: ColumnarResults) -> MarginStatus {
        let equity = collateral + pnl
        let status = statusRule.status(equity: equity, maintenance: mm, hasPositions: count > 0 || debt.isPositive)
        var ratio = ColumnarResults.absent
        if equity.isPositive {
            var quotient: FixedDecimal? = nil
            if let form = ScaledDecimal.shortForm(equity) { quotient = ScaledDecimal.divide(mm, by: form) }
            ratio = (quotient ?? mm.divided(by: equity, rounding: .halfEven) ?? .max).raw
        }
        var call = FixedDecimal.zero
        if status >= .marginCall {
            // A demand is a promise: rounded up, so that paying it always cures (MM ≤ restore·equity).
            if let target = statusRule.callTarget(mm),
               let shortfall = try? target.subtractingChecked(equity) {
                call = FixedDecimal.maximum(.zero, shortfall)
            } else {
                call = .max  // beyond the representable range: saturated for display only
            }
        }
        results.collateral[q] = collateral
        results.equity[q] = equity
        results.poolInitialMargin[q] = im
        results.poolMaintenanceMargin[q] = mm
        results.marginRatio[q] = ratio
        results.available[q] = FixedDecimal.maximum(.zero, equity - im)
        results.status[q] = status
        results.callAmount[q] = call
        results.debt[q] = debt
        // Margin level = assets / debt = (equity + debt) / debt (docs/loans.md), absent without debt.
        results.marginLevel[q] = debt.isPositive ? ((equity + debt).divided(by: debt, rounding: .halfEven) ?? .max).raw : ColumnarResults.absent
        return status
    }
}
