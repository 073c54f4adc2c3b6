public import SolventCore

/// The output columns of ``ColumnarEvaluator``, allocated once for a ``ColumnarBook`` and
/// overwritten by every evaluation (no allocation per evaluated account).
///
/// Amounts are in the pool's settle asset, as in ``PoolEvaluation`` and
/// ``PositionEvaluation``. An absent value (a nil margin ratio, margin level, liquidation or
/// bankruptcy price) is stored as ``absent`` (`Int128.min`, which no `FixedDecimal` result
/// takes: the decimal range is ±`Int128.max`); read them through the `optional` accessors or
/// ``accountEvaluation(_:)``. The columns of delegated accounts (``ColumnarBook/isDelegated(_:)``)
/// are not written.
public struct ColumnarResults: Sendable {
    /// The stored raw value of an absent decimal.
    public static let absent = Int128.min

    // Per position (book position index).
    public var notional: [FixedDecimal]
    public var unrealizedPnl: [FixedDecimal]
    public var initialMargin: [FixedDecimal]
    public var maintenanceMargin: [FixedDecimal]
    /// Index of the bracket holding the notional, within the instrument's table.
    public var bracket: [Int32]
    /// Raw liquidation / bankruptcy prices (``absent`` when none or when prices were not asked).
    public var liquidationPrice: [Int128]
    public var bankruptcyPrice: [Int128]

    // Per pool (``ColumnarBook/poolStart``).
    public var collateral: [FixedDecimal]
    public var equity: [FixedDecimal]
    public var poolInitialMargin: [FixedDecimal]
    public var poolMaintenanceMargin: [FixedDecimal]
    /// Raw `MM / equity` (``absent`` when equity ≤ 0).
    public var marginRatio: [Int128]
    public var available: [FixedDecimal]
    public var status: [MarginStatus]
    public var callAmount: [FixedDecimal]
    public var debt: [FixedDecimal]
    /// Raw margin level (``absent`` without debt).
    public var marginLevel: [Int128]

    // Per account.
    /// The worst pool's status.
    public var accountStatus: [MarginStatus]

    // Per collateral balance (``ColumnarBook/balanceStart``).
    /// Raw collateral liquidation price of a positive balance (``absent`` when none).
    public var collateralLiquidationPrice: [Int128]
    /// Whether the last evaluation computed the prices.
    public var hasPrices = false

    /// Columns sized for `book`, zeroed.
    public init(for book: ColumnarBook) {
        let p = book.positionCount, q = book.poolCount
        notional = .init(repeating: .zero, count: p)
        unrealizedPnl = .init(repeating: .zero, count: p)
        initialMargin = .init(repeating: .zero, count: p)
        maintenanceMargin = .init(repeating: .zero, count: p)
        bracket = .init(repeating: 0, count: p)
        liquidationPrice = .init(repeating: Self.absent, count: p)
        bankruptcyPrice = .init(repeating: Self.absent, count: p)
        collateral = .init(repeating: .zero, count: q)
        equity = .init(repeating: .zero, count: q)
        poolInitialMargin = .init(repeating: .zero, count: q)
        poolMaintenanceMargin = .init(repeating: .zero, count: q)
        marginRatio = .init(repeating: Self.absent, count: q)
        available = .init(repeating: .zero, count: q)
        status = .init(repeating: .healthy, count: q)
        callAmount = .init(repeating: .zero, count: q)
        debt = .init(repeating: .zero, count: q)
        marginLevel = .init(repeating: Self.absent, count: q)
        accountStatus = .init(repeating: .healthy, count: book.accountCount)
        collateralLiquidationPrice = .init(repeating: Self.absent, count: book.balanceCount)
    }

    /// A stored raw value as an optional decimal.
    @inlinable public static func optional(_ raw: Int128) -> FixedDecimal? { raw == absent ? nil : FixedDecimal(raw: raw) }
    /// An optional decimal as a stored raw value.
    @inlinable public static func raw(_ value: FixedDecimal?) -> Int128 { value?.raw ?? absent }

    /// Account `k`'s numbers as the row-oriented ``AccountEvaluation`` that
    /// ``MarginEvaluator/evaluate(_:prices:)`` returns (allocates; for output and tests).
    /// Not meaningful for a delegated account.
    public func accountEvaluation(_ k: ColumnarAccountIndex, in book: ColumnarBook) -> AccountEvaluation {
        let first = book.positionStart[k.value]
        let poolFirst = book.poolStart[k.value]
        var pools: [PoolEvaluation] = []
        var positions: [PositionEvaluation] = []
        for p in book.positions(of: k) {
            let index = p - first
            let id: PoolID = book.isIsolated[p] ? .isolated(position: index) : .cross
            let table = book.market.instruments[book.positionInstrument[p]].brackets.brackets
            positions.append(PositionEvaluation(pool: id, notional: notional[p], unrealizedPnl: unrealizedPnl[p],
                                                initialMargin: initialMargin[p], maintenanceMargin: maintenanceMargin[p],
                                                bracket: Int(bracket[p]), maintenanceMarginRate: table[Int(bracket[p])].maintenanceMarginRate,
                                                liquidationPrice: hasPrices ? Self.optional(liquidationPrice[p]) : nil,
                                                bankruptcyPrice: hasPrices ? Self.optional(bankruptcyPrice[p]) : nil))
        }
        var ids: [PoolID] = [.cross]
        for p in book.positions(of: k) where book.isIsolated[p] { ids.append(.isolated(position: p - first)) }
        for (offset, id) in ids.enumerated() {
            let q = poolFirst + offset
            pools.append(PoolEvaluation(pool: id, collateral: collateral[q], equity: equity[q], initialMargin: poolInitialMargin[q],
                                        maintenanceMargin: poolMaintenanceMargin[q], marginRatio: Self.optional(marginRatio[q]),
                                        available: available[q], status: status[q], callAmount: callAmount[q],
                                        positionCount: offset == 0 ? book.crossCount[k.value] : 1, debt: debt[q],
                                        marginLevel: Self.optional(marginLevel[q])))
        }
        var evaluation = AccountEvaluation(status: accountStatus[k.value], pools: pools, positions: positions)
        if hasPrices {
            for b in book.balanceStart[k.value] ..< book.balanceStart[k.value + 1] where book.balanceAmount[b].isPositive {
                evaluation.collateralLiquidationPrices.append(
                    CollateralLiquidationPrice(asset: book.balanceAsset[b], price: Self.optional(collateralLiquidationPrice[b])))
            }
        }
        return evaluation
    }
}
