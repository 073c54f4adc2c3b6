#!/usr/bin/env python3
"""Generates a large evaluate input: gen_big_book.py ACCOUNTS POSITIONS_PER_ACCOUNT OUT.json (seed 42)."""
import json, random, sys
rng = random.Random(42)
n_accounts = int(sys.argv[1]); per = int(sys.argv[2]); out = sys.argv[3]
br = [("0","50000","125","0.004"),("50000","500000","100","0.005"),("500000","8000000","50","0.01"),("8000000","50000000","20","0.025"),("50000000","1000000000","10","0.05")]
brackets = [{"notional_floor":a,"notional_cap":b,"max_leverage":c,"mmr":d} for a,b,c,d in br]
syms = [f"S{i}USDT" for i in range(per)]
with open(out, "w") as f:
    f.write('{"assets":{"USDT":"1","BTC":"65000"},"haircuts":{"BTC":"0.05"},"instruments":[')
    f.write(",".join(json.dumps({"symbol":s,"kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1","brackets":brackets}) for s in syms))
    f.write('],"marks":{' + ",".join(f'"{s}":"{rng.randint(1000,90000)}.5"' for s in syms) + '},"accounts":[')
    for a in range(n_accounts):
        if a: f.write(",")
        pos = []
        for j, s in enumerate(syms):
            q = rng.choice([-1,1]) * rng.randint(1, 500000) / 1000
            p = {"symbol": s, "quantity": f"{q}", "entry_price": f"{rng.randint(1000,90000)}.25", "leverage": str(rng.randint(1,50))}
            if j % 4 == 3: p["margin_mode"] = "isolated"; p["isolated_margin"] = f"{rng.randint(100,100000)}"
            pos.append(p)
        f.write(json.dumps({"id": f"acct{a}", "settle":"USDT", "collateral":{"USDT": str(rng.randint(1000, 10000000)), "BTC": f"{rng.randint(0,100)/10}"}, "positions": pos}, separators=(",",":")))
    f.write("]}")
