#!/usr/bin/env python3
"""A scenario of N portfolio-margined accounts (each: short calls, short puts, a BTCUSDT perpetual) and T
underlying mark ticks, for the at-risk index cost per underlying tick of option books (BENCHMARKS.md).
Usage: gen_option_book.py N T out.json"""
import json, sys
n=int(sys.argv[1]); ticks=int(sys.argv[2]); out=sys.argv[3]
BR=[{"notional_floor":"0","notional_cap":"1000000000","max_leverage":"50","mmr":"0.01"}]
exp="2024-03-31T08:00:00Z"
def opt(sym,right,K): return {"symbol":sym,"kind":"option","right":right,"strike":str(K),"expiry":exp,"underlying":"BTCUSDT","base":"BTC","settle":"USDT","contract_size":"1","brackets":BR}
accounts=[{"id":f"p{k}","mode":"portfolio","settle":"USDT","collateral":{"USDT":str(60000+k)},
  "positions":[{"symbol":"BTC-60000-C","quantity":f"-{1+k%5}","entry_price":"1000"},{"symbol":"BTC-40000-P","quantity":f"-{1+k%3}","entry_price":"500"},
               {"symbol":"BTCUSDT","quantity":"0.1","entry_price":"50000"}]} for k in range(n)]
cmds=[]
t=1709280000000
for i in range(ticks):
    t+=1000
    cmds.append({"time":t,"type":"mark","symbol":"BTCUSDT","price":("50000.5" if i%2==0 else "50000")})
doc={"start":{"time":"2024-03-01T08:00:00Z","valuation_time":"2024-03-01T08:00:00Z",
 "policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"},"assets":{"USDT":"1","BTC":"50000"},"haircuts":{},
 "instruments":[{"symbol":"BTCUSDT","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1","brackets":BR},opt("BTC-60000-C","call",60000),opt("BTC-40000-P","put",40000)],
 "marks":{"BTCUSDT":"50000","BTC-60000-C":"1000","BTC-40000-P":"500"},"implied_vols":{"BTC-60000-C":"0.6","BTC-40000-P":"0.7"},"accounts":accounts},
 "parameters":{"mark_staleness_ms":86400000},"commands":cmds}
json.dump(doc,open(out,'w'))
