public import SolventCore

/// The output columns of ``ColumnarEvaluator``, allocated once for a ``ColumnarBook`` and
/// overwritten by every evaluation (no allocation per evaluated account). The columns are
/// buffers owned by this object (freed with it), written in place without the copy-on-write
/// checks of arrays; like any mutable buffer it must not be written from two threads at once
/// (hence `@unchecked Sendable`: an evaluation has exclusive use of it).
///
/// Amounts are in the pool's settle asset, as in ``PoolEvaluation`` and
/// ``PositionEvaluation``. An absent value (a nil margin ratio, margin level, liquidation or
/// bankruptcy price) is stored as ``absent`` (`Int128.min`, which no `FixedDecimal` result
/// takes: the decimal range is ±`Int128.max`); read them through the `optional` accessors or
/// ``accountEvaluation(_:)``. The columns of delegated accounts (``ColumnarBook/isDelegated(_:)``)
/// are not written.
public final class ColumnarResults: @unchecked Sendable {
    /// The stored raw value of an absent decimal.
    @inlinable public static var absent: Int128 { Int128.min }

    // Per position (book position index).
    public let notional: UnsafeMutableBufferPointer<FixedDecimal>
    public let unrealizedPnl: UnsafeMutableBufferPointer<FixedDecimal>
    public let initialMargin: UnsafeMutableBufferPointer<FixedDecimal>
    public let maintenanceMargin: UnsafeMutableBufferPointer<FixedDecimal>
    /// Index of the bracket holding the notional, within the instrument's table.
    public let bracket: UnsafeMutableBufferPointer<Int32>
    /// Raw liquidation / bankruptcy prices (``absent`` when none or when prices were not asked).
    public let liquidationPrice: UnsafeMutableBufferPointer<Int128>
    public let bankruptcyPrice: UnsafeMutableBufferPointer<Int128>

    // Per pool (``ColumnarBook/poolStart``).
    public let collateral: UnsafeMutableBufferPointer<FixedDecimal>
    public let equity: UnsafeMutableBufferPointer<FixedDecimal>
    public let poolInitialMargin: UnsafeMutableBufferPointer<FixedDecimal>
    public let poolMaintenanceMargin: UnsafeMutableBufferPointer<FixedDecimal>
    /// Raw `MM / equity` (``absent`` when equity ≤ 0).
    public let marginRatio: UnsafeMutableBufferPointer<Int128>
    public let available: UnsafeMutableBufferPointer<FixedDecimal>
    public let status: UnsafeMutableBufferPointer<MarginStatus>
    public let callAmount: UnsafeMutableBufferPointer<FixedDecimal>
    public let debt: UnsafeMutableBufferPointer<FixedDecimal>
    /// Raw margin level (``absent`` without debt).
    public let marginLevel: UnsafeMutableBufferPointer<Int128>

    // Per account.
    /// The worst pool's status.
    public let accountStatus: UnsafeMutableBufferPointer<MarginStatus>

    // Per collateral balance (``ColumnarBook/balanceStart``).
    /// Raw collateral liquidation price of a positive balance (``absent`` when none).
    public let collateralLiquidationPrice: UnsafeMutableBufferPointer<Int128>
    /// Whether the last evaluation computed the prices.
    public var hasPrices = false

    /// Columns sized for `book`, zeroed.
    public init(for book: ColumnarBook) {
        let p = book.positionCount, q = book.poolCount
        notional = Self.column(.zero, count: p)
        unrealizedPnl = Self.column(.zero, count: p)
        initialMargin = Self.column(.zero, count: p)
        maintenanceMargin = Self.column(.zero, count: p)
        bracket = Self.column(0, count: p)
        liquidationPrice = Self.column(Self.absent, count: p)
        bankruptcyPrice = Self.column(Self.absent, count: p)
        collateral = Self.column(.zero, count: q)
        equity = Self.column(.zero, count: q)
        poolInitialMargin = Self.column(.zero, count: q)
        poolMaintenanceMargin = Self.column(.zero, count: q)
        marginRatio = Self.column(Self.absent, count: q)
        available = Self.column(.zero, count: q)
        status = Self.column(.healthy, count: q)
        callAmount = Self.column(.zero, count: q)
        debt = Self.column(.zero, count: q)
        marginLevel = Self.column(Self.absent, count: q)
        accountStatus = Self.column(.healthy, count: book.accountCount)
        collateralLiquidationPrice = Self.column(Self.absent, count: book.balanceCount)
    }

    deinit {
        notional.deallocate(); unrealizedPnl.deallocate(); initialMargin.deallocate(); maintenanceMargin.deallocate()
        bracket.deallocate(); liquidationPrice.deallocate(); bankruptcyPrice.deallocate()
        collateral.deallocate(); equity.deallocate(); poolInitialMargin.deallocate(); poolMaintenanceMargin.deallocate()
        marginRatio.deallocate(); available.deallocate(); status.deallocate(); callAmount.deallocate(); debt.deallocate()
        marginLevel.deallocate(); accountStatus.deallocate(); collateralLiquidationPrice.deallocate()
    }

    static func column<T>(_ value: T, count: Int) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        buffer.initialize(repeating: value)
        return buffer
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
