#!/bin/bash
# Expected: every funding is applied or rejected (exit 0); actual: about the 1,702nd funding at |rate|<1 on an in-contract 1e9 short at mark 1e8 overflows the balance -> SIGILL (exit 132), and in `serve` it kills the process.
# Funding credits rate*notional (<=1e17) each time with no bound on the resulting balance; nothing in the range contract limits repeated credits.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/.." && swift build --show-bin-path)/solvent}
T=$(mktemp -d)
python3 - "$T/s.json" <<'PY'
import json, sys
cmds = [{"type": "deposit", "account": "a", "asset": "USDT", "amount": "1"},
        {"type": "mark", "symbol": "BTCUSDT", "price": "100000000"},
        {"type": "fill", "account": "a", "symbol": "BTCUSDT", "quantity": "-1000000000", "price": "100000000"}]
cmds += [{"type": "funding", "symbol": "BTCUSDT", "rate": "0.999999999999999999"}] * 1800
doc = {"start": {"time": "2024-01-01T00:00:00Z", "assets": {"USDT": "1", "BTC": "8000"},
       "instruments": [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
                        "brackets": [{"notional_floor": "0", "notional_cap": "1000000000000000", "max_leverage": "1000", "mmr": "0.004"}]}],
       "marks": {"BTCUSDT": "8000"}, "accounts": []}, "commands": cmds}
json.dump(doc, open(sys.argv[1], "w"))
PY
"$BIN" simulate --scenario "$T/s.json" > "$T/out" 2> "$T/err"; rc=$?
echo "exit $rc (expected 0)"; grep -m1 "runtime failure" "$T/err"; grep -m2 "FixedDecimal.swift\|credit" "$T/err" | sed 's/^ *//' | cut -c1-160
