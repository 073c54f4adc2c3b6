#!/usr/bin/env python3
"""Independent oracle for the stale-option-mark rule (brief ORACLE4), written from
docs/options.md ("Stale option marks", "Coin-settled (inverse) options", "Standard accounts and
options", "Premium") and docs/scenarios.md (`parameters`, `change_parameters`, `option_mark`,
`mark`), not from the Swift.

    python3 crosscheck_stale_marks.py --solvent PATH [--cases N] [--seed S]

The rule as documented: every fed option mark (`option_mark`, a `mark` of the option, a
scenario's starting mark) is quoted at its underlying's mark of that moment, F_q.  A `mark`
moving the underlying to F with |F - F_q| > tolerance*F_q (exact) makes the fed mark stale:
`option_mark_stale` (symbol, mark_before, quoted_underlying_price, underlying_price, tolerance),
then `option_mark_computed` (symbol, price, implied_vol, underlying_price) with the price
Black-76 (rate 0) at F, the option's last mark implied vol and T = (expiry - the fed mark's
source time)/365 days, floored at 1e-8; a coin-settled option's mark is that value / F (coin),
floored at 1e-8.  The option stays model-marked (an `option_mark_computed` at every later move
of its underlying) until a fresh fed mark.  Within the tolerance the fed mark stands and the
drift is cumulative from F_q.  `option_mark_tolerance` in [0, 1], default 0.01.

Each case is a random scenario (seeded): a linear perpetual BTCUSDT with USDT-settled options
and an inverse perpetual BTC-PERPETUAL with coin-settled (BTC) options, expiries 1 to 91 days
out; fed option marks with implied vols and source times before the command time; underlying
marks inside the tolerance, exactly at its edge (not stale: the comparison is strict), 1e-8
beyond it, cumulative drifts, returns to F_q, large crashes and spikes, doublings for
tolerance 1; fresh `option_mark`s and `mark`s of options that reset F_q; `change_parameters`
of the tolerance (0, 1, the default and others), immediate or scheduled (applied after the
command that reaches its effective time: docs/loans.md); volatility slices (sticky strike: the
stale rule leaves surface marks alone, and a fed mark takes an option off the surface); a jump
past the nearest expiry (expired options are not re-marked); marks repeating the underlying's
price (the engine re-marks model-marked options then: same inputs, same price); holders in
standard and portfolio accounts, USDT and BTC, some on thin collateral.  Compared per command: the set of (event type, symbol)
of option_mark_stale / option_mark_computed, every field of those events (exact fractions,
except the computed price: the reference is Black-76 in mpmath at 40 digits and the engine
evaluates in Double, so |engine - ref| <= 1e-12*|ref| + 1e-15*(F+K) (linear) or 1e-15 (coin);
at the floor both must be exactly 1e-8), that those events come before any margin /
liquidation event of the same command ("inside the same command, before any re-evaluation,
margin call or liquidation"), and at the end every account's pool equity (balance + sum
q*cs*mark: docs/options.md "Premium") and, for standard accounts, its IM and MM by the
standard rule (plus docs/loans.md's debt margin on a negative cash balance, which a liquidation
buying back a re-marked short can leave), from the reference marks (a fed mark contributes no
tolerance: exact).  Every option position shown by a margin or liquidation event carries the
reference mark and the fed mark's source time, and a backstop liquidation fill of an option is
at that mark (the liquidation acts on the re-mark).  Every `--paths-every`-th case also runs
through `simulate --full-rescan` (same output as the at-risk index path) and through a journal
(`--data`, snapshots) replayed from a snapshot taken mid-way: the same state hash (the stale
state in the snapshot and the restore path).
Plus fixed cases: the worked example of docs/options.md (the coin writer's crash to 42,000)
and hand-made edges.

Last line `N passed, M failed`; exit 1 on a failure or when nothing was compared.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time as _time
from fractions import Fraction

import mpmath

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import finish, record  # noqa: E402

mpmath.mp.dps = 40
F = Fraction
FLOOR = F(1, 10 ** 8)                   # the range contract's smallest price (docs/options.md)
E18 = F(1, 10 ** 18)
DEFAULT_TOL = F(1, 100)
YEAR = 365 * 86400                      # seconds in the 365-day year of T
START = 1709280000                      # 2024-03-01T08:00:00Z
BRACKETS = [{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]
POLICY = {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"}
MARGIN_EVENTS = {"margin_warning", "margin_call", "margin_call_cured", "liquidation_started",
                 "liquidation_ended", "liquidation_fill", "liquidation_step", "liquidation_throttled"}
MARK_EVENTS = ("option_mark_stale", "option_mark_computed")


def iso(t):
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(t))


def dec(x: Fraction, places=18) -> str:
    """A fraction with a terminating expansion as a decimal string (exact; asserts it is)."""
    x = F(x)
    q = x * 10 ** places
    assert q.denominator == 1, f"{x} needs more than {places} places"
    n = q.numerator
    s = "-" if n < 0 else ""
    n = abs(n)
    whole, frac = divmod(n, 10 ** places)
    frac_s = f"{frac:0{places}d}".rstrip("0")
    return s + str(whole) + ("." + frac_s if frac_s else "")


# --------------------------------------------------------------------------- the reference

def mp(x):
    """A Fraction (or an mpf) as an mpf."""
    return mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else x


def black76(Fx, K, vol, T, call):
    """Black-76, rate 0 (F. Black, J. Financial Economics 3, 1976), in mpmath at 40 digits."""
    Fm, Km, s, Tm = mp(Fx), mp(K), mp(vol), mp(T)
    sd = s * mpmath.sqrt(Tm)
    d1 = (mpmath.log(Fm / Km) + sd * sd / 2) / sd
    d2 = d1 - sd
    if call:
        return Fm * mpmath.ncdf(d1) - Km * mpmath.ncdf(d2)
    return Km * mpmath.ncdf(-d2) - Fm * mpmath.ncdf(-d1)


def model_mark(opt, Fx, vol, src):
    """The documented re-mark: Black-76 at F, the fed vol, T from the fed mark's source time;
    coin-settled: over F; floored at 1e-8 (an mpf, or the exact floor)."""
    T = F(opt["expiry_t"] - src, YEAR)
    v = black76(Fx, opt["K"], vol, T, opt["call"])
    if opt["coin"]:
        v = v / mp(Fx)
    if v < mpmath.mpf(1) / 10 ** 8:
        return FLOOR
    return v


def slice_vol(strikes, vols, K):
    """docs/options.md "Volatility surface": linear in total variance between neighbouring
    strikes, flat beyond the outer ones (exact Fraction at a point or beyond, else an mpf)."""
    if K <= strikes[0]:
        return vols[0]
    if K >= strikes[-1]:
        return vols[-1]
    for j in range(len(strikes) - 1):
        if K == strikes[j]:
            return vols[j]
        if strikes[j] < K < strikes[j + 1]:
            w = vols[j] ** 2 + (vols[j + 1] ** 2 - vols[j] ** 2) * (K - strikes[j]) / (strikes[j + 1] - strikes[j])
            return mpmath.sqrt(mp(w))
    return vols[-1]


def price_tolerance(opt, Fx):
    """What Double evaluation may differ by (module docstring)."""
    if opt["coin"]:
        return F(1, 10 ** 15)
    return (Fx + opt["K"]) / 10 ** 15


class Reference:
    """The option marks of docs/options.md "Stale option marks" (and the surface marks of
    "Volatility surface", which the stale rule must leave alone), command by command.
    An option's state: kind `fed` (price, vol, source time, F_q), `model` (re-marked by the
    stale rule) or `surface` (priced by a slice); `model` and `surface` follow every move."""

    def __init__(self, options, und_marks, tol):
        self.opts = options
        self.und = dict(und_marks)           # underlying symbol -> its mark (Fraction)
        self.tol = tol
        self.state = {}
        self.pending = []                    # scheduled tolerance changes: (effective time, order, value)
        self.slices = {}                     # (underlying, expiry time) -> source time of the last slice
        self.snapshots = []                  # per command: the state after it
        self.refused = set()                 # commands generated to be refused

    def start(self, sym, price, vol, src):
        o = self.opts[sym]
        self.state[sym] = {"kind": "fed", "price": price, "vol": vol, "src": src, "fq": self.und[o["und"]]}

    def live(self, sym, t):
        return self.opts[sym]["expiry_t"] > t

    def fed(self, sym, price, vol, src):
        """`option_mark` (vol given) or `mark` of the option (vol None: its last vol)."""
        s = self.state[sym]
        o = self.opts[sym]
        self.state[sym] = {"kind": "fed", "price": price, "vol": s["vol"] if vol is None else vol,
                           "src": src, "fq": self.und[o["und"]]}
        return []

    def snap(self):
        """The marks after a command (for the positions that margin and liquidation events show)."""
        self.snapshots.append({k: dict(v) for k, v in self.state.items()})

    def schedule(self, effective, value):
        self.pending.append((effective, len(self.pending), value))

    def after_command(self, t):
        """docs/loans.md: a scheduled change_parameters is applied after the command that
        reaches its effective time (that order holds for everything else)."""
        due = sorted(x for x in self.pending if x[0] <= t)
        for x in due:
            self.tol = x[2]
            self.pending.remove(x)

    def mark_underlying(self, und, Fx, t):
        out = []
        for sym in sorted(self.opts):
            o = self.opts[sym]
            if o["und"] != und or not self.live(sym, t):
                continue
            s = self.state[sym]
            if s["kind"] == "fed":
                if abs(Fx - s["fq"]) > self.tol * s["fq"]:
                    out.append(("option_mark_stale", sym, {"mark_before": s["price"], "quoted_underlying_price": s["fq"],
                                                           "underlying_price": Fx, "tolerance": self.tol}))
                else:
                    continue
            v = model_mark(o, Fx, s["vol"], s["src"])
            out.append(("option_mark_computed", sym, {"price": v, "implied_vol": s["vol"], "underlying_price": Fx,
                                                      "_surface": s["kind"] == "surface"}))
            self.state[sym] = {"kind": "surface" if s["kind"] == "surface" else "model", "price": v, "vol": s["vol"],
                               "src": s["src"], "fq": None, "ptol": price_tolerance(o, Fx)}
        self.und[und] = Fx
        return out

    def vol_surface(self, und, expiry_t, strikes, vols, src, t):
        """A sticky-strike slice: prices every live option of that underlying and expiry whose
        current mark is older than the slice (a mark at the same source time wins)."""
        out = []
        Fx = self.und[und]
        for sym in sorted(self.opts):
            o = self.opts[sym]
            if o["und"] != und or o["expiry_t"] != expiry_t or not self.live(sym, t):
                continue
            s = self.state[sym]
            if s["src"] >= src:
                continue
            vol = mp(slice_vol(strikes, vols, o["K"]))   # the engine's slice vol passes through Double
            v = model_mark(o, Fx, vol, src)
            out.append(("option_mark_computed", sym, {"price": v, "implied_vol": vol, "underlying_price": Fx,
                                                      "_surface": True}))
            self.state[sym] = {"kind": "surface", "price": v, "vol": vol, "src": src, "fq": None,
                               "ptol": price_tolerance(o, Fx)}
        self.slices[(und, expiry_t)] = src
        return out


def close(a: Fraction, ref, tol: Fraction):
    """a (exact engine value) against ref (Fraction or mpf) within tol (+1e-12 relative)."""
    if isinstance(ref, Fraction):
        if ref == FLOOR:
            return a == FLOOR
        return a == ref
    r = mpmath.mpf(a.numerator) / a.denominator
    return abs(r - ref) <= abs(ref) * mpmath.mpf(10) ** -12 + mpmath.mpf(tol.numerator) / tol.denominator


def as_frac(v):
    """An mpf as a Fraction (at 40 digits; for the equity sums)."""
    if isinstance(v, Fraction):
        return v
    return F(mpmath.nstr(v, 40, min_fixed=-100, max_fixed=100)) if v else F(0)


# --------------------------------------------------------------------------- scenarios

FUTURE_EXPIRY = START + 119 * 86400       # 2024-06-28T08:00:00Z, after every option's expiry
UNDERLYINGS = {                            # symbol -> (coin-settled?, kind, contract size)
    "BTCUSDT": (False, "linear_perpetual", "1"),
    "BTCUSDT-28JUN24": (False, "linear_future", "1"),
    "BTC-PERPETUAL": (True, "inverse_perpetual", "10"),
    "BTC-28JUN24": (True, "inverse_future", "10"),
}


def option_table(rng):
    """Linear options on BTCUSDT (or its future) and coin options on BTC-PERPETUAL (or its
    future), random strikes and expiries."""
    opts = {}
    for coin in (False, True):
        perp, fut = [u for u, v in UNDERLYINGS.items() if v[0] == coin]
        for _ in range(rng.randint(2, 4)):
            und = perp if rng.random() < 0.7 else fut
            days = rng.choice([1, 2, 7, 30, 91])
            K = rng.choice([40000, 45000, 50000, 55000, 58000, 60000, 62000, 65000, 70000, 80000, 90000])
            call = rng.random() < 0.5
            exp_t = START + days * 86400
            tag = _time.strftime("%d%b%y", _time.gmtime(exp_t)).upper()
            sym = f"{'BTC' if coin else 'BTCU'}{'F' if und == fut else ''}-{tag}-{K}-{'C' if call else 'P'}"
            if sym in opts:
                continue
            opts[sym] = {"und": und, "coin": coin, "K": F(K), "call": call, "expiry_t": exp_t,
                         "expiry": iso(exp_t), "cs": F(rng.choice(["1", "0.1"]) if coin else rng.choice(["1", "0.01"]))}
    return opts


def instruments(opts):
    inst = []
    for sym, (coin, kind, cs) in UNDERLYINGS.items():
        i = {"symbol": sym, "kind": kind, "base": "BTC", "settle": "BTC" if coin else "USDT",
             "contract_size": cs, "brackets": BRACKETS}
        if "future" in kind:
            i["expiry"] = iso(FUTURE_EXPIRY)
        inst.append(i)
    for sym, o in opts.items():
        inst.append({"symbol": sym, "kind": "inverse_option" if o["coin"] else "option",
                     "right": "call" if o["call"] else "put", "strike": dec(o["K"]), "expiry": o["expiry"],
                     "underlying": o["und"], "base": "BTC", "settle": "BTC" if o["coin"] else "USDT",
                     "contract_size": dec(o["cs"]), "brackets": BRACKETS})
    return inst


def fed_price(rng, o, Fx, vol, src):
    """A plausible fed mark near the model value (fed marks need not equal the model)."""
    v = model_mark(o, Fx, vol, src)
    v = float(v) * rng.uniform(0.8, 1.2)
    if o["coin"]:
        return max(F(1, 10 ** 4), F(round(v, 4)).limit_denominator(10 ** 4))
    return max(F(1, 2), F(round(v * 2) , 2))


def random_vol(rng):
    """Mostly 0.25..1.5; sometimes the ends of (0, 10]."""
    if rng.random() < 0.08:
        return rng.choice([F(1, 1000), F(1, 100), F(3), F(10)])
    return F(rng.randint(25, 150), 100)


def underlying_move(rng, ref, u):
    """A new mark for underlying u, chosen against the F_q of one of its fed options: inside the
    tolerance, exactly at its edge, 1e-8 beyond it, a further drift, back to F_q, a crash, a
    spike, around 2*F_q (tolerance 1), a small step, or the same price again."""
    on_u = [s for s in ref.opts if ref.opts[s]["und"] == u]
    fed = [s for s in on_u if ref.state[s]["kind"] == "fed"]
    fq = ref.state[rng.choice(fed)]["fq"] if fed else ref.und[u]
    tl = ref.tol
    cur = ref.und[u]
    kind = rng.choice(["inside", "edge", "beyond", "drift", "drift", "return", "crash", "spike", "double",
                       "small", "same"])
    sign = rng.choice([-1, 1])
    if kind == "inside":
        Fx = fq * (1 + sign * tl * F(rng.randint(0, 90), 100))
    elif kind == "edge":                   # exactly at the edge: not stale (strict >)
        Fx = fq * (1 + sign * tl)
    elif kind == "beyond":
        Fx = fq * (1 + sign * tl) + sign * F(1, 10 ** 8)
    elif kind == "drift":                  # a further move of 40..70 % of the tolerance from here
        Fx = cur + sign * fq * tl * F(rng.randint(40, 70), 100)
    elif kind == "return":
        Fx = fq
    elif kind == "crash":
        Fx = cur * F(rng.randint(60, 95), 100)
    elif kind == "spike":
        Fx = cur * F(rng.randint(105, 140), 100)
    elif kind == "double":                 # tolerance 1: stale only above 2*F_q
        Fx = fq * 2 + rng.choice([F(0), F(1, 10 ** 8), -F(1, 10 ** 8)])
    elif kind == "small":
        Fx = cur + sign * F(rng.randint(1, 500), 100)
    else:
        Fx = cur
    Fx = F(round(Fx * 10 ** 8), 10 ** 8)   # 8 places: the edge products stay exact
    return Fx if 1000 < Fx < 10 ** 7 else None


def gen_case(rng):
    opts = option_table(rng)
    und = {"BTCUSDT": F(rng.randint(5500000, 6500000), 100), "BTC-PERPETUAL": F(rng.randint(110000, 130000), 2)}
    und["BTCUSDT-28JUN24"] = und["BTCUSDT"] + F(rng.randint(0, 200000), 100)
    und["BTC-28JUN24"] = und["BTC-PERPETUAL"] + F(rng.randint(0, 4000), 2)
    tol = rng.choice([None, None, F(0), F(1), F(5, 1000), F(2, 100), F(rng.randint(1, 500), 10000)])
    ref = Reference(opts, und, DEFAULT_TOL if tol is None else tol)
    marks, vols = {k: dec(v) for k, v in und.items()}, {}
    for sym, o in opts.items():
        vol = random_vol(rng)
        p = fed_price(rng, o, und[o["und"]], vol, START)
        ref.start(sym, p, vol, START)
        marks[sym], vols[sym] = dec(p), dec(vol)
    accounts = []
    holders = []                               # (account id, settle coin?)
    for k, (coin, mode) in enumerate([(False, "standard"), (True, "standard"), (False, "portfolio"),
                                      (True, "portfolio")]):
        thin = rng.random() < 0.3
        amount = ("2" if thin else "400") if coin else ("8000" if thin else "20000000")
        acc = {"id": f"{mode[0]}{'b' if coin else 'u'}{k}", "settle": "BTC" if coin else "USDT",
               "collateral": {"BTC" if coin else "USDT": amount}, "positions": []}
        if mode == "portfolio":
            acc["mode"] = "portfolio"
        accounts.append(acc)
        holders.append((acc["id"], coin))
    params = {"mark_staleness_ms": 864000000, "backstop": True, "adl": False}
    if tol is not None:
        params["option_mark_tolerance"] = dec(tol)
    doc = {"description": "crosscheck_stale_marks", "start": {
        "time": iso(START), "valuation_time": iso(START), "policy": POLICY,
        "assets": {"USDT": "1", "BTC": dec(und["BTCUSDT"])}, "haircuts": {}, "instruments": instruments(opts),
        "marks": marks, "implied_vols": vols, "accounts": accounts},
        "parameters": params, "insurance_fund": {"USDT": "1000000", "BTC": "100"}, "commands": []}
    cmds, expect = [], []                      # expect[i]: the reference events of cmds[i]
    clock = [START]
    last_src = {sym: START for sym in opts}
    und_time = {u: START for u in und}         # the underlyings' last mark source times
    refused = ref.refused                      # indices of commands the engine must refuse

    def add(cmd, events):
        if cmd["type"] == "fill" or len(cmds) in refused:
            # a refused command does not move time, so it does not apply a due scheduled change
            # (the engine applies it after the next applied command); a fill may be refused (thin
            # accounts), so a due change is applied by a `tick` first and the model stays simple
            if any(x[0] <= clock[0] for x in ref.pending):
                moved = len(cmds) in refused
                refused.discard(len(cmds))
                cmds.append({"time": iso(clock[0]), "type": "tick"})
                expect.append([])
                ref.snap()
                ref.after_command(clock[0])
                if moved:
                    refused.add(len(cmds))
        cmds.append(cmd)
        expect.append(events)
        ref.snap()
        ref.after_command(clock[0])

    def live(coin=None):
        return [s for s in opts if ref.live(s, clock[0]) and (coin is None or opts[s]["coin"] == coin)]

    def trade_price(sym):
        p = ref.state[sym]["price"]
        coin = opts[sym]["coin"]
        p = p if isinstance(p, Fraction) else F(mpmath.nstr(p, 12, min_fixed=-30, max_fixed=30))
        p = F(round(p * (10 ** 4 if coin else 100)), 10 ** 4 if coin else 100)
        return max(p, F(1, 10 ** 4) if coin else F(1, 100))

    # opening trades: every holder trades a few options of its settle asset
    for acc_id, coin in holders:
        for sym in rng.sample(live(coin), k=min(2, len(live(coin)))):
            clock[0] += 1
            q = rng.choice([-5, -2, -1, 1, 3]) if dec(opts[sym]["cs"]) != "0.1" else rng.choice([-20, -10, 10])
            add({"time": iso(clock[0]), "type": "fill", "account": acc_id, "symbol": sym, "quantity": str(q),
                 "price": dec(trade_price(sym))}, [])
    steps = rng.randint(10, 30)
    jump = rng.randint(3, steps) if rng.random() < 0.3 else None
    for step in range(steps):
        if step == jump:                           # past the nearest expiry: expired options are not re-marked
            clock[0] = min(o["expiry_t"] for o in opts.values()) + rng.randint(0, 3600)
        # a feed sends an underlying tick and its option marks as separate commands, often at
        # one time (docs/options.md: re-marked in between)
        clock[0] += 0 if rng.random() < 0.25 else rng.randint(1, 900)
        t = clock[0]
        r = rng.random()
        if r < 0.5:                                # a move of an underlying
            u = rng.choice(list(und))
            Fx = underlying_move(rng, ref, u)
            if Fx is None:
                continue
            if rng.random() < 0.04:                # refused (source time older than the mark's, or price 0): re-marks nothing
                cmd = {"time": iso(t), "type": "mark", "symbol": u, "price": dec(Fx * F(1, 2))}
                if rng.random() < 0.5:
                    cmd["source_time"] = iso(und_time[u] - 1)
                else:
                    cmd["price"] = "0"
                refused.add(len(cmds))
                add(cmd, [])
                continue
            und_time[u] = t
            add({"time": iso(t), "type": "mark", "symbol": u, "price": dec(Fx)}, ref.mark_underlying(u, Fx, t))
        elif r < 0.64 and live():                  # a fresh fed option mark
            sym = rng.choice(live())
            o = opts[sym]
            src = rng.randint(max(last_src[sym], t - 600), t)
            last_src[sym] = src
            vol = random_vol(rng)
            p = fed_price(rng, o, ref.und[o["und"]], vol, src)
            add({"time": iso(t), "type": "option_mark", "symbol": sym, "price": dec(p), "implied_vol": dec(vol),
                 "source_time": iso(src)}, ref.fed(sym, p, vol, src))
        elif r < 0.71 and live():                  # a `mark` of an option: fed, keeps its vol
            sym = rng.choice(live())
            o = opts[sym]
            src = rng.randint(max(last_src[sym], t - 600), t)
            last_src[sym] = src
            p = fed_price(rng, o, ref.und[o["und"]], ref.state[sym]["vol"], src)
            add({"time": iso(t), "type": "mark", "symbol": sym, "price": dec(p), "source_time": iso(src)},
                ref.fed(sym, p, None, src))
        elif r < 0.79:                             # the tolerance changes, now or later
            new = rng.choice([F(0), F(1), DEFAULT_TOL, F(5, 1000), F(3, 100), F(rng.randint(1, 999), 10000)])
            cmd = {"time": iso(t), "type": "change_parameters", "parameters": {"option_mark_tolerance": dec(new)}}
            eff = t
            if rng.random() < 0.4:
                eff = t + rng.randint(0, 1800)
                cmd["effective_time"] = iso(eff)
            ref.schedule(eff, new)
            add(cmd, [])
        elif r < 0.86 and live():                  # a volatility slice (sticky strike)
            sym = rng.choice(live())
            o = opts[sym]
            key = (o["und"], o["expiry_t"])
            lo = max(ref.slices.get(key, START - 1) + 1, t - 600)
            if lo > t:
                continue
            src = rng.randint(lo, t)
            n = rng.randint(1, 4)
            strikes = sorted(rng.sample([45000, 50000, 55000, 58000, 60000, 62000, 65000, 70000, 75000, 85000], n))
            svols = [random_vol(rng) for _ in strikes]
            events = ref.vol_surface(o["und"], o["expiry_t"], [F(k) for k in strikes], svols, src, t)
            for e in events:
                last_src[e[1]] = src
            add({"time": iso(t), "type": "vol_surface", "underlying": o["und"], "expiry": o["expiry"],
                 "strikes": [str(k) for k in strikes], "vols": [dec(v) for v in svols], "source_time": iso(src)},
                events)
        elif r < 0.90:                             # an index or an asset price: they re-mark nothing
            u = rng.choice(list(und))
            px = F(round(ref.und[u] * F(rng.randint(80, 125), 100) * 100), 100)
            if rng.random() < 0.5:
                add({"time": iso(t), "type": "index", "symbol": u, "price": dec(px)}, [])
            else:
                add({"time": iso(t), "type": "asset_price", "asset": "BTC", "price": dec(px)}, [])
        elif live():                               # a trade
            acc_id, coin = rng.choice(holders)
            if not live(coin):
                continue
            sym = rng.choice(live(coin))
            q = rng.choice([-2, -1, 1, 2]) if dec(opts[sym]["cs"]) != "0.1" else rng.choice([-10, 10])
            add({"time": iso(t), "type": "fill", "account": acc_id, "symbol": sym, "quantity": str(q),
                 "price": dec(trade_price(sym))}, [])
    doc["commands"] = cmds
    return doc, opts, ref, expect


# --------------------------------------------------------------------------- comparing

def simulate(solvent, doc, tmp, name):
    """Runs the scenario journaled with `--ack` (an ack line before each command's events), so
    that events group by command even when commands share a time; returns (events, groups,
    summary, error, path)."""
    path = os.path.join(tmp, f"{name}.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)
    data = os.path.join(tmp, f"{name}-acked")
    p = subprocess.run([solvent, "simulate", "--scenario", path, "--data", data, "--ack"], capture_output=True,
                       text=True, timeout=120)
    shutil.rmtree(data, ignore_errors=True)
    if p.returncode != 0:
        return None, None, None, f"exit {p.returncode}: {(p.stderr or p.stdout).strip()[:300]}", path
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    events, groups, stray = [], [], []
    for e in lines[:-1]:
        if e["type"] == "ack":
            groups.append([])
            continue
        events.append(e)
        (groups[-1] if groups else stray).append(e)
    if len(groups) != len(doc["commands"]) or stray:
        return None, None, None, f"{len(groups)} acks for {len(doc['commands'])} commands, {len(stray)} events before the first", path
    return events, groups, lines[-1], "", path


def compare_positions(i, got, snapshot, opts, stats):
    """Margin and liquidation events act on the re-marked options (docs/options.md: "inside
    the same command, before any re-evaluation, margin call or liquidation"): each option
    position they show has the reference mark and the fed mark's source time ("the re-marked
    option keeps the fed mark's source time"); a backstop liquidation fill of an option is at
    its mark (docs/options.md "Liquidating an option book", step 3)."""
    problems = []
    for e in got:
        for p in e.get("positions") or []:
            if not isinstance(p, dict) or p.get("symbol") not in opts or "mark" not in p:
                continue
            s = snapshot[p["symbol"]]
            stats["event_positions"] += 1
            tol = s.get("ptol", F(0))
            if not close(F(p["mark"]), s["price"], tol):
                problems.append(f"command {i} {e['type']} {p['symbol']}: position mark {p['mark']}, reference "
                                f"{mpmath.nstr(mp(s['price']), 15)}")
            if "mark_source_time" in p and p["mark_source_time"] != s["src"] * 1000:
                problems.append(f"command {i} {e['type']} {p['symbol']}: mark_source_time {p['mark_source_time']}, "
                                f"reference {s['src'] * 1000}")
        if e["type"] == "liquidation_fill" and e.get("symbol") in opts and e.get("executor") == "backstop":
            s = snapshot[e["symbol"]]
            stats["backstop_fills"] += 1
            if not close(F(e["price"]), s["price"], s.get("ptol", F(0))):
                problems.append(f"command {i} backstop fill of {e['symbol']} at {e['price']}, reference mark "
                                f"{mpmath.nstr(mp(s['price']), 15)}")
    return problems


def compare_events(groups, cmds, expect, opts, stats, snapshots, refused):
    problems = []
    for i, (cmd, got, want) in enumerate(zip(cmds, groups, expect)):
        problems += compare_positions(i, got, snapshots[i], opts, stats)
        for e in got:
            if e["type"] == "rejected" and cmd["type"] != "fill" and i not in refused:
                problems.append(f"command {i} ({cmd['type']}) rejected: {e.get('code')} {e.get('field')} {e.get('reason')}")
        if i in refused:
            stats["refused"] += 1
            if not any(e["type"] == "rejected" for e in got):
                problems.append(f"command {i} ({cmd['type']} {cmd.get('price')} source_time {cmd.get('source_time')}): "
                                f"not refused")
        mine = [(e["type"], e["symbol"], e) for e in got if e["type"] in MARK_EVENTS]
        gk = sorted((a, b) for a, b, _ in mine)
        wk = sorted((a, b) for a, b, _ in want)
        stats["commands"] += 1
        if gk != wk:
            problems.append(f"command {i} ({cmd['type']} {cmd.get('symbol', '')} {cmd.get('price', '')}): "
                            f"engine {gk}, reference {wk}")
            continue
        # before any margin / liquidation event of the same command
        last_mark = max([k for k, e in enumerate(got) if e["type"] in MARK_EVENTS], default=-1)
        first_margin = min([k for k, e in enumerate(got) if e["type"] in MARGIN_EVENTS], default=len(got))
        if last_mark > first_margin:
            problems.append(f"command {i}: an option mark event after a margin/liquidation event")
        engine = {(a, b): e for a, b, e in mine}
        for typ, sym, fields in want:
            e = engine[(typ, sym)]
            stats[typ] += 1
            for name, val in fields.items():
                if name.startswith("_"):
                    continue
                if name not in e:
                    problems.append(f"command {i} {typ} {sym}: no field {name}")
                    continue
                got_v = F(e[name])
                if name == "implied_vol" and (fields.get("_surface") or not isinstance(val, Fraction)):
                    # a slice's vol goes through Double (0.55 -> 0.550000000000000064), and so does a
                    # fed `mark` that keeps such a vol: 1e-12 relative, or 1e-12 absolute (a slice
                    # vol of 0.001 comes back 0.000999999999986622, as if through a total variance
                    # w = σ²T kept to 18 decimals; noted, not failed: its price effect is vega·1e-14)
                    d = abs(mp(got_v) - mp(val))
                    if d > mp(val) * mpmath.mpf(10) ** -12:
                        if d > mpmath.mpf(10) ** -12:
                            problems.append(f"command {i} {typ} {sym}: implied_vol {e[name]}, reference {mpmath.nstr(val, 20)}")
                        else:
                            stats["notes"].add(f"a slice vol deviates by more than 1e-12 relative (within 1e-12 absolute): "
                                               f"{e[name]} for {mpmath.nstr(val, 20)}")
                    continue
                if name == "price":
                    stats["prices"] += 1
                    o = opts[sym]
                    ok = close(got_v, val, price_tolerance(o, fields["underlying_price"]))
                    if not isinstance(val, Fraction) and val != 0:
                        # beyond the engine's 18-digit quantum (half of 1e-18)
                        rel = max(0, abs(mp(got_v) - val) - mpmath.mpf(5) / 10 ** 19) / abs(val)
                        if float(rel) > stats["max_rel"]:
                            stats["max_rel"] = float(rel)
                            stats["worst"] = f"{sym} at F {e['underlying_price']}: {e[name]} vs {mpmath.nstr(val, 15)}"
                    if isinstance(val, Fraction):
                        stats["floored"] += 1
                    if not ok:
                        problems.append(f"command {i} {sym}: computed price {e[name]}, reference "
                                        f"{mpmath.nstr(val, 20) if not isinstance(val, Fraction) else dec(val)}")
                elif got_v != val:
                    problems.append(f"command {i} {typ} {sym}: {name} {e[name]}, reference {dec(val) if isinstance(val, Fraction) else val}")
    return problems


def standard_margin(o, q, m, Fx):
    """Deribit's standard rule per docs/options.md (linear) and the coin form; (IM, MM)."""
    n = abs(q) * o["cs"]
    if q > 0:
        return n * m, F(0)
    otm = max(F(0), o["K"] - Fx) if o["call"] else max(F(0), Fx - o["K"])
    if o["coin"]:
        base_im = max(F(15, 100) - otm / Fx, F(10, 100))
        if o["call"]:
            return n * (base_im + m), n * (F(75, 1000) + m)
        mm = max(F(75, 1000), F(75, 1000) * m) + m
        return n * max(base_im + m, mm), n * mm
    base_im = max(F(15, 100) * Fx - otm, F(10, 100) * Fx)
    if o["call"]:
        return n * (base_im + m), n * (F(75, 1000) * Fx + m)
    mm = max(F(75, 1000) * Fx, F(75, 1000) * m) + m
    return n * max(base_im + m, mm), n * mm


def compare_accounts(summary, opts, ref, stats):
    problems = []
    for acc in summary["accounts"]:
        settle = "BTC" if acc["id"][1] == "b" else "USDT"
        equity = F(acc["balances"].get(settle, "0"))
        slack = F(4 * len(acc["positions"]) + 4, 10 ** 18)
        im = mm = F(0)
        cash = equity                          # the evaluation view's cash: balance + premium basis
        for p in acc["positions"]:
            o = opts.get(p["symbol"])
            if o is None:
                return [f"{acc['id']}: holds {p['symbol']}, not an option of the case"]
            q = F(p["quantity"])
            s = ref.state[p["symbol"]]
            m = as_frac(s["price"])
            equity += q * o["cs"] * m
            cash += q * o["cs"] * F(p["entry_price"])
            if s["kind"] != "fed":
                slack += abs(q) * o["cs"] * (s["ptol"] + m / 10 ** 12) * 3
            a, b = standard_margin(o, q, m, ref.und[o["und"]])
            im += a
            mm += b
        if cash < 0:                           # debt margin, docs/loans.md (default rates 0.10 / 0.25)
            mm += -cash * F(10, 100)
            im += -cash * F(25, 100)
        pools = acc["pools"]
        pool = pools[0] if pools else None
        if pool is None:
            continue
        stats["equities"] += 1
        if abs(F(pool["equity"]) - equity) > slack:
            problems.append(f"{acc['id']}: equity {pool['equity']}, reference {float(equity):.12f}")
        if pool["pool"] == "cross":
            stats["margins"] += 1
            if abs(F(pool["initial_margin"]) - im) > slack:
                problems.append(f"{acc['id']}: IM {pool['initial_margin']}, reference {float(im):.12f}")
            if abs(F(pool["maintenance_margin"]) - mm) > slack:
                problems.append(f"{acc['id']}: MM {pool['maintenance_margin']}, reference {float(mm):.12f}")
    return problems


def paths_agree(solvent, path, stdout_lines, summary, tmp, name, rng, stats):
    """The same scenario through the other paths of the engine must give the same result
    (docs/options.md: the stale state — quotedForwards, modelMarked — is in the state hash, the
    snapshot and the restore path, and the re-marked options' holders are found by the at-risk
    index): `simulate --full-rescan` prints the same lines, and `replay` of the journal from a
    snapshot taken mid-way (the later snapshots removed, as a damaged snapshot is skipped,
    docs/journal.md) reaches the same state hash."""
    problems = []
    p = subprocess.run([solvent, "simulate", "--scenario", path, "--full-rescan"], capture_output=True, text=True,
                       timeout=120)
    stats["rescans"] += 1
    if p.returncode != 0 or [json.loads(x) for x in p.stdout.splitlines() if x.strip()] != stdout_lines:
        problems.append("simulate --full-rescan differs from the at-risk index path")
    data = os.path.join(tmp, f"{name}-data")
    with open(path) as fh:
        n = len(json.load(fh)["commands"])
    every = rng.randint(2, max(2, n // 2))
    p = subprocess.run([solvent, "simulate", "--scenario", path, "--data", data, "--snapshot-every", str(every)],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return problems + [f"simulate --data: exit {p.returncode} {p.stderr.strip()[:200]}"]
    db = sqlite3.connect(os.path.join(data, "journal.sqlite"))
    seqs = sorted(r[0] for r in db.execute("select sequence from snapshot"))
    keep = rng.choice([0] + seqs[:-1]) if len(seqs) > 1 else 0
    db.execute("delete from snapshot where sequence > ?", (keep,))
    db.commit()
    db.close()
    p = subprocess.run([solvent, "replay", "--data", data], capture_output=True, text=True, timeout=120)
    stats["replays"] += 1
    try:
        replayed = json.loads(p.stdout.strip().splitlines()[-1])["state_hash"]
    except (IndexError, ValueError, KeyError):
        replayed = None
    if replayed != summary["state_hash"]:
        problems.append(f"replay from the snapshot after command {keep} of {n}: state hash {replayed}, "
                        f"simulate {summary['state_hash']}")
    shutil.rmtree(data, ignore_errors=True)
    return problems


def run_case(solvent, doc, opts, ref, expect, tmp, name, stats, other_paths=None):
    events, groups, summary, err, path = simulate(solvent, doc, tmp, name)
    if err:
        keep = f"/tmp/solvent-stale-marks-{name}.json"
        os.replace(path, keep)
        return [err + f" (kept {keep})"]
    problems = compare_events(groups, doc["commands"], expect, opts, stats, ref.snapshots, ref.refused)
    problems += compare_accounts(summary, opts, ref, stats)
    if name == "docs-example":
        problems += docs_example_figures(events)
    if other_paths is not None:
        problems += paths_agree(solvent, path, events + [summary], summary, tmp, name, other_paths, stats)
    problems += parameters_applied_problems(groups, doc["commands"],
                                            doc.get("parameters", {}).get("option_mark_tolerance", "0.01"))
    if problems:
        keep = f"/tmp/solvent-stale-marks-{name}.json"
        os.replace(path, keep)
        problems.append(f"kept {keep}")
    return problems


# --------------------------------------------------------------------------- fixed cases

def docs_example_case():
    """docs/options.md's worked example: the coin writer (1.2 BTC, short 10 puts K 55,000 at
    0.015 and 5 calls K 65,000 at 0.02, vols 0.7/0.6, quoted at 60,000, 7 days); the perpetual
    crashes to 42,000: puts 0.3096134635 BTC, calls the floor 1e-8 (model 1.4e-9)."""
    exp_t = START + 7 * 86400
    opts = {"BTC-8MAR24-55000-P": {"und": "BTC-PERPETUAL", "coin": True, "K": F(55000), "call": False,
                                   "expiry_t": exp_t, "expiry": iso(exp_t), "cs": F(1)},
            "BTC-8MAR24-65000-C": {"und": "BTC-PERPETUAL", "coin": True, "K": F(65000), "call": True,
                                   "expiry_t": exp_t, "expiry": iso(exp_t), "cs": F(1)}}
    ref = Reference(opts, {"BTC-PERPETUAL": F(60000)}, DEFAULT_TOL)
    ref.start("BTC-8MAR24-55000-P", F(15, 1000), F(7, 10), START)
    ref.start("BTC-8MAR24-65000-C", F(2, 100), F(6, 10), START)
    inst = [i for i in instruments(opts)]
    doc = {"description": "docs/options.md stale-mark example", "start": {
        "time": iso(START), "valuation_time": iso(START), "policy": POLICY,
        "assets": {"USDT": "1", "BTC": "60000"}, "haircuts": {}, "instruments": inst,
        "marks": {"BTC-PERPETUAL": "60000", "BTC-8MAR24-55000-P": "0.015", "BTC-8MAR24-65000-C": "0.02"},
        "implied_vols": {"BTC-8MAR24-55000-P": "0.7", "BTC-8MAR24-65000-C": "0.6"},
        "accounts": [{"id": "pb0", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "1.2"},
                      "positions": [{"symbol": "BTC-8MAR24-55000-P", "quantity": "-10", "entry_price": "0.015"},
                                    {"symbol": "BTC-8MAR24-65000-C", "quantity": "-5", "entry_price": "0.02"}]}]},
        "parameters": {"mark_staleness_ms": 864000000, "backstop": True, "adl": False},
        "insurance_fund": {"BTC": "100"},
        "commands": [{"time": iso(START + 60), "type": "mark", "symbol": "BTC-PERPETUAL", "price": "42000"}]}
    expect = [ref.mark_underlying("BTC-PERPETUAL", F(42000), START + 60)]
    ref.snap()
    return doc, opts, ref, expect


def edge_case(tol, moves, fresh_at=None):
    """One linear put quoted at 60,000; the underlying moves through `moves` (a fresh
    option_mark after move number `fresh_at`)."""
    exp_t = START + 30 * 86400
    sym = "BTCU-31MAR24-55000-P"
    opts = {sym: {"und": "BTCUSDT", "coin": False, "K": F(55000), "call": False, "expiry_t": exp_t,
                  "expiry": iso(exp_t), "cs": F(1)}}
    ref = Reference(opts, {"BTCUSDT": F(60000)}, DEFAULT_TOL if tol is None else tol)
    ref.start(sym, F(1500), F(65, 100), START)
    params = {"mark_staleness_ms": 864000000}
    if tol is not None:
        params["option_mark_tolerance"] = dec(tol)
    cmds, expect = [], []
    t = START
    for k, Fx in enumerate(moves):
        t += 10
        cmds.append({"time": iso(t), "type": "mark", "symbol": "BTCUSDT", "price": dec(Fx)})
        expect.append(ref.mark_underlying("BTCUSDT", Fx, t))
        ref.snap()
        if fresh_at == k:
            t += 10
            cmds.append({"time": iso(t), "type": "option_mark", "symbol": sym, "price": "1400", "implied_vol": "0.6",
                         "source_time": iso(t - 5)})
            expect.append(ref.fed(sym, F(1400), F(6, 10), t - 5))
            ref.snap()
    doc = {"description": "edge", "start": {
        "time": iso(START), "valuation_time": iso(START), "policy": POLICY,
        "assets": {"USDT": "1", "BTC": "60000"}, "haircuts": {}, "instruments": instruments(opts),
        "marks": {"BTCUSDT": "60000", sym: "1500"}, "implied_vols": {sym: "0.65"},
        "accounts": [{"id": "su0", "settle": "USDT", "collateral": {"USDT": "100000"}, "positions": []}]},
        "parameters": params, "commands": cmds}
    return doc, opts, ref, expect


def docs_example_figures(events):
    """The figures docs/options.md prints for its example (10 decimals): the puts re-marked to
    0.3096134635 BTC, the calls to 1e-8, the writer's equity -1.6461346851 BTC, and the
    liquidation buying all 10 puts back at 0.3096... (the insurance fund paying the deficit)."""
    problems = []
    computed = {e["symbol"]: F(e["price"]) for e in events if e["type"] == "option_mark_computed"}
    if round(computed.get("BTC-8MAR24-55000-P", F(0)), 10) != F("0.3096134635"):
        problems.append(f"docs example: put re-marked to {computed.get('BTC-8MAR24-55000-P')}, docs 0.3096134635")
    if computed.get("BTC-8MAR24-65000-C") != FLOOR:
        problems.append(f"docs example: call re-marked to {computed.get('BTC-8MAR24-65000-C')}, docs 1e-8")
    started = [e for e in events if e["type"] == "liquidation_started"]
    if not started or round(F(started[0]["equity"]), 10) != F("-1.6461346851"):
        problems.append(f"docs example: equity at liquidation {started[0]['equity'] if started else None}, docs -1.6461346851")
    bought = sum(F(e["quantity"]) for e in events if e["type"] == "liquidation_fill" and e["symbol"] == "BTC-8MAR24-55000-P"
                 and round(F(e["price"]), 4) == F("0.3096"))
    if bought != 10:
        problems.append(f"docs example: {bought} puts bought back at 0.3096, docs all 10")
    if not any(e["type"] == "insurance_fund_draw" for e in events):
        problems.append("docs example: no insurance_fund_draw")
    return problems


def parameters_applied_problems(groups, cmds, start_tolerance):
    """docs/scenarios.md: `parameters_applied` lists exactly what changed ({field, old, new}):
    a tolerance change names option_mark_tolerance with the old and new values (exact), and a
    change to the value in force names nothing."""
    problems = []
    current = F(start_tolerance)
    for n, (cmd, got) in enumerate(zip(cmds, groups)):
        if cmd["type"] != "change_parameters":
            continue
        if "effective_time" in cmd:
            break                                  # the tolerance in force is no longer simple to follow
        new = F(cmd["parameters"]["option_mark_tolerance"])
        old, current = current, new
        for e in got:
            if e["type"] != "parameters_applied":
                continue
            rows = [c for c in e.get("changes", []) if c.get("field") == "option_mark_tolerance"]
            if new != old and (len(rows) != 1 or F(rows[0]["old"]) != old or F(rows[0]["new"]) != new):
                problems.append(f"command {n}: parameters_applied changes {e.get('changes')}, expected "
                                f"option_mark_tolerance {old} -> {new} (docs/scenarios.md: it lists exactly what changed)")
            if new == old and rows:
                problems.append(f"command {n}: parameters_applied lists option_mark_tolerance though it stays {old}")
    return problems


def fixed_cases():
    yield "docs-example", docs_example_case()
    # 0.8 % then 0.4 %: 1.2 % from the quote (the docs' cumulative example)
    yield "drift-0.8+0.4", edge_case(None, [F(60480), F(60720)])
    yield "edge-exact-up", edge_case(None, [F(60600)])
    yield "edge-exact-down", edge_case(None, [F(59400)])
    yield "edge-beyond-up", edge_case(None, [F(6060000000001, 10 ** 8)])
    yield "edge-beyond-down", edge_case(None, [F(5939999999999, 10 ** 8)])
    yield "inside-and-back", edge_case(None, [F(60500), F(59500), F(60000), F(60590)])
    yield "stale-then-back-stays-model", edge_case(None, [F(61000), F(60000), F(60001)])
    yield "fresh-mark-resets-fq", edge_case(None, [F(60500), F(61000), F(61500), F(62000)], fresh_at=1)
    yield "tolerance-0", edge_case(F(0), [F(6000000000001, 10 ** 8)])
    yield "tolerance-1-down", edge_case(F(1), [F(1001), F(30000)])
    yield "tolerance-1-double", edge_case(F(1), [F(120000), F(12000000000001, 10 ** 8)])


def out_of_range_cases(solvent, tmp, tally):
    """docs/options.md: `option_mark_tolerance` is a fraction in [0, 1]; outside it (or with more
    than 18 decimals, or not a decimal) a scenario file is malformed: exit status 2 naming the
    JSON path (docs/scenarios.md), in `parameters` and in `change_parameters`."""
    doc, _, _, _ = edge_case(None, [F(60100)])
    bad = ["1.5", "-0.01", "1.000000000000000001", "0.01000000000000000001", True]
    for k, v in enumerate(bad):
        for where in ("parameters", "change_parameters"):
            d = json.loads(json.dumps(doc))
            if where == "parameters":
                d["parameters"]["option_mark_tolerance"] = v
                path_name = "parameters.option_mark_tolerance"
            else:
                d["commands"].insert(0, {"time": iso(START + 1), "type": "change_parameters",
                                         "parameters": {"option_mark_tolerance": v}})
                path_name = "commands[0].parameters.option_mark_tolerance"
            path = os.path.join(tmp, f"bad-{k}-{where}.json")
            with open(path, "w") as fh:
                json.dump(d, fh)
            p = subprocess.run([solvent, "simulate", "--scenario", path], capture_output=True, text=True, timeout=60)
            problems = []
            if p.returncode != 2 or path_name not in (p.stderr + p.stdout):
                problems.append(f"tolerance {v!r} in {where}: exit {p.returncode}, {(p.stderr or p.stdout).strip()[:160]}")
            record(f"out-of-range {v!r} in {where}", problems, tally)


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--solvent", required=True)
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--paths-every", type=int, default=5,
                    help="every K-th random case also through --full-rescan and a journal replay")
    args = ap.parse_args()
    tally = [0, 0]
    stats = {"commands": 0, "option_mark_stale": 0, "option_mark_computed": 0, "prices": 0, "floored": 0,
             "equities": 0, "margins": 0, "max_rel": 0.0, "event_positions": 0, "backstop_fills": 0, "notes": set(),
             "rescans": 0, "replays": 0, "refused": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (doc, opts, ref, expect) in fixed_cases():
            record(name, run_case(args.solvent, doc, opts, ref, expect, tmp, name, stats), tally)
        out_of_range_cases(args.solvent, tmp, tally)
        rng = random.Random(args.seed)
        for k in range(args.cases):
            doc, opts, ref, expect = gen_case(rng)
            name = f"seed{args.seed}-case{k}"
            other = random.Random(args.seed * 1000 + k) if k % args.paths_every == 0 else None
            record(name, run_case(args.solvent, doc, opts, ref, expect, tmp, name, stats, other), tally)
    print(f"compared: {stats['commands']} commands, {stats['option_mark_stale']} option_mark_stale, "
          f"{stats['option_mark_computed']} option_mark_computed ({stats['floored']} at the 1e-8 floor), "
          f"{stats['equities']} pool equities, {stats['margins']} standard IM/MM pairs, "
          f"{stats['event_positions']} option positions in margin/liquidation events, "
          f"{stats['backstop_fills']} backstop option fills, {stats['rescans']} full-rescan runs, "
          f"{stats['replays']} journal replays, {stats['refused']} refused underlying marks; "
          f"largest relative price difference beyond the 1e-18 quantum {stats['max_rel']:.2e} ({stats.get('worst', '-')})")
    for note in sorted(stats["notes"]):
        print(f"note (not counted as a failure): {note}")
    if stats["option_mark_stale"] == 0 or stats["option_mark_computed"] == 0 or stats["equities"] == 0:
        print("nothing compared: the run checks nothing")
        tally[1] += 1
    finish(tally)


if __name__ == "__main__":
    main()
