#!/usr/bin/env python3
"""Independent reference (test oracle) of coin-settled (inverse) options — issue 17.

Written from the shared specification of issue 17 (the "inverse options" text quoted in
docs/options.md / docs/evaluate.md by the Swift side), docs/evaluate.md ("Portfolio (scenario)
margin": grid, vol shocks, floors, groups) and the venue's own documentation — NOT from the
Swift sources:

  * Deribit, "Inverse Options" (https://support.deribit.com/hc/en-us/articles/25944688327069-Inverse-Options)
    and "Options" (https://www.deribit.com/pages/docs/options): European, cash settled; the
    premium is paid in the coin (BTC); a contract is 1 coin of underlying; at expiry the writer
    pays the holder the intrinsic value converted to coin at the delivery price: a call with
    strike 10,000 USD settling at 12,500 pays 2,500 USD = 2,500/12,500 = 0.2 BTC (Example 1).
    So the coin intrinsic value per coin of underlying is max(S − K, 0)/S (call),
    max(K − S, 0)/S (put), and the coin value of the option is its USD value divided by the
    underlying's USD price: v = Black76_USD(F, K, σ, T, r = 0)/F (Deribit shows the USD price
    "by using the latest index price" and quotes the implied vol against the forward).
  * Inverse perpetual/future PnL in coin, per USD of face value Q: Q·(1/entry − 1/exit) for a
    long (Deribit Insights, "Deribit inverse contracts: calculating profit in BTC and USD",
    https://insights.deribit.com/uncategorized/deribit-inverse-contracts-calculating-profit-in-btc-and-usd/;
    Crypto Facilities, https://support.cryptofacilities.com/hc/en-us/articles/115002807834:
    "(1/75,000 − 1/76,000)·10,000 = 0.00175 bitcoin").
  * Deribit Portfolio Margin (https://support.deribit.com/hc/en-us/articles/25944756247837-Portfolio-Margin):
    "Segregated Portfolio Margin: each of the settlement currencies is treated separately";
    the portfolio is stress-tested over underlying moves × vol up/same/down, worst scenario.
    The grid, vol-shock rule, floors and MM fraction are this project's (docs/evaluate.md).
  * Deribit standard margin for options in BTC per BTC of underlying (as reproduced by TSLab,
    https://doc.tslab.pro/tslab/eng/data-providers/connection-to-broker/deribit-cryptocurrency-exchange/deribit-margin-requirements-calculation):
    short call IM = max(0.15 − OTM/F, 0.1) + mark, MM = 0.075 + mark; short put IM =
    max(max(0.15 − OTM/F, 0.1) + mark, MM), MM = max(0.075, 0.075·mark) + mark.

Exact fractions (fractions.Fraction) everywhere except the normal CDF / log / sqrt of
Black-76 (float via scipy.special.ndtr).  As docs/evaluate.md says for linear options, a
group's option value changes are summed in float per scenario and cross into exact decimals
once (half-even, 18 digits); the inverse perpetual/future parts are exact.

Interpretations (where the specification leaves a choice; the cross-check reports them):
  * an option position's equity term is its uPnL q·cs·(mark or v0 − entry) (item 3: "as for
    linear options"), entry_price in coin; EQUITY_IS_VALUE switches to q·cs·(mark or v0).
  * r = 0 for inverse options whatever the document's `rate` (item 3 says r = 0).
  * the option's underlying F is the mark of its `underlying` instrument (an inverse
    perpetual or future), or, when `underlying` names the coin itself, the coin's asset price
    (an index, in the document's price unit, USD) — as docs/evaluate.md states it.
  * position outputs: an option's `notional` is |q|·cs coins of underlying, its `delta` the
    coin delta Δ − v per contract (docs/evaluate.md); a perpetual's notional Q/mark.
  * collateral in the coin C: amount at face value, no haircut even if `haircuts.C` is set.

Library use:
    evaluate_coin_accounts(doc) -> {account id: result} for every coin-settled portfolio
        account (numbers as Fraction; see _account for the fields).
    self_check() -> number of checks passed (raises AssertionError on a failure).
    python3 inverse_option_reference.py --self-check
    python3 inverse_option_reference.py DOC.json      # prints the coin-settled accounts
"""
from __future__ import annotations

import json
import math
import os
import sys
from fractions import Fraction

from scipy.special import ndtr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_reference as ref  # noqa: E402  (the standard pool rules, from docs/evaluate.md)
import portfolio_reference as pref  # noqa: E402  (grid, vol shock, policy, smile, time parsing)

EQUITY_IS_VALUE = False
ZERO = Fraction(0)
ONE = Fraction(1)
E18 = 10 ** 18
YEAR_SECONDS = 365 * 86400
INVERSE_LINEAR = ("inverse_perpetual", "inverse_future")


class ReferenceError_(Exception):
    """A document the reference rejects (path, reason), as `solvent evaluate` should."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = path


# --------------------------------------------------------------------------- rounding

def d18(x) -> Fraction:
    """Half-even to 18 fractional digits (Python's round is half-even on Fractions)."""
    return Fraction(round(Fraction(x) * E18), E18)


def floor18(x: Fraction) -> Fraction:
    return Fraction(math.floor(Fraction(x) * E18), E18)


def ceil18(x: Fraction) -> Fraction:
    return Fraction(math.ceil(Fraction(x) * E18), E18)


# --------------------------------------------------------------------------- model (item 3)

def black76_usd(F: float, K: float, T: float, sigma: float, call: bool) -> float:
    """Black-76 value in USD per coin of underlying, r = 0; intrinsic at or after expiry.
    Black (1976), J. Financial Economics 3: C = F·N(d1) − K·N(d2), P = K·N(−d2) − F·N(−d1),
    d1 = (ln(F/K) + σ²T/2)/(σ√T), d2 = d1 − σ√T."""
    if T <= 0:
        return max(F - K, 0.0) if call else max(K - F, 0.0)
    sd = sigma * math.sqrt(T)
    d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if call:
        return F * float(ndtr(d1)) - K * float(ndtr(d2))
    return K * float(ndtr(-d2)) - F * float(ndtr(-d1))


def coin_value(F: float, K: float, T: float, sigma: float, call: bool) -> float:
    """v(F, σ, T) = Black76_USD/F: coin per coin of underlying (spec item 3)."""
    return black76_usd(F, K, T, sigma, call) / F


def coin_delta(F: float, K: float, T: float, sigma: float, call: bool) -> float:
    """Deribit's "BTC delta" of an inverse option: Black-76 delta − v (spec item 8).
    Equals F·∂v/∂F (v = C/F ⇒ F·v' = C' − C/F = Δ − v); checked numerically in self_check."""
    if T <= 0:
        d = (1.0 if F > K else 0.0) if call else (-1.0 if F < K else 0.0)
    else:
        sd = sigma * math.sqrt(T)
        d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
        d = float(ndtr(d1)) if call else -float(ndtr(-d1))
    return d - coin_value(F, K, T, sigma, call)


def coin_greeks(F: float, K: float, T: float, sigma: float, call: bool):
    """(delta, gamma, vega, theta) per contract of 1 coin, in coin (spec item 8), T > 0:
    delta = Δ − v (Deribit's BTC delta); gamma = ∂(Δ − v)/∂F = Γ − (Δ − v)/F (the delta's
    change per +1 USD of the underlying, as the linear gamma is the delta's change per +1
    settle unit); vega = (∂C/∂σ)/100/F (per vol point); theta = (∂C/∂t)/365/F (per calendar
    day; ∂C/∂t = −F·n(d1)·σ/(2√T) for r = 0, calls and puts alike).  Γ = n(d1)/(F·σ√T),
    ∂C/∂σ = F·n(d1)·√T (Black 1976, r = 0)."""
    sd = sigma * math.sqrt(T)
    d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
    pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    dc = coin_delta(F, K, T, sigma, call)
    gamma = pdf / (F * sd) - dc / F
    vega = F * pdf * math.sqrt(T) / 100 / F
    theta = -F * pdf * sigma / (2 * math.sqrt(T)) / 365 / F
    return dc, gamma, vega, theta


def intrinsic_coin(S: Fraction, K: Fraction, call: bool) -> Fraction:
    """Exact coin intrinsic value per coin of underlying at settlement price S (item 5)."""
    return (max(S - K, ZERO) if call else max(K - S, ZERO)) / S


def settlement_cash(q: Fraction, cs: Fraction, S: Fraction, K: Fraction, call: bool) -> Fraction:
    """Signed coin cash flow of a position at expiry, rounded in the venue's favour (item 5):
    a holder (q > 0) receives at most, a writer (q < 0) pays at least the exact amount —
    both are the exact signed amount rounded toward −∞ at 18 digits."""
    return floor18(q * cs * intrinsic_coin(S, K, call))


def premium_cash(q: Fraction, cs: Fraction, price: Fraction) -> Fraction:
    """Signed coin cash flow of a fill of q contracts at coin price p (item 4): a buyer pays
    at least, a seller receives at most q·cs·p — the exact −q·cs·p rounded toward −∞."""
    return floor18(-q * cs * price)


def standard_margin_coin(call: bool, q: Fraction, cs: Fraction, F: Fraction, K: Fraction,
                         mark: Fraction):
    """(IM, MM) in coin of a standard account's option position (item 7; docs/options.md's
    parameters: 0.15, 0.10, 0.075), exact (unrounded).  A long needs no margin (its
    premium is paid); a short of |q|·cs coins of underlying:
      call: IM = max(0.15 − OTM/F, 0.10) + m,           MM = 0.075 + m
      put:  IM = max(max(0.15 − OTM/F, 0.10) + m, MM),  MM = max(0.075, 0.075·m) + m
    with OTM = max(K − F, 0) (call), max(F − K, 0) (put) in USD, m the coin mark."""
    if q >= 0:
        return ZERO, ZERO
    n = -q * cs
    otm = max(K - F, ZERO) if call else max(F - K, ZERO)
    base = max(Fraction(15, 100) - otm / F, Fraction(10, 100))
    if call:
        im, mm = base + mark, Fraction(75, 1000) + mark
    else:
        mm = max(Fraction(75, 1000), Fraction(75, 1000) * mark) + mark
        im = max(base + mark, mm)
    return n * im, n * mm


def inverse_upnl(q: Fraction, cs: Fraction, entry: Fraction, mark: Fraction) -> Fraction:
    """Coin uPnL of an inverse perpetual/future: s·Q·(1/entry − 1/mark), Q = |q|·cs USD."""
    return q * cs * (1 / entry - 1 / mark)


def inverse_move_gain(q: Fraction, cs: Fraction, F: Fraction, m: Fraction) -> Fraction:
    """Coin gain of an inverse perpetual/future when its mark moves F → F(1+m) (item 6)."""
    return q * cs * (1 / F - 1 / (F * (1 + m)))


# --------------------------------------------------------------------------- documents

def _instruments(doc):
    out = {}
    for i, raw in enumerate(doc.get("instruments") or []):
        p = f"instruments[{i}]"
        kind = raw.get("kind")
        inst = {"symbol": raw["symbol"], "kind": kind, "base": raw.get("base"),
                "settle": raw.get("settle"), "index": i,
                "cs": Fraction(raw["contract_size"])}
        if kind == "inverse_option":
            if raw.get("settle") != raw.get("base"):
                raise ReferenceError_(f"{p}.settle", "an inverse option settles in its base coin")
            inst["call"] = raw["right"] == "call"
            inst["strike"] = Fraction(raw["strike"])
            inst["expiry"] = pref._time(raw["expiry"], f"{p}.expiry")
            inst["underlying"] = raw["underlying"]
        elif kind == "option" and raw.get("settle") == raw.get("base"):
            raise ReferenceError_(f"{p}.kind", "settle equals base: use inverse_option")
        out[inst["symbol"]] = inst
    return out


def coin_accounts(doc):
    """Indices of the portfolio accounts settled in a coin that is some instrument's base."""
    bases = {i.get("base") for i in doc.get("instruments") or []}
    return [k for k, a in enumerate(doc.get("accounts") or [])
            if a.get("mode") == "portfolio" and a.get("settle") in bases]


def _context(doc):
    insts = _instruments(doc)
    stripped = dict(doc, accounts=[],
                    instruments=[r for r in doc.get("instruments") or []
                                 if r.get("kind") != "inverse_option"])
    ext = pref._parse_ext(stripped)          # policy, implied_vols, smiles, valuation_time
    std_doc = dict(stripped, accounts=[],
                   marks={k: v for k, v in doc["marks"].items()
                          if k not in insts or insts[k]["kind"] != "inverse_option"})
    std_doc["instruments"] = [r for r in std_doc["instruments"] if r.get("kind") != "option"]
    policy_std = ref._parse(std_doc)[0]      # warning/call/restore ratios
    vt = pref._time(doc["valuation_time"], "valuation_time") if doc.get("valuation_time") else None
    return insts, ext, policy_std, vt


def _account(doc, idx, insts, ext, policy_std, vt):
    acc = doc["accounts"][idx]
    pol = ext["policy"]
    C = acc["settle"]
    marks = {k: Fraction(v) for k, v in doc["marks"].items()}
    W = ZERO
    for asset, amt in (acc.get("collateral") or {}).items():
        if asset != C:
            raise ReferenceError_(f"accounts[{idx}].collateral.{asset}",
                                  f"a portfolio account settled in {C} holds only {C}")
        W += Fraction(amt)                   # the coin itself: face value, no haircut
    positions, groups = [], []
    upnl_total = ZERO
    for j, praw in enumerate(acc.get("positions") or []):
        pp = f"accounts[{idx}].positions[{j}]"
        inst = insts[praw["symbol"]]
        if inst["kind"] not in INVERSE_LINEAR + ("inverse_option",) or inst["settle"] != C:
            raise ReferenceError_(f"{pp}.symbol", "not an inverse contract settled in " + C)
        q, entry, cs = Fraction(praw["quantity"]), Fraction(praw["entry_price"]), inst["cs"]
        g = inst["base"]
        if g not in groups:
            groups.append(g)
        pos = {"symbol": inst["symbol"], "q": q, "cs": cs, "group": g,
               "option": inst["kind"] == "inverse_option"}
        if pos["option"]:
            u = inst["underlying"]
            if u in insts and u in marks:
                F = marks[u]
            elif u == inst["base"] and u in (doc.get("assets") or {}):
                F = Fraction(doc["assets"][u])       # an index: the coin's price (USD)
            else:
                raise ReferenceError_(f"{pp}.symbol", "underlying is neither an instrument nor the coin")
            K = inst["strike"]
            T = (inst["expiry"] - vt) / YEAR_SECONDS
            sym = inst["symbol"]
            sigma = ext["vols"][sym] if sym in ext["vols"] else pref.smile_vol(ext["smiles"][u], K)
            v0f = coin_value(float(F), float(K), float(T), float(sigma), inst["call"])
            V0 = d18(v0f)
            price = marks.get(sym, V0)
            upnl = q * cs * (price if EQUITY_IS_VALUE else price - entry)
            pos.update({"F": F, "K": K, "T": T, "sigma": sigma, "v0f": v0f, "V0": V0,
                        "call": inst["call"], "s": pref.vol_shock(pol, float(T))})
            pos["out"] = {"value": V0, "unrealized_pnl": upnl, "implied_vol": sigma,
                          "years": max(T, ZERO), "notional": abs(q) * cs,
                          "delta": d18(coin_delta(float(F), float(K), float(T), float(sigma),
                                                  inst["call"]))}
        else:
            mark = marks[inst["symbol"]]
            upnl = inverse_upnl(q, cs, entry, mark)
            pos["mark"] = mark
            pos["out"] = {"unrealized_pnl": upnl, "notional": abs(q) * cs / mark}
        upnl_total += upnl
        positions.append(pos)

    gout, by = [], {}
    N = pol["price_steps"]
    for g in groups:
        R = pol["price_ranges"].get(g, pol["price_range"])
        scen = pref.scenarios(pol, R)
        gp = [p for p in positions if p["group"] == g]
        losses = []
        for sc in scen:
            m = sc["move"]
            gain = ZERO
            opt = 0.0
            for p in gp:
                if p["option"]:
                    sig = pref.shocked_vol(float(p["sigma"]), p["s"], sc["vol_shock"])
                    vf = coin_value(float(p["F"] * (1 + m)), float(p["K"]), float(p["T"]),
                                    sig, p["call"])
                    opt += float(p["q"] * p["cs"]) * (vf - p["v0f"])
                else:
                    gain += inverse_move_gain(p["q"], p["cs"], p["mark"], m)
            gain += d18(opt)
            losses.append(-gain * sc["weight"])
        mx = max(losses)
        wi = losses.index(mx)
        delta_eq = (losses[1] - losses[3 * (N - 1) + 1]) / 2
        som = pol["short_option_minimum"] * sum(
            (abs(p["q"]) * p["cs"] for p in gp if p["option"] and p["q"] < 0), ZERO)
        bm = pol["basis_minimum"] * sum(
            (abs(p["q"]) * p["cs"] / p["mark"] for p in gp if not p["option"]), ZERO)
        worst = max(ZERO, mx)
        g_out = {"underlying": g, "price_range": R, "worst_loss": worst,
                 "worst_scenario": {"index": wi, "move": scen[wi]["move"],
                                    "vol_shock": scen[wi]["vol_shock"],
                                    "weight": scen[wi]["weight"]},
                 "short_option_minimum": som, "basis_minimum": bm,
                 "initial_margin": max(worst, som, bm), "delta_equivalent": delta_eq,
                 "scenario_losses": losses}
        gout.append(g_out)
        by[g] = g_out
    # correlation credit (docs/evaluate.md); a coin account has one group, so normally 0
    A = {g: min(by[g]["initial_margin"], abs(by[g]["delta_equivalent"])) for g in groups}
    credit = ZERO
    pairs = sorted(((-abs(r), n) for n, r in pol["correlations"].items()
                    if all(x in A for x in n.split("/")) and len(set(n.split("/"))) == 2))
    for _, name in pairs:
        rho = pol["correlations"][name]
        g1, g2 = name.split("/")
        d1, d2 = by[g1]["delta_equivalent"], by[g2]["delta_equivalent"]
        if d1 == 0 or d2 == 0:
            continue
        opposite = (d1 > 0) != (d2 > 0)
        if (rho > 0 and opposite) or (rho < 0 and not opposite):
            h = min(A[g1], A[g2])
            credit += pol["correlation_credit"] * abs(rho) * h
            A[g1] -= h
            A[g2] -= h
    im = sum((g["initial_margin"] for g in gout), ZERO) - credit
    mm = pol["maintenance_fraction"] * im
    equity = W + upnl_total
    pool = ref.make_pool(policy_std, "portfolio", equity, im, mm, bool(positions), W)
    return {"id": acc["id"], "status": pool["status"], "pool": pool,
            "positions": [p["out"] for p in positions],
            "scenario_margin": {"initial_margin": im, "maintenance_margin": mm,
                                "correlation_credit": credit, "groups": gout}}


def evaluate_coin_accounts(doc):
    insts, ext, policy_std, vt = _context(doc)
    return {doc["accounts"][k]["id"]: _account(doc, k, insts, ext, policy_std, vt)
            for k in coin_accounts(doc)}


# --------------------------------------------------------------------------- self-checks

def _close(a, b, tol):
    return abs(float(a) - float(b)) <= tol


def self_check() -> int:
    """Checks of the model against the venue's worked examples and identities; returns the
    number of checks made (raises AssertionError on the first failure)."""
    n = 0

    def ok(cond, what):
        nonlocal n
        assert cond, what
        n += 1

    F = Fraction
    # Deribit Options, Example 1: call K = 10,000 bought at 0.05 BTC, delivery 12,500:
    # 2,500 USD = 0.2 BTC credited; profit 0.15 BTC.  A writer is debited 0.2 BTC.
    ok(intrinsic_coin(F(12500), F(10000), True) == F(1, 5), "Deribit example 1: 0.2 BTC")
    ok(settlement_cash(F(1), F(1), F(12500), F(10000), True) + premium_cash(F(1), F(1), F("0.05"))
       == F("0.15"), "Deribit example 1: profit 0.15 BTC")
    ok(settlement_cash(F(-1), F(1), F(12500), F(10000), True) == F(-1, 5), "writer pays 0.2 BTC")
    ok(intrinsic_coin(F(12000), F(12500), True) == 0, "OTM call expires worthless")
    # Deribit support article: call K = 100,000 at 0.05 BTC, delivery 125,000: 25,000 USD
    # per BTC = 0.2 BTC.
    ok(intrinsic_coin(F(125000), F(100000), True) == F(1, 5), "support article: 0.2 BTC")
    # Put K = 10,000, delivery 5,000: 5,000 USD = 1 BTC; delivery 8,000: 2,000/8,000 = 0.25.
    ok(intrinsic_coin(F(5000), F(10000), False) == 1, "put: 1 BTC")
    ok(intrinsic_coin(F(8000), F(10000), False) == F(1, 4), "put: 0.25 BTC")
    # Rounding in the venue's favour: 1/3 coin to a holder is 0.333…3 (18 threes), from a
    # writer 0.333…4.  Call K = 20,000, S = 30,000: 10,000/30,000 = 1/3.
    third = settlement_cash(F(1), F(1), F(30000), F(20000), True)
    ok(third == F(333333333333333333, E18), "holder receives at most 1/3")
    ok(settlement_cash(F(-1), F(1), F(30000), F(20000), True) == -F(333333333333333334, E18),
       "writer pays at least 1/3")
    ok(premium_cash(F(3), F(1), F(1, 3) + F(1, 10 ** 30)) < -1, "buyer pays at least")
    ok(premium_cash(F(-3), F(1), F(1, 3)) == 1, "seller of 3 at 1/3 receives 1")
    # ATM Black-76 closed form (r = 0): C = F·(2N(σ√T/2) − 1).  F = K = 50,000, σ = 0.5,
    # T = 1: N(0.25) = 0.5987063256829237 → C = 9,870.63256829237 USD, v = 0.1974126513658474.
    ok(_close(coin_value(50000.0, 50000.0, 1.0, 0.5, True), 0.1974126513658474, 1e-13),
       "ATM coin value")
    ok(_close(black76_usd(50000.0, 50000.0, 1.0, 0.5, True), 9870.632568292370, 1e-8),
       "ATM USD value")
    # Put-call parity in coin (r = 0): c − p = (F − K)/F = 1 − K/F; bounds 0 ≤ c ≤ 1.
    import random
    rng = random.Random(17)
    for _ in range(200):
        Fx = rng.uniform(1000, 100000)
        K = Fx * rng.uniform(0.3, 3)
        T = rng.choice([0.0, rng.uniform(1e-4, 2)])
        s = rng.uniform(0.05, 2)
        c, p = coin_value(Fx, K, T, s, True), coin_value(Fx, K, T, s, False)
        ok(abs((c - p) - (1 - K / Fx)) < 1e-12 * max(1.0, K / Fx), "coin parity")
        ok(-1e-15 <= c <= 1 + 1e-15, "coin call value in [0, 1]")
        ok(p >= max(K - Fx, 0) / Fx - 1e-12 * max(1.0, K / Fx), "put above coin intrinsic")
        if T > 0:
            h = Fx * 1e-5        # delta_coin = F·∂v/∂F (central difference)
            num = Fx * (coin_value(Fx + h, K, T, s, True) - coin_value(Fx - h, K, T, s, True)) / (2 * h)
            ok(abs(num - coin_delta(Fx, K, T, s, True)) < 1e-6, "coin delta = F·dv/dF")
            for call in (True, False):   # gamma, vega, theta against central differences
                dc, g, vg, th = coin_greeks(Fx, K, T, s, call)
                num_g = (coin_delta(Fx + h, K, T, s, call) - coin_delta(Fx - h, K, T, s, call)) / (2 * h)
                ok(abs(num_g - g) < 1e-6 * max(1.0, abs(g)) / Fx, "coin gamma = d(coin delta)/dF")
                hv = 1e-5
                num_v = (black76_usd(Fx, K, T, s + hv, call) - black76_usd(Fx, K, T, s - hv, call)) / (2 * hv) / 100 / Fx
                ok(abs(num_v - vg) < 1e-7, "coin vega")
                if T > 2e-3:
                    ht = 1e-5
                    num_t = -(black76_usd(Fx, K, T + ht, s, call) - black76_usd(Fx, K, T - ht, s, call)) / (2 * ht) / 365 / Fx
                    ok(abs(num_t - th) < 1e-7, "coin theta")
    # The float coin value against a 40-digit mpmath Black-76 (the same formula, exact
    # inputs): the Double crossing is the only error, far below the cross-check's 1e-9.
    import mpmath
    mpmath.mp.dps = 40
    for _ in range(100):
        Fx, K = rng.uniform(1000, 100000), rng.uniform(500, 200000)
        T, s = rng.uniform(1e-3, 2), rng.uniform(0.05, 2)
        call = rng.random() < 0.5
        mF, mK, sd = mpmath.mpf(Fx), mpmath.mpf(K), mpmath.mpf(s) * mpmath.sqrt(mpmath.mpf(T))
        d1 = (mpmath.log(mF / mK) + sd * sd / 2) / sd
        d2 = d1 - sd
        exact = (mF * mpmath.ncdf(d1) - mK * mpmath.ncdf(d2) if call
                 else mK * mpmath.ncdf(-d2) - mF * mpmath.ncdf(-d1)) / mF
        ok(abs(float(exact) - coin_value(Fx, K, T, s, call)) < 1e-13 * max(1.0, K / Fx),
           "coin value vs mpmath")
    # Inverse perp: long 10,000 USD, 75,000 → 76,000: (1/75,000 − 1/76,000)·10,000 =
    # 0.00175438596… BTC (Crypto Facilities' example, rounded there to 0.00175).
    ok(d18(inverse_upnl(F(10000), F(1), F(75000), F(76000))) == F("0.001754385964912281"),
       "inverse uPnL example")
    # Scenario gain of a long inverse perp Q = 1,000 USD at 50,000 for m = +0.15:
    # 1,000·(1/50,000 − 1/57,500) = 1,000·7,500/(50,000·57,500) = 3/1,150 = 0.0026086956…
    ok(inverse_move_gain(F(1000), F(1), F(50000), F("0.15")) == F(3, 1150), "perp scenario gain")
    # Standard rule, short call K = 60,000, F = 50,000, mark 0.01 BTC: OTM = 10,000,
    # 0.15 − 0.2 < 0.1 ⇒ IM = (0.1 + 0.01) = 0.11, MM = 0.075 + 0.01 = 0.085 per coin.
    ok(standard_margin_coin(True, F(-2), F(1), F(50000), F(60000), F("0.01"))
       == (F("0.22"), F("0.17")), "standard short call")
    # Short put K = 40,000, F = 50,000, mark 0.02: OTM = 10,000 ⇒ IM = 0.1 + 0.02 = 0.12,
    # MM = max(0.075, 0.0015) + 0.02 = 0.095.  ITM put K = 60,000, mark 0.25: OTM 0 ⇒
    # IM = 0.15 + 0.25 = 0.40, MM = 0.075 + 0.25 = 0.325.  Long: 0, 0.
    ok(standard_margin_coin(False, F(-1), F(1), F(50000), F(40000), F("0.02"))
       == (F("0.12"), F("0.095")), "standard short put OTM")
    ok(standard_margin_coin(False, F(-1), F(1), F(50000), F(60000), F("0.25"))
       == (F("0.40"), F("0.325")), "standard short put ITM")
    ok(standard_margin_coin(True, F(3), F(1), F(50000), F(60000), F("0.01")) == (0, 0), "long")
    return n


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--self-check":
        print(f"inverse_option_reference: {self_check()} self-checks passed")
        sys.exit(0)
    if len(sys.argv) != 2:
        print("usage: inverse_option_reference.py --self-check | DOC.json", file=sys.stderr)
        sys.exit(64)
    with open(sys.argv[1]) as fh:
        d = json.load(fh)
    print(json.dumps(ref._render(evaluate_coin_accounts(d)), indent=1))
