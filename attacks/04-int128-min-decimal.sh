#!/bin/bash
# Expected: a decimal of -170141183460469231731.687303715884105728 is refused (exit 2 / HTTP 400, "out of range"); actual: FixedDecimal.magnitude negates Int128.min -> SIGILL (exit 132); one request by any key (an account key's own deposit, or POST /v1/evaluate) kills `solvent serve`.
set -u
cd "$(dirname "$0")"; . ./lib.sh
MIN=-170141183460469231731.687303715884105728
echo "{\"assets\":{\"USDT\":\"$MIN\"},\"instruments\":[],\"accounts\":[]}" | "$BIN" evaluate --input - > /dev/null 2>&1; echo "evaluate exit $? (expected 2)"
D=$(mktemp -d); start_server "$D" || exit 1
AL=$(new_key "$D" account --account alice)
echo "deposit by alice's key: http $(cmd "$AL" "{\"type\":\"deposit\",\"account\":\"alice\",\"asset\":\"USDT\",\"amount\":\"$MIN\"}") (expected 400)"
sleep 0.5; echo "server: $(alive)"
start_server "$D" >/dev/null; echo "restarted: $(alive)"
curl -s -m5 -o /dev/null -w "POST /v1/evaluate by alice: http %{http_code}\n" -H "Authorization: Bearer $AL" -H 'Content-Type: application/json' \
  "$U/v1/evaluate" -d "{\"assets\":{\"USDT\":$MIN},\"instruments\":[],\"accounts\":[]}"
sleep 0.5; echo "server: $(alive)"; stop_server "$D"
grep -m1 "magnitude" "$D/serve.log" | sed 's/^ *//' | cut -c1-150
