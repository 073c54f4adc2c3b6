#!/bin/bash
# Expected: the operator's risk summary never kills `solvent serve`; actual: an account with 100 USDT and an honestly filled dust short of 1e-17 BTC has a liquidation price ~1e19;
# RiskSummary computes distance_pct = move * 100 / mark and overflows: GET /v1/risk, and the operator's dashboard stream (/v1/stream with the risk channel, which sends a risk
# summary right after hello and reconnects by itself), kill the server - after every restart, while this account is among the 20 "closest" (any venue with <= 20 open accounts).
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d); start_server "$D" || exit 1
OP=$(operator_key "$D"); AL=$(new_key "$D" account --account alice); PF=$(new_key "$D" price-feeder); FF=$(new_key "$D" fill-feeder)
echo "alice deposits 100 USDT:          $(cmd "$AL" '{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}')"
echo "honest mark 65000:                $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"65000"}')"
echo "alice sells 1e-17 BTC at 65000:   $(cmd "$AL" '{"type":"place_order","id":"dust","account":"alice","symbol":"BTCUSDT","quantity":"-0.00000000000000001","price":"65000"}')"
echo "matching engine fills it:         $(cmd "$FF" '{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"-0.00000000000000001","price":"65000","order_id":"dust"}')"
echo "alice's liquidation price:        $(curl -s -H "Authorization: Bearer $AL" "$U/v1/accounts/alice" | grep -o '"liquidation_price":"[0-9.]*"')"
echo "operator GET /v1/risk:            http $(curl -s -m5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OP" "$U/v1/risk") -> server $(sleep 0.5; alive)"
start_server "$D" >/dev/null; echo "restarted: $(alive); the operator's dashboard stream connects:"
python3 - "$PORT" "$OP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"GET /v1/stream?channels=events,prices,risk HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " + sys.argv[2].encode() + b"\r\n\r\n")
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
except Exception: pass
print("  received:", out[:60], "... connection ended")
PY
sleep 0.5; echo "  server: $(alive)"; stop_server "$D"; grep -m1 "Fatal error" "$D/serve.log"
