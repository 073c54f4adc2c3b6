#!/bin/bash
# Expected: an order-book snapshot never kills `solvent serve`; actual: after 4 accepted (journaled) commands, EVERY BTCUSDT book with liquidity kills the server, after every restart
# (liquidation of a USDT-settled account holding 1e15 BTC at an asset price of 1e-8: settleEmptyPool divides the deficit by the haircut unit value 9.5e-9 -> FixedDecimal overflow).
# BTCUSDT can then never receive a book, so no BTCUSDT position of anyone can be liquidated by the depth model.
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d); start_server "$D" || exit 1
AL=$(new_key "$D" account --account alice); PF=$(new_key "$D" price-feeder); FF=$(new_key "$D" fill-feeder); OP=$(operator_key "$D")
echo "alice deposits 1e15 BTC:        $(cmd "$AL" '{"type":"deposit","account":"alice","asset":"BTC","amount":"999999999999999.999999999999999999","settle":"USDT"}')"
echo "mark BTCUSDT 65010:             $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"65010"}')"
echo "fill -1e9 @1e-8, fee 1e15:      $(cmd "$FF" '{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"-1000000000","price":"0.00000001","fee":"1000000000000000"}')"
echo "asset_price BTC 1e-8:           $(cmd "$PF" '{"type":"asset_price","asset":"BTC","price":"0.00000001"}')"
for attempt in 1 2 3; do
  echo "[$attempt] honest mark: $(cmd "$PF" '{"type":"mark","symbol":"BTCUSDT","price":"65010"}'), unrelated deposit: $(cmd "$OP" '{"type":"deposit","account":"carol","asset":"USDT","amount":"100"}'), honest book: $(cmd "$PF" '{"type":"book","symbol":"BTCUSDT","bids":[["65000","5"]],"asks":[["65020","2000000000"]]}') -> server $(sleep 0.5; alive)"
  start_server "$D" >/dev/null || { echo "restart failed"; exit 1; }
done
stop_server "$D"; grep -m1 "Fatal error" "$D/serve.log"; grep -m1 "settleEmptyPool" "$D/serve.log" | sed 's/^ *//' | cut -c1-150
