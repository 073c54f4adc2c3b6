public import SolventCore

/// The decoded input of the evaluation contract (`solvent evaluate`, `POST /v1/evaluate`).
public struct EvaluateInput: Sendable {
    public var policy: MarginPolicy
    public var market: Market
    public var accounts: [Account]
    /// Margin mode per account (same index).
    public var modes: [AccountMode]
    /// Valuation time, rate and vols for options.
    public var options: OptionInputs
    /// Scenario-margin parameters for portfolio accounts.
    public var portfolio: PortfolioPolicy
    /// Per-account haircuts from the haircut model, when the document gives one.
    public var haircuts: HaircutPolicy?

    public init(policy: MarginPolicy, market: Market, accounts: [Account], modes: [AccountMode]? = nil,
                options: OptionInputs = OptionInputs(), portfolio: PortfolioPolicy = PortfolioPolicy(), haircuts: HaircutPolicy? = nil) {
        self.policy = policy
        self.market = market
        self.accounts = accounts
        self.modes = modes ?? [AccountMode](repeating: .standard, count: accounts.count)
        self.options = options
        self.portfolio = portfolio
        self.haircuts = haircuts
        precondition(self.modes.count == accounts.count, "one mode per account")
    }

    /// Whether any account is evaluated by scenario margin.
    public var hasPortfolioAccounts: Bool { modes.contains(.portfolio) }

    /// Largest notional (or `Q·price`) accepted for one position.
    public static let positionLimit = FixedDecimal(raw: 1_000_000_000_000_000_000 * FixedDecimal.unitRaw)
    /// Largest sum of position notionals and collateral values accepted for one account.
    public static let accountLimit = FixedDecimal(raw: 10_000_000_000_000_000_000 * FixedDecimal.unitRaw)

    /// Decodes and validates a document. Every rejection names the JSON path at fault.
    public static func decode(_ json: JSONValue) throws(InputError) -> EvaluateInput {
        let root = JSONReader(json, path: "")
        _ = try root.members()
        var policy = try decodePolicy(root.optional("policy"))
        let (assets, assetIndex) = try decodeAssets(root)
        try decodeDebtRates(root.optional("policy"), into: &policy, assetIndex: assetIndex)
        let (instruments, instrumentIndex) = try decodeInstruments(root.required("instruments"), assetIndex: assetIndex)
        var marks = [FixedDecimal?](repeating: nil, count: instruments.count)
        var markPaths = [String](repeating: "", count: instruments.count)
        if let marksReader = try root.optional("marks") {
            for (symbol, value) in try marksReader.members() {
                let reader = JSONReader(value, path: marksReader.childPath(symbol))
                guard let index = instrumentIndex[symbol] else { throw reader.error("unknown instrument \"\(symbol)\"") }
                marks[index] = try reader.positiveDecimal()
                markPaths[index] = reader.path
            }
        }
        let market = Market(assets: assets, instruments: instruments, marks: marks)
        let options = try decodeOptionInputs(root, market: market, instrumentIndex: instrumentIndex)
        let portfolio = try decodePortfolioPolicy(root.optional("portfolio_policy"))
        let (accounts, modes) = try decodeAccounts(root.required("accounts"), market: market, assetIndex: assetIndex, instrumentIndex: instrumentIndex)
        let haircuts = try decodeHaircutPolicy(root.optional("haircut_model"), assetIndex: assetIndex)
        let input = EvaluateInput(policy: policy, market: market, accounts: accounts, modes: modes, options: options, portfolio: portfolio, haircuts: haircuts)
        try checkInverseOptionUnderlyings(instruments, reader: root.required("instruments"), instrumentIndex: instrumentIndex, assetIndex: assetIndex)
        try input.checkCoinSettledPolicy()
        try input.checkOptions(root)
        return input
    }

    static func decodePolicy(_ reader: JSONReader?) throws(InputError) -> MarginPolicy {
        var policy = MarginPolicy.standard
        guard let reader else { return policy }
        _ = try reader.members()
        func ratio(_ key: String) throws(InputError) -> FixedDecimal? {
            guard let r = try reader.optional(key) else { return nil }
            let d = try r.decimal()
            if !d.isPositive || d > .one { throw r.error("must be in (0, 1], got \(d)") }
            return d
        }
        if let w = try ratio("warning_ratio") { policy.warningRatio = w }
        if let c = try ratio("call_ratio") { policy.callRatio = c }
        if let r = try ratio("restore_ratio") { policy.restoreRatio = r }
        if policy.warningRatio > policy.callRatio {
            throw InputError(path: reader.childPath("warning_ratio"), reason: "must not be above call_ratio \(policy.callRatio)")
        }
        if policy.restoreRatio > policy.callRatio {
            throw InputError(path: reader.childPath("restore_ratio"), reason: "must not be above call_ratio \(policy.callRatio)")
        }
        return policy
    }

    /// `policy.debt_maintenance_rate`, `policy.debt_initial_rate` (each in [0, 1], initial ≥
    /// maintenance) and per-asset `policy.debt_rates: {asset: {"maintenance", "initial"}}` (docs/loans.md).
    static func decodeDebtRates(_ reader: JSONReader?, into policy: inout MarginPolicy, assetIndex: [String: Int]) throws(InputError) {
        guard let reader else { return }
        func rate(_ r: JSONReader) throws(InputError) -> FixedDecimal {
            let d = try r.decimal()
            if d.isNegative || d > .one { throw r.error("must be in [0, 1], got \(d)") }
            return d
        }
        if let r = try reader.optional("debt_maintenance_rate") { policy.debtMaintenanceRate = try rate(r) }
        if let r = try reader.optional("debt_initial_rate") {
            policy.debtInitialRate = try rate(r)
            if policy.debtInitialRate < policy.debtMaintenanceRate {
                throw r.error("must not be below debt_maintenance_rate \(policy.debtMaintenanceRate)")
            }
        } else if policy.debtInitialRate < policy.debtMaintenanceRate {
            policy.debtInitialRate = policy.debtMaintenanceRate
        }
        guard let perAsset = try reader.optional("debt_rates") else { return }
        for (symbol, value) in try perAsset.members() {
            let item = JSONReader(value, path: perAsset.childPath(symbol))
            guard let a = assetIndex[symbol] else { throw item.error("unknown asset \"\(symbol)\" (not in assets)") }
            _ = try item.members()
            let mmReader = try item.required("maintenance")
            let mm = try rate(mmReader)
            let imReader = try item.required("initial")
            let im = try rate(imReader)
            if im < mm { throw imReader.error("must not be below maintenance \(mm)") }
            policy.debtRates[a] = MarginPolicy.DebtRates(maintenance: mm, initial: im)
        }
    }

    static func decodeAssets(_ root: JSONReader) throws(InputError) -> ([Asset], [String: Int]) {
        let assetsReader = try root.required("assets")
        var prices: [(String, FixedDecimal)] = []
        var index: [String: Int] = [:]
        for (symbol, value) in try assetsReader.members() {
            let reader = JSONReader(value, path: assetsReader.childPath(symbol))
            if symbol.isEmpty { throw reader.error("asset symbol must not be empty") }
            if index[symbol] != nil { throw reader.error("duplicate asset") }
            if prices.count == RangeContract.maxAssets { throw reader.error("out of range: more than \(RangeContract.maxAssets) assets") }
            index[symbol] = prices.count
            prices.append((symbol, try reader.positiveDecimal()))
        }
        var haircuts = [FixedDecimal](repeating: .zero, count: prices.count)
        if let haircutsReader = try root.optional("haircuts") {
            for (symbol, value) in try haircutsReader.members() {
                let reader = JSONReader(value, path: haircutsReader.childPath(symbol))
                guard let i = index[symbol] else { throw reader.error("unknown asset \"\(symbol)\" (not in assets)") }
                haircuts[i] = try reader.fraction()
            }
        }
        let assets = prices.enumerated().map { Asset(symbol: $1.0, price: $1.1, haircut: haircuts[$0]) }
        return (assets, index)
    }

    static func decodeInstruments(_ reader: JSONReader, assetIndex: [String: Int]) throws(InputError) -> ([Instrument], [String: Int]) {
        var instruments: [Instrument] = []
        var index: [String: Int] = [:]
        for (i, value) in try reader.elements().enumerated() {
            let item = JSONReader(value, path: "\(reader.path)[\(i)]")
            let instrument = try decodeInstrument(item, assetIndex: assetIndex)
            if index[instrument.symbol] != nil {
                throw InputError(path: item.childPath("symbol"), reason: "duplicate instrument \"\(instrument.symbol)\"")
            }
            index[instrument.symbol] = instruments.count
            instruments.append(instrument)
        }
        return (instruments, index)
    }

    /// Decodes one instrument object (also used by scenario files and the API).
    public static func decodeInstrument(_ item: JSONReader, assetIndex: [String: Int]) throws(InputError) -> Instrument {
        let symbol = try item.required("symbol").nonEmptyString()
        let kindReader = try item.required("kind")
        let kindName = try kindReader.string()
        let kind: InstrumentKind
        switch kindName {
        case "linear_perpetual": kind = .perpetual(.linear)
        case "inverse_perpetual": kind = .perpetual(.inverse)
        case "linear_future": kind = .future(.linear, expiry: try item.required("expiry").time())
        case "inverse_future": kind = .future(.inverse, expiry: try item.required("expiry").time())
        case "option", "inverse_option":
            let rightReader = try item.required("right")
            guard let right = OptionRight(rawValue: try rightReader.string()) else { throw rightReader.error("must be \"call\" or \"put\"") }
            kind = .option(right: right, strike: try item.required("strike").positiveDecimal(),
                           expiry: try item.required("expiry").time(), underlying: try item.required("underlying").nonEmptyString())
        default:
            throw kindReader.error("unknown kind \"\(kindName)\" (linear_perpetual, inverse_perpetual, linear_future, inverse_future, option, inverse_option)")
        }
        let baseReader = try item.required("base")
        let base = try baseReader.nonEmptyString()
        let settleReader = try item.required("settle")
        let settle = try settleReader.nonEmptyString()
        guard assetIndex[settle] != nil else { throw settleReader.error("unknown asset \"\(settle)\" (not in assets)") }
        if kind.settlement == .inverse, base != settle {
            throw settleReader.error("an inverse contract settles in its base asset \"\(base)\"")
        }
        try checkOptionSettlement(kindName, base: base, settle: settle, kindReader: kindReader, settleReader: settleReader)
        let contractSize = try item.optional("contract_size")?.positiveDecimal() ?? .one
        let brackets = try decodeBrackets(item.required("brackets"))
        return Instrument(symbol: symbol, kind: kind, base: base, settle: settle, contractSize: contractSize, brackets: brackets)
    }

    /// Decodes and validates a bracket table (contiguous from 0, monotone rates).
    public static func decodeBrackets(_ reader: JSONReader) throws(InputError) -> BracketTable {
        var rows: [BracketTable.Row] = []
        for (i, value) in try reader.elements().enumerated() {
            let b = JSONReader(value, path: "\(reader.path)[\(i)]")
            rows.append(BracketTable.Row(
                floor: try b.required("notional_floor").nonNegativeDecimal(),
                cap: try b.required("notional_cap").positiveDecimal(),
                maxLeverage: try b.required("max_leverage").leverage(),
                mmr: try b.required("mmr").decimal(),
                amount: try b.optional("maintenance_amount")?.decimal()))
        }
        do {
            return try BracketTable(rows: rows)
        } catch {
            guard let i = error.index else { throw reader.error(error.description) }
            let path = "\(reader.path)[\(i)]" + (error.field.map { ".\($0)" } ?? "")
            throw InputError(path: path, reason: error.description)
        }
    }

    static func decodeAccounts(_ reader: JSONReader, market: Market, assetIndex: [String: Int],
                               instrumentIndex: [String: Int]) throws(InputError) -> ([Account], [AccountMode]) {
        let elements = try reader.elements()
        var modes: [AccountMode] = []
        modes.reserveCapacity(elements.count)
        var accounts: [Account] = []
        accounts.reserveCapacity(elements.count)
        var ids: [String: Int] = [:]
        ids.reserveCapacity(elements.count)
        for (i, value) in elements.enumerated() {
            let item = JSONReader(value, path: "\(reader.path)[\(i)]")
            var mode = AccountMode.standard
            if let modeReader = try item.optional("mode") {
                let name = try modeReader.string()
                guard let parsed = AccountMode(rawValue: name) else { throw modeReader.error("must be \"standard\" or \"portfolio\", got \"\(name)\"") }
                mode = parsed
            }
            modes.append(mode)
            let account = try decodeAccount(item, market: market, assetIndex: assetIndex, instrumentIndex: instrumentIndex, mode: mode)
            if let first = ids[account.id] {
                throw InputError(path: item.childPath("id"), reason: "duplicate account id \"\(account.id)\" (first at accounts[\(first)])")
            }
            ids[account.id] = i
            accounts.append(account)
        }
        return (accounts, modes)
    }

    /// Decodes one account and checks it against the market (symbols, marks, settle assets, ranges).
    /// Portfolio accounts may hold options and have one pool (cross); one settled in a coin that
    /// inverse contracts settle in (``SolventCore/Market/isCoinSettlement(_:)``) holds only inverse
    /// contracts and inverse options and only that coin as collateral, any other only linear
    /// contracts; their options are checked further by ``checkOptions(_:)``.
    public static func decodeAccount(_ item: JSONReader, market: Market, assetIndex: [String: Int],
                                     instrumentIndex: [String: Int], mode accountMode: AccountMode = .standard) throws(InputError) -> Account {
        let idReader = try item.required("id")
        let id = try idReader.nonEmptyString()
        try AccountID.validate(id, path: idReader.path)
        let settleReader = try item.required("settle")
        let settleName = try settleReader.nonEmptyString()
        guard let settle = assetIndex[settleName] else { throw settleReader.error("unknown asset \"\(settleName)\" (not in assets)") }
        let coinSettled = accountMode == .portfolio && market.isCoinSettlement(settle)
        var total = FixedDecimal.zero
        func accumulate(_ amount: FixedDecimal, _ path: String) throws(InputError) {
            guard let sum = try? total.addingChecked(amount.magnitude), sum <= accountLimit else {
                throw InputError(path: path, reason: "out of range: account total above 1e19")
            }
            total = sum
        }
        var collateral: [CollateralBalance] = []
        if let collateralReader = try item.optional("collateral") {
            var seen = Set<Int>()
            for (asset, value) in try collateralReader.members() {
                let reader = JSONReader(value, path: collateralReader.childPath(asset))
                guard let a = assetIndex[asset] else { throw reader.error("unknown asset \"\(asset)\" (not in assets)") }
                if !seen.insert(a).inserted { throw reader.error("duplicate asset") }
                let amount = try reader.decimal()
                guard let value = try? amount.multipliedChecked(by: market.assets[a].price).dividedChecked(by: market.assets[settle].price),
                      value.magnitude <= positionLimit else { throw reader.error("out of range: value above 1e18") }
                try accumulate(value, reader.path)
                if coinSettled, a != settle { throw coinCollateralError(reader, settle: settleName, asset: asset) }
                collateral.append(CollateralBalance(asset: a, amount: amount))
            }
        }
        var positions: [Position] = []
        var crossSymbols: [Int: Int] = [:]
        let positionsReader = try item.optional("positions")
        for (j, value) in try (positionsReader?.elements() ?? []).enumerated() {
            let p = JSONReader(value, path: "\(item.path).positions[\(j)]")
            let symbolReader = try p.required("symbol")
            let symbol = try symbolReader.string()
            guard let instrumentID = instrumentIndex[symbol] else { throw symbolReader.error("unknown instrument \"\(symbol)\"") }
            let instrument = market.instruments[instrumentID]
            var isOption = false
            var optionStrike = FixedDecimal.zero
            var coinValueBound: FixedDecimal? = nil
            if case .option(_, let strike, _, _) = instrument.kind {
                if accountMode != .portfolio {
                    throw symbolReader.error("option \"\(symbol)\" needs scenario margin: give the account \"mode\": \"portfolio\"")
                }
                isOption = true
                optionStrike = strike
                // A coin-settled option's value is at most K/F coins per coin of underlying (a put
                // at the underlying's price F), K/(F·(1 − 0.9)) in the worst coin scenario (moves
                // clamped at −90 %, PortfolioPolicy.minimumCoinGrowth): the size times price check
                // below reads that bound too, not only K or the fed mark (size·K/F past 1.7e20
                // trapped the PnL; a scenario loss past it was counted as zero).
                if instrument.isInverseOption, case let .option(_, _, _, underlying) = instrument.kind,
                   let forward = instrumentIndex[underlying].flatMap({ market.marks[$0] }) ?? assetIndex[underlying].map({ market.assets[$0].price }),
                   forward > .zero {
                    let worst = forward.multiplied(by: PortfolioPolicy.minimumCoinGrowth, rounding: .towardZero)
                    coinValueBound = worst.flatMap { $0.isZero ? nil : strike.multiplied(by: .one, dividedBy: $0, rounding: .awayFromZero) } ?? .max
                }
            }
            if coinSettled {
                if !instrument.isInverse { throw coinLinearError(symbolReader, symbol: symbol, settle: settleName) }
            } else if accountMode == .portfolio && instrument.isInverse {
                throw symbolReader.error("inverse contract \"\(symbol)\" in a portfolio account settled in \(settleName) (a portfolio account settled in a linear asset holds linear contracts; inverse ones go in a portfolio account settled in their coin)")
            }
            guard let fedMark = market.marks[instrumentID] ?? (isOption ? optionStrike : nil) else {
                throw InputError(path: "marks.\(symbol)", reason: "missing mark for instrument used by \(p.path)")
            }
            if assetIndex[instrument.settle] != settle {
                throw symbolReader.error("instrument settles in \(instrument.settle), account \"\(id)\" settles in \(settleName)")
            }
            let quantityReader = try p.required("quantity")
            let quantity = try quantityReader.decimal()
            if quantity.isZero { throw quantityReader.error("must not be zero") }
            let entryReader = try p.required("entry_price")
            let entry = try entryReader.positiveDecimal()
            let leverage = try p.optional("leverage")?.leverage()
            let modeReader = try p.optional("margin_mode")
            let modeName = try modeReader?.string() ?? "cross"
            let mode: MarginMode
            if accountMode == .portfolio && modeName != "cross" {
                throw modeReader!.error("a portfolio account has one pool: margin_mode must be \"cross\" or absent")
            }
            switch modeName {
            case "cross":
                if let first = crossSymbols[instrumentID] {
                    throw symbolReader.error("duplicate cross position in \(symbol) (first at \(item.path).positions[\(first)])")
                }
                crossSymbols[instrumentID] = j
                mode = .cross
            case "isolated":
                mode = .isolated(margin: try p.required("isolated_margin").nonNegativeDecimal())
            default:
                throw modeReader!.error("must be \"cross\" or \"isolated\", got \"\(modeName)\"")
            }
            guard let size = try? quantity.magnitude.multipliedChecked(by: instrument.contractSize), !size.isZero else {
                throw quantityReader.error("out of range: |quantity|·contract_size is zero or too large")
            }
            let mark = coinValueBound.map { FixedDecimal.maximum(fedMark, $0) } ?? fedMark
            for (price, reader) in [(mark, quantityReader), (entry, entryReader)] {
                let product = try? size.multipliedChecked(by: price)
                let notional = instrument.kind.settlement == .inverse ? try? size.dividedChecked(by: price) : product
                guard let product, let notional, product <= positionLimit, notional <= positionLimit, !notional.isZero else {
                    throw reader.error("out of range: position size times price beyond 1e18 or below 1e-18")
                }
                try accumulate(notional, reader.path)
            }
            if case .isolated(let margin) = mode { try accumulate(margin, "\(p.path).isolated_margin") }
            positions.append(Position(instrument: instrumentID, quantity: quantity, entryPrice: entry, leverage: leverage, marginMode: mode))
        }
        return Account(id: id, settle: settle, collateral: collateral, positions: positions)
    }
}
