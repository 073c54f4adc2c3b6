#!/bin/bash
# Expected: an account key cannot affect or observe another account's orders; actual: order ids are one global namespace, so alice's key (a) takes the id bob's client will use
# ("bob-order-1") and bob's place_order is rejected (duplicate_order, 1006), and (b) POST /v1/orders/check with any id tells alice whether some other account holds an order with that id.
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d); start_server "$D" || exit 1
AL=$(new_key "$D" account --account alice); BO=$(new_key "$D" account --account bob); PF=$(new_key "$D" price-feeder)
cmd "$AL" '{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}' >/dev/null; cmd "$BO" '{"type":"deposit","account":"bob","asset":"USDT","amount":"1000"}' >/dev/null
cmd "$PF" '{"type":"mark","symbol":"ETHUSDT","price":"3200"}' >/dev/null
post() { curl -s -m10 -H "Authorization: Bearer $1" -H "Idempotency-Key: $RANDOM$RANDOM" -H 'Content-Type: application/json' -X POST "$U$2" -d "$3"; echo; }
echo "bob places bob-order-7:   $(post "$BO" /v1/commands '{"type":"place_order","id":"bob-order-7","account":"bob","symbol":"ETHUSDT","quantity":"0.01","price":"3000"}' | grep -o '"type":"[a-z_]*"' | head -1)"
echo "alice probes bob-order-7: $(post "$AL" /v1/orders/check '{"id":"bob-order-7","account":"alice","symbol":"ETHUSDT","quantity":"0.01","price":"3000"}')"
echo "alice takes bob-order-8:  $(post "$AL" /v1/commands '{"type":"place_order","id":"bob-order-8","account":"alice","symbol":"ETHUSDT","quantity":"0.01","price":"3000"}' | grep -o '"type":"[a-z_]*"' | head -1)"
echo "bob places bob-order-8:   $(post "$BO" /v1/commands '{"type":"place_order","id":"bob-order-8","account":"bob","symbol":"ETHUSDT","quantity":"0.01","price":"3000"}' | grep -o '"code":[0-9]*,"field":"id"')"
stop_server "$D"
