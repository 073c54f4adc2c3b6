#!/usr/bin/env python3
"""Cross-check portfolio (scenario) margin of `solvent evaluate` against portfolio_reference.py.

    python3 crosscheck_portfolio.py --solvent PATH [--cases N] [--seed S] [--example-defaults]

1. Special cases (fixed documents, with properties checked on both sides): a delta-neutral
   book (long 1 BTC collateral + short 1 BTCUSDT perp) whose IM is far below the naked short
   perp's; a straddle hedged with a perp; a BTC-long/ETH-short pair with correlation 0.8
   (credit > 0) and the same pair with `correlations: {}` (credit 0); expired options.
2. N random documents: 1-3 groups (BTC, ETH, SOL) with perps, a dated future and options
   (calls/puts, strikes 0.6-1.4 x underlying, expiries from already expired to 1 year,
   underlying = perp, future or asset; vols via implied_vols or 2-5 point smiles; marks for
   some options), long and short; collateral in USDT and group assets (haircuts, sometimes
   negative); a random portfolio_policy half the time; standard accounts (perps only) mixed
   in, compared with evaluate_reference.py.  Every output number is compared: within 1e-9
   absolute or 1e-9 relative; strings, statuses and indices exactly (a worst_scenario index
   differing only between scenarios whose losses are equal within tolerance is counted as
   a near tie, not a failure).
3. Bad inputs (3 variants each) must exit 2, print nothing on stdout and one stderr line
   starting with the JSON path of the fault.

Failing inputs are kept under /tmp/solvent-portfolio-crosscheck/.  Last line:
`N passed, M failed`; exit 1 on failures.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_reference as ref  # noqa: E402
import portfolio_reference as pref  # noqa: E402
import crosscheck_evaluate as ce  # noqa: E402
from common import finish, record  # noqa: E402

FAIL_DIR = "/tmp/solvent-portfolio-crosscheck"
ABS_TOL = Fraction(1, 10 ** 9)
REL_TOL = Fraction(1, 10 ** 9)
q, s, nice = ce.q, ce.s, ce.nice

GROUP_PRICE = {"BTC": 65000.0, "ETH": 3200.0, "SOL": 150.0}
PERP_CS = {"BTC": ["1", "0.001", "0.01"], "ETH": ["1", "0.01"], "SOL": ["1", "0.1"]}
OPT_CS = {"BTC": ["1", "0.1", "0.01"], "ETH": ["1", "0.1"], "SOL": ["1", "10"]}
VT = "2024-03-01T08:00:00Z"
VT_SECONDS = 1709280000


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def bracket(cap="100000000", lev="100", mmr="0.005"):
    return [{"notional_floor": "0", "notional_cap": cap, "max_leverage": lev, "mmr": mmr}]


# --------------------------------------------------------------------------- generator

def gen_market(rng):
    assets = {"USDT": Fraction(1)}
    for g, base in GROUP_PRICE.items():
        assets[g] = q(base * rng.uniform(0.7, 1.3), rng.choice([0, 1, 2, 2, 4]) if base > 1000 else rng.choice([2, 3, 4]))
    haircuts = {"USDT": Fraction(0)}
    for g in GROUP_PRICE:
        if rng.random() < 0.85:
            haircuts[g] = q(rng.uniform(0, 0.25), rng.choice([2, 3]))
    doc = {"assets": {a: s(p) for a, p in assets.items()},
           "haircuts": {a: s(h) for a, h in haircuts.items()},
           "valuation_time": VT, "instruments": [], "marks": {}, "accounts": []}
    r = rng.random()
    if r < 0.2:
        doc["rate"] = rng.choice(["0.03", "0.05", "0.0125"])
    elif r < 0.4:
        doc["rate"] = "0"
    vols, smiles = {}, {}
    for g in GROUP_PRICE:
        price = assets[g]
        perp = f"{g}USDT"
        fut = f"{g}USDT-240628"
        doc["instruments"].append({"symbol": perp, "kind": "linear_perpetual", "base": g,
                                   "settle": "USDT", "contract_size": rng.choice(PERP_CS[g]),
                                   "brackets": ce.gen_brackets(rng, (2000, 200000))})
        doc["instruments"].append({"symbol": fut, "kind": "linear_future", "base": g,
                                   "settle": "USDT", "expiry": "2024-06-28T08:00:00Z",
                                   "contract_size": rng.choice(PERP_CS[g]),
                                   "brackets": bracket()})
        digits = 1 if price > 1000 else 3
        doc["marks"][perp] = s(q(price * Fraction(rng.gauss(1, 0.002)), digits))
        doc["marks"][fut] = s(q(price * Fraction(1 + rng.uniform(-0.005, 0.03)), digits))
        underlyings = {perp: Fraction(doc["marks"][perp]), fut: Fraction(doc["marks"][fut]),
                       g: price}
        for u, F in underlyings.items():
            if rng.random() < 0.5:
                n = rng.randint(2, 5)
                ks = sorted({nice(rng, float(F) * rng.uniform(0.5, 1.5)) for _ in range(n)})
                if len(ks) < 2:
                    ks = [nice(rng, float(F) * 0.7), nice(rng, float(F) * 1.3)]
                smiles[u] = [{"strike": s(k), "vol": s(q(rng.uniform(0.3, 1.5), 3))} for k in ks]
        n_opt = rng.randint(3, 8)
        seen = set()
        for k in range(n_opt):
            u = rng.choices([perp, fut, g], [60, 25, 15])[0]
            F = underlyings[u]
            strike = nice(rng, float(F) * rng.uniform(0.6, 1.4))
            off = rng.choices([-3 * 86400, -3600, 0, 3600, 86400, 7 * 86400, 30 * 86400,
                               90 * 86400, 182 * 86400, 365 * 86400,
                               rng.randint(3600, 365 * 86400)],
                              [2, 1, 1, 4, 4, 5, 6, 5, 4, 4, 8])[0]
            right = rng.choice(["call", "put"])
            sym = f"{g}-{k}-{s(strike)}-{right[0].upper()}"
            if sym in seen:
                continue
            seen.add(sym)
            if off <= 0 and F == strike:
                strike += 1  # expired exactly at the money: delta is a convention
            doc["instruments"].append({
                "symbol": sym, "kind": "option", "right": right, "strike": s(strike),
                "expiry": iso(VT_SECONDS + off), "underlying": u, "base": g, "settle": "USDT",
                "contract_size": rng.choice(OPT_CS[g]), "brackets": bracket()})
            if u not in smiles or rng.random() < 0.3:
                vols[sym] = s(q(rng.uniform(0.2, 1.6), rng.choice([2, 3, 4])))
    if vols:
        doc["implied_vols"] = vols
    if smiles:
        doc["smiles"] = smiles
    # marks for some options: near their model value
    probe = pref._parse_ext(dict(doc, accounts=[]))
    for inst in doc["instruments"]:
        if inst["kind"] != "option" or rng.random() > 0.3:
            continue
        sym, u = inst["symbol"], inst["underlying"]
        F = Fraction(doc["marks"][u]) if u in doc["marks"] else Fraction(doc["assets"][u])
        K = Fraction(inst["strike"])
        T = (pref._time(inst["expiry"], "") - pref._time(VT, "")) / pref.YEAR_SECONDS
        sig = probe["vols"][sym] if sym in probe["vols"] else pref.smile_vol(probe["smiles"][u], K)
        v, _ = pref.black76(float(F), float(K), float(T), float(sig),
                            float(Fraction(doc.get("rate", "0"))), inst["right"] == "call")
        m = q(v * rng.uniform(0.9, 1.1), 4)
        if m > 0:
            doc["marks"][sym] = s(m)
    return doc


def gen_policy(rng, groups):
    pol = {}
    if rng.random() < 0.5:
        pol["price_range"] = s(q(rng.uniform(0.05, 0.3), 2))
    if rng.random() < 0.4:
        pol["price_ranges"] = {g: s(q(rng.uniform(0.05, 0.35), 2))
                               for g in groups if rng.random() < 0.6}
    if rng.random() < 0.6:
        pol["price_steps"] = rng.choice(range(3, 22, 2))
    if rng.random() < 0.4:
        pol["vol_shock"] = s(q(rng.uniform(0.05, 0.4), 2))
    if rng.random() < 0.4:
        pol["vol_shock_cap"] = s(q(rng.uniform(0.2, 0.9), 2))
    if rng.random() < 0.3:
        pol["vol_shock_reference_days"] = rng.choice([7, 14, 30, 60, 90])
    if rng.random() < 0.4:
        pol["extreme_multiple"] = rng.choice(["1.5", "2", "2.5", "3"])
    if rng.random() < 0.4:
        pol["extreme_fraction"] = rng.choice(["0.2", "0.3", "0.35", "0.5", "0.4"])
    if rng.random() < 0.4:
        pol["short_option_minimum"] = rng.choice(["0", "0.005", "0.01", "0.02", "0.05"])
    if rng.random() < 0.4:
        pol["basis_minimum"] = rng.choice(["0", "0.001", "0.005", "0.01", "0.02"])
    if rng.random() < 0.4:
        pol["maintenance_fraction"] = rng.choice(["0.5", "0.6", "0.75", "0.8", "0.9"])
    if rng.random() < 0.4:
        pol["correlation_credit"] = rng.choice(["0.5", "0.6", "0.7", "0.85", "1"])
    if rng.random() < 0.7:
        corr = {}
        names = sorted(GROUP_PRICE)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                if rng.random() < 0.7:
                    pair = f"{names[a]}/{names[b]}" if rng.random() < 0.7 else f"{names[b]}/{names[a]}"
                    corr[pair] = s(q(rng.uniform(-0.95, 0.95), 2))
        if rng.random() < 0.15 and corr:
            k = next(iter(corr))
            for other in corr:       # a tie in |rho|, broken by pair name
                corr[other] = corr[k] if rng.random() < 0.5 else s(-Fraction(corr[k]))
        pol["correlations"] = corr
    return pol


def gen_qty(rng, notional, cs, price):
    x = Fraction(notional) / (Fraction(cs) * price)
    v = q(x, rng.choice([0, 1, 2, 3]))
    if v == 0:
        v = Fraction(1, 1000) if x < 1 else Fraction(1)
    return v if rng.random() < 0.5 else -v


def gen_portfolio_account(rng, doc, k):
    insts = {i["symbol"]: i for i in doc["instruments"]}
    groups = rng.sample(sorted(GROUP_PRICE), rng.randint(1, 3))
    acc = {"id": f"pf-{k}", "mode": "portfolio", "settle": "USDT", "collateral": {},
           "positions": []}
    for g in groups:
        perp, fut = f"{g}USDT", f"{g}USDT-240628"
        used = set()
        if rng.random() < 0.7:
            m = Fraction(doc["marks"][perp])
            acc["positions"].append({"symbol": perp,
                                     "quantity": s(gen_qty(rng, rng.uniform(1000, 400000), insts[perp]["contract_size"], m)),
                                     "entry_price": s(q(m * Fraction(rng.uniform(0.8, 1.2)), 1)),
                                     **({"leverage": "20", "margin_mode": "cross"} if rng.random() < 0.2 else {})})
        if rng.random() < 0.3:
            m = Fraction(doc["marks"][fut])
            acc["positions"].append({"symbol": fut,
                                     "quantity": s(gen_qty(rng, rng.uniform(1000, 200000), insts[fut]["contract_size"], m)),
                                     "entry_price": s(q(m * Fraction(rng.uniform(0.8, 1.2)), 1))})
        opts = [i for i in doc["instruments"] if i["kind"] == "option" and i["base"] == g]
        for inst in rng.sample(opts, min(len(opts), rng.choice([0, 1, 1, 2, 3, 4]))):
            price = Fraction(doc["assets"][g])
            qty = gen_qty(rng, rng.uniform(1000, 300000), inst["contract_size"], price)
            prem = price * Fraction(rng.uniform(0.001, 0.2))
            acc["positions"].append({"symbol": inst["symbol"], "quantity": s(qty),
                                     "entry_price": s(q(prem, 2) or Fraction(1, 100))})
        if rng.random() < 0.5:
            amt = Fraction(rng.uniform(1000, 300000)) / Fraction(doc["assets"][g])
            if rng.random() < 0.1:
                amt = -amt / 5
            acc["collateral"][g] = s(q(amt, 6))
    rng.shuffle(acc["positions"])
    for g in GROUP_PRICE:            # collateral outside the account's groups: haircut only
        if g not in groups and rng.random() < 0.2:
            acc["collateral"][g] = s(q(Fraction(rng.uniform(100, 50000)) / Fraction(doc["assets"][g]), 6))
    # set USDT collateral to spread statuses
    acc["collateral"]["USDT"] = "0"
    probe = pref.evaluate_exact(dict(doc, accounts=[acc]))["accounts"][0]["pools"][0]
    mm, eq = probe["maintenance_margin"], probe["equity"]
    r = rng.random()
    if r < 0.08:
        target = -mm * Fraction(rng.uniform(0, 1)) - 10
    elif r < 0.2:
        target = mm * Fraction(rng.uniform(0.5, 1.0))
    elif r < 0.5:
        w = rng.choice([1, Fraction(100, 85), Fraction(100, 70)])
        target = mm * w * Fraction(1 + rng.uniform(-0.03, 0.03))
    else:
        target = mm * Fraction(rng.uniform(1, 30)) + 100
    usdt = q(target - eq, 2)
    if usdt == 0 and rng.random() < 0.5:
        del acc["collateral"]["USDT"]
    else:
        acc["collateral"]["USDT"] = s(usdt)
    return acc


def gen_standard_account(rng, doc, k):
    acc = {"id": f"std-{k}", "settle": "USDT", "collateral": {"USDT": s(q(rng.uniform(-500, 50000), 2))},
           "positions": []}
    if rng.random() < 0.5:
        acc["mode"] = "standard"
    for g in rng.sample(sorted(GROUP_PRICE), rng.randint(1, 2)):
        sym = rng.choice([f"{g}USDT", f"{g}USDT-240628"])
        inst = next(i for i in doc["instruments"] if i["symbol"] == sym)
        m = Fraction(doc["marks"][sym])
        acc["positions"].append({"symbol": sym,
                                 "quantity": s(gen_qty(rng, rng.uniform(1000, 300000), inst["contract_size"], m)),
                                 "entry_price": s(q(m * Fraction(rng.uniform(0.9, 1.1)), 1)),
                                 "leverage": str(rng.choice([5, 10, 20]))})
    return acc


def gen_case(rng):
    doc = gen_market(rng)
    if rng.random() < 0.5:
        doc["portfolio_policy"] = gen_policy(rng, sorted(GROUP_PRICE))
    for k in range(rng.randint(1, 3)):
        if rng.random() < 0.8:
            doc["accounts"].append(gen_portfolio_account(rng, doc, k))
        else:
            doc["accounts"].append(gen_standard_account(rng, doc, k))
    if not any(a.get("mode") == "portfolio" for a in doc["accounts"]):
        doc["accounts"].append(gen_portfolio_account(rng, doc, len(doc["accounts"])))
    return doc


# --------------------------------------------------------------------------- special cases

def base_market():
    inst = []
    for g, cap in (("BTC", "10000000"), ("ETH", "10000000")):
        inst.append({"symbol": f"{g}USDT", "kind": "linear_perpetual", "base": g, "settle": "USDT",
                     "contract_size": "1", "brackets": bracket(cap, "100", "0.005")})
    return {"assets": {"USDT": "1", "BTC": "65000", "ETH": "3200"},
            "haircuts": {"USDT": "0", "BTC": "0.05", "ETH": "0.08"},
            "valuation_time": VT, "instruments": inst,
            "marks": {"BTCUSDT": "65010", "ETHUSDT": "3201"}, "accounts": []}


def special_cases():
    """(name, doc, property(out) -> list of problems), out = the output as Fractions."""
    cases = []

    d = base_market()
    d["accounts"] = [
        {"id": "hedged", "mode": "portfolio", "settle": "USDT",
         "collateral": {"BTC": "1", "USDT": "5000"},
         "positions": [{"symbol": "BTCUSDT", "quantity": "-1", "entry_price": "65010"}]},
        {"id": "naked", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "5000"},
         "positions": [{"symbol": "BTCUSDT", "quantity": "-1", "entry_price": "65010"}]}]

    def p_neutral(out):
        a, b = (Fraction(x["pools"][0]["initial_margin"]) for x in out["accounts"])
        return [] if a < b / 20 else [f"delta-neutral IM {a} not far below naked IM {b}"]
    cases.append(("delta-neutral", d, p_neutral))

    d = base_market()
    d["instruments"] += [
        {"symbol": "BTC-C-65000", "kind": "option", "right": "call", "strike": "65000",
         "expiry": "2024-03-29T08:00:00Z", "underlying": "BTCUSDT", "base": "BTC",
         "settle": "USDT", "contract_size": "1", "brackets": bracket()},
        {"symbol": "BTC-P-65000", "kind": "option", "right": "put", "strike": "65000",
         "expiry": "2024-03-29T08:00:00Z", "underlying": "BTCUSDT", "base": "BTC",
         "settle": "USDT", "contract_size": "1", "brackets": bracket()}]
    d["implied_vols"] = {"BTC-C-65000": "0.6", "BTC-P-65000": "0.6"}
    out0 = pref.evaluate_exact(dict(d, accounts=[{"id": "x", "mode": "portfolio", "settle": "USDT",
                                                   "positions": [{"symbol": "BTC-C-65000", "quantity": "1", "entry_price": "1"},
                                                                 {"symbol": "BTC-P-65000", "quantity": "1", "entry_price": "1"}]}]))
    delta = sum(Fraction(p["delta"]) for p in out0["accounts"][0]["positions"])
    d["accounts"] = [{"id": "straddle", "mode": "portfolio", "settle": "USDT",
                      "collateral": {"USDT": "20000"},
                      "positions": [{"symbol": "BTC-C-65000", "quantity": "-2", "entry_price": "4500"},
                                    {"symbol": "BTC-P-65000", "quantity": "-2", "entry_price": "4400"},
                                    {"symbol": "BTCUSDT", "quantity": s(q(2 * delta, 3)), "entry_price": "64000"}]},
                     {"id": "long-straddle", "mode": "portfolio", "settle": "USDT",
                      "collateral": {"USDT": "1000"},
                      "positions": [{"symbol": "BTC-C-65000", "quantity": "1", "entry_price": "4500"},
                                    {"symbol": "BTC-P-65000", "quantity": "1", "entry_price": "4400"},
                                    {"symbol": "BTCUSDT", "quantity": s(q(-delta, 3)), "entry_price": "65500"}]}]

    def p_straddle(out):
        g = out["accounts"][0]["scenario_margin"]["groups"][0]
        de = abs(Fraction(g["delta_equivalent"]))
        return [] if de < Fraction(g["worst_loss"]) else [f"hedged straddle: |delta_equivalent| {de} >= worst_loss"]
    cases.append(("straddle+perp", d, p_straddle))

    for rho, name in (("0.8", "pair-corr-0.8"), (None, "pair-corr-absent")):
        d = base_market()
        d["portfolio_policy"] = {"correlations": {"BTC/ETH": rho} if rho else {}}
        d["accounts"] = [{"id": "pair", "mode": "portfolio", "settle": "USDT",
                          "collateral": {"USDT": "30000"},
                          "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "64000"},
                                        {"symbol": "ETHUSDT", "quantity": "-20", "entry_price": "3300"}]}]

        def p_pair(out, rho=rho):
            sm = out["accounts"][0]["scenario_margin"]
            c = Fraction(sm["correlation_credit"])
            ims = sum(Fraction(g["initial_margin"]) for g in sm["groups"])
            probs = []
            if rho and not c > 0:
                probs.append(f"correlation 0.8: credit {c} not > 0")
            if not rho and c != 0:
                probs.append(f"no correlation: credit {c} != 0")
            if abs(Fraction(sm["initial_margin"]) - (ims - c)) > ABS_TOL:
                probs.append("IM != sum of group IM - credit")
            return probs
        cases.append((name, d, p_pair))

    d = base_market()      # the pair with no portfolio_policy at all (defaults)
    d["accounts"] = copy.deepcopy(cases[-1][1]["accounts"])
    cases.append(("pair-no-policy", d, lambda out: []))

    d = base_market()      # expired and expiring options
    d["instruments"] += [
        {"symbol": f"BTC-X{k}", "kind": "option", "right": r, "strike": K, "expiry": iso(VT_SECONDS + off),
         "underlying": u, "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": bracket()}
        for k, (r, K, off, u) in enumerate([("call", "60000", -86400, "BTCUSDT"), ("put", "70000", 0, "BTCUSDT"),
                                            ("call", "66000", 3600, "BTC"), ("put", "64000", 3600, "BTCUSDT")])]
    d["smiles"] = {"BTCUSDT": [{"strike": "60000", "vol": "0.8"}, {"strike": "70000", "vol": "0.6"}],
                   "BTC": [{"strike": "50000", "vol": "0.9"}, {"strike": "65000", "vol": "0.5"}, {"strike": "80000", "vol": "0.7"}]}
    d["marks"]["BTC-X0"] = "5010"
    d["accounts"] = [{"id": "expiry", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "10000"},
                      "positions": [{"symbol": f"BTC-X{k}", "quantity": qq, "entry_price": "500"}
                                    for k, qq in enumerate(["1", "-2", "-3", "1.5"])]}]
    cases.append(("expired-options", d, lambda out: []))
    return cases


# --------------------------------------------------------------------------- running, comparing

def run_binary(solvent, doc, use_stdin=False):
    fd, path = tempfile.mkstemp(prefix="case-", suffix=".json", dir=FAIL_DIR)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
    for attempt in range(60):
        try:
            if use_stdin:
                with open(path) as fh:
                    p = subprocess.run([solvent, "evaluate", "--input", "-"], stdin=fh,
                                       capture_output=True, text=True, timeout=120)
            else:
                p = subprocess.run([solvent, "evaluate", "--input", path],
                                   capture_output=True, text=True, timeout=120)
            return path, p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return path, None, "", "timeout"
        except OSError as exc:
            if attempt == 59:
                raise
            print(f"note: cannot run {solvent} ({exc}); retrying", file=sys.stderr)
            time.sleep(5)


def within(a, b):
    d = abs(a - b)
    return d <= ABS_TOL or d <= REL_TOL * max(abs(a), abs(b))


def show(v):
    return s(v) if isinstance(v, Fraction) else json.dumps(v)


class Cmp:
    def __init__(self):
        self.problems, self.notes, self.near_ties = [], [], 0
        self.max_diff = 0.0   # largest min(abs, rel) difference of any compared number

    def leaf(self, e, g, path):
        if isinstance(e, Fraction):
            gv = ce.parse_dec(g)
            if gv is not None:
                d = abs(e - gv)
                rel = d / max(abs(e), abs(gv)) if d else Fraction(0)
                self.max_diff = max(self.max_diff, float(min(d, rel)))
            if gv is None or not within(e, gv):
                extra = ""
                if gv is not None:
                    extra = f" (abs diff {float(abs(e - gv)):.3g})"
                self.problems.append(f"{path}: expected {s(e)} got {show(g)}{extra}")
        elif isinstance(e, (dict, list)):
            self.tree(e, g, path)
        elif e != g or type(e) is not type(g):
            self.problems.append(f"{path}: expected {show(e)} got {show(g)}")

    def tree(self, e, g, path, extra_ok=False):
        if isinstance(e, list):
            if not isinstance(g, list) or len(g) != len(e):
                self.problems.append(f"{path}: expected list of {len(e)} got "
                                     + (f"list of {len(g)}" if isinstance(g, list) else show(g)))
                return
            for i, (a, b) in enumerate(zip(e, g)):
                self.leaf(a, b, f"{path}[{i}]")
            return
        if not isinstance(g, dict):
            self.problems.append(f"{path}: expected object got {show(g)}")
            return
        for k, v in e.items():
            if k.startswith("_"):
                continue
            if k not in g:
                self.problems.append(f"{path}.{k}: expected {show(v)} got <missing>")
                continue
            self.leaf(v, g[k], f"{path}.{k}")
        for k in g:
            if k not in e:
                self.notes.append(f"{path}.{k}: extra key (value {show(g[k])})")

    def group(self, e, g, path):
        if not isinstance(g, dict):
            return self.leaf(e, g, path)
        ws, gws = e["worst_scenario"], g.get("worst_scenario")
        if isinstance(gws, dict) and gws.get("index") != ws["index"] and isinstance(gws.get("index"), int) \
                and 0 <= gws["index"] < len(e["scenario_losses"]):
            gi = gws["index"]
            losses = e["scenario_losses"]
            if within(losses[gi], losses[ws["index"]]):
                self.near_ties += 1
                self.notes.append(f"{path}.worst_scenario.index: near tie, oracle {ws['index']} "
                                  f"(loss {s(losses[ws['index']])}), binary {gi} (oracle's loss there "
                                  f"{s(losses[gi])})")
                sc = e["_scenarios"][gi]
                e = dict(e, worst_scenario={"index": gi, "move": sc["move"],
                                            "vol_shock": sc["vol_shock"], "weight": sc["weight"]})
        self.tree(e, g, path)

    def portfolio_account(self, e, g, path):
        if not isinstance(g, dict):
            return self.leaf(e, g, path)
        for k in ("id", "status"):
            self.leaf(e[k], g.get(k, "<missing>"), f"{path}.{k}")
        self.tree(e["pools"], g.get("pools"), f"{path}.pools")
        gp = g.get("positions")
        if not isinstance(gp, list) or len(gp) != len(e["positions"]):
            self.problems.append(f"{path}.positions: expected {len(e['positions'])} got {show(gp)[:80]}")
        else:
            for i, (a, b) in enumerate(zip(e["positions"], gp)):
                self.tree(a, b, f"{path}.positions[{i}]")
        esm, gsm = e["scenario_margin"], g.get("scenario_margin")
        if not isinstance(gsm, dict):
            self.problems.append(f"{path}.scenario_margin: missing")
            return
        for k in ("initial_margin", "maintenance_margin", "correlation_credit"):
            self.leaf(esm[k], gsm.get(k, "<missing>"), f"{path}.scenario_margin.{k}")
        gg = gsm.get("groups")
        if not isinstance(gg, list) or len(gg) != len(esm["groups"]):
            self.problems.append(f"{path}.scenario_margin.groups: expected {len(esm['groups'])} groups "
                                 f"({[x['underlying'] for x in esm['groups']]}) got {show(gg)[:120]}")
            return
        for i, (a, b) in enumerate(zip(esm["groups"], gg)):
            self.group(a, b, f"{path}.scenario_margin.groups[{i}]")
        for k in gsm:
            if k not in esm:
                self.notes.append(f"{path}.scenario_margin.{k}: extra key")
        for k in g:
            if k not in e:
                self.notes.append(f"{path}.{k}: extra key")


def near_threshold(doc, pool):
    """True when a pool's exact ratio is within 1e-9 of a status threshold (Double noise)."""
    pol = {**ref.DEFAULT_POLICY, **{k: Fraction(v) for k, v in doc.get("policy", {}).items()}}
    eq, mm = pool["equity"], pool["maintenance_margin"]
    if abs(eq) <= ABS_TOL:
        return True
    if eq <= 0:
        return False
    r = mm / eq
    return any(abs(r - t) <= Fraction(1, 10 ** 9) for t in (1, pol["warning_ratio"], pol["call_ratio"]))


def check_valid(solvent, doc, use_stdin=False):
    cmp = Cmp()
    try:
        exp = pref.evaluate_exact(doc)
    except ref.EvaluateError as e:
        path, *_ = run_binary(solvent, doc, use_stdin)
        return [f"oracle rejects the generated input: {e}"], cmp, path, None
    path, rc, out, err = run_binary(solvent, doc, use_stdin)
    if rc != 0:
        return [f"exit {rc} on valid input; stderr: {err.strip()[:300]}"], cmp, path, None
    try:
        got = json.loads(out)
    except ValueError as e:
        return [f"stdout is not JSON: {e}"], cmp, path, None
    ga = got.get("accounts") if isinstance(got, dict) else None
    if not isinstance(ga, list) or len(ga) != len(exp["accounts"]):
        return [f"accounts: expected {len(exp['accounts'])} got {show(ga)[:100]}"], cmp, path, got
    for i, (ea, gacc, mode) in enumerate(zip(exp["accounts"], ga, [a.get("mode", "standard") for a in doc["accounts"]])):
        if mode == "portfolio":
            before = len(cmp.problems)
            cmp.portfolio_account(ea, gacc, f"accounts[{i}]")
            new = cmp.problems[before:]
            if new and all(".status" in p for p in new) and near_threshold(doc, ea["pools"][0]):
                cmp.notes += [f"near-threshold status difference: {p}" for p in new]
                del cmp.problems[before:]
        else:
            diffs = []
            ce.compare({"a": ea}, {"a": gacc}, "", diffs)
            for p, e, g in diffs:
                cmp.problems.append(f"accounts[{i}]{p[1:] if p.startswith('a') else p}: expected {ce.show(e)} got {ce.show(g)}")
    return cmp.problems, cmp, path, got


# --------------------------------------------------------------------------- bad inputs

def option_holders(doc):
    insts = {i["symbol"]: i for i in doc["instruments"]}
    return [(i, j, p["symbol"]) for i, a in enumerate(doc["accounts"]) for j, p in enumerate(a.get("positions", []))
            if insts[p["symbol"]]["kind"] == "option"]


def mk_bad(kind, rng, doc):
    """Mutates doc; returns (expected path, acceptable path prefixes) or None."""
    held = option_holders(doc)
    if not held:
        return None
    i, j, sym = rng.choice(held)
    insts = {x["symbol"]: x for x in doc["instruments"]}
    if kind == "option_in_standard":
        std = [k for k, a in enumerate(doc["accounts"]) if a.get("mode", "standard") == "standard"]
        if std and rng.random() < 0.5:
            k = rng.choice(std)
            plist = doc["accounts"][k]["positions"]
            at = rng.randint(0, len(plist))
            plist.insert(at, {"symbol": sym, "quantity": "1", "entry_price": "100"})
            return f"accounts[{k}].positions[{at}].symbol", [f"accounts[{k}]"]
        acc = doc["accounts"][i]
        if rng.random() < 0.5:
            acc["mode"] = "standard"
        else:
            del acc["mode"]
        first = next(jj for ii, jj, _ in held if ii == i)
        return f"accounts[{i}].positions[{first}].symbol", [f"accounts[{i}]"]
    if kind == "option_without_vol":
        u = insts[sym]["underlying"]
        doc.get("implied_vols", {}).pop(sym, None)
        doc.get("smiles", {}).pop(u, None)
        try:
            pref.evaluate_exact(doc)
        except ref.EvaluateError as e:
            bad_syms = [x for x in insts if insts[x]["kind"] == "option"
                        and x not in doc.get("implied_vols", {}) and insts[x]["underlying"] not in doc.get("smiles", {})]
            idx = [f"instruments[{n}]" for n, x in enumerate(doc["instruments"]) if x["symbol"] in bad_syms]
            pos = [f"accounts[{ii}].positions[{jj}]" for ii, jj, x in held if x in bad_syms]
            return e.path, idx + pos + ["implied_vols", "smiles"]
        return None
    if kind == "inverse_in_portfolio":
        doc["instruments"].append({"symbol": "BTCUSD_PERP", "kind": "inverse_perpetual", "base": "BTC",
                                   "settle": "BTC", "contract_size": "100", "brackets": bracket("1000", "100", "0.005")})
        doc["marks"]["BTCUSD_PERP"] = doc["assets"]["BTC"]
        k = len(doc["accounts"])
        # Settled in USDT: an inverse contract in a linear portfolio account stays an error (a
        # BTC-settled portfolio account may hold it since issue 17's coin-settled accounts).
        doc["accounts"].append({"id": "inverse-pf", "mode": "portfolio", "settle": "USDT",
                                "collateral": {"USDT": "100000"},
                                "positions": [{"symbol": "BTCUSD_PERP", "quantity": "-100", "entry_price": "60000"}]})
        return f"accounts[{k}].positions[0].symbol", [f"accounts[{k}]"]
    if kind == "missing_valuation_time":
        del doc["valuation_time"]
        return "valuation_time", []
    if kind == "even_price_steps":
        doc.setdefault("portfolio_policy", {})["price_steps"] = rng.choice([2, 4, 12, 14, 20])
        return "portfolio_policy.price_steps", []
    if kind == "negative_vol":
        vols = doc.get("implied_vols", {})
        if vols and (rng.random() < 0.5 or not doc.get("smiles")):
            k = rng.choice(sorted(vols))
            vols[k] = "-" + vols[k]
            return f"implied_vols.{k}", []
        if doc.get("smiles"):
            u = rng.choice(sorted(doc["smiles"]))
            n = rng.randrange(len(doc["smiles"][u]))
            doc["smiles"][u][n]["vol"] = "-" + doc["smiles"][u][n]["vol"]
            return f"smiles.{u}[{n}].vol", [f"smiles.{u}"]
        return None
    raise KeyError(kind)


BAD_KINDS = ["option_in_standard", "option_without_vol", "inverse_in_portfolio",
             "missing_valuation_time", "even_price_steps", "negative_vol"]


def check_bad(solvent, doc, expected, alternates):
    problems, notes = [], []
    try:
        pref.evaluate_exact(doc)
        problems.append("oracle accepted the input (generator bug)")
    except ref.EvaluateError as e:
        if e.path != expected:
            problems.append(f"oracle reports {e.path!r}, expected {expected!r} (oracle bug)")
    path, rc, out, err = run_binary(solvent, doc)
    if rc != 2:
        problems.append(f"exit status {rc}, expected 2 (stdout {out[:120]!r})")
    if out:
        problems.append(f"stdout not empty: {out[:120]!r}")
    lines = err.rstrip("\n").split("\n") if err else []
    if len(lines) != 1:
        problems.append(f"stderr has {len(lines)} lines: {err[:200]!r}")
    first = lines[0] if lines else ""
    got_path = first.split(": ", 1)[0]
    quoted = re.sub(r'\["([^"]*)"\]', r".\1", got_path)   # implied_vols["a.b"] -> implied_vols.a.b
    if got_path != expected and quoted == expected:
        notes.append(f"path {got_path!r} = {expected!r} with a quoted key: {first}")
    elif got_path != expected:
        if any(got_path.startswith(a) for a in alternates):
            notes.append(f"path {got_path!r} (oracle: {expected!r}) accepted: {first}")
        else:
            problems.append(f"stderr {first!r}: path is not {expected!r}")
    return problems, notes, path


# --------------------------------------------------------------------------- main

def keep(path, name):
    kept = os.path.join(FAIL_DIR, name)
    os.replace(path, kept)
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--solvent", required=True)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bad-variants", type=int, default=3)
    ap.add_argument("--max-report", type=int, default=8)
    ap.add_argument("--example-defaults", action="store_true",
                    help="portfolio_policy defaults include the example's price_ranges and correlations")
    ap.add_argument("--years-raw", action="store_true",
                    help="expect years = T (negative after expiry) instead of the spec's max(T, 0)")
    ap.add_argument("--show-notes", action="store_true")
    args = ap.parse_args()
    pref.DEFAULT_MAPS_FROM_EXAMPLE = args.example_defaults
    pref.YEARS_CLAMPED = not args.years_raw
    os.makedirs(FAIL_DIR, exist_ok=True)
    rng = random.Random(args.seed)
    tally = [0, 0]
    notes_all, near_ties, max_diff = {}, 0, 0.0
    tie_notes = []
    stats = {"groups": 0, "options": 0, "expired": 0, "credits": 0, "statuses": {}}

    def report(label, problems, path, name):
        if problems:
            kept = keep(path, name)
            shown = problems[:args.max_report]
            if len(problems) > args.max_report:
                shown.append(f"... {len(problems) - args.max_report} more")
            record(f"{label} ({kept})", ["\n    " + p for p in shown], tally)
        else:
            record(label, [], tally)
            os.unlink(path)

    for name, doc, prop in special_cases():
        problems, cmp, path, got = check_valid(args.solvent, doc)
        exp_r = pref.evaluate(doc)
        problems += [f"oracle property: {p}" for p in prop(exp_r)]
        if got is not None:
            try:
                problems += [f"binary property: {p}" for p in prop(got)]
            except (KeyError, TypeError, IndexError, ValueError) as e:
                problems.append(f"binary output shape: {e!r}")
        near_ties += cmp.near_ties
        for note in cmp.notes:
            key = note.split(": ", 1)[0]
            notes_all.setdefault(".".join(x.split("[")[0] for x in key.split(".")), note)
        report(f"special {name}", problems, path, f"seed{args.seed}-special-{name}.json")

    for n in range(args.cases):
        doc = gen_case(rng)
        exp = pref.evaluate_exact(doc)
        for a, raw in zip(exp["accounts"], doc["accounts"]):
            if raw.get("mode") == "portfolio":
                st = a["status"]
                stats["statuses"][st] = stats["statuses"].get(st, 0) + 1
                stats["groups"] += len(a["scenario_margin"]["groups"])
                stats["credits"] += a["scenario_margin"]["correlation_credit"] > 0
                for p in a["positions"]:
                    if "years" in p:
                        stats["options"] += 1
                        stats["expired"] += p["years"] <= 0
        problems, cmp, path, _ = check_valid(args.solvent, doc, use_stdin=(n % 5 == 4))
        near_ties += cmp.near_ties
        max_diff = max(max_diff, cmp.max_diff)
        tie_notes += [f"case {n}: {x}" for x in cmp.notes if "near tie" in x]
        for note in cmp.notes:
            if "near tie" in note:
                continue
            key = note.split(": ", 1)[0]
            key = ".".join(x.split("[")[0] for x in key.split("."))
            notes_all.setdefault(key, note)
        report(f"case {n}", problems, path, f"seed{args.seed}-case{n:04d}.json")

    bad_notes = []
    for kind in BAD_KINDS:
        done = tries = 0
        while done < args.bad_variants and tries < 100:
            tries += 1
            doc = gen_case(rng)
            r = mk_bad(kind, rng, doc)
            if r is None:
                continue
            done += 1
            problems, notes, path = check_bad(args.solvent, doc, *r)
            bad_notes += notes
            report(f"bad {kind} #{done}", problems, path, f"seed{args.seed}-bad-{kind}-{done}.json")

    print(f"portfolio accounts: {sum(stats['statuses'].values())} (statuses "
          + ", ".join(f"{k}={v}" for k, v in sorted(stats["statuses"].items()))
          + f"), groups {stats['groups']}, option positions {stats['options']} "
          f"(expired {stats['expired']}), accounts with a correlation credit {stats['credits']}; "
          f"worst_scenario near ties accepted: {near_ties}; largest numeric difference "
          f"(min of abs, rel) {max_diff:.3g}")
    for t in tie_notes[:5]:
        print(f"  {t}")
    if notes_all:
        print(f"notes (not failures), one example per kind: {len(notes_all)}")
        for k, v in list(notes_all.items())[:20]:
            print(f"  {v}")
    for nline in bad_notes if args.show_notes else bad_notes[:6]:
        print(f"  bad-input note: {nline}")
    finish(tally)


if __name__ == "__main__":
    main()
