#!/bin/bash
# Expected: `reserves snapshot` of an accepted journal exits 0 (or 1 with a reason); actual: SIGILL (exit 132) in LiabilityClaims.extract (balance + uPnL with unchecked +=).
# 1,701 fundings leave an in-contract short with a 1.701e20 balance (accepted, journaled); a mark of 1e-8 then adds 1e17 uPnL in the liability sum.
# The same journal in `solvent serve` makes GET /v1/reserves/root (any key) kill the server, on every restart (see 03-serve-funding-reserves.sh).
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/.." && swift build --show-bin-path)/solvent}
T=$(mktemp -d)
python3 - "$T/s.json" <<'PY'
import json, sys
cmds = [{"type": "deposit", "account": "a", "asset": "USDT", "amount": "1"},
        {"type": "mark", "symbol": "BTCUSDT", "price": "100000000"},
        {"type": "fill", "account": "a", "symbol": "BTCUSDT", "quantity": "-1000000000", "price": "100000000"}]
cmds += [{"type": "funding", "symbol": "BTCUSDT", "rate": "0.999999999999999999"}] * 1701
cmds += [{"type": "mark", "symbol": "BTCUSDT", "price": "0.00000001"}]
doc = {"start": {"time": "2024-01-01T00:00:00Z", "assets": {"USDT": "1", "BTC": "8000"},
       "instruments": [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
                        "brackets": [{"notional_floor": "0", "notional_cap": "1000000000000000", "max_leverage": "1000", "mmr": "0.004"}]}],
       "marks": {"BTCUSDT": "8000"}, "accounts": []}, "commands": cmds}
json.dump(doc, open(sys.argv[1], "w"))
PY
"$BIN" simulate --scenario "$T/s.json" --data "$T/data" > "$T/out" 2> "$T/err"; echo "simulate exit $? (0: every command accepted and journaled)"
"$BIN" replay --data "$T/data" > /dev/null 2>&1; echo "replay exit $?"
"$BIN" reserves snapshot --data "$T/data" --out "$T/reserves" > /dev/null 2> "$T/rerr"; echo "reserves snapshot exit $? (expected 0)"
grep -m1 "runtime failure" "$T/rerr"; grep -m1 "LiabilityClaims" "$T/rerr" | sed 's/^ *//' | cut -c1-160
