/// One well-formed body of every command type in the scenario shape (docs/scenarios.md), each
/// naming every member its type knows besides `time`, `type` and `key` (so a test over them
/// exercises every entry of `Scenario.commandMembers`), for the market of ``genesis``. Without
/// `time`: the decoder's default applies. Some are refused by the engine (a `rejected` event:
/// `deliver` by a 1-of-1 engine, an option command without options); all decode.
public enum CommandBodies {
    /// A scenario start with USDT and BTC, one BTCUSDT perpetual and the account "alice" holding
    /// 10,000 USDT (2024-01-01T00:00:00Z = 1,704,067,200,000 ms).
    public static let genesis = #"""
    { "start": { "time": "2024-01-01T00:00:00Z",
        "assets": { "USDT": "1", "BTC": "60000" },
        "instruments": [ { "symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
          "brackets": [ { "notional_floor": "0", "notional_cap": "10000000", "max_leverage": "100", "mmr": "0.005" } ] } ],
        "marks": { "BTCUSDT": "60000" },
        "accounts": [ { "id": "alice", "settle": "USDT", "collateral": { "USDT": "10000" }, "positions": [] } ] },
      "lending": { "USDT": { "rate": "0.1", "per": "year", "supply": "1000000" } },
      "commands": [] }
    """#

    /// (type, body), in an order that applies cleanly after ``genesis``.
    public static let all: [(type: String, body: String)] = [
        ("deposit", #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000","settle":"USDT"}"#),
        ("withdraw", #"{"type":"withdraw","account":"alice","asset":"USDT","amount":"1"}"#),
        ("set_leverage", #"{"type":"set_leverage","account":"alice","symbol":"BTCUSDT","leverage":"10"}"#),
        ("set_margin_mode", #"{"type":"set_margin_mode","account":"alice","symbol":"BTCUSDT","mode":"cross"}"#),
        ("place_order", #"{"type":"place_order","id":"o1","account":"alice","symbol":"BTCUSDT","quantity":"0.01","price":"59000","reduce_only":false}"#),
        ("cancel_order", #"{"type":"cancel_order","id":"o1","account":"alice"}"#),
        ("fill", #"{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"0.01","price":"60000","fee":"0.1","order_id":"o9"}"#),
        ("mark", #"{"type":"mark","symbol":"BTCUSDT","price":"60010","source_time":1704067200000}"#),
        ("index", #"{"type":"index","symbol":"BTCUSDT","price":"60005","source_time":1704067200000}"#),
        ("asset_price", #"{"type":"asset_price","asset":"BTC","price":"60010"}"#),
        ("book", #"{"type":"book","symbol":"BTCUSDT","bids":[["59990","1"]],"asks":[["60020","1"]]}"#),
        ("funding", #"{"type":"funding","symbol":"BTCUSDT","rate":"0.0001"}"#),
        ("move_isolated_margin", #"{"type":"move_isolated_margin","account":"alice","symbol":"BTCUSDT","amount":"1"}"#),
        ("change_parameters", #"{"type":"change_parameters","brackets":{"BTCUSDT":[{"notional_floor":"0","notional_cap":"10000000","max_leverage":"100","mmr":"0.005","maintenance_amount":"0"}]},"haircuts":{"BTC":"0.05"},"parameters":{"hysteresis":"0.05"},"lending":{"USDT":{"rate":"0.12"}},"debt_maintenance_rate":"0.1","debt_initial_rate":"0.2","debt_rates":{"BTC":{"maintenance":"0.1","initial":"0.2"}},"effective_time":1704067200000}"#),
        ("tick", #"{"type":"tick"}"#),
        ("borrow", #"{"type":"borrow","account":"alice","asset":"USDT","amount":"10"}"#),
        ("repay", #"{"type":"repay","account":"alice","asset":"USDT","amount":"10"}"#),
        ("chain_deposit", #"{"type":"chain_deposit","account":"alice","asset":"USDT","amount":"5","settle":"USDT","chain":"eth","height":10,"block_hash":"0xa"}"#),
        ("chain_tip", #"{"type":"chain_tip","chain":"eth","height":11}"#),
        ("chain_reorg", #"{"type":"chain_reorg","chain":"eth","fork_height":12,"new_hashes":{"12":"0xb"}}"#),
        ("option_mark", #"{"type":"option_mark","symbol":"BTC-20240329-60000-C","price":"100","implied_vol":"0.5","source_time":1704067200000}"#),
        ("set_account_mode", #"{"type":"set_account_mode","account":"bob","mode":"standard"}"#),
        ("settlement_price", #"{"type":"settlement_price","symbol":"BTCUSDT","price":"60000"}"#),
        ("vol_surface", #"{"type":"vol_surface","underlying":"BTCUSDT","expiry":"2024-03-29T08:00:00Z","strikes":["50000","60000"],"vols":["0.5","0.5"],"source_time":1704067200000,"sticky":"strike"}"#),
        ("deliver", #"{"type":"deliver","message_id":"s1-1","from_shard":1,"body":{"type":"fund_credit","asset":"USDT","amount":"1","account":"alice"}}"#),
    ]

    /// Misspellings and strangers a client could send beside a command's members.
    public static let strangers = ["reduceOnly", "reduce-only", "Price", "comment", "amount_", "sourceTime", "effectiveTime", "", "é", "a b", "__proto__"]
}
