#!/bin/bash
# Expected: deposits and withdrawals inside the contract never trap or lock the venue; actual at 6929c72: after 170,141 deposit+withdraw pairs of 1e15 by ONE account (an account key may do both)
# totals.deposited passes 1.7e20 and the next deposit traps (Engine.deposit, FixedDecimal +=, exit 132); every later deposit of more than the headroom kills serve.
# At a8eb56b+ (totals headroom): after 100,001 pairs the venue's USDT totals pass 1e20 and EVERY later command of anyone (a victim's deposit, a mark, the operator's change_parameters) is
# rejected out_of_range "totals" - forever (the counters never shrink). PAIRS=170200 shows the crash, PAIRS=100001 (default) the lock. (~3-5 min in a debug build.)
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/.." && swift build --show-bin-path)/solvent}
T=$(mktemp -d)
python3 - "$T/s.json" <<'PY'
import json, sys
pairs = int(__import__("os").environ.get("PAIRS", "100001"))
pair = [{"type": "deposit", "account": "a", "asset": "USDT", "amount": "1000000000000000"},
        {"type": "withdraw", "account": "a", "asset": "USDT", "amount": "1000000000000000"}]
doc = {"start": {"time": "2024-01-01T00:00:00Z", "assets": {"USDT": "1"}, "instruments": [], "marks": {}, "accounts": []},
       "commands": pair * pairs + [{"type": "deposit", "account": "victim", "asset": "USDT", "amount": "100"},
                                                   {"type": "change_parameters", "parameters": {"grace_period_ms": 1000}}]}
json.dump(doc, open(sys.argv[1], "w"))
PY
"$BIN" simulate --scenario "$T/s.json" > "$T/out" 2> "$T/err"; echo "exit $? (expected 0)"
grep -m1 "runtime failure" "$T/err"; grep -m1 "Engine.deposit" "$T/err" | sed 's/^ *//' | cut -c1-150; tail -3 "$T/out" | cut -c1-160
