#!/usr/bin/env python3
"""Cross-checks the engine's greeks on request (`solvent simulate --greeks`, docs/options.md
"Greeks") against QuantLib on random option books.

Each case is a scenario: a BTCUSDT perpetual at a random price, three European options on it
(random right, strike, expiry, implied vol), one account (standard or portfolio) holding random
long and short quantities of all four (a standard account trades them by fills). QuantLib's BlackCalculator (rate 0) gives per unit the
forward delta, forward gamma and vega(T); theta per year is the Black PDE's -0.5*s^2*F^2*Gamma
(rate 0). The engine's units: delta and gamma per position (x quantity), vega per vol point (/100),
theta per day (/365); the perpetual has delta = quantity. Totals: the sum per pool and underlying.
Tolerance: 1e-9 relative plus 1e-15 absolute per unit of quantity (the engine rounds each
position's greek half-even to 18 digits). Prints `N passed, M failed`; exits non-zero on any failure.
"""
import argparse
import json
import math
import random

import QuantLib as ql

from common import finish, record, run

START_MS = 1_709_280_000_000  # 2024-03-01T08:00:00Z
DAY_MS = 86_400_000
YEAR_MS = 31_536_000_000


def close(a, b, quantity):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-15 * max(1.0, abs(quantity))


def per_unit(forward, strike, years, vol, call):
    calc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Call if call else ql.Option.Put, strike),
                              forward, vol * math.sqrt(years), 1.0)
    gamma = calc.gammaForward()
    return calc.deltaForward(), gamma, calc.vega(years), -0.5 * vol * vol * forward * forward * gamma


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = [0, 0]
    brackets = [{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]
    for n in range(args.cases):
        forward = round(rng.uniform(20000, 90000), 2)
        instruments = [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT",
                        "contract_size": "1", "brackets": brackets}]
        marks = {"BTCUSDT": str(forward)}
        vols = {}
        options = []
        for k in range(3):
            call = rng.random() < 0.5
            strike = round(forward * rng.uniform(0.6, 1.5))
            days = rng.choice([2, 7, 30, 90, 365])
            vol = round(rng.uniform(0.2, 1.5), 4)
            symbol = f"BTC-{k}-{strike}-{'C' if call else 'P'}"
            expiry = START_MS + days * DAY_MS
            instruments.append({"symbol": symbol, "kind": "option", "right": "call" if call else "put", "strike": str(strike),
                                "expiry": expiry, "underlying": "BTCUSDT", "base": "BTC", "settle": "USDT",
                                "contract_size": "1", "brackets": brackets})
            marks[symbol] = "1000"
            vols[symbol] = str(vol)
            options.append((symbol, strike, days * DAY_MS / YEAR_MS, vol, call))
        portfolio = rng.random() < 0.5
        quantities = {"BTCUSDT": round(rng.uniform(-3, 3), 3)}
        for symbol, *_ in options:
            quantities[symbol] = rng.choice([-1, 1]) * round(rng.uniform(0.1, 20), 2)
        positions = [{"symbol": s, "quantity": str(q), "entry_price": marks[s]} for s, q in quantities.items() if q != 0]
        # A portfolio account opens with its positions; a standard one may not open with options
        # (the scenario decoder), so it trades them by fills one second after the start.
        account = {"id": "a", "settle": "USDT", "collateral": {"USDT": "100000000"}, "positions": positions if portfolio else []}
        commands = [] if portfolio else [{"time": START_MS + 1000, "type": "fill", "account": "a", "symbol": p["symbol"],
                                          "quantity": p["quantity"], "price": p["entry_price"]} for p in positions]
        if portfolio:
            account["mode"] = "portfolio"
        scenario = {"start": {"time": START_MS, "valuation_time": START_MS,
                              "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
                              "assets": {"USDT": "1", "BTC": str(forward)}, "haircuts": {},
                              "instruments": instruments, "marks": marks, "implied_vols": vols, "accounts": [account]},
                    "commands": commands}
        path = f"/tmp/crosscheck_greeks_{args.seed}_{n}.json"
        with open(path, "w") as f:
            json.dump(scenario, f)
        status, stdout, stderr = run([args.solvent, "simulate", "--scenario", path, "--greeks"])
        problems = []
        if status != 0:
            problems.append(f"exit {status}: {stderr.strip()[:300]}")
        else:
            lines = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"type":"greeks"')]
            if len(lines) != 1:
                problems.append(f"{len(lines)} greeks lines")
            else:
                got = {p["symbol"]: p for p in lines[0]["positions"]}
                total = [0.0, 0.0, 0.0, 0.0]
                for symbol, strike, years, vol, call in options:
                    q = quantities[symbol]
                    d, g, v, t = per_unit(forward, strike, years, vol, call)
                    expected = {"delta": q * d, "gamma": q * g, "vega": q * v / 100, "theta": q * t / 365}
                    for j, key in enumerate(["delta", "gamma", "vega", "theta"]):
                        total[j] += expected[key]
                        value = got.get(symbol, {}).get(key)
                        if value is None or not close(float(value), expected[key], q):
                            problems.append(f"{symbol} {key}: solvent {value} QuantLib {expected[key]!r}")
                q = quantities["BTCUSDT"]
                if q != 0:
                    total[0] += q
                    if float(got["BTCUSDT"]["delta"]) != q:
                        problems.append(f"BTCUSDT delta {got['BTCUSDT']['delta']} != {q}")
                totals = lines[0]["totals"]
                pool = "portfolio" if portfolio else "cross"
                if len(totals) != 1 or totals[0]["pool"] != pool or totals[0]["underlying"] != "BTCUSDT":
                    problems.append(f"totals {totals}")
                else:
                    scale = sum(abs(x) for x in quantities.values())
                    for j, key in enumerate(["delta", "gamma", "vega", "theta"]):
                        if not close(float(totals[0][key]), total[j], scale):
                            problems.append(f"total {key}: solvent {totals[0][key]} QuantLib {total[j]!r}")
        record(f"case {n} ({'portfolio' if portfolio else 'standard'}, F={forward})", problems, tally)
    finish(tally)


if __name__ == "__main__":
    main()
