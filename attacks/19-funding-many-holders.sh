#!/bin/bash
# Expected (HEAD, after the per-account funding bound): a funding is applied or refused; actual: with 1,710 holders of an in-contract 1e9 short at mark 1e8 (fill feeder; accounts of 1 USDT),
# ONE funding at 0.999999999999999999 traps summing the payments (net += in Engine.funding, Engine+Commands.swift:460 at HEAD): exit 132; in serve one price-feeder request kills the process.
# (Slow: ~4-5 min in a debug build, mostly because every command re-emits liquidation_throttled for every liquidating account.)
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/.." && swift build --show-bin-path)/solvent}
T=$(mktemp -d)
python3 - "$T/s.json" <<'PY'
import json, sys
N = 1710
c = [{"type": "deposit", "account": "a%d" % i, "asset": "USDT", "amount": "1"} for i in range(N)]
c.append({"type": "mark", "symbol": "BTCUSDT", "price": "100000000"})
c += [{"type": "fill", "account": "a%d" % i, "symbol": "BTCUSDT", "quantity": "-1000000000", "price": "100000000"} for i in range(N)]
c.append({"type": "funding", "symbol": "BTCUSDT", "rate": "0.999999999999999999"})
doc = {"start": {"time": "2024-01-01T00:00:00Z", "assets": {"USDT": "1", "BTC": "8000"},
       "instruments": [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
                        "brackets": [{"notional_floor": "0", "notional_cap": "1000000000000000", "max_leverage": "1000", "mmr": "0.004"}]}],
       "marks": {"BTCUSDT": "8000"}, "accounts": []}, "commands": c}
json.dump(doc, open(sys.argv[1], "w"))
PY
"$BIN" simulate --scenario "$T/s.json" > /dev/null 2> "$T/err"; echo "exit $? (expected 0)"
grep -m1 "runtime failure" "$T/err"; grep -m1 "Engine.funding" "$T/err" | sed 's/^ *//' | cut -c1-150
