public import SolventCore

/// The scenario shape of lending (docs/scenarios.md, docs/loans.md): the top-level `lending`
/// object, and `lending`, `debt_maintenance_rate`, `debt_initial_rate`, `debt_rates` of
/// `change_parameters`. Every rejection names its JSON path.
extension LendingTerms {
    static let fields: Set<String> = ["rate", "per", "compounding", "supply", "borrow_cap", "account_borrow_cap"]

    /// `{"USDT": {"rate": "0.1", "per": "year", …}, …}` with the market's asset symbols.
    public static func decodeAll(_ reader: JSONReader, assets: [String]) throws(InputError) -> [LendingTerms] {
        var state = LendingState()
        for (symbol, value) in try reader.members() {
            let r = JSONReader(value, path: reader.childPath(symbol))
            guard assets.contains(symbol) else { throw r.error("unknown asset \"\(symbol)\"") }
            let terms = try LendingTermsUpdate.decode(r).merged(into: LendingTerms(asset: symbol))
            if let problem = terms.validationProblem() { throw InputError(path: r.childPath(problem.field), reason: problem.reason) }
            state.setTerms(terms)
        }
        return state.terms
    }
}

extension LendingTermsUpdate {
    /// One asset's terms, every field optional; `null` clears `supply` and the caps.
    public static func decode(_ r: JSONReader) throws(InputError) -> LendingTermsUpdate {
        for (key, _) in try r.members() where !LendingTerms.fields.contains(key) {
            throw InputError(path: r.childPath(key), reason: "unknown lending field \"\(key)\"")
        }
        var u = LendingTermsUpdate()
        if let v = try r.optional("rate") { u.rate = try v.nonNegativeDecimal() }
        if let v = try r.optional("per") {
            guard let p = RatePeriod(rawValue: try v.string()) else { throw v.error("must be \"hour\" or \"year\"") }
            u.per = p
        }
        if let v = try r.optional("compounding") {
            guard let c = InterestCompounding(rawValue: try v.string()) else { throw v.error("must be \"simple\" or \"compound\"") }
            u.compounding = c
        }
        func nullable(_ name: String) throws(InputError) -> Nullable<FixedDecimal>? {
            if case .null? = r.value[name] { return Nullable(nil) }
            return try r.optional(name).map { v throws(InputError) in Nullable(try v.nonNegativeDecimal()) }
        }
        u.supply = try nullable("supply")
        u.borrowCap = try nullable("borrow_cap")
        u.accountBorrowCap = try nullable("account_borrow_cap")
        return u
    }
}

extension ParameterChange {
    /// Reads the lending fields of a `change_parameters` command into `self`; a `debt_rates` entry
    /// with a member other than `maintenance` and `initial` is refused unless `unknownMembers` is `.ignored`.
    mutating func decodeLending(_ r: JSONReader, _ unknownMembers: UnknownMembers = .refused) throws(InputError) {
        if let reader = try r.optional("lending") {
            var map: [String: LendingTermsUpdate] = [:]
            for (symbol, value) in try reader.members() { map[symbol] = try LendingTermsUpdate.decode(JSONReader(value, path: reader.childPath(symbol))) }
            lending = map
        }
        var debt = DebtRatesChange()
        var named = false
        if let v = try r.optional("debt_maintenance_rate") { debt.maintenance = try v.nonNegativeDecimal(); named = true }
        if let v = try r.optional("debt_initial_rate") { debt.initial = try v.nonNegativeDecimal(); named = true }
        if let reader = try r.optional("debt_rates") {
            for (symbol, value) in try reader.members() {
                let rates = JSONReader(value, path: reader.childPath(symbol))
                try rates.refuseUnknownMembers(known: Scenario.debtRateMembers, of: "a debt_rates entry", unknownMembers)
                let mm = try rates.required("maintenance").nonNegativeDecimal()
                let im = try rates.optional("initial")?.nonNegativeDecimal() ?? mm
                debt.perAsset[symbol] = MarginPolicy.DebtRates(maintenance: mm, initial: im)
            }
            named = true
        }
        if named { debtRates = debt }
    }
}
