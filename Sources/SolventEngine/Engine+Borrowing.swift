public import SolventCore
import SolventRisk

/// `borrow` and `repay` (docs/loans.md, "Borrowing"). An account's balance of an asset is net:
/// what it holds less what it owes (principal + accrued interest), so the evaluator margins the
/// loan as debt exactly as before. A borrow leaves the net balance unchanged but for the first
/// hour's interest; a repayment from the account's own holdings leaves it unchanged (holdings
/// and debt fall together) and stops the interest.
extension Engine {
    /// Largest amount one account may owe in one asset (principal + interest, units of the
    /// asset): interest stops accruing there (docs/loans.md, "Range").
    public static let maxOwed = FixedDecimal(raw: 1_000_000_000_000_000_000 * FixedDecimal.unitRaw)
    /// Largest principal, and largest interest, outstanding in one asset's pool over all
    /// accounts (10^19): a borrow past it is out of range, and interest stops there, so the
    /// pool's sums stay inside the decimal range.
    public static let maxPoolOutstanding = FixedDecimal(raw: 10_000_000_000_000_000_000 * FixedDecimal.unitRaw)

    /// The engine hour `⌊time / 3,600,000⌋` (floor, also before 1970).
    static func hour(of time: Int64) -> Int64 {
        time >= 0 ? time / 3_600_000 : -((-time + 3_599_999) / 3_600_000)
    }

    /// What account `a` holds of `asset`: the net balance plus what it owes.
    func holdings(_ a: Int, _ asset: Int) -> FixedDecimal {
        state.accounts[a].balance(asset) + state.lending.owed(account: a, asset: asset)
    }

    mutating func borrow(_ id: String, _ assetSymbol: String, _ amount: FixedDecimal) throws(RejectReason) -> [Int] {
        let a = try accountIndex(id)
        let asset = try assetIndex(assetSymbol)
        guard amount.isPositive else { throw RejectReason(.invalidInput, field: "amount", "must be positive, got \(amount)") }
        try requirePortfolioCollateral(a, asset: asset, field: "asset")  // a coin-settled portfolio: Engine+InverseOptions.swift
        guard let terms = state.lending.terms(for: assetSymbol) else {
            throw RejectReason(.borrowingNotOffered, field: "asset", "the lending pool has no terms for \(assetSymbol)")
        }
        if let pool = state.accounts[a].procedures.sorted(by: { $0.key < $1.key }).first(where: { $0.value.restrictsAccount }) {
            throw RejectReason(.borrowInMarginCall, field: "account", "borrowing is blocked while pool \(poolName(pool.key)) is in a margin call")
        }
        var book = state.lending.pools[asset] ?? LendingPoolBook()
        var loan = state.lending.loan(account: a, asset: asset)
        if let cap = terms.borrowCap, book.principalOutstanding + amount > cap {
            throw RejectReason(.borrowLimit, field: "amount", "the \(assetSymbol) borrow cap \(cap) allows \(FixedDecimal.maximum(.zero, cap - book.principalOutstanding)) more")
        }
        if let cap = terms.accountBorrowCap, loan.principal + amount > cap {
            throw RejectReason(.borrowLimit, field: "amount", "the account borrow cap \(cap) \(assetSymbol) allows \(FixedDecimal.maximum(.zero, cap - loan.principal)) more")
        }
        if let available = book.available(supply: terms.supply), (available - RunningTotal(amount)).isNegative {
            throw RejectReason(.insufficientLiquidity, field: "amount", "the \(assetSymbol) lending pool has \(available) available")
        }
        // One hour's interest at once (Binance Margin: the first hour accrues when the loan is taken).
        let first = FixedDecimal.maximum(.zero, FixedDecimal.minimum(terms.hourlyInterest(on: amount) ?? Self.maxOwed,
                                                                     FixedDecimal.minimum(Self.maxOwed - loan.owed - amount,
                                                                                          Self.maxPoolOutstanding - book.interestOutstanding)))
        // The initial requirement without the borrowed funds (they are the borrower's to withdraw,
        // as Aave v3 sends them to the wallet): the withdrawal check of `amount` after the borrow.
        var after = state.accounts[a]
        after.credit(asset, -(amount + first))
        let free = Self.withdrawable(evaluateAccount(after, prices: false).cross) - reservedMargin(a)
        if free.isNegative {
            throw RejectReason(.insufficientMargin, field: "amount",
                               "the cross pool would be \(free.magnitude) below initial margin plus open-order margin without the borrowed funds")
        }
        state.accounts[a].credit(asset, -first)
        loan.principal += amount
        loan.interest += first
        state.lending.setLoan(loan, account: a, asset: asset)
        book.principalOutstanding += amount
        book.interestOutstanding += first
        book.borrowed += amount
        book.interestAccrued += first
        state.lending.pools[asset] = book
        if state.lending.chargedHour == nil { state.lending.chargedHour = Self.hour(of: state.time) }
        emit(.borrowed, account: a, [("asset", .text(assetSymbol)), ("amount", .decimal(amount)), ("interest_charged", .decimal(first)),
                                     ("principal", .decimal(loan.principal)), ("interest", .decimal(loan.interest)),
                                     ("balance", .decimal(state.accounts[a].balance(asset))),
                                     ("available_liquidity", .optionalDecimal(book.available(supply: terms.supply)?.value))])
        return [a]
    }

    mutating func repay(_ id: String, _ assetSymbol: String, _ amount: FixedDecimal) throws(RejectReason) -> [Int] {
        let a = try accountIndex(id)
        let asset = try assetIndex(assetSymbol)
        guard amount.isPositive else { throw RejectReason(.invalidInput, field: "amount", "must be positive, got \(amount)") }
        let loan = state.lending.loan(account: a, asset: asset)
        guard amount <= loan.owed else {
            throw RejectReason(.repayAboveDebt, field: "amount", "the account owes \(loan.owed) \(assetSymbol) (principal \(loan.principal), interest \(loan.interest))")
        }
        // Unconfirmed on-chain deposits count as collateral but never repay a loan (a
        // reorganization would take them back).
        let unconfirmed = state.chainDeposits.filter { $0.account == a && $0.asset == asset && !$0.isFinal }.reduce(FixedDecimal.zero) { $0 + $1.credited }
        let held = holdings(a, asset) - unconfirmed
        guard held >= amount else {
            throw RejectReason(.insufficientBalance, field: "amount", "the account holds \(FixedDecimal.maximum(.zero, held)) \(assetSymbol) to repay with")
        }
        repayLoan(a, asset, amount)
        return [a]
    }

    /// Books a repayment of `amount` (≤ owed, from the account's holdings) against the loan:
    /// interest first, then principal (Binance Margin: "the interest will be paid before the
    /// principal"). The net balance does not change.
    mutating func repayLoan(_ a: Int, _ asset: Int, _ amount: FixedDecimal, reason: String = "repay") {
        guard let (toInterest, toPrincipal, loan, book) = reduceLoan(a, asset, by: amount, as: .repaid) else { return }
        let symbol = state.market.assets[asset].symbol
        let supply = state.lending.terms(for: symbol)?.supply
        emit(.repaid, account: a, [("asset", .text(symbol)), ("amount", .decimal(toInterest + toPrincipal)), ("interest_paid", .decimal(toInterest)),
                                   ("principal_paid", .decimal(toPrincipal)), ("principal", .decimal(loan.principal)),
                                   ("interest", .decimal(loan.interest)), ("balance", .decimal(state.accounts[a].balance(asset))),
                                   ("available_liquidity", .optionalDecimal(book.available(supply: supply)?.value)), ("reason", .text(reason))])
    }

    /// Where a loan reduction goes in the pool's book: repaid by the borrower, or written off
    /// against the lenders.
    enum LoanReduction { case repaid, writtenOff }

    /// Takes up to `amount` off account `a`'s loan in `asset`, interest first, then principal
    /// (Binance Margin: "the interest will be paid before the principal"), and off the pool's
    /// outstanding totals, booking the parts as repaid or written off. Nil (and nothing changed)
    /// when nothing is owed or `amount` is not positive; else the interest and principal taken,
    /// the loan and the pool's book after it.
    mutating func reduceLoan(_ a: Int, _ asset: Int, by amount: FixedDecimal, as kind: LoanReduction)
        -> (interest: FixedDecimal, principal: FixedDecimal, loan: Loan, book: LendingPoolBook)? {
        var loan = state.lending.loan(account: a, asset: asset)
        let interest = FixedDecimal.minimum(amount, loan.interest)
        let principal = FixedDecimal.minimum(amount - interest, loan.principal)
        guard (interest + principal).isPositive else { return nil }
        loan.interest -= interest
        loan.principal -= principal
        state.lending.setLoan(loan, account: a, asset: asset)
        var book = state.lending.pools[asset] ?? LendingPoolBook()
        book.interestOutstanding -= interest
        book.principalOutstanding -= principal
        switch kind {
        case .repaid:
            book.interestRepaid += interest
            book.principalRepaid += principal
        case .writtenOff:
            book.interestWrittenOff += interest
            book.principalWrittenOff += principal
        }
        state.lending.pools[asset] = book
        return (interest, principal, loan, book)
    }

    /// In a liquidation: what the account holds of `asset` repays its loan in that asset (as
    /// Binance Margin's liquidation repays liabilities from the assets it sells).
    mutating func repayFromHoldings(_ a: Int, _ asset: Int) {
        let owed = state.lending.owed(account: a, asset: asset)
        guard owed.isPositive else { return }
        let amount = FixedDecimal.minimum(owed, holdings(a, asset))
        if amount.isPositive { repayLoan(a, asset, amount, reason: "liquidation") }
    }

    /// Every loan of account `a` repaid from its holdings of the loan's asset, assets in index
    /// order (a loan-liquidation step, and the settlement of a cross pool left without positions:
    /// a settled account does not keep paying interest on debt its holdings cover).
    mutating func repayLoansFromHoldings(_ a: Int) {
        guard let loans = state.lendingStorage?.loans[a] else { return }
        for asset in loans.keys.sorted() { repayFromHoldings(a, asset) }
    }

    /// A loan with no collateral left to sell (docs/loans.md, "Bad debt"): what the account owes
    /// on it is drawn from the insurance fund in the asset (booked as a repayment), and the rest
    /// is written off against the lending pool — bad debt socialized to the pool's lenders (its
    /// available liquidity falls by the principal written off). Returns the amount settled
    /// (the live debt it removed, ≤ `liveDebt`).
    mutating func writeOffLoan(_ a: Int, _ asset: Int, liveDebt: FixedDecimal) -> FixedDecimal {
        let loan = state.lending.loan(account: a, asset: asset)
        let settled = FixedDecimal.minimum(liveDebt, loan.owed)
        guard settled.isPositive else { return .zero }
        let symbol = state.market.assets[asset].symbol
        let draw = FixedDecimal.minimum(settled, state.totals[asset].insuranceFund)
        state.accounts[a].credit(asset, settled)
        if draw.isPositive {
            state.totals[asset].insuranceFund -= draw
            emit(.insuranceFundDraw, account: a, [("amount", .decimal(draw)), ("fund", .decimal(state.totals[asset].insuranceFund)), ("pool", .text(poolName(.cross, account: a)))])
            repayLoan(a, asset, draw, reason: "insurance_fund")
        }
        let rest = settled - draw
        guard rest.isPositive else { return settled }
        let (interest, principal, _, _) = reduceLoan(a, asset, by: rest, as: .writtenOff) ?? (.zero, .zero, Loan(), LendingPoolBook())
        emit(.loanWrittenOff, account: a, [("asset", .text(symbol)), ("amount", .decimal(rest)), ("principal", .decimal(principal)),
                                           ("interest", .decimal(interest)), ("borne_by", .text("lending_pool"))])
        return settled
    }

    // MARK: range contract and parameter changes

    /// The range contract of `borrow` and `repay` beyond the amount's magnitude: a borrow may not
    /// take the account's holdings or what it owes in the asset beyond 1e15.
    func loanRangeProblem(_ account: String, _ assetSymbol: String, _ amount: FixedDecimal, borrowing: Bool) -> RejectReason? {
        guard borrowing, let a = state.accountIndex[account], let k = state.market.assets.firstIndex(where: { $0.symbol == assetSymbol }) else { return nil }
        let owed = state.lending.owed(account: a, asset: k)
        let outstanding = state.lendingStorage?.pools[k]?.principalOutstanding ?? .zero
        guard let pooled = try? outstanding.addingChecked(amount), pooled <= Self.maxPoolOutstanding else {
            return RejectReason(.outOfRange, field: "amount", "out of range: the \(assetSymbol) principal outstanding over all accounts would exceed 1e19")
        }
        guard let after = try? owed.addingChecked(amount), after <= RangeContract.maxBalance,
              let held = try? holdings(a, k).addingChecked(amount), held <= RangeContract.maxBalance else {
            return RejectReason(.outOfRange, field: "amount", "out of range: the account's \(assetSymbol) debt or holdings would exceed 1e15")
        }
        return nil
    }

    /// Bounds and names of a parameter change's lending terms and debt rates: known assets,
    /// merged terms within `LendingTerms.validationProblem`, debt rates in [0, 1] with the
    /// initial rate not below the maintenance rate.
    func lendingChangeRangeProblem(_ change: ParameterChange) -> RejectReason? {
        for (symbol, update) in (change.lending ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard state.market.assets.contains(where: { $0.symbol == symbol }) else {
                return RejectReason(.unknownAsset, field: "lending.\(symbol)", "unknown asset \"\(symbol)\"")
            }
            let merged = update.merged(into: state.lending.terms(for: symbol) ?? LendingTerms(asset: symbol))
            if let problem = merged.validationProblem() {
                return RejectReason(problem.reason.hasPrefix("out of range") ? .outOfRange : .invalidInput, field: "lending.\(symbol).\(problem.field)", problem.reason)
            }
        }
        guard let debt = change.debtRates else { return nil }
        func bad(_ r: FixedDecimal) -> Bool { r.isNegative || r > .one }
        if let r = debt.maintenance, bad(r) { return RejectReason(.outOfRange, field: "debt_maintenance_rate", "out of range: must be in [0, 1]") }
        if let r = debt.initial, bad(r) { return RejectReason(.outOfRange, field: "debt_initial_rate", "out of range: must be in [0, 1]") }
        let policy = state.parameters.policy
        if (debt.initial ?? policy.debtInitialRate) < (debt.maintenance ?? policy.debtMaintenanceRate) {
            return RejectReason(.invalidInput, field: "debt_initial_rate", "must not be below debt_maintenance_rate")
        }
        for (symbol, rates) in debt.perAsset.sorted(by: { $0.key < $1.key }) {
            guard state.market.assets.contains(where: { $0.symbol == symbol }) else {
                return RejectReason(.unknownAsset, field: "debt_rates.\(symbol)", "unknown asset \"\(symbol)\"")
            }
            if bad(rates.maintenance) || bad(rates.initial) { return RejectReason(.outOfRange, field: "debt_rates.\(symbol)", "out of range: rates must be in [0, 1]") }
            if rates.initial < rates.maintenance { return RejectReason(.invalidInput, field: "debt_rates.\(symbol).initial", "must not be below maintenance") }
        }
        return nil
    }

    /// `state` with a change's lending terms and debt rates applied (called by `applying`).
    static func applyingLending(_ change: ParameterChange, to state: inout EngineState) {
        for (symbol, update) in (change.lending ?? [:]).sorted(by: { $0.key < $1.key }) {
            let merged = update.merged(into: state.lending.terms(for: symbol) ?? LendingTerms(asset: symbol))
            // Checked when scheduled; merged into terms an earlier-effective change moved, an
            // invalid result is not applied (the terms in force stay).
            if merged.validationProblem() == nil { state.lending.setTerms(merged) }
        }
        guard let debt = change.debtRates else { return }
        if let r = debt.maintenance { state.parameters.policy.debtMaintenanceRate = r }
        if let r = debt.initial { state.parameters.policy.debtInitialRate = r }
        for (symbol, rates) in debt.perAsset {
            if let k = state.market.assets.firstIndex(where: { $0.symbol == symbol }) { state.parameters.policy.debtRates[k] = rates }
        }
    }

    /// The lending and debt-rate fields a change moved, for the `parameters_applied` event.
    static func lendingDifferences(_ before: EngineState, _ after: EngineState, _ change: ParameterChange) -> [[(String, EventValue)]] {
        var out: [[(String, EventValue)]] = []
        for symbol in (change.lending ?? [:]).keys.sorted() {
            let old = before.lending.terms(for: symbol), new = after.lending.terms(for: symbol)
            if old != new { out.append([("field", .text("lending.\(symbol)")), ("old", .text(old.map(describe) ?? "null")), ("new", .text(new.map(describe) ?? "null"))]) }
        }
        if change.debtRates != nil, before.parameters.policy != after.parameters.policy {
            out.append([("field", .text("debt_rates")), ("old", .text(describeDebtRates(before))), ("new", .text(describeDebtRates(after)))])
        }
        return out
    }

    /// Terms as text: `rate/per:compounding:supply:borrow_cap:account_borrow_cap` (`-` for none).
    static func describe(_ t: LendingTerms) -> String {
        "\(t.rate)/\(t.per.rawValue):\(t.compounding.rawValue):\(t.supply.map { "\($0)" } ?? "-"):\(t.borrowCap.map { "\($0)" } ?? "-"):\(t.accountBorrowCap.map { "\($0)" } ?? "-")"
    }

    /// Debt rates as text: `maintenance:initial` then `asset=maintenance:initial` by asset index.
    static func describeDebtRates(_ s: EngineState) -> String {
        let p = s.parameters.policy
        return (["\(p.debtMaintenanceRate):\(p.debtInitialRate)"]
            + p.debtRates.sorted { $0.key < $1.key }.map { "\(s.market.assets[$0.key].symbol)=\($0.value.maintenance):\($0.value.initial)" }).joined(separator: ";")
    }
}

extension ParameterChange {
    /// The lending fields in the scenario shape (`EngineCommand+Encoding`): `lending`,
    /// `debt_maintenance_rate`, `debt_initial_rate`, `debt_rates`, each only when named.
    public func writeLendingCanonical(into w: inout JSONWriter) {
        if let lending, !lending.isEmpty {
            w.key("lending"); w.beginObject()
            for (symbol, u) in lending.sorted(by: { $0.key < $1.key }) {
                w.key(symbol); w.beginObject()
                if let v = u.rate { w.member("rate", v) }
                if let v = u.per { w.member("per", v.rawValue) }
                if let v = u.compounding { w.member("compounding", v.rawValue) }
                if let v = u.supply { w.key("supply"); w.optionalDecimal(v.value) }
                if let v = u.borrowCap { w.key("borrow_cap"); w.optionalDecimal(v.value) }
                if let v = u.accountBorrowCap { w.key("account_borrow_cap"); w.optionalDecimal(v.value) }
                w.endObject()
            }
            w.endObject()
        }
        guard let debtRates else { return }
        if let v = debtRates.maintenance { w.member("debt_maintenance_rate", v) }
        if let v = debtRates.initial { w.member("debt_initial_rate", v) }
        if !debtRates.perAsset.isEmpty {
            w.key("debt_rates"); w.beginObject()
            for (symbol, r) in debtRates.perAsset.sorted(by: { $0.key < $1.key }) {
                w.key(symbol); w.beginObject(); w.member("maintenance", r.maintenance); w.member("initial", r.initial); w.endObject()
            }
            w.endObject()
        }
    }

    /// The lending fields as text for the state hash (empty when none is named).
    var lendingCanonicalText: String {
        var parts: [String] = []
        for (symbol, u) in (lending ?? [:]).sorted(by: { $0.key < $1.key }) { parts.append("\(symbol)=\(u.canonicalText)") }
        if let debtRates { parts.append("debt=\(debtRates.canonicalText)") }
        return parts.joined(separator: ";")
    }
}
