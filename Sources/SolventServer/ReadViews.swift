public import SolventCore
public import SolventEngine
public import SolventRisk

/// What `EngineService`'s reads return: typed values taken from one state of the engine. The
/// routes and the stream render them (ReadViews+JSON.swift); nothing here is JSON.

/// One account as `GET /v1/accounts/{id}` shows it: the engine's account and its evaluation,
/// with balances, procedure states per pool, loans and the event sequence they describe.
public struct AccountView: Sendable {
    /// The account (collateral balances and positions) as the engine holds it.
    public var account: Account
    /// Its evaluation at the current marks (`MarginEvaluator.evaluate`).
    public var evaluation: AccountEvaluation
    /// The market the account's asset and instrument indices refer to.
    public var market: Market
    /// Procedure state per pool (`poolName`, `ProcedureState.name`), by pool key.
    public var procedures: [(pool: String, state: String)]
    /// Principal and accrued interest per borrowed asset (docs/loans.md), by asset index; empty
    /// when the account owes nothing.
    public var loans: [(asset: String, loan: Loan)]
    /// The engine's event sequence at the read.
    public var engineSequence: Int64
}

/// The insurance fund's balance per asset, in the market's asset order.
public struct InsuranceFundView: Sendable, Hashable {
    public struct Balance: Sendable, Hashable {
        public var asset: String
        public var amount: FixedDecimal
    }
    public var balances: [Balance]

    init(_ state: EngineState) {
        balances = state.market.assets.enumerated().map { Balance(asset: $1.symbol, amount: state.totals[$0].insuranceFund) }
    }
}

/// Mark prices after a price command (the stream's `prices` message): engine time (ms since
/// the epoch) and the mark of each instrument that has one, in the market's instrument order.
public struct MarksView: Sendable, Hashable {
    public struct Mark: Sendable, Hashable {
        public var symbol: String
        public var price: FixedDecimal
    }
    public var time: Int64
    public var marks: [Mark]

    init(_ state: EngineState) {
        time = state.time
        marks = state.market.instruments.indices.compactMap { k in
            guard let price = state.markSources[k]?.price else { return nil }
            return Mark(symbol: state.market.instruments[k].symbol, price: price)
        }
    }
}
