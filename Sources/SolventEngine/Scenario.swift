public import SolventCore
public import SolventRisk

/// A simulation scenario: a starting book (the evaluate input shape), engine
/// parameters, an opening insurance fund, and timed commands (docs/scenarios.md).
public struct Scenario: Sendable {
    public var start: EvaluateInput
    public var startTime: Int64
    public var parameters: EngineParameters
    /// Opening insurance fund per asset symbol.
    public var insuranceFund: [(asset: String, amount: FixedDecimal)]
    public var commands: [TimedCommand]
    /// Lending terms per asset (the top-level `lending` object; docs/loans.md).
    public var lending: [LendingTerms] = []
    /// Which shard this engine is (the top-level `shard` object, `{"index": K, "count": N}`;
    /// default 1 of 1; docs/cluster.md stage 2). A shard opens only the starting accounts it owns
    /// (`ShardAssignment`), and only the fund shard holds the opening insurance fund.
    public var shard: ShardConfiguration = .single

    /// A fresh engine holding the starting book (marks sourced at the start time).
    public func makeEngine(fullRescan: Bool = false) throws(InputError) -> Engine {
        var engine = Engine(market: start.market, parameters: parameters, fullRescan: fullRescan)
        engine.configureShard(shard)  // Engine+Shards.swift: nothing for 1 of 1
        engine.state.time = startTime
        for i in engine.state.markSources.indices where engine.state.markSources[i] != nil {
            engine.state.markSources[i]!.sourceTime = startTime
        }
        for (asset, amount) in insuranceFund where shard.isFundShard {
            let a = start.market.assets.firstIndex { $0.symbol == asset }!
            engine.state.totals[a].insuranceFund += amount
            engine.state.totals[a].opening += amount
        }
        engine.seedOptionInputs(start, startTime: startTime)  // Engine+Options.swift
        if !lending.isEmpty { engine.state.lending.terms = lending }
        for (n, account) in start.accounts.enumerated() where !shard.isSharded || shard.owns(account.id) {
            do { try engine.openAccount(account, mode: start.modes[n]) } catch { throw InputError(path: "start.accounts[\(n)]", reason: error.message) }
        }
        return engine
    }

    /// Decodes a scenario document; every rejection names the JSON path. An unknown member of
    /// `parameters`, `shard` or a command is refused unless `unknownMembers` is `.ignored` (a
    /// stored journal's genesis: Scenario+CommandMembers.swift).
    public static func decode(_ json: JSONValue, unknownMembers: UnknownMembers = .refused) throws(InputError) -> Scenario {
        let root = JSONReader(json, path: "")
        let startReader = try root.required("start")
        let start = try EvaluateInput.decode(startReader.value)
        try startReader.refuseUnknownMembers(known: startMembers, of: "start", unknownMembers)  // its root only (Scenario+CommandMembers.swift)
        let startTime = try startReader.optional("time")?.time() ?? 0
        var parameters = try decodeParameters(root.optional("parameters"), policy: start.policy, unknownMembers: unknownMembers)
        parameters.policy = start.policy
        var fund: [(String, FixedDecimal)] = []
        if let fundReader = try root.optional("insurance_fund") {
            for (asset, value) in try fundReader.members() {
                let reader = JSONReader(value, path: fundReader.childPath(asset))
                guard start.market.assets.contains(where: { $0.symbol == asset }) else { throw reader.error("unknown asset \"\(asset)\"") }
                fund.append((asset, try reader.nonNegativeDecimal()))
            }
        }
        let assetIndex = Dictionary(uniqueKeysWithValues: start.market.assets.enumerated().map { ($1.symbol, $0) })
        var commands: [TimedCommand] = []
        let list = try root.required("commands")
        var last = startTime
        for (n, value) in try list.elements().enumerated() {
            let reader = JSONReader(value, path: "commands[\(n)]")
            let command = try decodeCommand(reader, assetIndex: assetIndex, defaultTime: last, unknownMembers: unknownMembers)
            // Account ids in a scenario file follow the one pattern (SolventCore.AccountID); the
            // journal's own decoding does not re-check them, so older journals still replay.
            if case .object(let members) = value, case .string(let id)? = members.first(where: { $0.key == "account" })?.value {
                try AccountID.validate(id, path: reader.childPath("account"))
            }
            last = command.time
            commands.append(command)
        }
        var lending: [LendingTerms] = []
        if let reader = try root.optional("lending") { lending = try LendingTerms.decodeAll(reader, assets: start.market.assets.map(\.symbol)) }
        var scenario = Scenario(start: start, startTime: startTime, parameters: parameters, insuranceFund: fund, commands: commands, lending: lending)
        if let reader = try root.optional("shard") {
            try reader.refuseUnknownMembers(known: ["index", "count"], of: "shard", unknownMembers)
            scenario.shard = try decodeShard(reader)
        }
        return scenario
    }

    /// Decodes the `shard` object: `index` (0 ..< count) and `count` (1 ... 1024).
    public static func decodeShard(_ reader: JSONReader) throws(InputError) -> ShardConfiguration {
        let count = try reader.required("count").integer()
        let index = try reader.required("index").integer()
        guard count >= 1, count <= Int64(ShardAssignment.maximumShards) else {
            throw InputError(path: reader.childPath("count"), reason: "must be in 1...\(ShardAssignment.maximumShards), got \(count)")
        }
        guard index >= 0, index < count else { throw InputError(path: reader.childPath("index"), reason: "must be in 0..<\(count), got \(index)") }
        return ShardConfiguration(index: Int(index), count: Int(count))
    }

    /// Decodes engine parameters (snake_case fields, all optional, defaults of the exchange preset).
    /// `liquidation_steps_per_command` from a document: 1…500 (the range contract bounds what one
    /// command can move the venue's totals: ≤ 500 steps of ≤ 10^17; docs/range-contract.md).
    static func stepsPerCommand(_ v: JSONReader) throws(InputError) -> Int {
        let n = try v.integer()
        guard n >= 1, n <= 500 else { throw v.error("out of range: must be in 1...500") }
        return Int(n)
    }

    public static func decodeParameters(_ reader: JSONReader?, policy: MarginPolicy,
                                        unknownMembers: UnknownMembers = .refused) throws(InputError) -> EngineParameters {
        var p = EngineParameters()
        p.policy = policy
        guard let reader else { return p }
        try reader.refuseUnknownMembers(known: parameterMembers, of: "parameters", unknownMembers)
        if let preset = try reader.optional("preset") {
            switch try preset.string() {
            case "exchange": p = .exchange
            case "lender": p = .lender
            default: throw preset.error("must be \"exchange\" or \"lender\"")
            }
            p.policy = policy
        }
        if let v = try reader.optional("grace_period_ms") { p.gracePeriodMs = try v.duration() }
        if let v = try reader.optional("hysteresis") { p.hysteresis = try v.nonNegativeDecimal() }
        if let v = try reader.optional("liquidation_fee_rate") { p.liquidationFeeRate = try v.nonNegativeDecimal() }
        if let v = try reader.optional("liquidation_step_fraction") { p.liquidationStepFraction = try v.positiveDecimal() }
        if let v = try reader.optional("liquidation_steps_per_command") { p.liquidationStepsPerCommand = try stepsPerCommand(v) }
        if let v = try reader.optional("liquidation_notional_cap") { p.liquidationNotionalCap = try v.positiveDecimal() }
        if let v = try reader.optional("liquidation_cap_interval_ms") { p.liquidationCapIntervalMs = try v.duration() }
        if let v = try reader.optional("price_band") { p.priceBand = try v.positiveDecimal() }
        if let v = try reader.optional("oracle_divergence_limit") { p.oracleDivergenceLimit = try v.positiveDecimal() }
        if let v = try reader.optional("index_move_limit") { p.indexMoveLimit = try v.positiveDecimal() }
        if let v = try reader.optional("index_move_window_ms") { p.indexMoveWindowMs = try v.duration() }
        if let v = try reader.optional("mark_staleness_ms") { p.markStalenessMs = try v.duration() }
        if let v = try reader.optional("execution") {
            guard let e = LiquidationExecution(rawValue: try v.string()) else { throw v.error("must be \"depth\" or \"backstop\"") }
            p.execution = e
        }
        if let v = try reader.optional("backstop") { p.backstopEnabled = try v.bool() }
        if let v = try reader.optional("adl") { p.adlEnabled = try v.bool() }
        if let v = try reader.optional("finality_depth") { p.finalityDepth = try v.integer() }
        if let v = try reader.optional("unconfirmed_haircut") { p.unconfirmedHaircut = try v.fraction() }
        if let v = try reader.optional("option_delta_hedge") { p.optionDeltaHedge = try v.bool() ? true : nil }  // Engine+OptionLiquidation.swift
        if let v = try reader.optional("option_mark_tolerance") { p.optionMarkTolerance = try v.fraction() }  // Engine+StaleOptionMarks.swift
        if let v = try reader.optional("socialize_over") {
            guard let s = SocializationBase(rawValue: try v.string()) else { throw v.error("must be \"profitable\" or \"all\"") }
            p.socializeOver = s
        }
        if let problem = p.validationError() { throw InputError(path: reader.childPath(problem.field), reason: problem.reason) }
        return p
    }

    /// Decodes the `parameters` of a `change_parameters` command: only the fields it names
    /// (the same names as the scenario's `parameters`, plus `warning_ratio`, `call_ratio`,
    /// `restore_ratio`); `null` clears `liquidation_notional_cap` and `unconfirmed_haircut`. A
    /// `preset` names every field of the preset except the policy ratios; fields named beside
    /// it override it. Ranges are checked once merged (`Engine.scheduleChange`).
    public static func decodeParameterUpdate(_ reader: JSONReader) throws(InputError) -> ParameterUpdate {
        var u = ParameterUpdate()
        if let preset = try reader.optional("preset") {
            let p: EngineParameters
            switch try preset.string() {
            case "exchange": p = .exchange
            case "lender": p = .lender
            default: throw preset.error("must be \"exchange\" or \"lender\"")
            }
            u = ParameterUpdate(all: p)
            u.warningRatio = nil
            u.callRatio = nil
            u.restoreRatio = nil
            u.optionDeltaHedge = nil  // a preset does not name the delta hedge
        }
        let known: Set<String> = ["preset", "warning_ratio", "call_ratio", "restore_ratio", "grace_period_ms", "hysteresis", "liquidation_fee_rate",
                                  "liquidation_step_fraction", "liquidation_steps_per_command", "liquidation_notional_cap",
                                  "liquidation_cap_interval_ms", "price_band", "oracle_divergence_limit", "index_move_limit",
                                  "index_move_window_ms", "mark_staleness_ms", "execution", "backstop", "adl", "finality_depth",
                                  "unconfirmed_haircut", "socialize_over", "option_delta_hedge", "option_mark_tolerance"]
        for (key, _) in try reader.members() where !known.contains(key) {
            throw InputError(path: reader.childPath(key), reason: "unknown parameter \"\(key)\"")
        }
        if let v = try reader.optional("warning_ratio") { u.warningRatio = try v.positiveDecimal() }
        if let v = try reader.optional("call_ratio") { u.callRatio = try v.positiveDecimal() }
        if let v = try reader.optional("restore_ratio") { u.restoreRatio = try v.positiveDecimal() }
        if let v = try reader.optional("grace_period_ms") { u.gracePeriodMs = try v.duration() }
        if let v = try reader.optional("hysteresis") { u.hysteresis = try v.nonNegativeDecimal() }
        if let v = try reader.optional("liquidation_fee_rate") { u.liquidationFeeRate = try v.nonNegativeDecimal() }
        if let v = try reader.optional("liquidation_step_fraction") { u.liquidationStepFraction = try v.positiveDecimal() }
        if let v = try reader.optional("liquidation_steps_per_command") { u.liquidationStepsPerCommand = try stepsPerCommand(v) }
        if case .null? = reader.value["liquidation_notional_cap"] { u.liquidationNotionalCap = Nullable(nil) }
        if let v = try reader.optional("liquidation_notional_cap") { u.liquidationNotionalCap = Nullable(try v.positiveDecimal()) }
        if let v = try reader.optional("liquidation_cap_interval_ms") { u.liquidationCapIntervalMs = try v.duration() }
        if let v = try reader.optional("price_band") { u.priceBand = try v.positiveDecimal() }
        if let v = try reader.optional("oracle_divergence_limit") { u.oracleDivergenceLimit = try v.positiveDecimal() }
        if let v = try reader.optional("index_move_limit") { u.indexMoveLimit = try v.positiveDecimal() }
        if let v = try reader.optional("index_move_window_ms") { u.indexMoveWindowMs = try v.duration() }
        if let v = try reader.optional("mark_staleness_ms") { u.markStalenessMs = try v.duration() }
        if let v = try reader.optional("execution") {
            guard let e = LiquidationExecution(rawValue: try v.string()) else { throw v.error("must be \"depth\" or \"backstop\"") }
            u.execution = e
        }
        if let v = try reader.optional("backstop") { u.backstopEnabled = try v.bool() }
        if let v = try reader.optional("adl") { u.adlEnabled = try v.bool() }
        if let v = try reader.optional("finality_depth") { u.finalityDepth = try v.integer() }
        if case .null? = reader.value["unconfirmed_haircut"] { u.unconfirmedHaircut = Nullable(nil) }
        if let v = try reader.optional("unconfirmed_haircut") { u.unconfirmedHaircut = Nullable(try v.fraction()) }
        if let v = try reader.optional("socialize_over") {
            guard let b = SocializationBase(rawValue: try v.string()) else { throw v.error("must be \"profitable\" or \"all\"") }
            u.socializeOver = b
        }
        if case .null? = reader.value["option_delta_hedge"] { throw InputError(path: reader.childPath("option_delta_hedge"), reason: "must be true or false") }
        if let v = try reader.optional("option_delta_hedge") { u.optionDeltaHedge = try v.bool() }  // Engine+OptionLiquidation.swift
        if let v = try reader.optional("option_mark_tolerance") { u.optionMarkTolerance = try v.fraction() }  // Engine+StaleOptionMarks.swift
        return u
    }

    static func levels(_ reader: JSONReader?) throws(InputError) -> [BookLevel] {
        guard let reader else { return [] }
        var result: [BookLevel] = []
        for (n, value) in try reader.elements().enumerated() {
            let level = JSONReader(value, path: "\(reader.path)[\(n)]")
            let pair = try level.elements()
            guard pair.count == 2 else { throw level.error("expected [price, quantity]") }
            result.append(BookLevel(price: try JSONReader(pair[0], path: level.path + "[0]").positiveDecimal(),
                                    quantity: try JSONReader(pair[1], path: level.path + "[1]").positiveDecimal()))
        }
        return result
    }

    /// Decodes one timed command: `{"time": …, "type": …, fields…}`. A member the type does not
    /// know (`knownCommandMembers`) is an input error at its path unless `unknownMembers` is
    /// `.ignored` (journal recovery only: Scenario+CommandMembers.swift).
    public static func decodeCommand(_ r: JSONReader, assetIndex: [String: Int], defaultTime: Int64,
                                     unknownMembers: UnknownMembers = .refused) throws(InputError) -> TimedCommand {
        let time = try r.optional("time")?.time() ?? defaultTime
        let key = try r.optional("key")?.string() ?? ""
        let typeReader = try r.required("type")
        let type = try typeReader.string()
        if let known = knownCommandMembers(type) { try r.refuseUnknownMembers(known: known, of: "\"\(type)\"", unknownMembers) }
        func text(_ name: String) throws(InputError) -> String { try r.required(name).nonEmptyString() }
        func decimal(_ name: String) throws(InputError) -> FixedDecimal { try r.required(name).decimal() }
        let command: EngineCommand
        switch type {
        case "deposit": command = .deposit(account: try text("account"), asset: try text("asset"), amount: try decimal("amount"), settle: try r.optional("settle")?.string())
        case "withdraw": command = .withdraw(account: try text("account"), asset: try text("asset"), amount: try decimal("amount"))
        case "place_order":
            command = .placeOrder(id: try text("id"), account: try text("account"), symbol: try text("symbol"), quantity: try decimal("quantity"),
                                  price: try decimal("price"), reduceOnly: try r.optional("reduce_only")?.bool() ?? false)
        case "cancel_order": command = .cancelOrder(id: try text("id"), account: try r.optional("account")?.string())
        case "fill":
            command = .fill(account: try text("account"), symbol: try text("symbol"), quantity: try decimal("quantity"), price: try decimal("price"),
                            fee: try r.optional("fee")?.decimal() ?? .zero, orderID: try r.optional("order_id")?.string())
        case "mark": command = .markPrice(symbol: try text("symbol"), price: try decimal("price"), sourceTime: try r.optional("source_time")?.time() ?? time)
        case "index": command = .indexPrice(symbol: try text("symbol"), price: try decimal("price"), sourceTime: try r.optional("source_time")?.time() ?? time)
        case "asset_price": command = .assetPrice(asset: try text("asset"), price: try decimal("price"))
        case "book": command = .book(symbol: try text("symbol"), bids: try levels(r.optional("bids")), asks: try levels(r.optional("asks")))
        case "funding": command = .funding(symbol: try text("symbol"), rate: try decimal("rate"))
        case "set_leverage": command = .setLeverage(account: try text("account"), symbol: try text("symbol"), leverage: try decimal("leverage"))
        case "set_margin_mode":
            let mode = try text("mode")
            guard mode == "cross" || mode == "isolated" else { throw InputError(path: r.childPath("mode"), reason: "must be \"cross\" or \"isolated\"") }
            command = .setMarginMode(account: try text("account"), symbol: try text("symbol"), isolated: mode == "isolated")
        case "move_isolated_margin": command = .moveIsolatedMargin(account: try text("account"), symbol: try text("symbol"), amount: try decimal("amount"))
        case "change_parameters":
            var change = ParameterChange()
            if let brackets = try r.optional("brackets") {
                for (symbol, value) in try brackets.members() {
                    change.brackets[symbol] = try EvaluateInput.decodeBrackets(JSONReader(value, path: brackets.childPath(symbol)))
                }
            }
            if let haircuts = try r.optional("haircuts") {
                for (asset, value) in try haircuts.members() { change.haircuts[asset] = try JSONReader(value, path: haircuts.childPath(asset)).fraction() }
            }
            if let params = try r.optional("parameters") { change.parameters = try decodeParameterUpdate(params) }
            try change.decodeLending(r, unknownMembers)  // lending terms and debt rates (LendingPool+Decoding.swift)
            command = .changeParameters(change, effectiveTime: try r.optional("effective_time")?.time() ?? time)
        case "tick": command = .tick
        case "borrow": command = .borrow(account: try text("account"), asset: try text("asset"), amount: try decimal("amount"))
        case "repay": command = .repay(account: try text("account"), asset: try text("asset"), amount: try decimal("amount"))
        case "chain_deposit":
            command = .chainDeposit(account: try text("account"), asset: try text("asset"), amount: try decimal("amount"),
                                    settle: try r.optional("settle")?.string(), chain: try text("chain"),
                                    height: try r.required("height").integer(), blockHash: try text("block_hash"))
        case "chain_tip": command = .chainTip(chain: try text("chain"), height: try r.required("height").integer())
        case "chain_reorg":
            var hashes: [Int64: String] = [:]
            if let reader = try r.optional("new_hashes") {
                for (height, value) in try reader.members() {
                    let hashReader = JSONReader(value, path: reader.childPath(height))
                    guard let h = Int64(height) else { throw hashReader.error("block height must be an integer") }
                    hashes[h] = try hashReader.nonEmptyString()
                }
            }
            command = .chainReorg(chain: try text("chain"), forkHeight: try r.required("fork_height").integer(), newHashes: hashes)
        case "option_mark":
            command = .optionMark(symbol: try text("symbol"), price: try decimal("price"), impliedVol: try decimal("implied_vol"),
                                  sourceTime: try r.optional("source_time")?.time() ?? time)
        case "set_account_mode":
            let mode = try text("mode")
            guard mode == "portfolio" || mode == "standard" else { throw InputError(path: r.childPath("mode"), reason: "must be \"portfolio\" or \"standard\"") }
            command = .setAccountMode(account: try text("account"), portfolio: mode == "portfolio")
        case "settlement_price": command = .settlementPrice(symbol: try text("symbol"), price: try decimal("price"))
        case "vol_surface":
            func decimals(_ name: String) throws(InputError) -> [FixedDecimal] {
                let reader = try r.required(name)
                var values: [FixedDecimal] = []
                for (n, value) in try reader.elements().enumerated() { values.append(try JSONReader(value, path: "\(reader.path)[\(n)]").decimal()) }
                return values
            }
            var sticky = VolSurfaceSticky.strike  // VolSurfaceSticky.swift
            if let reader = try r.optional("sticky") {
                let name = try reader.string()
                guard let rule = VolSurfaceSticky(rawValue: name) else { throw InputError(path: reader.path, reason: "must be \"strike\" or \"moneyness\"") }
                sticky = rule
            }
            command = .volSurface(underlying: try text("underlying"), expiry: try r.required("expiry").time(), strikes: try decimals("strikes"),
                                  vols: try decimals("vols"), sourceTime: try r.optional("source_time")?.time() ?? time, sticky: sticky)
        case "deliver":
            let from = try r.required("from_shard").integer()
            guard from >= 0, from < Int64(ShardAssignment.maximumShards) else {
                throw InputError(path: r.childPath("from_shard"), reason: "must be in 0..<\(ShardAssignment.maximumShards)")
            }
            command = .deliver(messageID: try text("message_id"), fromShard: Int(from), body: try OutboxBody.decode(r.required("body")))  // ShardOutbox.swift
        default:
            throw typeReader.error("unknown command type \"\(type)\"")
        }
        return TimedCommand(time: time, command: command, key: key)
    }
}
