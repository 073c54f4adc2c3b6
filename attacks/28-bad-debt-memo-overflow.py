#!/usr/bin/env python3
# Attack 28 (session 18): writes a scenario of N bankruptcies of one in-contract isolated position
# (1e9 at 1e8 marked to 1e-8, ~1e17 bad debt each). Usage: 28-bad-debt-memo-overflow.py 1750 out.json;
# then `solvent simulate --scenario out.json` (before 2d73aa0: arithmetic overflow trap after ~1,703 cycles).
import json, sys, datetime
N = int(sys.argv[1])
def ts(ms): return datetime.datetime.utcfromtimestamp(ms/1000).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]+'Z'
doc = {"start": {"time": "2024-01-01T00:00:00Z", "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
  "assets": {"USDT": "1", "BTC": "50000"},
  "instruments": [{"symbol": "P", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
    "brackets": [{"notional_floor": "0", "notional_cap": "1000000000000000", "max_leverage": "1000", "mmr": "0.0005"}]}],
  "marks": {"P": "100000000"},
  "accounts": [{"id": "x", "settle": "USDT", "collateral": {"USDT": "1000000000000000"}, "positions": []}]},
  "parameters": {"execution": "depth", "mark_staleness_ms": 300000000, "adl": False},
  "commands": []}
t = 1704067200000 + 1000
c = doc["commands"]
c.append({"time": ts(t), "type": "set_margin_mode", "account": "x", "symbol": "P", "mode": "isolated"})
c.append({"time": ts(t), "type": "set_leverage", "account": "x", "symbol": "P", "leverage": "1000"})
for n in range(N):
    t += 10
    c.append({"time": ts(t), "type": "mark", "symbol": "P", "price": "100000000"})
    c.append({"time": ts(t), "type": "fill", "account": "x", "symbol": "P", "quantity": "1000000000", "price": "100000000"})
    c.append({"time": ts(t), "type": "deposit", "account": "x", "asset": "USDT", "amount": "100000000000000"})
    t += 10
    c.append({"time": ts(t), "type": "mark", "symbol": "P", "price": "0.00000001"})
    c.append({"time": ts(t), "type": "book", "symbol": "P", "bids": [["0.00000001", "1000000000"]], "asks": [["0.00000002", "1000000000"]]})
    c.append({"time": ts(t), "type": "tick"})
json.dump(doc, open(sys.argv[2], "w"))
