public import SolventCore
public import SolventRisk

/// A margin pool of an engine account: the cross pool, or the isolated pool of one instrument.
public enum PoolKey: Sendable, Hashable, Comparable, Codable {
    case cross
    case isolated(instrument: Int)

    public static func < (a: PoolKey, b: PoolKey) -> Bool {
        switch (a, b) {
        case (.cross, .isolated): return true
        case let (.isolated(x), .isolated(y)): return x < y
        default: return false
        }
    }
}

/// Where a pool is in the margin-call procedure.
public enum ProcedureState: Sendable, Hashable, Codable {
    case normal
    case warning
    /// Called: `amount` demanded (settle units) by `deadline` (ms).
    case called(deadline: Int64, amount: FixedDecimal)
    /// Being liquidated. Started by ratio ≥ 1, it ends when the pool is back above
    /// maintenance; started by an expired call (`untilCured`), it goes on until the call
    /// would be cured (ratio ≤ restore ratio), so an uncured call cannot flap back to a call.
    case liquidating(untilCured: Bool)

    /// Whether the pool is being liquidated.
    public var isLiquidating: Bool { if case .liquidating = self { return true } else { return false } }

    /// Whether the pool is in a call or being liquidated (reduce-only, no withdrawals).
    public var restrictsAccount: Bool { if case .normal = self { return false } else { return self != .warning } }

    public var name: String {
        switch self {
        case .normal: return "normal"
        case .warning: return "warning"
        case .called: return "margin_call"
        case .liquidating(let untilCured): return untilCured ? "liquidating_expired_call" : "liquidating"
        }
    }
}

/// An accepted, resting order.
public struct OpenOrder: Sendable, Hashable, Codable {
    public var id: String
    public var account: Int
    public var instrument: Int
    /// Remaining signed contracts.
    public var quantity: FixedDecimal
    public var price: FixedDecimal
    public var reduceOnly: Bool
    /// Initial margin reserved by the remaining quantity (settle units).
    public var reservedMargin: FixedDecimal
}

/// An account as the engine keeps it.
public struct EngineAccount: Sendable, Hashable, Codable {
    /// Balances (collateral) and positions, in the evaluator's shape. At most one position per instrument.
    public var account: Account
    /// Chosen leverage per instrument (inline for one instrument: InstrumentMap.swift).
    public var leverage: InstrumentMap<FixedDecimal> = [:]
    /// Instruments traded in isolated mode.
    public var isolated: Set<Int> = []
    /// Open order ids, in placement order.
    public var orders: [String] = []
    /// Procedure state per pool (absent = normal).
    public var procedures: [PoolKey: ProcedureState] = [:]
    /// Total socialized loss charged to this account (settle units, ≥ 0).
    public var socializedLoss: FixedDecimal = .zero
    /// Bad debt left on this account after the waterfall (settle units, ≥ 0), cumulative.
    public var badDebt: FixedDecimal = .zero
    /// The part of the negative settle balance already written off as bad debt (≤ −balance):
    /// a later settlement covers only what lies beyond it, so no debt is counted twice. It
    /// shrinks as the holder pays the balance back.
    public var writtenOff: FixedDecimal = .zero
    /// Version stamp of the at-risk index entries.
    var indexVersion: Int64 = 0
    /// `.portfolio` for a portfolio-margined account (one pool, scenario margin; docs/options.md);
    /// nil for a standard account (so older snapshots decode unchanged).
    public var mode: AccountMode? = nil
    /// Whether the account is portfolio-margined.
    public var isPortfolio: Bool { mode == .portfolio }

    public var id: String { account.id }

    /// Balance of asset `asset` (0 when none).
    public func balance(_ asset: Int) -> FixedDecimal {
        account.collateral.first { $0.asset == asset }?.amount ?? .zero
    }

    /// Adds `delta` to the balance of `asset`, keeping balances sorted by asset.
    mutating func credit(_ asset: Int, _ delta: FixedDecimal) {
        if let k = account.collateral.firstIndex(where: { $0.asset == asset }) {
            account.collateral[k].amount += delta
        } else {
            let k = account.collateral.firstIndex { $0.asset > asset } ?? account.collateral.count
            account.collateral.insert(CollateralBalance(asset: asset, amount: delta), at: k)
        }
        if asset == account.settle, delta.isPositive, writtenOff.isPositive {
            writtenOff = FixedDecimal.minimum(writtenOff, FixedDecimal.maximum(.zero, -balance(asset)))
        }
    }

    /// Index of the position in `instrument`, if any.
    public func positionIndex(_ instrument: Int) -> Int? {
        account.positions.firstIndex { $0.instrument == instrument }
    }

    /// The pool a position in `instrument` belongs to.
    public func pool(of instrument: Int) -> PoolKey { isolated.contains(instrument) ? .isolated(instrument: instrument) : .cross }
}

/// A price with the time its source published it.
public struct SourcedPrice: Sendable, Hashable, Codable {
    public var price: FixedDecimal
    public var sourceTime: Int64
}

/// Circuit-breaker state of one instrument.
public struct BreakerState: Sendable, Hashable, Codable {
    /// Why liquidations are paused (empty = running): `stale_mark`, `oracle_divergence`, `index_move`.
    public var pausedReasons: [String] = []
    public var capWindowStart: Int64 = 0
    /// Notional liquidated in the current cap window (settle units).
    public var capUsed: FixedDecimal = .zero
    public var indexWindowStart: Int64 = 0
    public var indexWindowReference: FixedDecimal? = nil
    /// Whether a throttle event was emitted in this window.
    public var throttleReported = false
}

/// Money totals per asset; the conservation identity is
/// `opening + deposited − withdrawn = balances + insurance_fund + fees + external`. The flows are
/// `RunningTotal`s: they grow for the life of the venue and stay exact beyond the decimal range
/// (docs/range-contract.md); the fund is money the engine spends, a `FixedDecimal`.
public struct AssetTotals: Sendable, Hashable, Codable {
    public var opening: RunningTotal = .zero
    public var deposited: RunningTotal = .zero
    public var withdrawn: RunningTotal = .zero
    public var insuranceFund: FixedDecimal = .zero
    public var fees: RunningTotal = .zero
    /// Net paid to counterparties outside the engine (the venue's clearing side).
    public var external: RunningTotal = .zero
    /// Losses charged to accounts by socialization (memo: already inside balances).
    public var socializedLoss: RunningTotal = .zero
}

/// The whole state of the engine: a pure function of the commands applied.
/// The last order-book snapshot of an instrument (for the liquidation depth model).
public struct OrderBook: Sendable, Hashable, Codable {
    /// Bids, best (highest) first.
    public var bids: [BookLevel] = []
    /// Asks, best (lowest) first.
    public var asks: [BookLevel] = []
    public init(bids: [BookLevel] = [], asks: [BookLevel] = []) {
        self.bids = bids
        self.asks = asks
    }
}

/// An on-chain deposit and where it stands.
public struct ChainDeposit: Sendable, Hashable, Codable {
    public var account: Int
    public var asset: Int
    public var amount: FixedDecimal
    public var chain: String
    public var height: Int64
    public var blockHash: String
    /// The engine command count when it was applied (its journal sequence number).
    public var sequence: Int64
    /// Credited so far: the haircut share while unconfirmed, the full amount once final.
    public var credited: FixedDecimal
    public var isFinal: Bool
    /// `chain:height:hash`, how reorganizations name it.
    public var identity: String { "\(chain):\(height):\(blockHash)" }
}

/// A withdrawal that was paid out: a fact that no reorganization or replay undoes.
public struct Payout: Sendable, Hashable, Codable {
    /// The engine command count when it was applied (its journal sequence number).
    public var sequence: Int64
    public var account: String
    public var asset: Int
    public var amount: FixedDecimal
}

/// Set while the journal replays history for a reorganization notice at `time`: the calls
/// of `accounts` (the holders of the orphaned deposits) opened from the first orphaned deposit
/// on are not liquidated on their deadlines inside the replay — their holders learn of them
/// only at the notice, where `Engine.completeReorganization` restates them. Not part of the
/// state hash; nil otherwise.
public struct ReplayNotice: Sendable, Hashable, Codable {
    public var time: Int64
    public var accounts: Set<String>
    /// Command number of the first orphaned deposit: calls opened from there on exist only in
    /// the corrected history (calls opened before it were known to their holders and run as
    /// they did).
    public var from: Int64
    /// The calls opened from `from` on, as `account pool`: these wait for the notice.
    public var restated: Set<String> = []
}

/// A parameter change waiting for its effective time (ms).
public struct PendingChange: Sendable, Hashable, Codable {
    public var time: Int64
    public var change: ParameterChange
}

public struct EngineState: Sendable, Codable {
    public var time: Int64 = 0
    public var commandsApplied: Int64 = 0
    public var eventSequence: Int64 = 0
    public var parameters: EngineParameters
    public var parameterVersion: Int64 = 1
    public var market: Market
    public var markSources: [SourcedPrice?]
    public var indexPrices: [SourcedPrice?]
    public var books: [OrderBook]
    public var breakers: [BreakerState]
    public var accounts: [EngineAccount] = []
    public var accountIndex: [String: Int] = [:]
    /// Open orders by storage key (Engine+OrderIDs.swift), in a sharded table that never rehashes whole (OrderTable.swift).
    public var orders: OrderTable = [:]
    public var totals: [AssetTotals]
    /// Accounts waiting for a liquidation step.
    public var backlog: Set<Int> = []
    /// Accounts with a pool in a margin call (derived from the procedures; kept so that
    /// deadlines are checked without scanning every account).
    public var calledAccounts: Set<Int> = []
    /// On-chain deposits not orphaned (pending and final), in arrival order.
    public var chainDeposits: [ChainDeposit] = []
    /// Latest tip height per chain.
    public var chainTips: [String: Int64] = [:]
    /// Deposits removed by reorganizations (`chain:height:hash`), so a rebuild can skip them.
    public var orphanedDeposits: Set<String> = []
    /// Scheduled parameter changes, in order of effective time then arrival.
    public var pendingChanges: [PendingChange] = []
    /// Every withdrawal paid out, in order: a rebuild after a reorganization keeps them
    /// (`Engine.completeReorganization`).
    public var payouts: [Payout] = []
    /// Set only while a reorganization's replay runs (`Engine.beginReplay`).
    public var replayNotice: ReplayNotice? = nil
    /// Lending terms, loans and the pool's books (docs/loans.md; `lending` reads it). Nil
    /// until lending is first used, so older states keep their snapshot shape and hash.
    public var lendingStorage: LendingState? = nil
    /// Option implied vols, valuation time and settlement prices (OptionMarks.swift); nil until the first option input.
    public var optionMarks: OptionMarkState? = nil
    /// Shard state of a sharded engine (ShardState.swift; docs/cluster.md stage 2); nil for `1 of 1`.
    public var shardStorage: ShardState? = nil

    public init(market: Market, parameters: EngineParameters) {
        self.market = market
        self.parameters = parameters
        self.markSources = market.marks.map { $0.map { SourcedPrice(price: $0, sourceTime: 0) } }
        self.indexPrices = [SourcedPrice?](repeating: nil, count: market.instruments.count)
        self.books = [OrderBook](repeating: OrderBook(), count: market.instruments.count)
        self.breakers = [BreakerState](repeating: BreakerState(), count: market.instruments.count)
        self.totals = [AssetTotals](repeating: AssetTotals(), count: market.assets.count)
    }

    /// Sum over accounts of balances (collateral and isolated margins) of `asset`.
    public func balances(of asset: Int) -> FixedDecimal {
        var total = FixedDecimal.zero
        for account in accounts {
            total += account.balance(asset)
            if account.account.settle == asset {
                for position in account.account.positions {
                    if case .isolated(let margin) = position.marginMode { total += margin }
                }
            }
        }
        return total
    }

    /// `opening + deposited − withdrawn − (balances + fund + fees + external + lender income)`:
    /// zero when money is conserved (lender income: interest accrued less bad debt booked against
    /// the lending pool, docs/loans.md) (exact; `RunningTotal`, since the flows may pass the decimal range).
    public func conservationGap(of asset: Int) -> RunningTotal {
        let t = totals[asset]
        let transfers = shardStorage?.transfers[asset] ?? .zero  // money from other shards (ShardState.swift)
        return t.opening + t.deposited - t.withdrawn + transfers - (RunningTotal(balances(of: asset)) + t.insuranceFund + t.fees + t.external + lenderIncome(of: asset))
    }
}
