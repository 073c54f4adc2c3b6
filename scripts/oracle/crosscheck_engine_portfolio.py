#!/usr/bin/env python3
"""Cross-check the engine's portfolio-margined accounts against portfolio_reference.py.

    python3 crosscheck_engine_portfolio.py --solvent PATH [--cases N] [--seed S]

Generates N scenarios over an option market (a BTCUSDT perpetual, a call and a put on it),
with portfolio-margined accounts trading options and the perpetual under moving marks and
option marks (price + implied vol), runs `solvent simulate`, and rebuilds from the final
summary an `evaluate` document per portfolio account as docs/options.md states it: the final
marks, the last fed implied vols, the valuation time (the last option mark's source time), and
the account's settle balance plus its option premium basis (sum of q*cs*entry). The
independent oracle (portfolio_reference.py, exact fractions + float Black-76) must give the
pool equity, initial and maintenance margin the engine's summary reports (to 1e-9).

The engine reference model (crosscheck_engine.py) covers linear contracts only; this is the
check of engine states with options. Last line: `N passed, M failed`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portfolio_reference as pref  # noqa: E402
from common import finish  # noqa: E402

TOL = Fraction(1, 10 ** 9)
START = 1_709_280_000_000            # 2024-03-01T08:00:00Z
EXPIRY = "2024-03-31T08:00:00Z"
BRACKETS = [{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]
OPTIONS = {"BTC-60000-C": ("call", 60000), "BTC-40000-P": ("put", 40000)}


def iso(ms: int) -> str:
    """Epoch milliseconds as an ISO 8601 UTC time with milliseconds (exact)."""
    t = datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{t}.{ms % 1000:03d}Z"


def market():
    instruments = [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT",
                    "contract_size": "1", "brackets": BRACKETS}]
    for symbol, (right, strike) in OPTIONS.items():
        instruments.append({"symbol": symbol, "kind": "option", "right": right, "strike": str(strike), "expiry": EXPIRY,
                            "underlying": "BTCUSDT", "base": "BTC", "settle": "USDT", "contract_size": "1",
                            "brackets": BRACKETS})
    return instruments


def gen_case(rng):
    """A scenario and what the final option inputs are (last vols, valuation time)."""
    marks = {"BTCUSDT": 50000.0, "BTC-60000-C": 1000.0, "BTC-40000-P": 500.0}
    vols = {"BTC-60000-C": "0.6", "BTC-40000-P": "0.7"}
    accounts = []
    ids = []
    for k in range(rng.randint(2, 5)):
        ids.append(f"p{k}")
        collateral = {"USDT": str(rng.randint(20_000, 200_000))}
        if rng.random() < 0.4:
            collateral["BTC"] = f"{rng.randint(1, 30) / 10:.1f}"
        accounts.append({"id": f"p{k}", "mode": "portfolio", "settle": "USDT", "collateral": collateral, "positions": []})
    t = START
    valuation = START
    commands = []
    for _ in range(rng.randint(20, 60)):
        t += rng.randint(1_000, 600_000)
        kind = rng.random()
        if kind < 0.25:
            marks["BTCUSDT"] = round(marks["BTCUSDT"] * rng.uniform(0.97, 1.03), 2)
            commands.append({"time": t, "type": "mark", "symbol": "BTCUSDT", "price": f"{marks['BTCUSDT']:.2f}"})
            if rng.random() < 0.5:
                commands.append({"time": t, "type": "asset_price", "asset": "BTC", "price": f"{marks['BTCUSDT']:.2f}"})
        elif kind < 0.45:
            symbol = rng.choice(list(OPTIONS))
            marks[symbol] = max(0.01, round(marks[symbol] * rng.uniform(0.8, 1.25), 2))
            vols[symbol] = f"{rng.uniform(0.3, 1.4):.3f}"
            valuation = t
            commands.append({"time": t, "type": "option_mark", "symbol": symbol, "price": f"{marks[symbol]:.2f}",
                             "implied_vol": vols[symbol], "source_time": t})
        elif kind < 0.85:
            symbol = rng.choice(list(marks))
            q = rng.choice([-3, -2, -1, -0.5, 0.5, 1, 2]) if symbol != "BTCUSDT" else rng.choice([-0.3, -0.1, 0.1, 0.2])
            commands.append({"time": t, "type": "fill", "account": rng.choice(ids), "symbol": symbol, "quantity": str(q),
                             "price": f"{marks[symbol]:.2f}", "fee": "0"})
        else:
            commands.append({"time": t, "type": "deposit", "account": rng.choice(ids), "asset": "USDT", "amount": str(rng.randint(100, 5000))})
    doc = {"start": {"time": START, "valuation_time": START,
                     "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
                     "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {"BTC": "0.1"},
                     "instruments": market(),
                     "marks": {"BTCUSDT": "50000", "BTC-60000-C": "1000", "BTC-40000-P": "500"},
                     "implied_vols": {"BTC-60000-C": "0.6", "BTC-40000-P": "0.7"},
                     "accounts": accounts},
           "parameters": {"backstop": True, "adl": False, "mark_staleness_ms": 86_400_000,
                          "option_mark_tolerance": "1"},  # fed marks only: the stale-mark rule (docs/options.md "Stale option marks") is off at tolerance 1 (StaleOptionMarkTests cover it)
           "insurance_fund": {"USDT": "1000000"},
           "commands": commands}
    return doc


def final_inputs(doc, events):
    """The marks, vols and valuation time the engine holds after the accepted commands."""
    marks = dict(doc["start"]["marks"])
    vols = dict(doc["start"]["implied_vols"])
    assets = dict(doc["start"]["assets"])
    valuation = doc["start"]["valuation_time"]
    # Every generated mark, asset price and option mark is valid (increasing source times), so
    # all of them are applied; fills and deposits may be refused, which the summary reflects.
    for c in doc["commands"]:
        if c["type"] == "mark":
            marks[c["symbol"]] = c["price"]
        elif c["type"] == "asset_price":
            assets[c["asset"]] = c["price"]
        elif c["type"] == "option_mark":
            marks[c["symbol"]] = c["price"]
            vols[c["symbol"]] = c["implied_vol"]
            valuation = max(valuation, c["source_time"])
    return marks, vols, assets, valuation


def evaluate_document(doc, account, marks, vols, assets, valuation):
    collateral = {a: Fraction(v) for a, v in account["balances"].items()}
    positions = []
    for p in account["positions"]:
        if p["symbol"] in OPTIONS:
            collateral["USDT"] = collateral.get("USDT", Fraction(0)) + Fraction(p["quantity"]) * Fraction(p["entry_price"])
        positions.append({"symbol": p["symbol"], "quantity": p["quantity"], "entry_price": p["entry_price"]})

    def text(x: Fraction) -> str:
        # exact: every amount here has at most 18 decimals
        sign = "-" if x < 0 else ""
        x = abs(x)
        whole, frac = divmod(x.numerator * 10 ** 18 // x.denominator, 10 ** 18)
        return f"{sign}{whole}.{frac:018d}"

    return {"valuation_time": iso(valuation), "policy": doc["start"]["policy"], "assets": assets,
            "haircuts": doc["start"]["haircuts"], "instruments": doc["start"]["instruments"], "marks": marks,
            "implied_vols": vols,
            "accounts": [{"id": account["id"], "mode": "portfolio", "settle": "USDT",
                          "collateral": {a: text(v) for a, v in collateral.items()}, "positions": positions}]}


def run(solvent, doc, tmpdir):
    path = os.path.join(tmpdir, "scenario.json")
    with open(path, "w") as fh:
        json.dump(doc, fh)
    p = subprocess.run([solvent, "simulate", "--scenario", path], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"simulate failed: {p.stderr.strip()[:300]}")
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return lines[:-1], lines[-1]


def close(a, b):
    a, b = Fraction(a), Fraction(b)
    return abs(a - b) <= TOL or abs(a - b) <= TOL * max(abs(a), abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--solvent", required=True)
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tally = [0, 0]
    compared = 0
    with tempfile.TemporaryDirectory() as tmpdir:
        for case in range(args.cases):
            doc = gen_case(rng)
            events, summary = run(args.solvent, doc, tmpdir)
            if any(e.get("type") == "rejected" and e.get("field") in ("price", "implied_vol", "source_time") for e in events):
                tally[1] += 1
                print(f"case {case}: a generated price was refused")
                continue
            marks, vols, assets, valuation = final_inputs(doc, events)
            for account in summary["accounts"]:
                if account.get("mode") != "portfolio" or not account["positions"]:
                    continue
                evaluate_doc = evaluate_document(doc, account, marks, vols, assets, valuation)
                oracle = pref.evaluate(evaluate_doc)["accounts"][0]
                pool = oracle["pools"][0]
                mine = account["pools"][0]
                problems = [f"{field}: engine {mine[field]} oracle {pool[field]}"
                            for field in ("equity", "initial_margin", "maintenance_margin") if not close(mine[field], pool[field])]
                compared += 1
                if problems:
                    tally[1] += 1
                    keep = f"/tmp/solvent-engine-portfolio-{args.seed}-{case}.json"
                    with open(keep, "w") as fh:
                        json.dump({"scenario": doc, "evaluate": evaluate_doc}, fh)
                    print(f"case {case} account {account['id']}: " + "; ".join(problems) + f" (kept {keep})")
                else:
                    tally[0] += 1
    print(f"{compared} portfolio accounts compared over {args.cases} engine scenarios (options, perpetual, BTC collateral)")
    if compared == 0:
        tally[1] += 1
        print("no portfolio account held a position: nothing was checked")
    finish(tally)


if __name__ == "__main__":
    main()
