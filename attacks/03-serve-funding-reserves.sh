#!/bin/bash
# Expected: no request kills `solvent serve`; actual: (1) a price feeder's ~1,702nd funding kills it (SIGILL), (2) after a mark the journal holds a state where GET /v1/reserves/root by ANY key (here bob's, who has no money) kills it, after every restart.
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d); start_server "$D" || { echo "server did not start"; exit 1; }
OP=$(operator_key "$D"); AL=$(new_key "$D" account --account alice); BO=$(new_key "$D" account --account bob)
PF=$(new_key "$D" price-feeder); FF=$(new_key "$D" fill-feeder)
python3 - "$PORT" "$AL" "$PF" "$FF" <<'PY'
import http.client, json, sys, uuid
port, al, pf, ff = sys.argv[1], *sys.argv[2:]
conn = {}
def cmd(key, body):
    c = conn.setdefault(key, http.client.HTTPConnection("127.0.0.1", int(port), timeout=20))
    try:
        c.request("POST", "/v1/commands", json.dumps(body), {"Authorization": "Bearer " + key, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"})
        r = c.getresponse(); r.read(); return r.status
    except Exception as e:
        return repr(e)
print("deposit", cmd(al, {"type": "deposit", "account": "alice", "asset": "USDT", "amount": "1"}))
print("mark 1e8", cmd(pf, {"type": "mark", "symbol": "BTCUSDT", "price": "100000000"}))
print("fill -1e9", cmd(ff, {"type": "fill", "account": "alice", "symbol": "BTCUSDT", "quantity": "-1000000000", "price": "100000000"}))
for n in range(1701):
    s = cmd(pf, {"type": "funding", "symbol": "BTCUSDT", "rate": "0.999999999999999999"})
    if s != 200: print("funding", n, s); break
print("1701 fundings accepted; funding #1702:", cmd(pf, {"type": "funding", "symbol": "BTCUSDT", "rate": "0.999999999999999999"}))
PY
sleep 1; echo "after funding #1702: $(alive)"; grep -m1 "runtime failure" "$D/serve.log"
stop_server "$D"; start_server "$D" || exit 1
echo "restarted: $(alive); price feeder marks BTCUSDT at 1e-8: $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"0.00000001"}')"
stop_server "$D"
for attempt in 1 2; do
  start_server "$D" || { echo "restart $attempt failed"; exit 1; }
  echo "restart $attempt: $(alive); GET /v1/reserves/root with bob's key:"
  curl -s -m10 -o /dev/null -w '  http %{http_code}\n' -H "Authorization: Bearer $BO" "$U/v1/reserves/root"
  sleep 1; echo "  then: $(alive)"; stop_server "$D"
done
grep -m1 "LiabilityClaims" "$D/serve.log" | sed 's/^ *//' | cut -c1-160
