#!/usr/bin/env python3
"""Seeded random scenarios for `solvent simulate` (see docs/scenarios.md).

    python3 gen_engine_scenarios.py --seed S [--cases N] [--out DIR] [--level L]

Each scenario is a small book of accounts (cross and isolated positions in different
instruments, multi-asset collateral with haircuts), an insurance fund, parameters, and a
list of commands: marks that jump through several brackets, indexes, books of varying
depth, ticks, deposits, withdrawals, fills (cross, with flips and fees), reduce-only
orders, funding, collateral prices, stale marks, parameter changes.

Coverage levels (the subset the reference model decides exactly grows with the level):
  1  marks, indexes, books, ticks, deposits, funding; liquidation by depth or backstop
  2  + withdrawals, fills (flips, fees), collateral prices, multi-asset collateral
  3  + reduce-only orders, parameter changes, isolated margin moves, stale marks,
       fund running dry, ADL and socialized loss (thin books, ADL on/off)
  4  + chain deposits, tips and reorganizations (finality depth, unconfirmed haircut),
       liquidation notional caps, oracle-divergence, staleness and index-move pauses,
       plain orders, cancels, leverage changes
  5  + an inverse perpetual (BTCUSD, contract 100 USD) held by BTC-settled accounts, and a
       profile per scenario: mixed, crash (opposite sides, thin books, small fund: ADL,
       socialized loss, bad debt) or calls (small moves, grace periods, cures, deadlines)
Lending (docs/loans.md, "Borrowing"; --lending auto|on|off, auto = 40 % of the scenarios at
level >= 2): a top-level `lending` (USDT, sometimes BTC/ETH: rate per hour or per year, simple
or compound, supply, borrow caps), sometimes debt rates in the policy, borrowers with spot
collateral and no positions, and `borrow`, `repay`, withdrawals of what was borrowed,
deposits, collateral price moves, lending/debt-rate `change_parameters` and jumps of 1-30
hours (so interest accrues) inserted among the commands (every later time shifted), and in
60 % of those a loan story (a borrower borrows 30-70 % of its BTC's value, withdraws it, BTC
falls 10-60 %, hours pass; sometimes a deposit and a repayment) so that loan-liquidation
steps, fund repayments and write-offs to the pool occur in the default 300-case run.
Library use: generate(rng, level, avoid, lending) -> scenario document.
"""
from __future__ import annotations

import argparse
import json
import os
import random
from fractions import Fraction as F

T0 = 1704067200000  # 2024-01-01T00:00:00Z

INSTRUMENTS = {
    "BTCUSDT": {"base": "BTC", "price": 50000, "brackets": [
        ("0", "50000", "125", "0.004"), ("50000", "600000", "100", "0.005"),
        ("600000", "3000000", "75", "0.0065"), ("3000000", "100000000", "20", "0.025")]},
    "ETHUSDT": {"base": "ETH", "price": 3000, "brackets": [
        ("0", "10000", "100", "0.005"), ("10000", "100000", "50", "0.01"),
        ("100000", "1000000", "20", "0.025"), ("1000000", "50000000", "10", "0.05")]},
    # level 5: an inverse perpetual, margined and settled in BTC (notional in BTC)
    "BTCUSD": {"base": "BTC", "price": 50000, "kind": "inverse_perpetual", "settle": "BTC",
               "cs": "100", "brackets": [
                   ("0", "5", "125", "0.004"), ("5", "50", "50", "0.005"),
                   ("50", "500", "20", "0.01"), ("500", "5000", "10", "0.025")]},
}
LINEAR = ["BTCUSDT", "ETHUSDT"]
QSCALE = {"BTCUSDT": 1, "ETHUSDT": 15, "BTCUSD": 500}   # order sizes in contracts


def d(x, places=8) -> str:
    """Canonical decimal string of a number rounded to `places` digits."""
    x = F(x).limit_denominator(10 ** 12) if not isinstance(x, F) else x
    n = round(x * 10 ** places)
    s = str(abs(n)).rjust(places + 1, "0")
    s = s[:-places] + "." + s[-places:] if places else s
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return ("-" if n < 0 else "") + s


def rnd_price(rng, p, spread):
    return F(p) * (1 + F(rng.randint(-spread, spread), 1000))


def make_book(rng, sym, ref, t, deep=False):
    depth = rng.choice([0, 1, 2, 3, 5]) if not deep else rng.choice([1, 2, 3])
    bids, asks = [], []
    for j in range(depth):
        gap = F(rng.randint(1, 40), 1000) * (j + 1)
        qty = F(rng.choice([1, 5, 20, 100, 1000]), 10) * QSCALE[sym]
        bids.append([d(ref * (1 - gap), 2), d(qty)])
        asks.append([d(ref * (1 + gap), 2), d(qty)])
    if deep and bids:
        far = F(rng.randint(50, 90), 1000)  # inside every band the generator uses
        bids.append([d(ref * (1 - far), 2), "100000"])
        asks.append([d(ref * (1 + far), 2), "100000"])
    bids.sort(key=lambda l: -F(l[0]))
    asks.sort(key=lambda l: F(l[0]))
    bids = [l for k, l in enumerate(bids) if k == 0 or l[0] != bids[k - 1][0]]
    asks = [l for k, l in enumerate(asks) if k == 0 or l[0] != asks[k - 1][0]]
    return {"time": t, "type": "book", "symbol": sym, "bids": bids, "asks": asks}


def instrument_doc(sym):
    spec = INSTRUMENTS[sym]
    return {"symbol": sym, "kind": spec.get("kind", "linear_perpetual"), "base": spec["base"],
            "settle": spec.get("settle", "USDT"), "contract_size": spec.get("cs", "1"),
            "brackets": [{"notional_floor": a, "notional_cap": b, "max_leverage": c, "mmr": m}
                         for a, b, c, m in spec["brackets"]]}


KNOWN = {
    # disagreements with the current binary already written down in ENGINE_REFERENCE.md;
    # avoiding them lets a run look for new ones (--avoid NAME,...)
    "backstop_after_dry": "depth execution with the backstop enabled: after the fund runs "
                          "dry and ADL is short, the binary walks the book, not the backstop",
    "fund_dry": "the fund running dry (ADL, the walk after ADL, socialized loss): the binary "
                "fills the rest at one price (the level where the fund ran dry, or the mark) "
                "whatever the book holds",
    "cap_lots": "liquidation_notional_cap: the binary cuts the capped quantity into lots "
                "differently (1e-8 off at an exact boundary); the documents give no lot size",
    "params_due_late": "a parameter change scheduled for later: the binary judges the first "
                       "command after its effective time under the old parameters",
    "order_flips": "an order that would flip the position: the binary reserves margin for the "
                   "whole order, the model for the opening part only",
    "isolated_fills": "fills that open, add to or flip an isolated position: how a wallet "
                      "overdrawn by the margin moved into the pool is settled (not documented)",
    "mixed_pools": "an account with one pool waiting for liquidity and another pool (isolated) "
                   "to liquidate: the binary does not liquidate the other pool",
}


def generate(rng: random.Random, level: int = 5, avoid=(), lending: str = "auto") -> dict:
    doc = _generate(rng, level, avoid)
    if lending == "on" or (lending == "auto" and level >= 2 and rng.random() < 0.4):
        add_lending(rng, doc)
    return doc


LEND_AMOUNTS = {"USDT": ["100", "1000", "5000", "10000", "20000", "40000"],
                "BTC": ["0.01", "0.1", "0.5", "1"], "ETH": ["0.5", "2", "5", "20"]}
LEND_SUPPLY = {"USDT": ["0", "5000", "50000", "1000000"], "BTC": ["0.5", "2", "100"],
               "ETH": ["5", "50", "1000"]}
HOUR = 3600000


def add_lending(rng: random.Random, doc: dict) -> None:
    """Lending terms, borrowers and borrow/repay/withdraw/price/time commands (in place)."""
    start = doc["start"]
    accounts = start["accounts"]
    for i in range(rng.randint(1, 2)):
        coll = {"USDT": "0", "BTC": d(F(rng.choice([10, 50, 100, 200]), 100))}
        if rng.random() < 0.4:
            coll["ETH"] = str(rng.choice([2, 5, 10]))
        accounts.append({"id": f"l{i}", "settle": "USDT", "collateral": coll, "positions": []})
    lent = ["USDT"] + (["BTC"] if rng.random() < 0.3 else []) \
        + (["ETH"] if rng.random() < 0.25 else [])
    terms = {}
    for asset in lent:
        t = {}
        per = rng.choice(["hour", "hour", "year"])
        t["rate"] = rng.choice(["0", "0.0001", "0.001", "0.005", "0.01"] if per == "hour"
                               else ["0.05", "0.1", "1", "20", "100"])
        if per == "year" or rng.random() < 0.3:
            t["per"] = per
        if rng.random() < 0.4:
            t["compounding"] = "compound"
        elif rng.random() < 0.3:
            t["compounding"] = "simple"
        if rng.random() < 0.6:
            t["supply"] = rng.choice(LEND_SUPPLY[asset])
        if rng.random() < 0.25:
            t["borrow_cap"] = rng.choice(LEND_AMOUNTS[asset][1:])
        if rng.random() < 0.25:
            t["account_borrow_cap"] = rng.choice(LEND_AMOUNTS[asset][1:])
        terms[asset] = t
    doc["lending"] = terms
    pol = start["policy"]
    if rng.random() < 0.3:
        mm = rng.choice(["0.05", "0.1", "0.2"])
        pol["debt_maintenance_rate"] = mm
        if rng.random() < 0.7:
            pol["debt_initial_rate"] = d(F(mm) + F(rng.choice([0, 5, 15]), 100))
    if rng.random() < 0.25:
        a = rng.choice(["BTC", "ETH", "USDT"])
        r = {"maintenance": rng.choice(["0.1", "0.15", "0.3"])}
        # (the start policy needs both rates: the evaluate contract's parser)
        r["initial"] = d(F(r["maintenance"]) + F(rng.choice([0, 10, 20]), 100))
        pol["debt_rates"] = {a: r}
    borrowers = [a["id"] for a in accounts if a["settle"] == "USDT"]
    borrowers += [a["id"] for a in accounts if a["settle"] == "BTC"][:1]
    fav = [a["id"] for a in accounts if a["id"].startswith("l")]
    cmds = doc["commands"]
    extra = []                     # (position in the original list, command, hours to jump)
    for k in range(rng.randint(4, 14)):
        pos = rng.randint(0, len(cmds))
        aid = rng.choice(fav + fav + borrowers)
        asset = rng.choice(lent + ["USDT"]) if rng.random() < 0.9 else "ETH"
        kind = rng.choice(["borrow", "borrow", "borrow", "withdraw", "withdraw", "repay",
                           "repay", "deposit", "price", "price", "jump", "jump", "terms"])
        jump = rng.choice([0, 0, 0, 1, 1, 2, 5, 30]) if kind != "jump" else \
            rng.choice([1, 1, 2, 3, 24])
        if kind == "borrow":
            c = {"type": "borrow", "account": aid, "asset": asset,
                 "amount": rng.choice(LEND_AMOUNTS[asset])}
        elif kind == "withdraw":
            c = {"type": "withdraw", "account": aid, "asset": asset,
                 "amount": rng.choice(LEND_AMOUNTS[asset])}
        elif kind == "repay":
            c = {"type": "repay", "account": aid, "asset": asset,
                 "amount": rng.choice(LEND_AMOUNTS[asset] + ["0.001", "1", "50"])}
        elif kind == "deposit":
            c = {"type": "deposit", "account": aid, "asset": asset,
                 "amount": rng.choice(LEND_AMOUNTS[asset])}
        elif kind == "price":
            a = rng.choice(["BTC", "BTC", "ETH"])
            base = F(start["assets"][a])
            c = {"type": "asset_price", "asset": a,
                 "price": d(base * (1 + F(rng.choice([-60, -45, -30, -20, -10, 5, 10]), 100)), 2)}
        elif kind == "jump":
            c = {"type": "tick"}
        else:
            a = rng.choice(lent)
            if rng.random() < 0.7:
                ch = rng.choice([{"rate": rng.choice(["0", "0.002", "0.05"])},
                                 {"supply": rng.choice(LEND_SUPPLY[a] + [None])},
                                 {"compounding": rng.choice(["simple", "compound"])},
                                 {"account_borrow_cap": rng.choice(LEND_AMOUNTS[a] + [None])}])
                c = {"type": "change_parameters", "lending": {a: ch}}
            elif rng.random() < 0.5:
                mm = rng.choice(["0.05", "0.1", "0.3"])
                c = {"type": "change_parameters", "debt_maintenance_rate": mm,
                     "debt_initial_rate": d(F(mm) * 2)}
                if rng.random() < 0.3:      # alone: refused when above the initial in force
                    del c["debt_initial_rate"]
            else:   # an asset's initial defaults to its maintenance in a change
                c = {"type": "change_parameters", "debt_rates": {
                    rng.choice(["USDT", "BTC", "ETH"]): {"maintenance": rng.choice(["0.1", "0.4"])}}}
        extra.append((pos, k, c, jump))
    # a loan story (60 %): a borrower borrows a share of its collateral's value, withdraws it,
    # then BTC falls and hours pass (calls, loan-liquidation steps, write-offs to the pool);
    # sometimes a deposit and a repayment of part of the debt before or after the fall
    if rng.random() < 0.6:
        b = next(a for a in accounts if a["id"] == fav[0])
        value = F(b["collateral"]["BTC"]) * 50000
        amount = d(value * F(rng.choice([30, 50, 60, 65, 70])) / 100, 0)
        at = rng.randint(0, len(cmds))
        story = [{"type": "borrow", "account": b["id"], "asset": "USDT", "amount": amount},
                 {"type": "withdraw", "account": b["id"], "asset": "USDT", "amount": amount}]
        for c in story:
            extra.append((at, len(extra), c, 0))
        later = rng.randint(at, len(cmds))
        drop = rng.choice([-10, -20, -30, -45, -60])
        extra.append((later, len(extra), {"type": "asset_price", "asset": "BTC",
                                           "price": d(50000 * F(100 + drop, 100), 2)},
                      rng.choice([0, 1, 5])))
        if rng.random() < 0.5:
            pay = d(F(amount) * F(rng.choice([1, 10, 50, 100]), 100), 2)
            when = rng.choice([at, later, len(cmds)])
            extra.append((when, len(extra), {"type": "deposit", "account": b["id"],
                                             "asset": "USDT", "amount": pay}, 0))
            extra.append((when, len(extra), {"type": "repay", "account": b["id"],
                                             "asset": "USDT", "amount": pay}, 0))
        extra.append((len(cmds), len(extra), {"type": "tick"}, rng.choice([1, 3, 24])))
    extra.sort(key=lambda x: (x[0], x[1]))
    out, offset, j = [], 0, 0
    t_prev = start["time"]

    def shifted(c):
        c = dict(c)
        for key in ("time", "effective_time"):
            if isinstance(c.get(key), int):
                c[key] += offset
        return c
    for i in range(len(cmds) + 1):
        while j < len(extra) and extra[j][0] == i:
            _, _, c, jump = extra[j]
            offset += jump * HOUR + (rng.randint(0, 59) * 60000 if jump else 0)
            t_here = (cmds[i]["time"] + offset) if i < len(cmds) else t_prev
            t_here = max(t_here, t_prev)
            c = dict(c, time=t_here)
            if c["type"] == "change_parameters":
                c["effective_time"] = t_here
            out.append(c)
            t_prev = t_here
            j += 1
        if i < len(cmds):
            c = shifted(cmds[i])
            if isinstance(c.get("time"), int):
                c["time"] = max(c["time"], t_prev)
                t_prev = c["time"]
            out.append(c)
    doc["commands"] = out


def _generate(rng: random.Random, level: int = 5, avoid=()) -> dict:
    syms = list(INSTRUMENTS) if level >= 5 else list(LINEAR)
    # level 5: a profile per scenario. "crash": opposite sides in each instrument, big marks,
    # thin books, a small fund, ADL (the fund running dry, ADL, socialized loss); "calls":
    # small marks, grace periods, deposits and ticks (warnings, calls, cures, deadlines)
    profile = rng.choice(["mixed", "crash", "calls"]) if level >= 5 else "mixed"
    trend = rng.choice([1, -1])
    main_sym = rng.choice(syms)
    marks = {s: F(INSTRUMENTS[s]["price"]) for s in syms}
    assets = {"USDT": "1", "BTC": "50000", "ETH": "3000"}
    haircuts = {}
    if level >= 2:
        haircuts = {"BTC": rng.choice(["0", "0.05", "0.1"]), "ETH": rng.choice(["0.05", "0.1"])}
    accounts = []
    n_acc = rng.randint(2, 5)
    iso_syms = {}
    for i in range(n_acc):
        aid = f"a{i}"
        coll = {"USDT": str(rng.choice([200, 500, 1000, 2000, 5000, 20000, 100000]
                                       if profile == "mixed" else [500, 1000, 2000, 5000]))}
        if level >= 2 and rng.random() < 0.3:
            coll["BTC"] = d(F(rng.randint(1, 50), 100))
        positions = []
        iso_syms[aid] = set()
        for sym in LINEAR:
            if rng.random() < 0.6:
                price = marks[sym]
                notional = F(rng.choice([2000, 10000, 40000, 60000, 200000, 700000, 1500000]
                                        if profile == "mixed" else [40000, 60000, 200000]))
                if sym == "ETHUSDT":
                    notional /= 10
                q = notional / price
                q = F(round(q * 1000), 1000) or F(1, 1000)
                if (rng.random() < 0.5) if profile != "crash" else (i % 2 == 1):
                    q = -q
                entry = rnd_price(rng, price, 30)
                lev = rng.choice([2, 5, 10, 20, 50] if profile == "mixed" else [10, 20, 50])
                pos = {"symbol": sym, "quantity": d(q), "entry_price": d(entry, 2),
                       "leverage": str(lev)}
                if rng.random() < 0.35:
                    pos["margin_mode"] = "isolated"
                    im = abs(q) * entry / lev
                    pos["isolated_margin"] = d(im * F(rng.randint(60, 200), 100), 2)
                    iso_syms[aid].add(sym)
                positions.append(pos)
        accounts.append({"id": aid, "settle": "USDT", "collateral": coll, "positions": positions})
    if level >= 5:
        for i in range(rng.randint(1, 3)):
            aid = f"b{i}"
            coll = {"BTC": d(F(rng.choice([5, 20, 50, 100, 500]), 100))}
            if rng.random() < 0.3:
                coll["USDT"] = str(rng.choice([500, 5000]))
            positions = []
            iso_syms[aid] = set()
            if rng.random() < 0.8:
                q = F(rng.choice([5, 50, 200, 1000, 3000]))
                if (rng.random() < 0.5) if profile != "crash" else (i % 2 == 1):
                    q = -q
                entry = rnd_price(rng, marks["BTCUSD"], 30)
                lev = rng.choice([2, 5, 10, 20, 50])
                pos = {"symbol": "BTCUSD", "quantity": d(q), "entry_price": d(entry, 1),
                       "leverage": str(lev)}
                if rng.random() < 0.35:
                    pos["margin_mode"] = "isolated"
                    im = abs(q) * 100 / entry / lev
                    pos["isolated_margin"] = d(im * F(rng.randint(60, 200), 100), 8)
                    iso_syms[aid].add("BTCUSD")
                positions.append(pos)
            accounts.append({"id": aid, "settle": "BTC", "collateral": coll,
                             "positions": positions})

    def syms_for(acc):
        return ["BTCUSD"] if acc["settle"] == "BTC" else list(LINEAR)
    params = {"mark_staleness_ms": 86400000, "oracle_divergence_limit": "0.5",
              "index_move_limit": "1", "price_band": rng.choice(["0.1", "0.2", "0.5"]),
              "execution": rng.choice(["depth", "depth", "backstop"]),
              "backstop": rng.random() < 0.3,
              "liquidation_step_fraction": rng.choice(["0.25", "0.3", "1"]),
              "liquidation_fee_rate": rng.choice(["0", "0.005", "0.01"]),
              "grace_period_ms": rng.choice([0, 0, 5000, 60000])}
    if level >= 4:
        params["finality_depth"] = rng.choice([2, 3, 6])
        if rng.random() < 0.5:
            params["unconfirmed_haircut"] = rng.choice(["0.5", "0.2"])
        if rng.random() < 0.4 and "cap_lots" not in avoid:
            params["liquidation_notional_cap"] = rng.choice(["20000", "100000", "500000"])
            params["liquidation_cap_interval_ms"] = rng.choice([10000, 60000])
        if rng.random() < 0.4:
            params["oracle_divergence_limit"] = "0.05"
        if rng.random() < 0.3:
            params["mark_staleness_ms"] = 30000
        if rng.random() < 0.3:
            params["index_move_limit"] = "0.3"
            params["index_move_window_ms"] = 60000
    if level >= 3:
        params["adl"] = rng.random() < 0.7
        params["socialize_over"] = rng.choice(["profitable", "all"])
    else:
        params["adl"] = True
        params["socialize_over"] = "profitable"
        params["backstop"] = True
        params["execution"] = rng.choice(["depth", "backstop"])
    if "backstop_after_dry" in avoid and params["execution"] == "depth":
        params["backstop"] = False
    fund = {"USDT": str(rng.choice([0, 10, 100, 1000, 5000, 100000]))}
    if level >= 5:
        fund["BTC"] = rng.choice(["0", "0.01", "0.5", "100"])
    if profile == "crash":
        params.update(execution="depth", adl=rng.random() < 0.8, backstop=rng.random() < 0.2)
        fund = {"USDT": rng.choice(["0", "10", "200", "2000"]), "BTC": rng.choice(["0", "0.05"])}
    elif profile == "calls":
        params["grace_period_ms"] = rng.choice([5000, 60000, 3600000])
    if "fund_dry" in avoid:
        fund = {"USDT": "100000000", "BTC": "10000"}
    if "mixed_pools" in avoid:
        for acc in accounts:
            isolated = [p for p in acc["positions"] if p.get("margin_mode") == "isolated"]
            if isolated and (len(isolated) > 1 or len(isolated) < len(acc["positions"])):
                for p in acc["positions"]:
                    p.pop("margin_mode", None)
                    p.pop("isolated_margin", None)
                iso_syms[acc["id"]] = set()
    t = T0
    cmds = []
    n_cmd = rng.randint(3, 14) if profile == "mixed" else rng.randint(8, 20)
    index = dict(marks)
    orders = []
    chain_h = [99, 99]    # last deposit height, tip
    touched, order_side = set(), {}
    due_ticks = []
    index_sent = set()
    for k in range(n_cmd):
        t_next = t + rng.choice([0, 1000, 1000, 5000, 30000, 61000])
        for due in sorted(due_ticks):
            if due < t_next:       # the change takes effect on its own tick first
                cmds.append({"time": max(due, t), "type": "tick"})
                due_ticks.remove(due)
        t = t_next
        kinds = ["mark", "mark", "mark", "book", "book", "tick", "deposit", "funding"]
        if profile == "calls":
            kinds += ["mark", "mark", "tick", "tick", "deposit", "deposit"]
        if profile == "crash":
            kinds += ["mark", "mark", "mark", "mark", "book"]
        if level >= 2:
            kinds += ["withdraw", "fill", "fill", "asset_price"]
        if level >= 3:
            kinds += ["reduce_only", "change_parameters", "move_isolated_margin", "margin_mode"]
        if level >= 4:
            kinds += ["chain_deposit", "chain_deposit", "chain_tip", "chain_tip", "chain_reorg",
                      "order", "order", "order_fill", "cancel_order", "set_leverage"]
        kind = rng.choice(kinds)
        c = {"time": t}
        sym = rng.choice(syms)
        if profile != "mixed" and kind in ("mark", "book") and rng.random() < 0.7:
            sym = main_sym
        if kind == "mark":
            moves = {"mixed": [-15, -10, -6, -3, -1, 1, 3, 6, 10, 15],
                     "crash": [2, 3, 4, 6, 8],
                     "calls": [-10, -5, -3, -2, 2, 3, 5, 10]}[profile]
            move = F(rng.choice(moves), 100 if profile != "calls" else 1000)
            if profile == "crash":
                move *= trend       # one direction per scenario: a crash or a squeeze
            marks[sym] = marks[sym] * (1 + move)
            marks[sym] = F(round(marks[sym] * 100), 100)
            if rng.random() < (0.85 if level < 4 else 0.7):
                index[sym] = marks[sym]
                index_sent.add(sym)
                cmds.append({"time": t, "type": "index", "symbol": sym, "price": d(index[sym], 2)})
                # a fresh book around the new index (a stale book would sit outside the band)
                cmds.append(make_book(rng, sym, index[sym], t, "deep_books" in avoid))
            c.update(type="mark", symbol=sym, price=d(marks[sym], 2))
        elif kind == "book":
            # the band is centred on the index, or on the mark before any index arrived
            c = make_book(rng, sym, index[sym] if sym in index_sent else marks[sym], t,
                          "deep_books" in avoid)
        elif kind == "tick":
            c.update(type="tick")
        elif kind == "deposit":
            a = rng.choice(accounts)["id"]
            if a.startswith("b"):
                c.update(type="deposit", account=a, asset="BTC",
                         amount=rng.choice(["0.01", "0.1", "1"]))
            elif rng.random() < 0.8 or level < 2:
                c.update(type="deposit", account=a, asset="USDT",
                         amount=str(rng.choice([10, 100, 1000, 10000])))
            else:
                c.update(type="deposit", account=a, asset="BTC", amount="0.1")
        elif kind == "funding":
            c.update(type="funding", symbol=sym, rate=rng.choice(["0.0001", "-0.0005", "0.003"]))
        elif kind == "withdraw":
            a = rng.choice(accounts)["id"]
            c.update(type="withdraw", account=a, asset=rng.choice(["USDT", "USDT", "BTC"]),
                     amount=rng.choice(["1", "50", "500", "5000", "0.01"]))
        elif kind == "fill":
            acc = rng.choice(accounts)
            sym = rng.choice(syms_for(acc))
            touched.add((acc["id"], sym))
            if "isolated_fills" in avoid and sym in iso_syms[acc["id"]]:
                continue
            q = F(rng.choice([1, 5, 20, 100, 300]), 100) * QSCALE[sym]
            if rng.random() < 0.5:
                q = -q
            c.update(type="fill", account=acc["id"], symbol=sym, quantity=d(q),
                     price=d(rnd_price(rng, marks[sym], 5), 2))
            if rng.random() < 0.3:
                c["fee"] = rng.choice(["0.5", "3"] if acc["settle"] == "USDT"
                                      else ["0.00001", "0.0001"])
        elif kind == "asset_price":
            a = rng.choice(["BTC", "ETH"])
            base = F(assets[a])
            assets_move = base * (1 + F(rng.choice([-20, -10, 5, 10]), 100))
            c.update(type="asset_price", asset=a, price=d(assets_move, 2))
        elif kind == "reduce_only":
            acc = rng.choice(accounts)
            sym = rng.choice(syms_for(acc))
            touched.add((acc["id"], sym))
            oid = f"o{k}"
            q = F(rng.choice([1, 5, 20, 100]), 100) * QSCALE[sym]
            if rng.random() < 0.5:
                q = -q
            cmds.append({"time": t, "type": "place_order", "id": oid, "account": acc["id"],
                         "symbol": sym, "quantity": d(q), "price": d(marks[sym], 2),
                         "reduce_only": True})
            orders.append((oid, acc["id"], sym, q))
            if rng.random() < 0.7:
                c.update(type="fill", account=acc["id"], symbol=sym, quantity=d(q),
                         price=d(marks[sym], 2), order_id=oid)
            else:
                continue
        elif kind == "change_parameters":
            which = rng.choice(["fee", "fraction", "brackets", "staleness"])
            if which == "fee":
                c.update(type="change_parameters",
                         parameters={"liquidation_fee_rate": rng.choice(["0", "0.002"])})
            elif which == "fraction":
                c.update(type="change_parameters",
                         parameters={"liquidation_step_fraction": rng.choice(["0.4", "1"])})
            elif which == "staleness":
                c.update(type="change_parameters", parameters={"mark_staleness_ms": 20000})
            else:
                spec = INSTRUMENTS[sym]["brackets"]
                factor = F(rng.choice([1, 2, 3]))
                c.update(type="change_parameters", brackets={sym: [
                    {"notional_floor": a, "notional_cap": b, "max_leverage": lv,
                     "mmr": d(F(m) * factor, 6)} for a, b, lv, m in spec]})
            if rng.random() < 0.4:
                c["effective_time"] = t + rng.choice([0, 2000, 30000])
            else:
                c["effective_time"] = t
            if "params_due_late" in avoid and c["effective_time"] > t:
                due_ticks.append(c["effective_time"])
        elif kind == "order":
            acc = rng.choice(accounts)
            sym = rng.choice(syms_for(acc))
            if "isolated_fills" in avoid and sym in iso_syms[acc["id"]]:
                continue
            oid = f"p{k}"
            q = F(rng.choice([1, 5, 20, 100, 300]), 100) * QSCALE[sym]
            if rng.random() < 0.5:
                q = -q
            if "order_flips" in avoid:
                pair = (acc["id"], sym)
                held = any(p["symbol"] == sym for p in acc["positions"])
                if held or pair in touched:
                    continue
                q = abs(q) * order_side.setdefault(pair, rng.choice([1, -1]))
            c.update(type="place_order", id=oid, account=acc["id"], symbol=sym, quantity=d(q),
                     price=d(rnd_price(rng, marks[sym], 20), 2))
            orders.append((oid, acc["id"], sym, q))
        elif kind == "order_fill":
            plain = [o for o in orders if o[0].startswith("p")]
            if not plain:
                continue
            oid, aid, s2, q = rng.choice(plain)
            part = q * F(rng.choice([1, 1, 2]), 2)
            c.update(type="fill", account=aid, symbol=s2, quantity=d(part),
                     price=d(marks[s2], 2), order_id=oid)
        elif kind == "cancel_order":
            if not orders:
                continue
            c.update(type="cancel_order", id=rng.choice(orders)[0])
        elif kind == "margin_mode":
            acc = rng.choice(accounts)
            sym = rng.choice(syms_for(acc))
            mode = rng.choice(["isolated", "cross"])
            if "mixed_pools" in avoid or "isolated_fills" in avoid:
                continue
            c.update(type="set_margin_mode", account=acc["id"], symbol=sym, mode=mode)
            if mode == "isolated":
                iso_syms[acc["id"]].add(sym)
        elif kind == "set_leverage":
            acc = rng.choice(accounts)
            sym = rng.choice(syms_for(acc))
            c.update(type="set_leverage", account=acc["id"], symbol=sym,
                     leverage=rng.choice(["2", "5", "10", "20", "50", "125"]))
        elif kind == "chain_deposit":
            chain_h[0] += 1            # one deposit per block
            h = chain_h[0]
            aid = rng.choice([a["id"] for a in accounts] + ["c0"])
            c.update(type="chain_deposit", account=aid, asset="USDT",
                     amount=str(rng.choice([100, 1000, 5000, 20000])), chain="eth", height=h,
                     block_hash=f"b{h}")
        elif kind == "chain_tip":
            chain_h[1] = max(chain_h[1], chain_h[0]) + rng.choice([1, 2, 3])
            c.update(type="chain_tip", chain="eth", height=chain_h[1])
        elif kind == "chain_reorg":
            fork = max(100, chain_h[0] - rng.choice([0, 1, 2]))
            top = chain_h[1]           # the new chain's hashes up to the known tip only
            chain_h[0] = max(chain_h[0], top) + 1     # later deposits above the fork
            c.update(type="chain_reorg", chain="eth", fork_height=fork,
                     new_hashes={str(h): (f"b{h}" if rng.random() < 0.3 else f"r{h}-{k}")
                                 for h in range(fork, top + 1)})
        elif kind == "move_isolated_margin":
            acc = rng.choice(accounts)
            if not iso_syms[acc["id"]]:
                continue
            s2 = sorted(iso_syms[acc["id"]])[0]
            c.update(type="move_isolated_margin", account=acc["id"], symbol=s2,
                     amount=rng.choice(["100", "-50", "1000", "-1"]))
        cmds.append(c)
    return {"description": "generated", "start": {
        "time": T0, "policy": {"warning_ratio": "0.70", "call_ratio": "0.85",
                               "restore_ratio": "0.70"},
        "assets": assets, "haircuts": haircuts,
        "instruments": [instrument_doc(s) for s in syms],
        "marks": {s: d(INSTRUMENTS[s]["price"], 2) for s in syms}, "accounts": accounts},
        "parameters": params, "insurance_fund": fund, "commands": cmds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=1)
    ap.add_argument("--level", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--avoid", default="", help="comma-separated names from KNOWN")
    ap.add_argument("--lending", default="auto", choices=["auto", "on", "off"])
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for i in range(a.cases):
        doc = generate(rng, a.level, [x for x in a.avoid.split(",") if x], a.lending)
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            with open(os.path.join(a.out, f"case-{a.seed}-{i}.json"), "w") as fh:
                json.dump(doc, fh, indent=1)
        else:
            print(json.dumps(doc))


if __name__ == "__main__":
    main()
