#!/usr/bin/env python3
"""Cross-check coin-settled (inverse) options in `solvent evaluate` against
inverse_option_reference.py (issue 17; the reference is written from the specification and
Deribit's documents, not from the Swift sources).

    python3 crosscheck_inverse_options.py --solvent PATH [--cases N] [--seed S] [--require-swift]

1. The reference's self-checks (Deribit's worked settlement examples, coin put-call parity,
   coin delta, the standard rule) and hand-derived fixed documents (numbers derived in the
   comments of fixed_cases) checked against the reference: always.
2. If `solvent evaluate` accepts `"kind": "inverse_option"` (probed; `--require-swift` makes a
   refusal a failure): the fixed documents and N random documents — coin-settled portfolio
   accounts (BTC, ETH) with inverse perpetuals, an inverse dated future and inverse options
   (calls/puts, long/short, strikes 0.6–1.4 × F, expiries from expired to a year, underlying =
   the perpetual or the future, vols from implied_vols or smiles, coin marks for some options,
   a random portfolio_policy half the time, collateral set to spread the statuses) — are run
   through the binary and every pool number is compared: equity, IM, MM, ratio, available,
   withdrawable, call amount, status; the scenario margin's IM, MM, credit; per group the
   worst loss, worst scenario, both floors, IM, delta equivalent and all scenario losses; per
   position uPnL (and, for options, value, implied_vol, years).
   Tolerance: 1e-9 coin absolute or 1e-9 relative.  Why: option values are Black-76 in Double
   (relative error ~1e-15 per value), summed per group over |q|·cs ≤ ~2,000 coins of
   underlying, so a scenario loss may differ by ~1e-12 coin; the exact parts cross at 18
   digits (1e-18 per rounding).  1e-9 coin (≈ 6e-5 USD at 65,000) is far above both and far
   below any modelling difference (a 1e-8 quantization of a per-contract value, a missing
   division by F, a haircut on the coin, an entry-price term: all ≥ 1e-8).  A status or
   worst-scenario index that differs only where the compared numbers tie within tolerance is
   a near tie, not a failure.
   Examples/evaluate/portfolio-inverse.json (when present) is compared the same way.
3. Bad inputs of the specification (item 1 and 6) must exit 2, print nothing on stdout and one
   stderr line starting with the named JSON path.

4. Probes of what the specification leaves open (an extreme move to or below −100 %, an
   option whose underlying names an asset): exit 0, or exit 2 with one `path: reason` line —
   never a crash; what the binary does is printed as a note.

Failing inputs are kept under /tmp/solvent-inverse-crosscheck/.  Last line:
`N passed, M failed`; exit 1 on failures or when nothing was compared.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_reference as ref  # noqa: E402
import inverse_option_reference as iref  # noqa: E402
from common import finish, record  # noqa: E402

FAIL_DIR = "/tmp/solvent-inverse-crosscheck"
ABS_TOL = Fraction(1, 10 ** 9)
REL_TOL = Fraction(1, 10 ** 9)
VT = "2024-03-01T08:00:00Z"
VT_SECONDS = 1709280000
COINS = {"BTC": 65000.0, "ETH": 3200.0}
PERP_CS = {"BTC": "10", "ETH": "1"}          # Deribit: BTC-PERPETUAL 10 USD, ETH 1 USD
OPT_CS = ["1", "1", "0.1"]                   # Deribit: 1 coin per option contract


def s(x: Fraction) -> str:
    return ref.fraction_to_decimal(Fraction(x))


def q(x, digits):
    """x rounded half-even to `digits` fractional digits (negative: to tens, hundreds)."""
    scale = Fraction(10) ** digits
    return Fraction(round(Fraction(x) * scale)) / scale


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def bracket():
    return [{"notional_floor": "0", "notional_cap": "100000000", "max_leverage": "100", "mmr": "0.005"}]


def perp(coin, cs=None):
    return {"symbol": f"{coin}-PERPETUAL", "kind": "inverse_perpetual", "base": coin,
            "settle": coin, "contract_size": cs or PERP_CS[coin], "brackets": bracket()}


def option(sym, right, K, expiry_s, underlying, coin, cs="1"):
    return {"symbol": sym, "kind": "inverse_option", "right": right, "strike": K,
            "expiry": iso(expiry_s), "underlying": underlying, "base": coin, "settle": coin,
            "contract_size": cs, "brackets": bracket()}


def market():
    return {"assets": {"USD": "1", "USDT": "1", "BTC": "65000", "ETH": "3200"},
            "haircuts": {"USDT": "0"}, "valuation_time": VT, "instruments": [],
            "marks": {}, "accounts": []}


# --------------------------------------------------------------------------- fixed cases

def fixed_cases():
    """(name, doc, {account id: {dotted field: exact expected value}}): numbers derived by
    hand below, checked against the reference always and against the binary when it runs."""
    F = Fraction
    cases = []

    # A. Expired short call hedged by a long inverse perp (every value is intrinsic, so the
    # grid is exact).  BTC-PERPETUAL mark 60,000, cs 10 USD; call K = 50,000 expired a day
    # ago, underlying the perpetual.  Account: 2 BTC, short 1 call (entry 0.15 BTC), long
    # 1,000 perp contracts = 10,000 USD (entry 50,000).  Default policy (R = 0.15, 13 moves,
    # extremes ±0.30 at weight 0.35, floors 1 % / 0.5 %, MM = 75 % IM).
    #   v0 = 10,000/60,000 = 1/6;  option uPnL = −(1/6 − 0.15) = −1/60;
    #   perp uPnL = 10,000·(1/50,000 − 1/60,000) = 1/30;  equity = 2 + 1/30 − 1/60 = 121/60.
    #   At F' = 60,000(1+m) > 50,000 the group gains −(1 − 50,000/F' − 1/6)
    #   + 10,000(1/60,000 − 1/F') = 40,000/F' − 2/3:
    #     m = +0.15 (F' 69,000): −2/23 → loss 2/23 (the worst: index 36, first vol shock);
    #     m = −0.15 (F' 51,000): +2/17 → loss −2/17;  delta_eq = (−2/17 − 2/23)/2 = −40/391;
    #     m = +0.30, weight 0.35: loss 0.35·2/13 = 7/130 < 2/23.
    #   short_option_minimum = 0.01·1;  basis_minimum = 0.005·10,000/60,000 = 1/1,200.
    #   IM = 2/23;  MM = 0.75·2/23 = 3/46.
    d = market()
    d["instruments"] = [perp("BTC"),
                        option("BTC-X-50000-C", "call", "50000", VT_SECONDS - 86400, "BTC-PERPETUAL", "BTC")]
    d["marks"] = {"BTC-PERPETUAL": "60000"}
    d["implied_vols"] = {"BTC-X-50000-C": "0.5"}
    d["accounts"] = [{"id": "expired-hedged", "mode": "portfolio", "settle": "BTC",
                      "collateral": {"BTC": "2"},
                      "positions": [{"symbol": "BTC-X-50000-C", "quantity": "-1", "entry_price": "0.15"},
                                    {"symbol": "BTC-PERPETUAL", "quantity": "1000", "entry_price": "50000"}]}]
    cases.append(("expired-short-call+perp", d, {"expired-hedged": {
        "pool.equity": F(121, 60), "pool.initial_margin": F(2, 23),
        "pool.maintenance_margin": F(3, 46),
        "g.worst_loss": F(2, 23), "g.worst_scenario.index": 36,
        "g.short_option_minimum": F(1, 100), "g.basis_minimum": F(1, 1200),
        "g.delta_equivalent": F(-40, 391), "g.loss.1": F(-2, 17), "g.loss.37": F(2, 23),
        "g.loss.40": F(7, 130)}}))

    # B. Coin put-call parity: long call + short put, same strike 60,000 and expiry (30 days),
    # same vol, against a short inverse perp of face K = 60,000 USD (6,000 contracts × 10).
    # In coin c − p = 1 − K/F for every F and σ (r = 0), so the synthetic gains
    # K(1/F − 1/F') when F → F', and the short perp gains −K(1/F − 1/F'): every scenario loss
    # is 0 (Double noise only), worst_loss 0.  Floors: short_option_minimum 0.01·1 = 0.01,
    # basis_minimum 0.005·60,000/50,000 = 0.006 ⇒ IM = 0.01, MM = 0.0075.
    # Equity: entries call 0.1, put 0.3; uPnL = (c − 0.1) − (p − 0.3) = (1 − 1.2) + 0.2 = 0;
    # perp at entry = mark: 0 ⇒ equity = 1 BTC.
    d = market()
    exp = VT_SECONDS + 30 * 86400
    d["instruments"] = [perp("BTC"),
                        option("BTC-P60-C", "call", "60000", exp, "BTC-PERPETUAL", "BTC"),
                        option("BTC-P60-P", "put", "60000", exp, "BTC-PERPETUAL", "BTC")]
    d["marks"] = {"BTC-PERPETUAL": "50000"}
    d["implied_vols"] = {"BTC-P60-C": "0.7", "BTC-P60-P": "0.7"}
    d["accounts"] = [{"id": "parity", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "1"},
                      "positions": [{"symbol": "BTC-P60-C", "quantity": "1", "entry_price": "0.1"},
                                    {"symbol": "BTC-P60-P", "quantity": "-1", "entry_price": "0.3"},
                                    {"symbol": "BTC-PERPETUAL", "quantity": "-6000", "entry_price": "50000"}]}]
    cases.append(("coin-parity-hedge", d, {"parity": {
        "pool.equity": F(1), "g.worst_loss": F(0), "g.short_option_minimum": F(1, 100),
        "g.basis_minimum": F(6, 1000), "pool.initial_margin": F(1, 100),
        "pool.maintenance_margin": F(75, 10000), "g.delta_equivalent": F(0)}}))

    # C. ATM long call, a year out: F = K = 50,000, σ = 0.5, T = 1 (365 days):
    # C = F(2N(0.25) − 1), N(0.25) = 0.5987063256829237 ⇒ v = 0.1974126513658474 coin.
    # Long 2 at 0.2: uPnL = 2(v − 0.2) = −0.0051746972683052; collateral 0.5 ⇒ equity
    # 0.4948253027316948.  No short option, no perp: both floors 0.
    d = market()
    d["instruments"] = [perp("BTC"),
                        option("BTC-ATM-C", "call", "50000", VT_SECONDS + 365 * 86400, "BTC-PERPETUAL", "BTC")]
    d["marks"] = {"BTC-PERPETUAL": "50000"}
    d["implied_vols"] = {"BTC-ATM-C": "0.5"}
    d["accounts"] = [{"id": "atm", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "0.5"},
                      "positions": [{"symbol": "BTC-ATM-C", "quantity": "2", "entry_price": "0.2"}]}]
    cases.append(("atm-long-call", d, {"atm": {
        "pos0.value": F("0.1974126513658474"), "pool.equity": F("0.4948253027316948"),
        "g.short_option_minimum": F(0), "g.basis_minimum": F(0)}}))

    # D. A fed coin mark is used for equity: the same call with marks["BTC-ATM-C"] = 0.21
    # BTC: uPnL = 2(0.21 − 0.2) = 0.02 ⇒ equity 0.52 exactly.
    d = copy.deepcopy(d)
    d["marks"]["BTC-ATM-C"] = "0.21"
    d["accounts"][0]["id"] = "atm-marked"
    cases.append(("fed-coin-mark", d, {"atm-marked": {"pool.equity": F("0.52")}}))

    # E. The document's `rate` does not discount an inverse option (spec item 3: r = 0, as
    # Deribit): case C with "rate": "0.05" has case C's numbers.
    d = copy.deepcopy(cases[2][1])
    d["rate"] = "0.05"
    d["accounts"][0]["id"] = "atm-rate"
    cases.append(("rate-ignored", d, {"atm-rate": {
        "pos0.value": F("0.1974126513658474"), "pool.equity": F("0.4948253027316948")}}))
    return cases


def probe_cases():
    """Inputs the specification leaves open: the binary must not crash (exit 0, or exit 2
    with one `path: reason` line); what it does is reported as a note."""
    out = []
    d = copy.deepcopy(fixed_cases()[0][1])     # E·R = 3·0.35 = 1.05: F(1+m) < 0
    d["portfolio_policy"] = {"price_range": "0.35", "extreme_multiple": "3"}
    out.append(("extreme move below -100%", d))
    d = copy.deepcopy(fixed_cases()[0][1])     # E·R = 1: F(1+m) = 0 (1/F' undefined)
    d["portfolio_policy"] = {"price_range": "0.5", "extreme_multiple": "2"}
    out.append(("extreme move of exactly -100%", d))
    d = copy.deepcopy(fixed_cases()[2][1])     # an asset-named underlying (an index)
    d["instruments"][1]["underlying"] = "BTC"
    out.append(("asset-named underlying", d))
    return out


def check_probe(solvent, doc):
    """(problems, note)."""
    path, rc, out, err = run_binary(solvent, doc)
    os.unlink(path)
    lines = [x for x in err.splitlines() if x.strip()]
    if rc == 0:
        try:
            acc = json.loads(out)["accounts"][0]
            return [], f"accepted: IM {acc['pools'][0]['initial_margin']}, equity {acc['pools'][0]['equity']}"
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return [f"exit 0 with unreadable output ({exc})"], ""
    if rc == 2 and len(lines) == 1 and ": " in lines[0] and not out.strip():
        return [], f"refused: {lines[0][:160]}"
    return [f"exit {rc} (not 0 or 2 with one path line): {err.strip()[:200]}"], ""


def _pick(res, key):
    """A dotted expected-field name on a reference account (Fractions) or a rendered one."""
    g = res["scenario_margin"]["groups"][0]
    if key.startswith("pool."):
        return res["pool"][key[5:]]
    if key.startswith("g.loss."):
        return g["scenario_losses"][int(key[7:])]
    if key == "g.worst_scenario.index":
        return g["worst_scenario"]["index"]
    if key.startswith("g."):
        return g[key[2:]]
    if key.startswith("pos"):
        k, _, f = key.partition(".")
        return res["positions"][int(k[3:])][f]
    raise KeyError(key)


def check_fixed_reference(name, doc, expect):
    """Problems of the reference against the hand-derived numbers."""
    probs = []
    out = iref.evaluate_coin_accounts(doc)
    for acc, fields in expect.items():
        for key, want in fields.items():
            got = _pick(out[acc], key)
            if not within(Fraction(got), Fraction(want), Fraction(1, 10 ** 12)):
                probs.append(f"{acc}.{key}: reference {float(got)!r}, hand {float(want)!r}")
    return probs


# --------------------------------------------------------------------------- generator

def gen_case(rng):
    d = market()
    if rng.random() < 0.3:
        d["haircuts"]["BTC"] = rng.choice(["0.05", "0.1"])   # must not touch coin collateral
    vols, smiles = {}, {}
    coins = rng.sample(sorted(COINS), rng.randint(1, 2))
    for c in coins:
        P = COINS[c] * rng.uniform(0.7, 1.3)
        digits = 1 if P > 1000 else 2
        d["assets"][c] = s(q(P, 0))
        p = perp(c)
        fut = {"symbol": f"{c}-28JUN24", "kind": "inverse_future", "base": c, "settle": c,
               "expiry": "2024-06-28T08:00:00Z", "contract_size": PERP_CS[c], "brackets": bracket()}
        d["instruments"] += [p, fut]
        d["marks"][p["symbol"]] = s(q(P * rng.gauss(1, 0.002), digits))
        d["marks"][fut["symbol"]] = s(q(P * (1 + rng.uniform(-0.005, 0.03)), digits))
        unders = {p["symbol"]: Fraction(d["marks"][p["symbol"]]),
                  fut["symbol"]: Fraction(d["marks"][fut["symbol"]])}
        for u, Fu in unders.items():
            if rng.random() < 0.5:
                ks = sorted({q(float(Fu) * rng.uniform(0.5, 1.5), -2 if P > 1000 else 0)
                             for _ in range(rng.randint(2, 5))})
                if len(ks) < 2:
                    ks = [q(Fu * Fraction(7, 10), 0), q(Fu * Fraction(13, 10), 0)]
                smiles[u] = [{"strike": s(k), "vol": s(q(rng.uniform(0.3, 1.5), 3))} for k in ks]
        seen = set()
        for k in range(rng.randint(3, 8)):
            u = rng.choices(list(unders) + [c], [60, 25, 15])[0]   # the coin: an index
            Fu = unders[u] if u in unders else Fraction(d["assets"][c])
            wide = rng.random() < 0.15          # deep strikes: a put worth > 1 coin at K > 2F
            K = q(float(Fu) * (rng.uniform(0.2, 3.0) if wide else rng.uniform(0.6, 1.4)),
                  -2 if P > 1000 else 0) or Fraction(100)
            off = rng.choices([-3 * 86400, -3600, 3600, 86400, 7 * 86400, 30 * 86400,
                               90 * 86400, 365 * 86400, rng.randint(3600, 365 * 86400)],
                              [2, 1, 4, 4, 5, 6, 5, 4, 8])[0]
            if off <= 0 and K == Fu:
                K += 100
            right = rng.choice(["call", "put"])
            sym = f"{c}-{k}-{s(K)}-{right[0].upper()}"
            if sym in seen:
                continue
            seen.add(sym)
            d["instruments"].append(option(sym, right, s(K), VT_SECONDS + off, u, c,
                                           rng.choice(OPT_CS)))
            if u not in smiles or rng.random() < 0.3:
                vols[sym] = s(q(rng.uniform(0.2, 1.6), rng.choice([2, 3, 4])))
    if vols:
        d["implied_vols"] = vols
    if smiles:
        d["smiles"] = smiles
    # coin marks for some options, near their model value
    ctx_doc = dict(d, accounts=[])
    insts, ext, _, vt = iref._context(ctx_doc)
    for inst in list(insts.values()):
        if inst["kind"] != "inverse_option" or rng.random() > 0.3:
            continue
        u = inst["underlying"]
        Fu = Fraction(d["marks"][u]) if u in d["marks"] else Fraction(d["assets"][u])
        T = (inst["expiry"] - vt) / iref.YEAR_SECONDS
        sym = inst["symbol"]
        sig = ext["vols"][sym] if sym in ext["vols"] else iref.pref.smile_vol(ext["smiles"][inst["underlying"]], inst["strike"])
        v = iref.coin_value(float(Fu), float(inst["strike"]), float(T), float(sig), inst["call"])
        m = q(v * rng.uniform(0.9, 1.1), 4)
        if m == 0 or rng.random() < 0.05:
            m = Fraction(1, 10 ** 8)            # the smallest price of the range contract
        d["marks"][sym] = s(m)
    if rng.random() < 0.5:
        d["portfolio_policy"] = gen_policy(rng)
    for k in range(rng.randint(1, 3)):
        d["accounts"].append(gen_account(rng, d, k, rng.choice(coins)))
    return d


def gen_policy(rng):
    pol = {}
    if rng.random() < 0.5:
        pol["price_range"] = s(q(rng.uniform(0.05, 0.3), 2))
    if rng.random() < 0.3:
        pol["price_ranges"] = {c: s(q(rng.uniform(0.05, 0.3), 2)) for c in COINS if rng.random() < 0.6}
    if rng.random() < 0.6:
        pol["price_steps"] = rng.choice(range(3, 22, 2))
    for key, choices in (("vol_shock", ["0.05", "0.1", "0.2", "0.3"]),
                         ("vol_shock_cap", ["0.2", "0.5", "0.8"]),
                         ("extreme_multiple", ["1.5", "2", "2.5", "3"]),     # E·R ≤ 0.9 < 1
                         ("extreme_fraction", ["0.2", "0.35", "0.5"]),
                         ("short_option_minimum", ["0", "0.005", "0.01", "0.05"]),
                         ("basis_minimum", ["0", "0.001", "0.005", "0.02"]),
                         ("maintenance_fraction", ["0.5", "0.75", "0.9"])):
        if rng.random() < 0.4:
            pol[key] = rng.choice(choices)
    if rng.random() < 0.3:
        pol["vol_shock_reference_days"] = rng.choice([7, 30, 90])
    if rng.random() < 0.3:
        pol["correlations"] = {"BTC/ETH": rng.choice(["0.8", "-0.5"])}
    return pol


def gen_account(rng, d, k, coin):
    acc = {"id": f"coin-{k}", "mode": "portfolio", "settle": coin, "collateral": {}, "positions": []}
    insts = {i["symbol"]: i for i in d["instruments"]}
    P = Fraction(d["assets"][coin])
    for sym in (f"{coin}-PERPETUAL", f"{coin}-28JUN24"):
        if rng.random() < (0.7 if sym.endswith("PERPETUAL") else 0.3):
            m = Fraction(d["marks"][sym])
            n = q(rng.uniform(1000, 400000) / float(insts[sym]["contract_size"]), 0) or Fraction(1)
            acc["positions"].append({"symbol": sym, "quantity": s(n if rng.random() < 0.5 else -n),
                                     "entry_price": s(q(m * Fraction(rng.uniform(0.8, 1.2)), 1))})
    opts = [i for i in d["instruments"] if i["kind"] == "inverse_option" and i["base"] == coin]
    for inst in rng.sample(opts, min(len(opts), rng.choice([0, 1, 1, 2, 3, 4]))):
        coins_of_underlying = rng.uniform(0.1, 300000 / float(P))
        n = q(coins_of_underlying / float(inst["contract_size"]), rng.choice([0, 1])) or Fraction(1)
        acc["positions"].append({"symbol": inst["symbol"], "quantity": s(n if rng.random() < 0.5 else -n),
                                 "entry_price": s(q(rng.uniform(0.0005, 0.3), 4))})
    rng.shuffle(acc["positions"])
    # collateral: spread the statuses around the thresholds
    acc["collateral"][coin] = "0"
    probe = iref.evaluate_coin_accounts(dict(d, accounts=[acc]))[acc["id"]]["pool"]
    mm, eq = probe["maintenance_margin"], probe["equity"]
    r = rng.random()
    if r < 0.08:
        target = -mm * Fraction(rng.uniform(0, 1)) - Fraction(1, 100)
    elif r < 0.2:
        target = mm * Fraction(rng.uniform(0.5, 1.0))
    elif r < 0.5:
        target = mm * rng.choice([1, Fraction(100, 85), Fraction(100, 70)]) * Fraction(1 + rng.uniform(-0.03, 0.03))
    else:
        target = mm * Fraction(rng.uniform(1, 30)) + Fraction(1, 10)
    amt = q(target - eq, 6)
    if amt <= 0:                  # no debt in a portfolio pool (docs/options.md "Not yet")
        amt = Fraction(1, 10 ** 6)
    acc["collateral"][coin] = s(amt)
    return acc


# --------------------------------------------------------------------------- running, comparing

def run_binary(solvent, doc):
    fd, path = tempfile.mkstemp(prefix="case-", suffix=".json", dir=FAIL_DIR)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
    try:
        p = subprocess.run([solvent, "evaluate", "--input", path], capture_output=True,
                           text=True, timeout=120)
        return path, p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return path, None, "", "timeout"


def within(a, b, tol=ABS_TOL):
    diff = abs(a - b)
    return diff <= tol or diff <= REL_TOL * max(abs(a), abs(b))


POOL_FIELDS = ("equity", "initial_margin", "maintenance_margin", "margin_ratio", "available",
               "withdrawable", "call_amount")
GROUP_FIELDS = ("price_range", "worst_loss", "short_option_minimum", "basis_minimum",
                "initial_margin", "delta_equivalent")


def num(x):
    return None if x is None else Fraction(x)


def compare_account(e, g, name, counter):
    """Problems and near-tie notes comparing reference account e (Fractions) with output g."""
    probs, notes = [], []

    def leaf(path, a, b):
        counter[0] += 1
        if a is None or b is None:
            if a is not b:
                probs.append(f"{path}: expected {a}, got {b}")
            return
        b = Fraction(b)
        if not within(Fraction(a), b):
            probs.append(f"{path}: expected {s(a)}, got {s(b)} (diff {float(b - a):.3e})")

    pools = g.get("pools") or []
    if len(pools) != 1 or pools[0].get("pool") != "portfolio":
        return [f"{name}: pools {json.dumps(pools)[:200]}"], notes
    gp, ep = pools[0], e["pool"]
    for f in POOL_FIELDS:
        if f == "margin_ratio" and ep[f] is not None and gp.get(f) is not None:
            # MM/equity of the pool's (18-digit) numbers: the already-checked differences of
            # MM and equity propagate as (ΔMM + r·Δequity)/equity, plus a rounding each.
            counter[0] += 1
            r, rg = ep[f], Fraction(gp[f])
            dmm = abs(Fraction(gp["maintenance_margin"]) - ep["maintenance_margin"]) + Fraction(1, 10 ** 18)
            deq = abs(Fraction(gp["equity"]) - ep["equity"]) + Fraction(1, 10 ** 18)
            tol = (dmm + abs(r) * deq) / ep["equity"] + Fraction(1, 10 ** 18)
            if not (within(r, rg) or abs(r - rg) <= tol):
                probs.append(f"{name}.pool.margin_ratio: expected {s(r)}, got {gp[f]} (tolerance {float(tol):.2e})")
            continue
        leaf(f"{name}.pool.{f}", ep[f], gp.get(f))
    near = ep["equity"] > 0 and any(
        abs(ep["maintenance_margin"] - ep["equity"] * r) <= ABS_TOL + REL_TOL * abs(ep["equity"])
        for r in (Fraction(1),) + tuple(ep.get("_ratios", ())))
    counter[0] += 2
    for where, a, b in (("pool.status", ep["status"], gp.get("status")), ("status", e["status"], g.get("status"))):
        if a != b:
            (notes if near else probs).append(f"{name}.{where}: expected {a}, got {b}")
    sm_e, sm_g = e["scenario_margin"], g.get("scenario_margin")
    if not isinstance(sm_g, dict):
        return probs + [f"{name}: no scenario_margin"], notes
    for f in ("initial_margin", "maintenance_margin", "correlation_credit"):
        leaf(f"{name}.scenario_margin.{f}", sm_e[f], sm_g.get(f))
    groups_g = sm_g.get("groups") or []
    if [x.get("underlying") for x in groups_g] != [x["underlying"] for x in sm_e["groups"]]:
        return probs + [f"{name}: groups {[x.get('underlying') for x in groups_g]}"], notes
    for ge, gg in zip(sm_e["groups"], groups_g):
        gpth = f"{name}.groups.{ge['underlying']}"
        for f in GROUP_FIELDS:
            leaf(f"{gpth}.{f}", ge[f], gg.get(f))
        le, lg = ge["scenario_losses"], gg.get("scenario_losses") or []
        if len(le) != len(lg):
            probs.append(f"{gpth}.scenario_losses: {len(lg)} entries, expected {len(le)}")
        else:
            for i, (a, b) in enumerate(zip(le, lg)):
                leaf(f"{gpth}.scenario_losses[{i}]", a, b)
        wi_e, wi_g = ge["worst_scenario"]["index"], (gg.get("worst_scenario") or {}).get("index")
        counter[0] += 1
        if wi_e != wi_g:
            if isinstance(wi_g, int) and 0 <= wi_g < len(le) and within(le[wi_e], le[wi_g]):
                notes.append(f"{gpth}.worst_scenario: near tie {wi_e} vs {wi_g}")
            else:
                probs.append(f"{gpth}.worst_scenario.index: expected {wi_e}, got {wi_g}")
    pos_g = g.get("positions") or []
    if len(pos_g) != len(e["positions"]):
        probs.append(f"{name}.positions: {len(pos_g)}, expected {len(e['positions'])}")
    else:
        for j, (pe, pg) in enumerate(zip(e["positions"], pos_g)):
            for f in ("unrealized_pnl", "value", "implied_vol", "years", "notional", "delta"):
                if f in pe:
                    leaf(f"{name}.positions[{j}].{f}", pe[f], pg.get(f))
    return probs, notes


def check_valid(solvent, doc, expect_fixed=None):
    """Runs one valid document; returns (problems, notes, path)."""
    counter = [0]
    try:
        exp = iref.evaluate_coin_accounts(doc)
    except iref.ReferenceError_ as exc:
        return [f"reference rejected its own document: {exc}"], [], None
    policy_std = iref._context(doc)[2]
    for a in exp.values():
        a["pool"]["_ratios"] = (policy_std["warning_ratio"], policy_std["call_ratio"])
    path, rc, out, err = run_binary(solvent, doc)
    if rc != 0:
        return [f"exit {rc}: {err.strip()[:300]}"], [], path
    try:
        got = {a["id"]: a for a in json.loads(out)["accounts"]}
    except (ValueError, KeyError, TypeError) as exc:
        return [f"unreadable output: {exc}"], [], path
    probs, notes = [], []
    for acc_id, e in exp.items():
        if acc_id not in got:
            probs.append(f"{acc_id}: missing in the output")
            continue
        p, n = compare_account(e, got[acc_id], acc_id, counter)
        probs += p
        notes += n
    for acc_id, fields in (expect_fixed or {}).items():    # the hand numbers, on the binary
        rendered = got.get(acc_id)
        if rendered is None:
            continue
        g = {"pool": rendered["pools"][0], "scenario_margin": rendered["scenario_margin"],
             "positions": rendered["positions"]}
        for key, want in fields.items():
            counter[0] += 1
            try:
                have = _pick(g, key)
            except (KeyError, IndexError, TypeError):
                probs.append(f"{acc_id}.{key}: missing")
                continue
            if not within(Fraction(have), Fraction(want)):
                probs.append(f"{acc_id}.{key}: hand {s(Fraction(want))}, got {have}")
    if counter[0] == 0:
        probs.append("nothing compared")
    return probs, notes, path


def bad_cases():
    """(name, doc, expected path prefix) for the refusals of the specification."""
    out = []
    base = fixed_cases()[0][1]

    d = copy.deepcopy(base)                  # item 1: inverse_option with settle != base
    d["instruments"][1]["settle"] = "USDT"
    out.append(("inverse_option settle != base", d, "instruments[1].settle"))

    d = copy.deepcopy(base)                  # item 1: "option" with settle == base
    d["instruments"][1]["kind"] = "option"
    out.append(("option settled in its base", d, "instruments[1].kind"))

    d = copy.deepcopy(base)                  # item 6: a linear contract in a coin account
    d["instruments"].append({"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC",
                             "settle": "USDT", "contract_size": "1", "brackets": bracket()})
    d["marks"]["BTCUSDT"] = "60010"
    d["accounts"][0]["positions"].append({"symbol": "BTCUSDT", "quantity": "1", "entry_price": "60000"})
    out.append(("linear perp in a BTC portfolio account", d, "accounts[0].positions[2]"))

    d = copy.deepcopy(base)                  # item 6: other collateral in a coin account
    d["accounts"][0]["collateral"]["USDT"] = "1000"
    out.append(("USDT collateral in a BTC portfolio account", d, "accounts[0].collateral"))

    d = copy.deepcopy(base)                  # a coin option in a USDT portfolio account
    d["accounts"][0]["settle"] = "USDT"
    d["accounts"][0]["collateral"] = {"USDT": "1000"}
    d["accounts"][0]["positions"] = d["accounts"][0]["positions"][:1]
    out.append(("inverse option in a USDT portfolio account", d, "accounts[0].positions[0]"))

    d = copy.deepcopy(base)                  # an index underlying that is not the coin
    d["instruments"][1]["underlying"] = "ETH"
    out.append(("inverse option on another coin's index", d, "instruments[1].underlying"))

    d = copy.deepcopy(base)                  # options only in portfolio accounts
    d["accounts"][0]["mode"] = "standard"
    out.append(("inverse option in a standard account", d, "accounts[0].positions[0]"))
    return out


def check_bad(solvent, doc, expected):
    path, rc, out, err = run_binary(solvent, doc)
    lines = [x for x in err.splitlines() if x.strip()]
    probs = []
    if rc != 2:
        probs.append(f"exit {rc}, expected 2 ({err.strip()[:200]})")
    if out.strip():
        probs.append("stdout not empty")
    if len(lines) != 1 or not lines[0].startswith(expected):
        probs.append(f"stderr {err.strip()[:200]!r} does not start with {expected!r}")
    return probs, path


def swift_accepts(solvent):
    """True when `solvent evaluate` evaluates the fixed case A; else the refusal."""
    path, rc, out, err = run_binary(solvent, fixed_cases()[0][1])
    os.unlink(path)
    if rc == 0:
        return True, ""
    return False, f"exit {rc}: {err.strip()[:200]}"


def keep(path, name):
    if path and os.path.exists(path):
        dst = os.path.join(FAIL_DIR, f"{name}.json")
        os.replace(path, dst)
        return dst
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--solvent", required=True)
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--require-swift", action="store_true",
                    help="fail when solvent evaluate does not accept inverse_option")
    ap.add_argument("--max-report", type=int, default=8)
    args = ap.parse_args()
    os.makedirs(FAIL_DIR, exist_ok=True)
    tally = [0, 0]
    compared = 0

    try:
        n = iref.self_check()
        record("reference self-checks", [], tally)
        compared += n
    except AssertionError as exc:
        record("reference self-checks", [str(exc)], tally)
    for name, doc, expect in fixed_cases():
        probs = check_fixed_reference(name, doc, expect)
        record(f"fixed {name} (reference vs hand)", probs, tally)
        compared += sum(len(v) for v in expect.values())

    ok, why = swift_accepts(args.solvent)
    if not ok:
        msg = f"solvent evaluate does not accept inverse_option yet ({why})"
        if args.require_swift:
            record("swift support", [msg], tally)
        else:
            print(f"note: {msg}: reference self-checks and hand cases only ({compared} checks)")
        if compared == 0:
            record("nothing compared", ["zero checks"], tally)
        finish(tally)

    reported = 0

    def report(label, probs, path, name):
        nonlocal reported
        kept = keep(path, name) if probs else None
        if probs and reported < args.max_report:
            record(label + (f" [{kept}]" if kept else ""), probs[:6] + (["…"] if len(probs) > 6 else []), tally)
            reported += 1
        else:
            record(label, probs, tally) if not probs else (tally.__setitem__(1, tally[1] + 1))
        if path and not probs and os.path.exists(path):
            os.unlink(path)

    for name, doc, expect in fixed_cases():
        probs, notes, path = check_valid(args.solvent, doc, expect)
        report(f"fixed {name}", probs, path, f"fixed-{name}")
        compared += 1
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "Examples", "evaluate", "portfolio-inverse.json")
    if os.path.exists(example):              # the shipped example, every coin account
        with open(example) as fh:
            doc = json.load(fh)
        probs, notes, path = check_valid(args.solvent, doc)
        report("Examples/evaluate/portfolio-inverse.json", probs, path, "example-portfolio-inverse")
        compared += 1
    rng = random.Random(args.seed)
    near = 0
    for k in range(args.cases):
        doc = gen_case(rng)
        probs, notes, path = check_valid(args.solvent, doc)
        near += len(notes)
        report(f"random case {k}", probs, path, f"random-{args.seed}-{k}")
        compared += 1
    for name, doc, expected in bad_cases():
        probs, path = check_bad(args.solvent, doc, expected)
        report(f"bad input: {name}", probs, path, "bad-" + name.replace(" ", "-"))
        compared += 1
    for name, doc in probe_cases():
        probs, note = check_probe(args.solvent, doc)
        record(f"probe: {name}", probs, tally)
        if note:
            print(f"note: probe {name}: {note}")
        compared += 1
    if near:
        print(f"note: {near} near ties (status or worst scenario within tolerance)")
    if compared == 0:
        record("nothing compared", ["zero checks"], tally)
    finish(tally)


if __name__ == "__main__":
    main()
