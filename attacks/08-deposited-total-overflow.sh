#!/bin/bash
# Expected: deposits and withdrawals inside the contract never trap; actual: after 170,141 deposit+withdraw pairs of 1e15 by ONE account (an account key may do both), totals.deposited
# passes 1.7e20 and the next deposit traps (Engine.deposit, FixedDecimal +=, exit 132). The counter never shrinks, so in serve every later deposit (of anyone, in that asset) of more than the
# remaining headroom kills the server - a permanent denial of deposits. (Takes ~5 min in a debug build: 340,400 commands.)
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/.." && swift build --show-bin-path)/solvent}
T=$(mktemp -d)
python3 - "$T/s.json" <<'PY'
import json, sys
pair = [{"type": "deposit", "account": "a", "asset": "USDT", "amount": "1000000000000000"},
        {"type": "withdraw", "account": "a", "asset": "USDT", "amount": "1000000000000000"}]
doc = {"start": {"time": "2024-01-01T00:00:00Z", "assets": {"USDT": "1"}, "instruments": [], "marks": {}, "accounts": []},
       "commands": pair * 170200}
json.dump(doc, open(sys.argv[1], "w"))
PY
"$BIN" simulate --scenario "$T/s.json" > "$T/out" 2> "$T/err"; echo "exit $? (expected 0)"
grep -m1 "runtime failure" "$T/err"; grep -m1 "Engine.deposit" "$T/err" | sed 's/^ *//' | cut -c1-150; tail -1 "$T/out" | cut -c1-150
