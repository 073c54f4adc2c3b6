#!/usr/bin/env python3
"""Cross-check `solvent evaluate` against the independent Python reference.

    python3 crosscheck_evaluate.py --solvent PATH [--cases N] [--seed S] [--keep-all]

1. Generates N random but realistic contract inputs (seeded random.Random), runs the
   binary on each (`PATH evaluate --input FILE`) and compares every output field with
   evaluate_reference.evaluate_exact(): ids, statuses and pool names exactly, nulls
   exactly, numbers within max(1e-9 absolute, 1e-12 relative); liquidation and
   bankruptcy prices within max(1e-9 absolute, 1e-10 relative).
2. Runs bad-input checks (several variants of each kind): the binary must exit 2,
   print nothing on stdout and exactly one stderr line starting with `<json path>:`.

Failing inputs are kept under /tmp/solvent-evaluate-crosscheck/ and reported with the
JSON path of the field and both values.  The last line is `N passed, M failed`; the exit
status is 1 when M > 0.
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

FAIL_DIR = "/tmp/solvent-evaluate-crosscheck"
ABS_TOL = Fraction(1, 10 ** 9)
REL_TOL = Fraction(1, 10 ** 12)
PRICE_REL_TOL = Fraction(1, 10 ** 10)
PRICE_FIELDS = {"liquidation_price", "bankruptcy_price"}


# --------------------------------------------------------------------------- helpers

def q(x, digits: int) -> Fraction:
    """Round (half-even) a float/Fraction to `digits` fractional digits."""
    f = Fraction(x)
    return Fraction(round(f * 10 ** digits), 10 ** digits)


def s(x: Fraction) -> str:
    return ref.fraction_to_decimal(Fraction(x))


def frac_digits(x: Fraction):
    """Number of fractional digits of x, or None when the expansion does not terminate."""
    for d in range(0, 19):
        if (x * 10 ** d).denominator == 1:
            return d
    return None


ASSET_BASE = {"USDT": 1.0, "USDC": 1.0, "BTC": 65000.0, "ETH": 3200.0, "SOL": 150.0}

# symbol -> (kind, base, settle, contract sizes, scale of the first cap in settle units)
INSTRUMENTS = {
    "BTCUSDT": ("linear_perpetual", "BTC", "USDT", ["1", "0.001"], (5000, 250000)),
    "ETHUSDT": ("linear_perpetual", "ETH", "USDT", ["1", "0.01"], (5000, 100000)),
    "SOLUSDT": ("linear_perpetual", "SOL", "USDT", ["1"], (2000, 50000)),
    "BTCUSDC": ("linear_perpetual", "BTC", "USDC", ["0.001", "1"], (5000, 100000)),
    "SOLUSDC": ("linear_perpetual", "SOL", "USDC", ["1", "0.1"], (2000, 50000)),
    "ETHBTC": ("linear_perpetual", "ETH", "BTC", ["0.1", "1"], (0.2, 10)),
    "BTCUSD_PERP": ("inverse_perpetual", "BTC", "BTC", ["100"], (0.5, 50)),
    "ETHUSD_PERP": ("inverse_perpetual", "ETH", "ETH", ["10"], (5, 300)),
    "SOLUSD_PERP": ("inverse_perpetual", "SOL", "SOL", ["10", "1"], (20, 2000)),
}


def nice(rng: random.Random, x: float) -> Fraction:
    """A 'round' number near x (2-3 significant digits, sometimes a few decimals)."""
    if x <= 0:
        return Fraction(1)
    mag = 10 ** (len(str(int(x))) - 2) if x >= 10 else None
    if mag is not None and rng.random() < 0.8:
        return Fraction(max(1, round(x / mag)) * mag)
    return q(x, rng.choice([0, 1, 2, 3, 4]) if x < 10 else rng.choice([0, 1, 2])) or Fraction(1, 100)


# --------------------------------------------------------------------------- generator

def gen_brackets(rng, lo_hi):
    n = rng.randint(1, 6)
    brackets = []
    floor = Fraction(0)
    cap = nice(rng, rng.uniform(*lo_hi))
    mmr = q(rng.uniform(0.002, 0.012), rng.choice([3, 4, 4, 5]))
    if mmr <= 0:
        mmr = Fraction(4, 1000)
    lev = Fraction(rng.choice([20, 25, 50, 75, 100, 125, 150, 200]))
    for j in range(n):
        b = {"notional_floor": s(floor), "notional_cap": s(cap),
             "max_leverage": s(lev), "mmr": s(mmr)}
        brackets.append(b)
        floor = cap
        cap = nice(rng, float(cap) * rng.uniform(2, 8))
        if cap <= floor:
            cap = floor * 2
        new_mmr = q(mmr * Fraction(rng.uniform(1.2, 2.2)), rng.choice([3, 4, 4, 5]))
        mmr = min(max(new_mmr, mmr + Fraction(1, 1000)), Fraction(45, 100))
        new_lev = lev / Fraction(rng.uniform(1.3, 3))
        new_lev = Fraction(round(new_lev)) if rng.random() < 0.85 else q(new_lev, 1)
        lev = max(Fraction(1), min(new_lev, lev - 1)) if lev > 1 else Fraction(1)
    # explicit maintenance amounts, sometimes
    r = rng.random()
    if r < 0.25:
        for b, amount in zip(brackets, derived_amounts(brackets)):
            if rng.random() < 0.7:
                b["maintenance_amount"] = s(amount)
    elif r < 0.30 and len(brackets) >= 2:
        # a discontinuous (hand-set) maintenance amount on the last bracket only
        amount = derived_amounts(brackets)[-1]
        brackets[-1]["maintenance_amount"] = s(q(amount * Fraction(rng.uniform(0.9, 1.1)), 4))
    return brackets


def derived_amounts(brackets):
    """The contract's continuous maintenance amounts: a[0] = 0, a[i] = a[i-1] + floor[i]·(mmr[i] − mmr[i-1])."""
    amounts = [Fraction(0)]
    for prev, b in zip(brackets, brackets[1:]):
        amounts.append(amounts[-1] + Fraction(b["notional_floor"]) * (Fraction(b["mmr"]) - Fraction(prev["mmr"])))
    return amounts


def gen_prices(rng):
    assets = {}
    for a, base in ASSET_BASE.items():
        if a == "USDT":
            assets[a] = Fraction(1)
        elif a == "USDC":
            assets[a] = q(rng.uniform(0.998, 1.002), 4)
        else:
            assets[a] = q(base * rng.uniform(0.3, 1.7), rng.choice([0, 0, 1, 2, 2, 4, 8]))
    return assets


def gen_mark(rng, sym, assets):
    kind, base, settle, _, _ = INSTRUMENTS[sym]
    if kind.startswith("inverse"):
        ref_price = assets[base]
    else:
        ref_price = assets[base] / assets[settle]
    digits = rng.choice([0, 0, 1, 2, 2, 3, 5, 8]) if ref_price > 10 else rng.choice([4, 5, 6, 8])
    m = q(ref_price * Fraction(rng.gauss(1, 0.004)), digits)
    return m if m > 0 else ref_price


def gen_case(rng: random.Random) -> dict:
    assets = gen_prices(rng)
    haircuts = {"USDT": Fraction(0)}
    for a in ("USDC", "BTC", "ETH", "SOL"):
        if rng.random() < 0.9:
            haircuts[a] = q(rng.uniform(0, {"USDC": 0.02}.get(a, 0.2)), rng.choice([2, 3, 4]))
    syms = [x for x in INSTRUMENTS if rng.random() < 0.75] or ["BTCUSDT"]
    rng.shuffle(syms)
    instruments = []
    marks = {}
    for sym in syms:
        kind, base, settle, sizes, lo_hi = INSTRUMENTS[sym]
        instruments.append({"symbol": sym, "kind": kind, "base": base, "settle": settle,
                            "contract_size": rng.choice(sizes),
                            "brackets": gen_brackets(rng, lo_hi)})
        marks[sym] = gen_mark(rng, sym, assets)
    doc = {
        "assets": {a: s(p) for a, p in assets.items()},
        "haircuts": {a: s(h) for a, h in haircuts.items()},
        "instruments": instruments,
        "marks": {k: s(v) for k, v in marks.items()},
        "accounts": [],
    }
    r = rng.random()
    if r < 0.4:
        pass  # defaults
    elif r < 0.6:
        doc["policy"] = {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"}
    elif r < 0.8:
        w = rng.choice(["0.5", "0.6", "0.625", "0.75", "0.8"])
        c = rng.choice(["0.8", "0.85", "0.9", "0.95"])
        if Fraction(c) <= Fraction(w):
            c = "0.9"
        doc["policy"] = {"warning_ratio": w, "call_ratio": c,
                         "restore_ratio": rng.choice(["0.5", "0.6", "0.7", "0.8"])}
    else:
        doc["policy"] = {k: v for k, v in
                         {"warning_ratio": "0.6", "call_ratio": "0.9",
                          "restore_ratio": "0.5"}.items() if rng.random() < 0.5}
    if rng.random() < 0.3:  # debt margin rates (docs/loans.md)
        pol = doc.setdefault("policy", {})
        mm = rng.choice(["0", "0.05", "0.1", "0.15", "0.2"])
        if rng.random() < 0.7:
            pol["debt_maintenance_rate"] = mm
        if rng.random() < 0.7:
            pol["debt_initial_rate"] = s(Fraction(pol.get("debt_maintenance_rate", "0.1")) + Fraction(rng.choice(["0", "0.1", "0.25"])))
        if rng.random() < 0.5:
            a = rng.choice(sorted(assets))
            m = Fraction(rng.choice(["0.02", "0.1", "0.3"]))
            pol["debt_rates"] = {a: {"maintenance": s(m), "initial": s(m * 2)}}
    by_settle = {}
    for inst in instruments:
        by_settle.setdefault(inst["settle"], []).append(inst)
    n_acc = rng.randint(1, 4)
    for k in range(n_acc):
        if rng.random() < 0.25:
            doc["accounts"].append(gen_borrower(rng, doc, by_settle, k, assets))
        else:
            doc["accounts"].append(gen_account(rng, doc, by_settle, k, assets, marks))
    return doc


def gen_borrower(rng, doc, by_settle, k, assets):
    """A loan: positive collateral in 1-2 non-settle assets, debt in the settle asset (and
    sometimes in another asset), no positions; the debt sized to put the pool on or near a
    status threshold (docs/loans.md)."""
    policy = doc.get("policy", {})
    settle = rng.choice(sorted(by_settle)) if rng.random() < 0.7 else rng.choice(sorted(assets))
    acc = {"id": f"loan-{k}", "settle": settle, "collateral": {}, "positions": []}
    others = [a for a in sorted(assets) if a != settle]
    value = Fraction(0)
    for a in rng.sample(others, rng.randint(1, 2)):
        amt = q(Fraction(rng.uniform(0.001, 50000)) / assets[a], rng.choice([2, 4, 8]))
        if amt <= 0:
            continue
        acc["collateral"][a] = s(amt)
        value += amt * assets[a] / assets[settle] * (1 - Fraction(doc["haircuts"].get(a, "0")))
    rates = ref._parse(dict(doc, accounts=[]))[0]["_debt"](settle)
    kind, factor = ratio_factor(rng, policy)
    if kind == "free" or factor is None:
        debt = value * Fraction(rng.uniform(0, 1.5))
    else:
        f = factor if kind == "exact" else factor * Fraction(1 + rng.uniform(-0.02, 0.02))
        debt = value / (1 + f * rates["maintenance"])
    d = frac_digits(debt)
    if not (kind == "exact" and d is not None and d <= 8):
        debt = q(debt, 8)
    if debt > 0:
        acc["collateral"][settle] = s(-debt)
    if rng.random() < 0.2 and others:  # a second borrowed asset
        a = rng.choice(others)
        if a not in acc["collateral"]:
            acc["collateral"][a] = s(-q(Fraction(rng.uniform(1, 5000)) / assets[a], 6))
    return acc


def gen_quantity(rng, inst, mark):
    """A signed quantity whose notional falls in a random bracket, often near a boundary."""
    brackets = inst["brackets"]
    cs = Fraction(inst["contract_size"])
    inverse = inst["kind"].startswith("inverse")
    k = rng.randrange(len(brackets))
    lo = Fraction(brackets[k]["notional_floor"])
    hi = Fraction(brackets[k]["notional_cap"])
    mode = rng.random()
    if mode < 0.45:
        target = lo + (hi - lo) * Fraction(rng.random())
    elif mode < 0.75:
        edge = hi if rng.random() < 0.5 else lo
        target = edge * Fraction(1 + rng.uniform(-0.03, 0.03))
    elif mode < 0.85:
        target = hi * Fraction(rng.uniform(1.0, 1.5))  # beyond (possibly last) cap
    elif mode < 0.93:
        target = lo  # exactly on a floor when the arithmetic allows it
    else:
        target = (hi - lo) * Fraction(rng.uniform(0.001, 0.05)) + lo
    if target <= 0:
        target = hi * Fraction(rng.uniform(0.01, 0.5))
    qty = target * mark / cs if inverse else target / (cs * mark)
    exact = frac_digits(qty)
    if not (exact is not None and exact <= 8 and 0.85 <= mode < 0.93):
        qty = q(qty, rng.choice([0, 1, 2, 3, 3, 4, 6, 8]) if not inverse else rng.choice([0, 0, 0, 1, 2]))
    if qty == 0:
        qty = Fraction(1) if inverse else Fraction(1, 1000)
    return qty if rng.random() < 0.5 else -qty


def ratio_factor(rng, policy):
    """Target equity / MM: spread over every status, sometimes exactly on a threshold."""
    w = Fraction(policy.get("warning_ratio", "0.70"))
    c = Fraction(policy.get("call_ratio", "0.85"))
    choices = [
        ("exact", Fraction(1)), ("exact", 1 / w), ("exact", 1 / c), ("exact", Fraction(0)),
        ("near", Fraction(1)), ("near", 1 / c), ("near", 1 / w),
        ("free", None),
    ]
    weights = [6, 4, 4, 4, 14, 10, 10, 48]
    return rng.choices(choices, weights)[0]


def target_equity(rng, kind, factor, mm):
    if kind == "free":
        r = rng.random()
        if r < 0.1:
            return -mm * Fraction(rng.uniform(0.01, 3)) - Fraction(rng.uniform(0, 1))
        if r < 0.2:
            return mm * Fraction(rng.uniform(0.2, 1))
        return mm * Fraction(rng.uniform(1, 60))
    if kind == "exact":
        return mm * factor
    return mm * factor * Fraction(1 + rng.uniform(-0.02, 0.02))


def gen_account(rng, doc, by_settle, k, assets, marks):
    policy = doc.get("policy", {})
    settle = rng.choice(sorted(by_settle))
    acc = {"id": rng.choice(["acct", "trader", "mm", "fund", "u"]) + f"-{k}",
           "settle": settle, "collateral": {}, "positions": []}
    others = [a for a in assets if a != settle]
    for a in rng.sample(others, rng.randint(0, 3)):
        amt = Fraction(rng.uniform(0, 20000)) / assets[a]
        if rng.random() < 0.12:
            amt = -amt * Fraction(rng.uniform(0.05, 0.5))
        acc["collateral"][a] = s(q(amt, rng.choice([2, 4, 6, 8])))
    n_pos = rng.choices([0, 1, 2, 3, 4, 5], [5, 30, 25, 20, 12, 8])[0]
    cross_used = set()
    iso_targets = []
    for j in range(n_pos):
        inst = rng.choice(by_settle[settle])
        sym = inst["symbol"]
        mark = marks[sym]
        qty = gen_quantity(rng, inst, mark)
        entry = q(mark * Fraction(1 + rng.uniform(-0.25, 0.25)),
                  rng.choice([0, 1, 2, 2, 4, 8]) if mark > 10 else rng.choice([4, 6, 8]))
        if entry <= 0:
            entry = mark
        pos = {"symbol": sym, "quantity": s(qty), "entry_price": s(entry)}
        r = rng.random()
        if r < 0.15:
            pass
        elif r < 0.85:
            pos["leverage"] = str(rng.choice([1, 2, 3, 5, 10, 20, 25, 50, 75, 100, 125]))
        elif r < 0.95:
            pos["leverage"] = s(q(rng.uniform(1, 300), rng.choice([0, 1, 2])) or 1)
        else:
            pos["leverage"] = "1000"
        isolated = sym in cross_used or rng.random() < 0.35
        if isolated:
            pos["margin_mode"] = "isolated"
            pos["isolated_margin"] = "0"  # set below
            iso_targets.append(j)
        else:
            cross_used.add(sym)
            if rng.random() < 0.8:
                pos["margin_mode"] = "cross"
        acc["positions"].append(pos)
    # First pass with zero settle collateral: learn uPnL / MM, then set the margins.
    probe = dict(doc, accounts=[acc])
    out = ref.evaluate_exact(probe)["accounts"][0]
    settle_price = assets[settle]
    h = Fraction(doc["haircuts"].get(settle, "0"))
    for j in iso_targets:
        p = out["positions"][j]
        kind, factor = ratio_factor(rng, policy)
        te = target_equity(rng, kind, factor, p["maintenance_margin"])
        im = te - p["unrealized_pnl"]
        if rng.random() < 0.05:
            im = Fraction(0)
        d = frac_digits(im)
        if im < 0:
            im = Fraction(0)
        elif not (kind == "exact" and d is not None and d <= 8):
            im = q(im, rng.choice([2, 4, 8]))
        acc["positions"][j]["isolated_margin"] = s(im)
    cross = out["pools"][0]
    has_cross = any(p["pool"] == "cross" for p in out["positions"])
    if has_cross:
        kind, factor = ratio_factor(rng, policy)
        te = target_equity(rng, kind, factor, cross["maintenance_margin"])
    else:
        kind = "free"
        te = Fraction(rng.uniform(-100, 20000)) / settle_price
    need = te - cross["equity"]  # value in settle units to add through the settle asset
    amt = need / (1 - h) if need > 0 else need
    d = frac_digits(amt)
    if not (kind == "exact" and d is not None and d <= 8):
        amt = q(amt, 8)
    if amt != 0 or rng.random() < 0.5:
        acc["collateral"][settle] = s(amt)
    if rng.random() < 0.1 and not acc["collateral"]:
        del acc["collateral"]
    return acc


# --------------------------------------------------------------------------- running

def run_binary(solvent, doc, path=None):
    if path is None:
        fd, path = tempfile.mkstemp(prefix="case-", suffix=".json", dir=FAIL_DIR)
        os.close(fd)
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)
    for attempt in range(60):
        try:
            p = subprocess.run([solvent, "evaluate", "--input", path], capture_output=True,
                               text=True, timeout=60)
            return path, p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return path, None, "", "timeout"
        except OSError as exc:  # e.g. ETXTBSY while the binary is being relinked
            if attempt == 59:
                raise
            print(f"note: cannot run {solvent} ({exc}); retrying", file=sys.stderr)
            time.sleep(2)


def within(a: Fraction, b: Fraction, rel: Fraction) -> bool:
    diff = abs(a - b)
    return diff <= ABS_TOL or diff <= rel * max(abs(a), abs(b))


def compare(exp, got, path, out):
    """Append (json_path, expected, got) for every difference."""
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            out.append((path, "object", got))
            return
        keys_e = [k for k in exp if not k.startswith("_")]
        for k in keys_e:
            if k not in got:
                out.append((f"{path}.{k}", exp[k], "<missing key>"))
                continue
            sub = f"{path}.{k}" if path else k
            if k == "liquidation_price" and len(exp.get("_liquidation_candidates", [])) > 1:
                cands = exp["_liquidation_candidates"]
                if got[k] is None or not isinstance(got[k], str) or not any(
                        within(c, parse_dec(got[k]), PRICE_REL_TOL) for c in cands
                        if parse_dec(got[k]) is not None):
                    out.append((sub, "one of " + ", ".join(s(c) for c in cands), got[k]))
                continue
            compare_leaf_or_tree(exp[k], got[k], sub, out, k)
        for k in got:
            if k not in exp:
                out.append((f"{path}.{k}", "<no such key>", got[k]))
        return
    raise AssertionError("compare() expects an object")


def parse_dec(v):
    if isinstance(v, str) and ref._DECIMAL_RE.match(v):
        return Fraction(v)
    return None


def compare_leaf_or_tree(e, g, path, out, key):
    if isinstance(e, dict):
        compare(e, g, path, out)
    elif isinstance(e, list):
        if not isinstance(g, list) or len(g) != len(e):
            out.append((path, f"list of {len(e)}",
                        f"list of {len(g)}" if isinstance(g, list) else g))
            return
        for i, (a, b) in enumerate(zip(e, g)):
            compare_leaf_or_tree(a, b, f"{path}[{i}]", out, key)
    elif e is None:
        if g is not None:
            out.append((path, None, g))
    elif isinstance(e, Fraction):
        gv = parse_dec(g)
        if gv is None or not within(e, gv, PRICE_REL_TOL if key in PRICE_FIELDS else REL_TOL):
            out.append((path, e, g))
    else:
        if e != g:
            out.append((path, e, g))


def show(v):
    if isinstance(v, Fraction):
        return s(v)
    return json.dumps(v) if not isinstance(v, str) else v


def check_valid_case(solvent, doc, label):
    """Returns a list of human-readable problems (empty = pass) and the case path."""
    problems = []
    try:
        exp = ref.evaluate_exact(doc)
        exp_err = None
    except ref.EvaluateError as e:
        exp, exp_err = None, e
    path, rc, stdout, stderr = run_binary(solvent, doc)
    if exp_err is not None:
        problems.append(f"generator produced invalid input per oracle: {exp_err}")
        return problems, path
    if rc != 0:
        problems.append(f"binary exit {rc} on valid input; stderr: {stderr.strip()[:500]}")
        return problems, path
    try:
        got = json.loads(stdout)
    except ValueError as e:
        problems.append(f"stdout is not JSON: {e}")
        return problems, path
    diffs = []
    compare(exp, got, "", diffs)
    diffs = [d for d in diffs if not _ratio_within_equity_precision(exp, d)]
    for p, e, g in diffs:
        line = f"{p}: expected {show(e)}  got {show(g)}"
        gv = parse_dec(g) if isinstance(g, str) else None
        if isinstance(e, Fraction) and gv is not None:
            d = abs(e - gv)
            rel = d / max(abs(e), abs(gv)) if max(abs(e), abs(gv)) else Fraction(0)
            line += f"  (abs diff {float(d):.3g}, rel diff {float(rel):.3g})"
        if p.endswith(".margin_ratio") and gv is not None:
            pool = _at(got, p.rsplit(".", 1)[0])
            mm, eq = parse_dec(pool.get("maintenance_margin")), parse_dec(pool.get("equity"))
            if mm is not None and eq:
                line += (f"; binary's own maintenance_margin/equity = {s(mm / eq)}"
                         f" (equity exact {s(_at(exp, p.rsplit('.', 1)[0])['equity'])},"
                         f" binary {pool.get('equity')})")
        problems.append(line)
    return problems, path


def _ratio_within_equity_precision(exp, diff):
    """margin_ratio = MM / equity, where equity is itself exact only to 1e-18: when
    equity is tiny the ratio can only be as exact as equity's 18th digit allows."""
    p, e, g = diff
    gv = parse_dec(g) if isinstance(g, str) else None
    if not p.endswith(".margin_ratio") or gv is None or not isinstance(e, Fraction) or e == 0:
        return False
    equity = _at(exp, p.rsplit(".", 1)[0])["equity"]
    if not isinstance(equity, Fraction) or equity <= 0:
        return False
    allowed = max(Fraction(REL_TOL), Fraction(4, 10**18) / equity)
    return abs(e - gv) / abs(e) <= allowed


def _at(doc, path):
    """Follow a path like accounts[1].pools[0] into a document."""
    cur = doc
    for part in path.split("."):
        name, _, rest = part.partition("[")
        cur = cur[name]
        for idx in re.findall(r"(\d+)\]", "[" + rest if rest else ""):
            cur = cur[int(idx)]
    return cur


# --------------------------------------------------------------------------- bad input

def _positions(doc):
    return [(i, j) for i, a in enumerate(doc["accounts"]) for j, _ in enumerate(a.get("positions", []))]


def mk_bad(kind, rng, doc):
    """Mutate doc (a valid case) in place; return the expected error path or None if N/A."""
    accts = doc["accounts"]
    pos = _positions(doc)
    if kind == "unknown_symbol":
        if not pos:
            return None
        i, j = rng.choice(pos)
        accts[i]["positions"][j]["symbol"] = rng.choice(["DOGEUSDT", "NOPE", "btcusdt"])
        return f"accounts[{i}].positions[{j}].symbol"
    if kind == "missing_mark":
        if not pos:
            return None
        i, j = rng.choice(pos)
        sym = accts[i]["positions"][j]["symbol"]
        del doc["marks"][sym]
        return f"marks.{sym}"
    if kind in ("negative_mark", "zero_mark"):
        if not pos:
            return None
        i, j = rng.choice(pos)
        sym = accts[i]["positions"][j]["symbol"]
        doc["marks"][sym] = "-" + doc["marks"][sym] if kind == "negative_mark" else rng.choice(["0", "0.00"])
        return f"marks.{sym}"
    if kind == "non_decimal":
        bad = rng.choice(["6e4x", "abc", "", "1.2.3", "12,5", " 12", "0x10", "1e5", "NaN"])
        choices = []
        for i, j in pos:
            p = accts[i]["positions"][j]
            for f in ("quantity", "entry_price", "leverage", "isolated_margin"):
                if f in p:
                    choices.append((f"accounts[{i}].positions[{j}].{f}", ("pos", i, j, f)))
        for i, a in enumerate(accts):
            for c in a.get("collateral", {}):
                choices.append((f"accounts[{i}].collateral.{c}", ("col", i, c)))
        for sym in doc["marks"]:
            choices.append((f"marks.{sym}", ("mark", sym)))
        for a in doc["assets"]:
            choices.append((f"assets.{a}", ("asset", a)))
        for ii, inst in enumerate(doc["instruments"]):
            choices.append((f"instruments[{ii}].contract_size", ("cs", ii)))
            for jj, _ in enumerate(inst["brackets"]):
                f = rng.choice(["mmr", "max_leverage", "notional_cap"])
                choices.append((f"instruments[{ii}].brackets[{jj}].{f}", ("br", ii, jj, f)))
        path, t = rng.choice(choices)
        if t[0] == "pos":
            accts[t[1]]["positions"][t[2]][t[3]] = bad
        elif t[0] == "col":
            accts[t[1]]["collateral"][t[2]] = bad
        elif t[0] == "mark":
            doc["marks"][t[1]] = bad
        elif t[0] == "asset":
            doc["assets"][t[1]] = bad
        elif t[0] == "cs":
            doc["instruments"][t[1]]["contract_size"] = bad
        else:
            doc["instruments"][t[1]]["brackets"][t[2]][t[3]] = bad
        return path
    if kind == "number_not_string":
        if not pos:
            return None
        i, j = rng.choice(pos)
        p = accts[i]["positions"][j]
        ep = Fraction(p["entry_price"])
        p["entry_price"] = float(ep) if rng.random() < 0.5 or int(ep) == 0 else int(ep)
        return f"accounts[{i}].positions[{j}].entry_price"
    if kind in ("zero_leverage", "negative_leverage"):
        if not pos:
            return None
        i, j = rng.choice(pos)
        accts[i]["positions"][j]["leverage"] = rng.choice(["0", "0.0", "0.00000000"]) \
            if kind == "zero_leverage" else rng.choice(["-1", "-20", "-0.5"])
        return f"accounts[{i}].positions[{j}].leverage"
    if kind in ("bracket_gap", "bracket_overlap"):
        multi = [ii for ii, inst in enumerate(doc["instruments"]) if len(inst["brackets"]) >= 2]
        if not multi:
            return None
        ii = rng.choice(multi)
        br = doc["instruments"][ii]["brackets"]
        jj = rng.randrange(1, len(br))
        prev_floor = Fraction(br[jj - 1]["notional_floor"])
        prev_cap = Fraction(br[jj - 1]["notional_cap"])
        cap = Fraction(br[jj]["notional_cap"])
        if kind == "bracket_gap":
            br[jj]["notional_floor"] = s(prev_cap + (cap - prev_cap) / 2)
        else:
            br[jj]["notional_floor"] = s(prev_floor + (prev_cap - prev_floor) / 2)
        br[jj].pop("maintenance_amount", None)
        return f"instruments[{ii}].brackets[{jj}].notional_floor"
    if kind == "first_floor_nonzero":
        ii = rng.randrange(len(doc["instruments"]))
        br = doc["instruments"][ii]["brackets"]
        br[0]["notional_floor"] = s(Fraction(br[0]["notional_cap"]) / 10)
        return f"instruments[{ii}].brackets[0].notional_floor"
    if kind == "empty_brackets":
        ii = rng.randrange(len(doc["instruments"]))
        doc["instruments"][ii]["brackets"] = []
        return f"instruments[{ii}].brackets"
    if kind in ("missing_isolated_margin", "negative_isolated_margin"):
        if not pos:
            return None
        i, j = rng.choice(pos)
        p = accts[i]["positions"][j]
        if p.get("margin_mode") != "isolated":
            p["margin_mode"] = "isolated"
        if kind == "missing_isolated_margin":
            p.pop("isolated_margin", None)
        else:
            p["isolated_margin"] = rng.choice(["-1", "-0.01", "-250.5"])
        return f"accounts[{i}].positions[{j}].isolated_margin"
    if kind == "duplicate_cross":
        cands = [(i, j) for i, j in pos
                 if accts[i]["positions"][j].get("margin_mode", "cross") == "cross"]
        if not cands:
            return None
        i, j = rng.choice(cands)
        dup = copy.deepcopy(accts[i]["positions"][j])
        dup["quantity"] = s(-Fraction(dup["quantity"]))
        if rng.random() < 0.5:
            dup.pop("margin_mode", None)   # missing margin_mode means cross
        else:
            dup["margin_mode"] = "cross"
        plist = accts[i]["positions"]
        k = rng.randint(j + 1, len(plist))
        plist.insert(k, dup)
        return f"accounts[{i}].positions[{k}].symbol"
    if kind == "unknown_collateral":
        i = rng.randrange(len(accts))
        asset = rng.choice(["DOGE", "XRP", "usdt"])
        accts[i].setdefault("collateral", {})[asset] = "5"
        return f"accounts[{i}].collateral.{asset}"
    if kind == "duplicate_account_id":
        if len(accts) >= 2:
            k = rng.randrange(1, len(accts))
            m = rng.randrange(0, k)
            accts[k]["id"] = accts[m]["id"]
        else:
            accts.append(copy.deepcopy(accts[0]))
            k = 1
        return f"accounts[{k}].id"
    if kind == "quantity_zero":
        if not pos:
            return None
        i, j = rng.choice(pos)
        accts[i]["positions"][j]["quantity"] = rng.choice(["0", "0.0", "0.00000000"])
        return f"accounts[{i}].positions[{j}].quantity"
    if kind == "settle_mismatch":
        for i, a in enumerate(accts):
            foreign = [inst for inst in doc["instruments"] if inst["settle"] != a["settle"]]
            if foreign:
                inst = rng.choice(foreign)
                plist = a.setdefault("positions", [])
                k = rng.randint(0, len(plist))
                plist.insert(k, {"symbol": inst["symbol"], "quantity": "1",
                                 "entry_price": doc["marks"][inst["symbol"]],
                                 "margin_mode": "cross"})
                # keep it the only cross position on that symbol
                for kk, p in enumerate(plist):
                    if kk != k and p["symbol"] == inst["symbol"]:
                        p["margin_mode"] = "isolated"
                        p.setdefault("isolated_margin", "1")
                return f"accounts[{i}].positions[{k}].symbol"
        return None
    raise KeyError(kind)


BAD_KINDS = ["unknown_symbol", "missing_mark", "non_decimal", "negative_mark", "zero_leverage",
             "bracket_gap", "bracket_overlap", "missing_isolated_margin", "duplicate_cross",
             "unknown_collateral", "empty_brackets", "duplicate_account_id", "quantity_zero",
             "settle_mismatch",
             # extra kinds, also required by the contract's wording
             "negative_leverage", "negative_isolated_margin", "first_floor_nonzero",
             "zero_mark"]
# "All decimals are JSON strings": a bare JSON number is rejected only with --strict-strings
# (the current binary accepts JSON numbers, exactly, from their source text).
STRICT_KINDS = ["number_not_string"]


def check_bad_case(solvent, doc, expected_path):
    problems = []
    try:
        ref.evaluate_exact(doc)
        problems.append("oracle accepted the input (oracle/generator bug)")
    except ref.EvaluateError as e:
        if e.path != expected_path:
            problems.append(f"oracle reports {e.path!r}, expected {expected_path!r} (oracle bug)")
    path, rc, stdout, stderr = run_binary(solvent, doc)
    if rc != 2:
        problems.append(f"exit status {rc}, expected 2")
    if stdout != "":
        problems.append(f"stdout not empty: {stdout[:200]!r}")
    lines = stderr.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if len(lines) != 1:
        problems.append(f"stderr has {len(lines)} lines, expected 1: {stderr[:300]!r}")
    first = lines[0] if lines else ""
    if not first.startswith(expected_path + ":"):
        problems.append(f"stderr {first!r} does not start with {expected_path + ':'!r}")
    return problems, path


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--solvent", required=True, help="path to the solvent binary")
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bad-variants", type=int, default=3,
                    help="variants of each bad-input kind (default 3)")
    ap.add_argument("--strict-strings", action="store_true",
                    help="also require JSON numbers in decimal fields to be rejected")
    ap.add_argument("--keep-all", action="store_true", help="keep passing inputs too")
    ap.add_argument("--max-report", type=int, default=8, help="mismatch lines per case")
    args = ap.parse_args()
    os.makedirs(FAIL_DIR, exist_ok=True)
    rng = random.Random(args.seed)
    passed = failed = 0
    vf = 0
    statuses = {}
    edges = {"ratio exactly on a threshold": 0, "equity exactly 0": 0,
             "several liquidation fixed points": 0, "liquidation_price null": 0}
    for n in range(args.cases):
        doc = gen_case(rng)
        for a in ref.evaluate_exact(doc)["accounts"]:
            for p in a["pools"]:
                statuses[p["status"]] = statuses.get(p["status"], 0) + 1
                r = p["margin_ratio"]
                pol = {k: Fraction(v) for k, v in doc.get("policy", {}).items() if k in ref.DEFAULT_POLICY}
                pol = {**ref.DEFAULT_POLICY, **pol}
                if r is not None and r in (1, pol["warning_ratio"], pol["call_ratio"]):
                    edges["ratio exactly on a threshold"] += 1
                if p["equity"] == 0 and p["status"] == "bankrupt":
                    edges["equity exactly 0"] += 1
            for p in a["positions"]:
                if len(p["_liquidation_candidates"]) > 1:
                    edges["several liquidation fixed points"] += 1
                elif p["liquidation_price"] is None:
                    edges["liquidation_price null"] += 1
        problems, path = check_valid_case(args.solvent, doc, n)
        if problems:
            failed += 1
            vf += 1
            kept = os.path.join(FAIL_DIR, f"seed{args.seed}-case{n:04d}.json")
            os.replace(path, kept)
            print(f"FAIL case {n}: {kept}")
            for line in problems[:args.max_report]:
                print(f"  {line}")
            if len(problems) > args.max_report:
                print(f"  ... {len(problems) - args.max_report} more")
        else:
            passed += 1
            if args.keep_all:
                os.replace(path, os.path.join(FAIL_DIR, f"seed{args.seed}-case{n:04d}-ok.json"))
            else:
                os.unlink(path)
    print(f"valid cases: {args.cases - vf} passed, {vf} failed; pool statuses seen: "
          + ", ".join(f"{k}={statuses.get(k, 0)}" for k in ref.STATUS_ORDER)
          + "; edge cases: " + ", ".join(f"{k}={v}" for k, v in edges.items()))
    bp = bf = 0
    kinds = BAD_KINDS + (STRICT_KINDS if args.strict_strings else [])
    for kind in kinds:
        done = 0
        tries = 0
        while done < args.bad_variants and tries < 200:
            tries += 1
            doc = gen_case(rng)
            expected = mk_bad(kind, rng, doc)
            if expected is None:
                continue
            done += 1
            problems, path = check_bad_case(args.solvent, doc, expected)
            if problems:
                failed += 1
                bf += 1
                kept = os.path.join(FAIL_DIR, f"seed{args.seed}-bad-{kind}-{done}.json")
                os.replace(path, kept)
                print(f"FAIL bad input {kind}: {kept}")
                for line in problems:
                    print(f"  {line}")
            else:
                passed += 1
                bp += 1
                os.unlink(path)
    print(f"bad-input checks: {bp} passed, {bf} failed ({len(kinds)} kinds)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
