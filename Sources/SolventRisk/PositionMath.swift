public import SolventCore

/// Formulas for one position at one mark (DESIGN.md, "The evaluation contract";
/// MECHANICS.md §1–2). `Q = |q|·contract_size`, `s = sign(q)`.
public enum PositionMath {
    /// `Q = |q|·cs`: base units (linear) or USD (inverse).
    @inlinable public static func size(_ position: Position, _ instrument: Instrument) -> FixedDecimal {
        position.quantity.magnitude * instrument.contractSize
    }

    /// Notional at `mark`: `Q·mark` (linear) or `Q/mark` (inverse).
    @inlinable public static func notional(size: FixedDecimal, mark: FixedDecimal, inverse: Bool) -> FixedDecimal {
        inverse ? size / mark : size * mark
    }

    /// Unrealized PnL at `mark`: `s·Q·(mark − entry)` (linear) or
    /// `s·Q·(1/entry − 1/mark) = s·(Q·(mark − entry)/entry)/mark` (inverse).
    @inlinable public static func unrealizedPnl(side: Int, size: FixedDecimal, entry: FixedDecimal, mark: FixedDecimal, inverse: Bool) -> FixedDecimal {
        let move = size * (mark - entry)
        guard inverse else { return side < 0 ? -move : move }
        // One rounding when entry·mark fits (always, for realistic prices), else two.
        let pnl = entry.multiplied(by: mark, rounding: .halfEven).map { move / $0 } ?? (move / entry) / mark
        return side < 0 ? -pnl : pnl
    }

    /// Initial margin: `notional · max(1/leverage, 1/max_leverage)`.
    @inlinable public static func initialMargin(notional: FixedDecimal, leverage: FixedDecimal?, bracket: MaintenanceBracket) -> FixedDecimal {
        let effective = leverage.map { FixedDecimal.minimum($0, bracket.maxLeverage) } ?? bracket.maxLeverage
        return notional / effective
    }

    /// The mark at which `K + pnl(P) = MM(P)` for this position, where `K` is everything
    /// else in the pool held fixed (collateral + other uPnL − other MM), solved in the
    /// bracket that holds the position's notional at that price (a fixed point).
    ///
    /// Linear: `P = (K + amount − s·Q·EP) / (Q·mmr − s·Q)`.
    /// Inverse (in `x = 1/P`): `x = (K + amount + s·Q/EP) / (Q·(mmr + s))`.
    /// Returns nil when no positive price solves it.
    public static func liquidationPrice(rest: FixedDecimal, side: Int, size: FixedDecimal, entry: FixedDecimal,
                                        inverse: Bool, brackets: BracketTable, startBracket: Int) -> FixedDecimal? {
        precondition(side == 1 || side == -1, "side must be ±1")
        precondition(size.isPositive, "size must be positive")
        let count = brackets.brackets.count
        func candidate(_ index: Int) -> FixedDecimal? {
            let bracket = brackets.brackets[index]
            guard let shifted = try? rest.addingChecked(bracket.maintenanceAmount) else { return nil }
            return solve(rest: shifted, side: side, size: size, entry: entry,
                         inverse: inverse, rate: bracket.maintenanceMarginRate)
        }
        // Saturated beyond the range: only compared with bracket bounds (≤ 1e15).
        func notional(_ price: FixedDecimal) -> FixedDecimal {
            (inverse ? size.divided(by: price, rounding: .halfEven) : size.multiplied(by: price, rounding: .halfEven)) ?? .max
        }
        // The walk from the current bracket, then every bracket (BracketSearch.swift).
        return bracketSearch(count: count, start: startBracket, candidate: candidate, notional: notional,
                             floor: { brackets.brackets[$0].notionalFloor }, cap: { brackets.brackets[$0].notionalCap })
    }

    /// The mark at which the pool's equity is zero: `K + pnl(P) = 0`, where `K` is
    /// the pool's collateral plus the other positions' uPnL. Nil when no positive price.
    public static func bankruptcyPrice(rest: FixedDecimal, side: Int, size: FixedDecimal, entry: FixedDecimal, inverse: Bool) -> FixedDecimal? {
        solve(rest: rest, side: side, size: size, entry: entry, inverse: inverse, rate: .zero)
    }

    /// Solves `rest + pnl(P) = Q·rate·(P or 1/P)` for a positive P. Total: nil when no
    /// positive price solves it or when the solution lies beyond the decimal range.
    static func solve(rest: FixedDecimal, side: Int, size: FixedDecimal, entry: FixedDecimal,
                      inverse: Bool, rate: FixedDecimal) -> FixedDecimal? {
        let s = FixedDecimal(side)
        let price: FixedDecimal?
        if inverse {
            // rest + s·Q/EP − s·Q·x = Q·rate·x  ⇒  x = (rest + s·Q/EP) / (Q·(rate + s)),
            // so P = 1/x = Q·(rate + s)·EP / (rest·EP + s·Q): products first, one division.
            guard let scaled = size.multiplied(by: rate + s, rounding: .halfEven),
                  let numerator = scaled.multiplied(by: entry, rounding: .halfEven),
                  let restTimesEntry = rest.multiplied(by: entry, rounding: .halfEven),
                  let denominator = try? restTimesEntry.addingChecked(side < 0 ? -size : size) else { return nil }
            guard !denominator.isZero else { return nil }
            price = numerator.divided(by: denominator, rounding: .halfEven)
        } else {
            // rest + s·Q·(P − EP) = Q·rate·P  ⇒  P = (rest − s·Q·EP) / (Q·rate − s·Q).
            guard let value = size.multiplied(by: entry, rounding: .halfEven),
                  let numerator = try? rest.subtractingChecked(side < 0 ? -value : value),
                  let margin = size.multiplied(by: rate, rounding: .halfEven),
                  let denominator = try? margin.subtractingChecked(side < 0 ? -size : size) else { return nil }
            guard !denominator.isZero else { return nil }
            price = numerator.divided(by: denominator, rounding: .halfEven)
        }
        guard let price, price.isPositive else { return nil }
        return price
    }
}
