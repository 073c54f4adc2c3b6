public import SolventCore

/// The members each command type of the scenario shape knows (docs/scenarios.md). A command
/// object from outside with any other member is refused (`Scenario.decodeCommand` with
/// `UnknownMembers.refused`): an `InputError` at the member's path, e.g.
/// `commands[3].reduceOnly: unknown member of "place_order" (known: time, type, key, id, …)`.
extension Scenario {
    /// Members every command may carry: `time` (defaults to the previous command's), `type`, and
    /// `key` (an idempotency key; over HTTP it travels in the `Idempotency-Key` header instead).
    public static let commonCommandMembers = ["time", "type", "key"]

    /// The members of each command type besides ``commonCommandMembers``: required and optional,
    /// as `decodeCommand` reads them and `TimedCommand.writeCanonical` writes them.
    public static let commandMembers: [String: [String]] = [
        "deposit": ["account", "asset", "amount", "settle"],
        "withdraw": ["account", "asset", "amount"],
        "place_order": ["id", "account", "symbol", "quantity", "price", "reduce_only"],
        "cancel_order": ["id", "account"],
        "fill": ["account", "symbol", "quantity", "price", "fee", "order_id"],
        "mark": ["symbol", "price", "source_time"],
        "index": ["symbol", "price", "source_time"],
        "asset_price": ["asset", "price"],
        "book": ["symbol", "bids", "asks"],
        "funding": ["symbol", "rate"],
        "set_leverage": ["account", "symbol", "leverage"],
        "set_margin_mode": ["account", "symbol", "mode"],
        "move_isolated_margin": ["account", "symbol", "amount"],
        "change_parameters": ["brackets", "haircuts", "parameters", "lending", "debt_maintenance_rate", "debt_initial_rate",
                              "debt_rates", "effective_time"],
        "tick": [],
        "borrow": ["account", "asset", "amount"],
        "repay": ["account", "asset", "amount"],
        "chain_deposit": ["account", "asset", "amount", "settle", "chain", "height", "block_hash"],
        "chain_tip": ["chain", "height"],
        "chain_reorg": ["chain", "fork_height", "new_hashes"],
        "option_mark": ["symbol", "price", "implied_vol", "source_time"],
        "set_account_mode": ["account", "mode"],
        "settlement_price": ["symbol", "price"],
        "vol_surface": ["underlying", "expiry", "strikes", "vols", "source_time", "sticky"],
        "deliver": ["message_id", "from_shard", "body"],
    ]

    /// Every member a command of `type` may carry (nil: an unknown type).
    public static func knownCommandMembers(_ type: String) -> [String]? {
        commandMembers[type].map { commonCommandMembers + $0 }
    }

    /// Members of a scenario's top-level `parameters` (docs/scenarios.md), as `decodeParameters`
    /// reads them (the policy ratios come from `start.policy`; `change_parameters` also takes them).
    public static let parameterMembers = ["preset", "grace_period_ms", "hysteresis", "liquidation_fee_rate", "liquidation_step_fraction",
                                          "liquidation_steps_per_command", "liquidation_notional_cap", "liquidation_cap_interval_ms",
                                          "price_band", "oracle_divergence_limit", "index_move_limit", "index_move_window_ms",
                                          "mark_staleness_ms", "execution", "backstop", "adl", "finality_depth", "unconfirmed_haircut",
                                          "option_delta_hedge", "option_mark_tolerance", "socialize_over"]

    /// Members of a scenario's `start` object: the evaluate input's (docs/evaluate.md, as
    /// `EvaluateInput.decode` reads them) plus `time`. Only the root of `start` is checked; its
    /// nested objects (instruments, accounts, policy …) and evaluate documents are not, yet.
    public static let startMembers = ["time", "assets", "haircuts", "haircut_model", "instruments", "marks", "accounts", "policy",
                                      "portfolio_policy", "implied_vols", "smiles", "rate", "valuation_time"]

    /// Members of one `debt_rates` entry of `change_parameters` (docs/loans.md).
    static let debtRateMembers = ["maintenance", "initial"]
}
