public import SolventCore

/// Interest on loans (docs/loans.md, "Interest"): charged at the start of every whole hour of
/// engine time (`⌊time / 3,600,000⌋`), the engine's clock — never a wall clock. A command whose
/// time crosses `n ≥ 1` hour starts charges every loan for those `n` hours before it runs, at the
/// terms in force then, in account order then asset order. Amounts are rounded up to 10⁻¹⁸ (in
/// the lender's favour); replay and snapshot/restore charge the same amounts (the charged hour
/// is part of the state).
extension Engine {
    /// Interest for `hours` (≥ 1) hour starts on `loan` under `terms`, before the `maxOwed` cap:
    /// - simple (Binance Margin): `hours · ⌈P · r_h⌉` (the principal only);
    /// - compound (Aave v3, hourly): `⌈(P + I) · F⌉ − (P + I)` with `F = (1 + r_h)^hours`
    ///   computed by binary exponentiation, each product rounded up to 10⁻¹⁸
    ///   (`r_h = hourlyRate`); for one hour this is `⌈(P + I) · r_h⌉`.
    /// Nil when the result leaves the decimal range (the caller charges up to the cap).
    public static func interest(on loan: Loan, terms: LendingTerms, hours: Int64) -> FixedDecimal? {
        guard hours > 0 else { return .zero }
        switch terms.compounding {
        case .simple:
            guard let perHour = terms.hourlyInterest(on: loan.principal) else { return nil }
            return perHour.multiplied(by: FixedDecimal(Int(hours)), rounding: .up)
        case .compound:
            let owed = loan.owed
            guard owed.isPositive, let factor = compoundFactor(hourlyRate: terms.hourlyRate, hours: hours),
                  let grown = owed.multiplied(by: factor, rounding: .up) else { return owed.isPositive ? nil : .zero }
            return grown - owed
        }
    }

    /// `(1 + r)^n` by binary exponentiation (square-and-multiply from the lowest bit), every
    /// product rounded up to 10⁻¹⁸; nil beyond the decimal range.
    public static func compoundFactor(hourlyRate r: FixedDecimal, hours n: Int64) -> FixedDecimal? {
        var result = FixedDecimal.one
        var base = FixedDecimal.one + r
        var k = n
        while k > 0 {
            if k & 1 == 1 { guard let next = result.multiplied(by: base, rounding: .up) else { return nil }; result = next }
            k >>= 1
            if k > 0 { guard let next = base.multiplied(by: base, rounding: .up) else { return nil }; base = next }
        }
        return result
    }

    /// Charges the hours started since the last charge on every loan; returns the borrowers
    /// charged (to re-evaluate: interest is debt).
    ///
    /// Each hour start is charged under the terms in force at it (docs/loans.md, "Interest"):
    /// the hours are split at every due pending change (effective time `T ≤ now`, in order) —
    /// an hour start `h` with `h·3,600,000 < T` under the terms before the change, later ones
    /// under the terms after it (`applying` on a copy; a change whose merged parameters fail
    /// validation is skipped, as `applyDueParameterChanges` skips it). The changes themselves
    /// still apply after the command (`apply`); only the interest reads them early. Segments are
    /// charged in time order (compound interest compounds across them), one `interest_charged`
    /// per segment and loan.
    mutating func chargeInterest() -> [Int] {
        guard let stored = state.lendingStorage, let charged = stored.chargedHour else { return [] }
        let now = Self.hour(of: state.time)
        guard now > charged else { return [] }
        state.lending.chargedHour = now
        var segments: [(hours: Int64, terms: LendingState)] = []
        var from = charged
        var inForce: EngineState? = nil  // the state with the due changes applied so far (copied only when one is due)
        for pending in state.pendingChanges where pending.time <= state.time {
            // The last hour start before T: h·3,600,000 < T ⇔ h ≤ hour(T − 1).
            let last = Swift.min(now, Self.hour(of: pending.time &- 1))
            let current = inForce ?? state
            if last > from { segments.append((last - from, current.lending)); from = last }
            let next = Self.applying(pending.change, to: current)
            inForce = next.parameters.validationError() == nil ? next : current
        }
        if now > from { segments.append((now - from, (inForce ?? state).lending)) }
        var touched = Set<Int>()
        for segment in segments { touched.formUnion(chargeInterest(hours: segment.hours, terms: segment.terms)) }
        return touched.sorted()
    }

    /// One segment: `hours` hour starts charged on every loan under the terms of `terms`,
    /// accounts in index order, assets in index order.
    private mutating func chargeInterest(hours: Int64, terms termsState: LendingState) -> [Int] {
        guard let stored = state.lendingStorage else { return [] }
        var touched: [Int] = []
        for a in stored.loans.keys.sorted() {
            var chargedAny = false
            for asset in stored.loans[a]!.keys.sorted() {
                let symbol = state.market.assets[asset].symbol
                guard let terms = termsState.terms(for: symbol) else { continue }
                var loan = state.lending.loan(account: a, asset: asset)
                let pooled = state.lending.pools[asset]?.interestOutstanding ?? .zero
                let headroom = FixedDecimal.maximum(.zero, FixedDecimal.minimum(Self.maxOwed - loan.owed, Self.maxPoolOutstanding - pooled))
                let amount = FixedDecimal.minimum(Self.interest(on: loan, terms: terms, hours: hours) ?? headroom, headroom)
                guard amount.isPositive else { continue }
                loan.interest += amount
                state.lending.setLoan(loan, account: a, asset: asset)
                state.accounts[a].credit(asset, -amount)
                state.lending.pools[asset, default: LendingPoolBook()].interestOutstanding += amount
                state.lending.pools[asset, default: LendingPoolBook()].interestAccrued += amount
                chargedAny = true
                emit(.interestCharged, account: a, [("asset", .text(symbol)), ("hours", .integer(hours)), ("amount", .decimal(amount)),
                                                    ("principal", .decimal(loan.principal)), ("interest", .decimal(loan.interest)),
                                                    ("balance", .decimal(state.accounts[a].balance(asset)))])
            }
            if chargedAny { touched.append(a) }
        }
        return touched
    }
}

extension Engine {
    /// The lending state in the canonical state (`Engine+StateHash`): terms by symbol, loans by
    /// account then asset, the pool's books by asset, the charged hour.
    func writeLending(_ l: LendingState, into w: inout JSONWriter) {
        w.key("lending"); w.beginObject()
        w.key("terms"); w.beginArray()
        for t in l.terms { w.string(Self.describe(t)) }
        w.endArray()
        w.key("loans"); w.beginArray()
        for (a, loans) in l.loans.sorted(by: { $0.key < $1.key }) {
            for (k, loan) in loans.sorted(by: { $0.key < $1.key }) { w.integer(a); w.integer(k); w.decimal(loan.principal); w.decimal(loan.interest) }
        }
        w.endArray()
        w.key("pools"); w.beginArray()
        for (k, b) in l.pools.sorted(by: { $0.key < $1.key }) {
            w.integer(k); w.decimal(b.principalOutstanding); w.decimal(b.interestOutstanding); w.decimal(b.borrowed); w.decimal(b.principalRepaid)
            w.decimal(b.interestAccrued); w.decimal(b.interestRepaid); w.decimal(b.principalWrittenOff); w.decimal(b.interestWrittenOff)
        }
        w.endArray()
        w.key("charged_hour"); w.integer(l.chargedHour ?? Int64.min)
        w.endObject()
    }
}

extension Engine {
    /// The lending pool's identities (debug invariants, Engine+Invariants.swift), per asset:
    /// `Σ principal = principal_outstanding`, `Σ interest = interest_outstanding`,
    /// `borrowed = principal_outstanding + principal_repaid + principal_written_off`,
    /// `interest_accrued = interest_outstanding + interest_repaid + interest_written_off`;
    /// every stored loan non-empty, non-negative, of a valid account.
    public func lendingViolation() -> String? {
        guard let l = state.lendingStorage else { return nil }
        var principal: [Int: FixedDecimal] = [:], interest: [Int: FixedDecimal] = [:]
        for (a, loans) in l.loans {
            guard a >= 0, a < state.accounts.count else { return "a loan of a missing account #\(a)" }
            for (k, loan) in loans {
                if loan.isEmpty || loan.principal.isNegative || loan.interest.isNegative {
                    return "account \"\(state.accounts[a].id)\" holds an empty or negative loan of asset #\(k): \(loan)"
                }
                principal[k, default: .zero] += loan.principal
                interest[k, default: .zero] += loan.interest
            }
        }
        for k in Set(l.pools.keys).union(principal.keys).sorted() {
            let b = l.pools[k] ?? LendingPoolBook()
            let symbol = k < state.market.assets.count ? state.market.assets[k].symbol : "#\(k)"
            if b.principalOutstanding != principal[k] ?? .zero || b.interestOutstanding != interest[k] ?? .zero {
                return "the \(symbol) lending pool books \(b.principalOutstanding) + \(b.interestOutstanding) outstanding, the loans hold \(principal[k] ?? .zero) + \(interest[k] ?? .zero)"
            }
            if b.borrowed != RunningTotal(b.principalOutstanding) + b.principalRepaid + b.principalWrittenOff {
                return "the \(symbol) lending pool lent \(b.borrowed) ≠ outstanding + repaid + written off"
            }
            if b.interestAccrued != RunningTotal(b.interestOutstanding) + b.interestRepaid + b.interestWrittenOff {
                return "the \(symbol) lending pool accrued \(b.interestAccrued) interest ≠ outstanding + repaid + written off"
            }
        }
        return nil
    }
}

extension Engine {
    /// `"loans": {asset: {"principal", "interest", "owed"}}` for account `a`, written only when it
    /// has a loan (the service's account view and the `simulate` summary; docs/loans.md).
    public func writeLoans(_ a: Int, into w: inout JSONWriter) {
        guard let loans = state.lendingStorage?.loans[a], !loans.isEmpty else { return }
        w.key("loans"); w.beginObject()
        for (k, loan) in loans.sorted(by: { $0.key < $1.key }) {
            w.key(state.market.assets[k].symbol); w.beginObject()
            w.member("principal", loan.principal); w.member("interest", loan.interest); w.member("owed", loan.owed)
            w.endObject()
        }
        w.endObject()
    }

    /// `"lending_pool": {…}` for asset `k` (summary totals), written only when the pool was used:
    /// outstanding principal and interest, lent, repaid, accrued, written off, available
    /// liquidity (null without a supply limit) and the lenders' income (the conservation term).
    public func writeLendingPool(_ k: Int, into w: inout JSONWriter) {
        guard let book = state.lendingStorage?.pools[k] else { return }
        let supply = state.lending.terms(for: state.market.assets[k].symbol)?.supply
        w.key("lending_pool"); w.beginObject()
        w.member("principal_outstanding", book.principalOutstanding)
        w.member("interest_outstanding", book.interestOutstanding)
        w.member("borrowed", book.borrowed)
        w.member("principal_repaid", book.principalRepaid)
        w.member("interest_accrued", book.interestAccrued)
        w.member("interest_repaid", book.interestRepaid)
        w.member("principal_written_off", book.principalWrittenOff)
        w.member("interest_written_off", book.interestWrittenOff)
        w.key("available"); if let available = book.available(supply: supply) { w.decimal(available) } else { w.null() }
        w.member("lender_income", book.lenderIncome)
        w.endObject()
    }
}
