/// Whether a contract's PnL is in the quote currency (linear) or in the base coin (inverse).
public enum Settlement: String, Sendable, Hashable, Codable {
    /// USD(T)-margined: notional `Q·P`, PnL `s·Q·(P − EP)` in the settle asset.
    case linear
    /// Coin-margined: notional `Q/P` coins, PnL `s·Q·(1/EP − 1/P)` coins.
    case inverse
}

/// Call or put.
public enum OptionRight: String, Sendable, Hashable, Codable {
    case call, put
}

/// What kind of contract an instrument is.
public enum InstrumentKind: Sendable, Hashable, Codable {
    /// A perpetual swap.
    case perpetual(Settlement)
    /// A dated future; settles like its perpetual kind until `expiry`
    /// (milliseconds since the Unix epoch, UTC).
    case future(Settlement, expiry: Int64)
    /// A European option on `underlying` (an instrument symbol or index), premium in the
    /// settle asset. Priced by the risk models (Black-76).
    case option(right: OptionRight, strike: FixedDecimal, expiry: Int64, underlying: String)

    /// The name used in the evaluate contract (`linear_perpetual`, `inverse_future`, `option`...).
    public var contractName: String {
        switch self {
        case .perpetual(let s): return "\(s.rawValue)_perpetual"
        case .future(let s, _): return "\(s.rawValue)_future"
        case .option: return "option"
        }
    }

    /// Linear or inverse for futures and perpetuals; options are linear in their premium.
    public var settlement: Settlement {
        switch self {
        case .perpetual(let s), .future(let s, _): return s
        case .option: return .linear
        }
    }
}

/// A tradable contract with its margin table.
public struct Instrument: Sendable, Hashable, Codable {
    /// Unique symbol, e.g. `BTCUSDT`.
    public var symbol: String
    public var kind: InstrumentKind
    /// The base asset (what the contract is on), e.g. `BTC`.
    public var base: String
    /// The asset PnL and margin are paid in, e.g. `USDT` (linear) or `BTC` (inverse).
    public var settle: String
    /// Contract multiplier, > 0: base units per contract (linear) or USD per contract (inverse).
    public var contractSize: FixedDecimal
    /// Leverage and maintenance tiers.
    public var brackets: BracketTable

    public init(symbol: String, kind: InstrumentKind, base: String, settle: String, contractSize: FixedDecimal, brackets: BracketTable) {
        precondition(contractSize.isPositive, "contract size must be positive")
        self.symbol = symbol
        self.kind = kind
        self.base = base
        self.settle = settle
        self.contractSize = contractSize
        self.brackets = brackets
    }

    /// Whether PnL, premium and margin are paid in the base coin: an inverse perpetual or future,
    /// or a coin-settled (inverse) option — an option whose settle asset is its base coin, as
    /// Deribit's BTC and ETH options (premium and settlement in BTC per 1 BTC of underlying;
    /// value `Black76(F, K, σ, T) / F` coins per coin of underlying). docs/options.md.
    @inlinable public var isInverse: Bool {
        if case .option = kind { return settle == base }
        return kind.settlement == .inverse
    }

    /// Whether this is a coin-settled (inverse) option (see `isInverse`).
    @inlinable public var isInverseOption: Bool {
        if case .option = kind { return settle == base }
        return false
    }

    /// The name used in the evaluate contract and scenario files: the kind's name, and
    /// `inverse_option` for a coin-settled option.
    public var contractName: String { isInverseOption ? "inverse_option" : kind.contractName }
}
