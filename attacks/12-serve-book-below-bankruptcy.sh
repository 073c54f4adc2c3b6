#!/bin/bash
# Expected: an order book never kills `solvent serve`; actual: with an insurance fund of 1,000 USDT (genesis) and an ordinary account (1,000 USDT, 1 BTC long at 8000, bankruptcy price 7000),
# the price feeder's book with one bid at 6999.999999999999999999 and a mark of 7000 kill the server (fundLeft / loss = 1000 / 1e-18 overflows in the depth model). Repeatable at will.
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d)
python3 - "$D/genesis.json" <<'PY'
import json, sys
d = json.load(open("11-fund-affordable-division.json")); d.pop("commands"); d.pop("description")
json.dump(d, open(sys.argv[1], "w"))
PY
start_server "$D" --genesis "$D/genesis.json" || exit 1
AL=$(new_key "$D" account --account alice); PF=$(new_key "$D" price-feeder); FF=$(new_key "$D" fill-feeder)
echo "alice deposits 1000 USDT: $(cmd "$AL" '{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}')"
echo "mark 8000: $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"8000"}')"
echo "fill alice +1 @ 8000: $(cmd "$FF" '{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"1","price":"8000"}')"
echo "book bid 6999.999999999999999999: $(cmd "$PF" '{"type":"book","symbol":"BTCUSDT","bids":[["6999.999999999999999999","10"]],"asks":[["7000.1","10"]]}')"
echo "mark 7000: $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"7000"}')"
sleep 0.5; echo "server: $(alive)"; stop_server "$D"
grep -m1 "Fatal error" "$D/serve.log"
