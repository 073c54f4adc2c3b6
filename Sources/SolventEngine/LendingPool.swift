public import SolventCore

/// How interest on a loan grows between whole hours of engine time (docs/loans.md, "Interest").
public enum InterestCompounding: String, Sendable, Hashable, Codable {
    /// The engine's model, Binance Margin's: simple interest on the principal, one hour's
    /// interest when the loan is taken and one more at the start of every hour
    /// (`I = P · r_h · hours`; Binance FAQ 360030157812).
    case simple
    /// Aave v3's compounding (interest on principal plus accrued interest; MathUtils
    /// `calculateCompoundedInterest`), discretized to the same hourly charges:
    /// each hour's interest is `⌈(P + I) · r_h⌉`.
    case compound
}

/// The unit of a lending rate.
public enum RatePeriod: String, Sendable, Hashable, Codable {
    /// Per hour (Binance Margin publishes a daily rate and charges `daily/24` per hour).
    case hour
    /// Per year of 365 days = 8760 hours (Aave v3's `SECONDS_PER_YEAR = 365 days`).
    case year
}

/// The terms on which the engine's lending pool lends one asset (docs/loans.md). Every field
/// is checked by `validationProblem()` (the range contract's bounds).
public struct LendingTerms: Sendable, Hashable, Codable {
    /// The asset lent (its symbol).
    public var asset: String
    /// Interest rate, per `per` (fraction ≥ 0: at most 0.01 per hour, 100 per year).
    public var rate: FixedDecimal
    public var per: RatePeriod
    public var compounding: InterestCompounding
    /// Lenders' funds in the pool (units of the asset, ≤ 1e15); nil = no liquidity limit.
    public var supply: FixedDecimal?
    /// Most principal outstanding over all accounts (Aave v3's borrow cap); nil = none.
    public var borrowCap: FixedDecimal?
    /// Most principal outstanding for one account (Binance Margin's per-user borrow limit); nil = none.
    public var accountBorrowCap: FixedDecimal?

    public init(asset: String, rate: FixedDecimal = .zero, per: RatePeriod = .hour, compounding: InterestCompounding = .simple,
                supply: FixedDecimal? = nil, borrowCap: FixedDecimal? = nil, accountBorrowCap: FixedDecimal? = nil) {
        self.asset = asset
        self.rate = rate
        self.per = per
        self.compounding = compounding
        self.supply = supply
        self.borrowCap = borrowCap
        self.accountBorrowCap = accountBorrowCap
    }

    /// Hours in the year of a per-year rate (365 days, as Aave v3).
    public static let hoursPerYear = FixedDecimal(8760)
    /// Largest rate per hour (1 % an hour, 8760 % a year) and per year (10,000 %).
    public static let maxHourlyRate = FixedDecimal(raw: 10_000_000_000_000_000)
    public static let maxYearlyRate = FixedDecimal(100)

    /// Interest for one hour on `amount` (≥ 0, units of the asset), rounded up to 10⁻¹⁸ (in
    /// the lender's favour): `⌈amount · rate⌉` per hour, `⌈amount · rate / 8760⌉` per year
    /// (one rounding). Nil beyond the decimal range (the caller saturates).
    public func hourlyInterest(on amount: FixedDecimal) -> FixedDecimal? {
        switch per {
        case .hour: return amount.multiplied(by: rate, rounding: .up)
        case .year: return amount.multiplied(by: rate, dividedBy: Self.hoursPerYear, rounding: .up)
        }
    }

    /// The rate per hour, rounded up to 10⁻¹⁸ (the compounding factor's base).
    public var hourlyRate: FixedDecimal {
        per == .hour ? rate : (rate.divided(by: Self.hoursPerYear, rounding: .up) ?? Self.maxHourlyRate)
    }

    /// The first field outside its range, with why; nil when the terms are valid.
    public func validationProblem() -> (field: String, reason: String)? {
        if rate.isNegative { return ("rate", "must not be negative") }
        switch per {
        case .hour: if rate > Self.maxHourlyRate { return ("rate", "out of range: at most 0.01 per hour") }
        case .year: if rate > Self.maxYearlyRate { return ("rate", "out of range: at most 100 per year") }
        }
        for (field, value) in [("supply", supply), ("borrow_cap", borrowCap), ("account_borrow_cap", accountBorrowCap)] {
            guard let value else { continue }
            if value.isNegative { return (field, "must not be negative") }
            if value > RangeContract.maxMagnitude { return (field, "out of range: at most 1e15") }
        }
        return nil
    }
}

/// A partial change of one asset's lending terms (`change_parameters.lending`): named fields
/// replace those in force; `supply` and the caps may be set to none (`null`).
public struct LendingTermsUpdate: Sendable, Hashable, Codable {
    public var rate: FixedDecimal?
    public var per: RatePeriod?
    public var compounding: InterestCompounding?
    public var supply: Nullable<FixedDecimal>?
    public var borrowCap: Nullable<FixedDecimal>?
    public var accountBorrowCap: Nullable<FixedDecimal>?

    public init(rate: FixedDecimal? = nil, per: RatePeriod? = nil, compounding: InterestCompounding? = nil,
                supply: Nullable<FixedDecimal>? = nil, borrowCap: Nullable<FixedDecimal>? = nil, accountBorrowCap: Nullable<FixedDecimal>? = nil) {
        self.rate = rate
        self.per = per
        self.compounding = compounding
        self.supply = supply
        self.borrowCap = borrowCap
        self.accountBorrowCap = accountBorrowCap
    }

    /// `terms` with the named fields replaced.
    public func merged(into terms: LendingTerms) -> LendingTerms {
        var t = terms
        if let v = rate { t.rate = v }
        if let v = per { t.per = v }
        if let v = compounding { t.compounding = v }
        if let v = supply { t.supply = v.value }
        if let v = borrowCap { t.borrowCap = v.value }
        if let v = accountBorrowCap { t.accountBorrowCap = v.value }
        return t
    }

    /// The change as text, fields in a fixed order (state hash, events).
    public var canonicalText: String {
        func n(_ v: Nullable<FixedDecimal>?) -> String { v.map { $0.value.map { "\($0)" } ?? "null" } ?? "-" }
        return [rate.map { "\($0)" } ?? "-", per?.rawValue ?? "-", compounding?.rawValue ?? "-", n(supply), n(borrowCap), n(accountBorrowCap)]
            .joined(separator: "|")
    }
}

/// A change of the debt margin rates (`change_parameters`: `debt_maintenance_rate`,
/// `debt_initial_rate`, `debt_rates`): the defaults and per-asset overrides by symbol.
public struct DebtRatesChange: Sendable, Hashable, Codable {
    public var maintenance: FixedDecimal?
    public var initial: FixedDecimal?
    public var perAsset: [String: MarginPolicy.DebtRates]

    public init(maintenance: FixedDecimal? = nil, initial: FixedDecimal? = nil, perAsset: [String: MarginPolicy.DebtRates] = [:]) {
        self.maintenance = maintenance
        self.initial = initial
        self.perAsset = perAsset
    }

    public var canonicalText: String {
        ([maintenance.map { "\($0)" } ?? "-", initial.map { "\($0)" } ?? "-"]
            + perAsset.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.maintenance):\($0.value.initial)" }).joined(separator: "|")
    }
}

/// One account's loan of one asset: principal and accrued interest owed (units of the asset,
/// ≥ 0). Both are inside the account's balance of the asset, which is net: holdings − owed.
public struct Loan: Sendable, Hashable, Codable {
    public var principal: FixedDecimal = .zero
    public var interest: FixedDecimal = .zero
    public var owed: FixedDecimal { principal + interest }
    public var isEmpty: Bool { principal.isZero && interest.isZero }
    public init(principal: FixedDecimal = .zero, interest: FixedDecimal = .zero) {
        self.principal = principal
        self.interest = interest
    }
}

/// The lending pool's books for one asset. Identities (checked by the debug invariants):
/// `borrowed = Σ principal + principal_repaid + principal_written_off` and
/// `interest_accrued = Σ interest + interest_repaid + interest_written_off`.
public struct LendingPoolBook: Sendable, Hashable, Codable {
    /// Σ principal outstanding over accounts.
    public var principalOutstanding: FixedDecimal = .zero
    /// Σ accrued interest outstanding over accounts.
    public var interestOutstanding: FixedDecimal = .zero
    public var borrowed: RunningTotal = .zero
    public var principalRepaid: RunningTotal = .zero
    public var interestAccrued: RunningTotal = .zero
    public var interestRepaid: RunningTotal = .zero
    /// Bad debt booked against the pool (socialized to its lenders), principal and interest.
    public var principalWrittenOff: RunningTotal = .zero
    public var interestWrittenOff: RunningTotal = .zero

    public init() {}

    /// What the lenders gained through the ledger: interest accrued less bad debt booked. The
    /// per-asset conservation identity carries it beside `external` (docs/loans.md).
    public var lenderIncome: RunningTotal { interestAccrued - principalWrittenOff - interestWrittenOff }

    /// Cash in the pool: `supply + interest_repaid − principal_outstanding − principal_written_off`
    /// (nil supply: no limit).
    public func available(supply: FixedDecimal?) -> RunningTotal? {
        guard let supply else { return nil }
        return RunningTotal(supply) + interestRepaid - RunningTotal(principalOutstanding) - principalWrittenOff
    }
}

/// Everything the engine keeps for lending: the terms per asset, loans per account and asset,
/// the pool's books per asset, and the last hour whose interest was charged.
public struct LendingState: Sendable, Hashable, Codable {
    /// Terms per asset, sorted by symbol.
    public var terms: [LendingTerms] = []
    /// Loans by account index, then asset index (empty loans are removed).
    public var loans: [Int: [Int: Loan]] = [:]
    /// The pool's books by asset index.
    public var pools: [Int: LendingPoolBook] = [:]
    /// The hour `⌊time / 3,600,000⌋` whose start was last charged; nil before any loan.
    public var chargedHour: Int64? = nil

    public init() {}

    public func terms(for symbol: String) -> LendingTerms? { terms.first { $0.asset == symbol } }

    /// Sets (replaces) the terms of one asset, keeping the list sorted by symbol.
    public mutating func setTerms(_ t: LendingTerms) {
        terms.removeAll { $0.asset == t.asset }
        let k = terms.firstIndex { $0.asset > t.asset } ?? terms.count
        terms.insert(t, at: k)
    }

    public func loan(account: Int, asset: Int) -> Loan { loans[account]?[asset] ?? Loan() }

    /// What account `account` owes in `asset` (principal + interest).
    public func owed(account: Int, asset: Int) -> FixedDecimal { loan(account: account, asset: asset).owed }

    /// Σ principal of one account (all assets are counted separately by the caps; this is one asset).
    public func principal(account: Int, asset: Int) -> FixedDecimal { loan(account: account, asset: asset).principal }

    mutating func setLoan(_ loan: Loan, account: Int, asset: Int) {
        if loan.isEmpty {
            loans[account]?[asset] = nil
            if loans[account]?.isEmpty == true { loans[account] = nil }
        } else {
            loans[account, default: [:]][asset] = loan
        }
    }

    /// Whether any loan is outstanding.
    public var hasLoans: Bool { !loans.isEmpty }
}

extension EngineState {
    /// The engine's lending books (docs/loans.md). Stored only once lending is used, so states
    /// without it keep their snapshot shape and state hash.
    public var lending: LendingState {
        get { lendingStorage ?? LendingState() }
        _modify {
            if lendingStorage == nil { lendingStorage = LendingState() }
            yield &lendingStorage!
        }
        set { lendingStorage = newValue }
    }

    /// What the lending pool gained in `asset` through the ledger (interest accrued less bad
    /// debt booked against it): a term of the conservation identity.
    public func lenderIncome(of asset: Int) -> RunningTotal {
        lendingStorage?.pools[asset]?.lenderIncome ?? .zero
    }
}
