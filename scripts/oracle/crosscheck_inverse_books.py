#!/usr/bin/env python3
"""Wider independent checks of coin-settled (inverse) option books in the engine (issue 17,
spec items 5 and 6; brief ORACLE2).  Written from docs/options.md, docs/mechanics.md and
the shared specification, not from the Swift.

    python3 crosscheck_inverse_books.py --solvent PATH [--cases N] [--seed S]

1. `--cases` random coin portfolio books (seeded): three BTC portfolio accounts (mode
   portfolio, settle BTC) trading the inverse perpetual, an inverse future and inverse options
   of two expiries (underlyings: the perpetual for the near expiry, the future for the far
   one), long and short, under random marks, option marks and implied vols, half of them
   through the near expiry (some options with a fed settlement price, the rest at the
   perpetual's mark; each settlement checked as in 2, balances rebuilt).  Each account's
   pool equity / IM / MM (summary) against inverse_option_reference.evaluate_coin_accounts on
   the evaluate document the account states (docs/options.md: the BTC balance plus the
   option premium basis Σ q·cs·entry, the summary's positions, the final marks and vols, the
   valuation time = the latest option mark's source_time, docs/options.md).  Tolerance 1e-9 coin, as in
   crosscheck_inverse_options.py: the scenario grid values Black-76 in Double (≈1e-16
   relative) on books of at most ≈100 BTC of notional, so anything above 1e-9 is a
   disagreement of the model, not of floating point.
2. Examples/scenarios/inverse-option-expiry-day.json: every `settled` event's cash
   q·cs·settlement_price (the event's settlement_price is the per-coin intrinsic the
   account was paid at; realized_pnl = q·cs·(settlement_price − entry)) against
   q·cs·intrinsic_coin at the fed settlement price or the underlying's mark (from the
   matching `expired` event's source), rounded in the venue's favour per side: a holder's
   amount at most the exact one, a writer's payment at least the exact one, each within
   (|q|·cs + 1)·1e-18; and the final balances = opening − premiums + settlement cash.
3. Liquidation of a short coin-option portfolio account after a crash of the underlying
   (three variants: options only, bankrupt, the insurance fund draws; a partial liquidation
   with a short-perpetual hedge; a long-perpetual wrong-way hedge closed at a realized loss):
   the coin is conserved (summary totals: opening + deposited − withdrawn = balances +
   insurance_fund + fees + external + socialized_loss, and the same rebuilt from the events:
   each account's opening balance − premiums paid + received − fees + realized perp PnL …
   is compared with its final balance), the account was liquidated (liquidation events
   present, its short options reduced), and no position flipped sign in any event that
   reports a resulting position.  The same conservation and no-flip checks on `--cases`
   random coin portfolio books on thin collateral after a random crash or spike, and each
   account's pool after the liquidations against the reference as in 1.
Last line `N passed, M failed`; exit 1 on failures or when nothing was compared.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time as _time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inverse_option_reference as iref  # noqa: E402
from common import finish, record  # noqa: E402

F = Fraction
E18 = F(1, 10 ** 18)
MODEL_TOL = F(1, 10 ** 9)
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BRACKETS = [{"notional_floor": "0", "notional_cap": "100000000", "max_leverage": "50", "mmr": "0.01"}]
START = 1709280000                      # 2024-03-01T08:00:00Z
NEAR, FAR = "2024-03-02T08:00:00Z", "2024-03-08T08:00:00Z"
POLICY = {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"}


def iso(t):
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(t))


def simulate(solvent, doc, tmp, name):
    path = os.path.join(tmp, f"{name}.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)
    p = subprocess.run([solvent, "simulate", "--scenario", path], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return None, None, f"exit {p.returncode}: {p.stderr.strip()[:300]}", path
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    return lines[:-1], lines[-1], "", path


def keep(path, name):
    dst = f"/tmp/solvent-inverse-books-{name}.json"
    os.replace(path, dst)
    return f"kept {dst}"


def dec(x):
    return iref.ref.fraction_to_decimal(x)


# --------------------------------------------------------------------------- 1. random books

def option_table(rng):
    """Six options: three on the perpetual (near expiry), three on the future (far)."""
    out = {}
    for expiry, und, tag in ((NEAR, "BTC-PERPETUAL", "2MAR24"), (FAR, "BTC-8MAR24", "8MAR24")):
        for K, call in rng.sample([(45000, False), (55000, False), (60000, True), (60000, False),
                                   (65000, True), (75000, True), (90000, True)], 3):
            out[f"BTC-{tag}-{K}-{'C' if call else 'P'}"] = (K, call, expiry, und)
    return out


def random_book(rng):
    opts = option_table(rng)
    inst = [{"symbol": "BTC-PERPETUAL", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC",
             "contract_size": "10", "brackets": BRACKETS},
            {"symbol": "BTC-8MAR24", "kind": "inverse_future", "expiry": FAR, "base": "BTC",
             "settle": "BTC", "contract_size": "10", "brackets": BRACKETS}]
    for sym, (K, call, expiry, und) in opts.items():
        inst.append({"symbol": sym, "kind": "inverse_option", "right": "call" if call else "put",
                     "strike": str(K), "expiry": expiry, "underlying": und, "base": "BTC",
                     "settle": "BTC", "contract_size": rng.choice(["1", "0.1"]), "brackets": BRACKETS})
    und_px = {"BTC-PERPETUAL": 60000.0, "BTC-8MAR24": 60300.0}
    marks, vols = dict(und_px), {}

    def option_mark(sym, t):
        K, call, expiry, und = opts[sym]
        T = float(iref.pref._time(expiry, "expiry") - t) / iref.YEAR_SECONDS
        return max(1e-4, round(iref.coin_value(marks[und], K, T, vols[sym], call) * rng.uniform(0.9, 1.1), 4))

    for sym in opts:
        vols[sym] = round(rng.uniform(0.35, 1.1), 3)
        marks[sym] = option_mark(sym, START)
    accounts = [{"id": f"p{k}", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "40"},
                 "positions": []} for k in range(3)]
    doc = {"start": {"time": iso(START), "valuation_time": iso(START), "policy": POLICY,
                     "assets": {"USD": "1", "BTC": "60000"}, "haircuts": {}, "instruments": inst,
                     "marks": {k: (f"{v:.1f}" if k in und_px else f"{v:.4f}") for k, v in marks.items()},
                     "implied_vols": {k: f"{v:.3f}" for k, v in vols.items()}, "accounts": accounts},
           "parameters": {"backstop": True, "adl": False, "mark_staleness_ms": 86400000,
                          "option_mark_tolerance": "1"},  # fed marks only: the stale-mark rule (docs/options.md "Stale option marks") is off at tolerance 1 (StaleOptionMarkTests cover it)
           "insurance_fund": {"BTC": "100"}, "commands": []}
    t = START
    cmds = []
    for _ in range(rng.randint(12, 30)):
        t += rng.randint(30, 600)
        r = rng.random()
        if r < 0.2:
            u = rng.choice(list(und_px))
            marks[u] = round(marks[u] * rng.uniform(0.95, 1.05), 1)
            cmds.append({"time": iso(t), "type": "mark", "symbol": u, "price": f"{marks[u]:.1f}"})
        elif r < 0.4:
            sym = rng.choice(list(opts))
            vols[sym] = round(rng.uniform(0.35, 1.1), 3)
            marks[sym] = option_mark(sym, t)
            cmds.append({"time": iso(t), "type": "option_mark", "symbol": sym, "price": f"{marks[sym]:.4f}",
                         "implied_vol": f"{vols[sym]:.3f}", "source_time": iso(t)})
        elif r < 0.6:
            u = rng.choice(list(und_px))
            cmds.append({"time": iso(t), "type": "fill", "account": f"p{rng.randint(0, 2)}", "symbol": u,
                         "quantity": str(rng.choice([-3000, -1000, -500, 500, 1000, 4000])),
                         "price": f"{marks[u] * rng.uniform(0.99, 1.01):.1f}"})
        else:
            sym = rng.choice(list(opts))
            cmds.append({"time": iso(t), "type": "fill", "account": f"p{rng.randint(0, 2)}", "symbol": sym,
                         "quantity": str(rng.choice([-4, -2, -1, 1, 2, 3])), "price": f"{marks[sym]:.4f}"})
    if rng.random() < 0.5:                       # through the near expiry (item 5)
        t = int(iref.pref._time(NEAR, "expiry")) - 60
        marks["BTC-PERPETUAL"] = round(marks["BTC-PERPETUAL"] * rng.uniform(0.9, 1.1), 1)
        cmds.append({"time": iso(t), "type": "mark", "symbol": "BTC-PERPETUAL", "price": f"{marks['BTC-PERPETUAL']:.1f}"})
        for sym, (K, call, expiry, und) in opts.items():
            if expiry == NEAR and rng.random() < 0.6:     # else: settles at the perpetual's mark
                cmds.append({"time": iso(t), "type": "settlement_price", "symbol": sym,
                             "price": f"{marks['BTC-PERPETUAL'] * rng.uniform(0.97, 1.03):.2f}"})
        cmds.append({"time": iso(t + 61), "type": "tick"})
    doc["commands"] = cmds
    return doc, opts


def final_marks(doc):
    marks, vols = dict(doc["start"]["marks"]), dict(doc["start"]["implied_vols"])
    for c in doc["commands"]:
        if c["type"] in ("mark", "option_mark"):
            marks[c["symbol"]] = c["price"]
            if c["type"] == "option_mark":
                vols[c["symbol"]] = c["implied_vol"]
    return marks, vols


def account_document(doc, opts, acc):
    """The evaluate document the engine's portfolio account states (docs/options.md)."""
    marks, vols = final_marks(doc)
    cash = F(acc["balances"].get("BTC", "0"))
    positions = []
    for p in acc["positions"]:
        if p["symbol"] in opts:
            cash += F(p["quantity"]) * F(next(i["contract_size"] for i in doc["start"]["instruments"]
                                               if i["symbol"] == p["symbol"])) * F(p["entry_price"])
        positions.append({"symbol": p["symbol"], "quantity": p["quantity"], "entry_price": p["entry_price"]})
    # docs/options.md: the valuation time of every option is the latest source_time of an
    # option mark (fed inputs, not the clock)
    vt = max([doc["start"]["valuation_time"]] + [c["source_time"] for c in doc["commands"]
                                                   if c["type"] == "option_mark"])
    return {"valuation_time": vt, "policy": POLICY,
            "assets": {"USD": "1", "BTC": marks["BTC-PERPETUAL"]}, "haircuts": {},
            "instruments": doc["start"]["instruments"], "marks": marks, "implied_vols": vols,
            "accounts": [{"id": acc["id"], "mode": "portfolio", "settle": "BTC",
                          "collateral": {"BTC": dec(cash)}, "positions": positions}]}


SEEN = {"positions": 0, "options": 0, "futures": 0, "max_diff": F(0), "settled": 0, "liq_fills": 0}


def pool_problems(doc, opts, summary):
    """Each account's pool equity / IM / MM against the reference (1e-9 coin)."""
    probs, n = [], 0
    for acc in summary["accounts"]:
        if not acc["positions"]:
            continue
        SEEN["positions"] += len(acc["positions"])
        SEEN["options"] += sum(p["symbol"] in opts for p in acc["positions"])
        SEEN["futures"] += sum(p["symbol"] == "BTC-8MAR24" for p in acc["positions"])
        ref = iref.evaluate_coin_accounts(account_document(doc, opts, acc))[acc["id"]]["pool"]
        pool = acc["pools"][0]
        for f in ("equity", "initial_margin", "maintenance_margin"):
            n += 1
            SEEN["max_diff"] = max(SEEN["max_diff"], abs(F(pool[f]) - F(ref[f])))
            if abs(F(pool[f]) - F(ref[f])) > MODEL_TOL:
                probs.append(f"{acc['id']} {f}: engine {pool[f]}, reference {dec(F(ref[f]))}")
    return probs, n


def check_random_book(doc, opts, events, summary):
    probs, n = [], 0
    rej = [e for e in events if e.get("type") == "rejected"]
    liq = [e for e in events if e.get("type") in ("liquidation_started", "liquidation_fill")]
    if liq:
        probs.append(f"unexpected liquidation events: {json.dumps(liq[0])[:200]}")
    pp, pn = pool_problems(doc, opts, summary)
    probs += pp
    n += pn
    if rej:
        probs.append(f"{len(rej)} rejections, first {json.dumps(rej[0])[:200]}")
    if any(e.get("type") == "settled" for e in events):
        sp, sn = check_expiry_example(events, summary, doc, min_checks=1)
        SEEN["settled"] += sum(e.get("type") == "settled" for e in events)
        probs += sp
        n += sn
    return probs, n


# --------------------------------------------------------------------------- 2. expiry day

EXAMPLE = os.path.join(REPO, "Examples", "scenarios", "inverse-option-expiry-day.json")


def rounding(x):
    """1e-18 when x needs rounding to the engine's 18 digits, else 0."""
    return F(0) if (x * 10 ** 18).denominator == 1 else E18


def check_expiry_example(events, summary, doc, min_checks=6):
    """Every settled event of an inverse option: its cash against the reference, per side.
    Balances are rebuilt exactly (opening − premiums − fees + perpetual realized PnL +
    settlement cash), allowing 1e-18 for each product that needs rounding (none in the
    example: contract size 1, so the example is checked exactly)."""
    insts = {i["symbol"]: i for i in doc["start"]["instruments"]}
    fed, und_mark = {}, {}
    marks = dict(doc["start"]["marks"])
    balances = {a["id"]: F(a["collateral"].get("BTC", "0")) for a in doc["start"]["accounts"]}
    slack_of = {a: F(0) for a in balances}
    for e in events:
        if e.get("type") == "settlement_price_set":
            fed[e["symbol"]] = F(e["price"])
    for c in doc["commands"]:
        if c["type"] == "mark":
            marks[c["symbol"]] = c["price"]
    expired = {e["symbol"]: e for e in events if e.get("type") == "expired"}
    # positions in the starting snapshot carry their premium basis in the stated collateral
    # (evaluate convention, docs/options.md): they are credited q·cs·(S − entry) at settlement,
    # a position opened by a fill (premium paid then) q·cs·S
    opening_basis = {(a["id"], p["symbol"]): F(p["quantity"]) * F(p["entry_price"])
                     for a in doc["start"]["accounts"] for p in a["positions"]
                     if next(i for i in doc["start"]["instruments"] if i["symbol"] == p["symbol"])["kind"] == "inverse_option"}
    probs, n = [], 0
    for e in events:
        if e.get("type") == "filled":
            cs = F(insts[e["symbol"]]["contract_size"])
            if insts[e["symbol"]]["kind"] == "inverse_option":
                balances[e["account"]] -= F(e["quantity"]) * cs * F(e["price"]) + F(e["fee"])
                slack_of[e["account"]] += rounding(F(e["quantity"]) * cs * F(e["price"]))
            else:
                balances[e["account"]] += F(e["realized_pnl"]) - F(e["fee"])
        if e.get("type") != "settled":
            continue
        inst = insts[e["symbol"]]
        if inst["kind"] != "inverse_option":
            continue
        n += 1
        q, cs, K = F(e["quantity"]), F(inst["contract_size"]), F(inst["strike"])
        src = expired.get(e["symbol"], {}).get("source")
        S = fed.get(e["symbol"]) if src == "settlement_price" else F(marks[inst["underlying"]])
        if S is None:
            probs.append(f"{e['account']} {e['symbol']}: no settlement price to check against")
            continue
        exact = q * cs * iref.intrinsic_coin(S, K, inst["right"] == "call")
        paid = q * cs * F(e["settlement_price"])
        pnl = paid - q * cs * F(e["entry_price"])
        if abs(pnl - F(e["realized_pnl"])) > rounding(pnl):
            probs.append(f"{e['account']} {e['symbol']}: realized_pnl {e['realized_pnl']} ≠ "
                         f"q·cs·(settlement_price − entry) = {dec(pnl)}")
        slack = (abs(q) * cs + 1) * E18
        if not (exact - slack <= paid <= exact):
            probs.append(f"{e['account']} {e['symbol']} (q {q}, S {dec(S)}, {src}): settled "
                         f"{dec(paid)}, exact {dec(exact)} (reference one rounding "
                         f"{dec(iref.settlement_cash(q, cs, S, K, inst['right'] == 'call'))}); "
                         f"expected at most the exact amount, within {float(slack):.0e}")
        balances[e["account"]] += paid - F(inst["contract_size"]) * opening_basis.get((e["account"], e["symbol"]), 0)
        slack_of[e["account"]] += rounding(paid)
    gone = {e["symbol"] for e in events if e.get("type") == "expired"}
    for acc in summary["accounts"]:
        n += 1
        left = [p["symbol"] for p in acc["positions"] if p["symbol"] in gone]
        if left:
            probs.append(f"{acc['id']}: positions left after expiry: {left}")
        # alice's perpetual uPnL is not in her balance; everyone else's balance is cash only
        got = F(acc["balances"].get("BTC", "0"))
        if abs(got - balances[acc["id"]]) > slack_of[acc["id"]]:
            probs.append(f"{acc['id']} BTC: engine {dec(got)}, opening − premiums + settlements "
                         f"{dec(balances[acc['id']])} (within {float(slack_of[acc['id']]):.0e})")
    if n < min_checks:
        probs.append(f"only {n} settlement checks (expected ≥ {min_checks})")
    return probs, n


# --------------------------------------------------------------------------- 3. liquidation

def liquidation_scenario(variant="plain"):
    """`writer` (portfolio, BTC, 1.2 BTC) sells 10 puts K = 55,000 and 5 calls K = 65,000 at
    the fed marks (BTC-PERPETUAL 60,000); `buyer` (standard, 10 BTC) buys them.  The
    underlying then crashes to 42,000 and the puts' mark jumps to 0.33 BTC (intrinsic
    13,000/42,000 = 0.3095 BTC plus time value): the writer's equity
    ≈ 1.2 + premium − 10·0.33 < its maintenance, so it is liquidated.
    `partial`: the writer holds 3.5 BTC and is also short 20,000 contracts (200,000 USD) of
    the inverse perpetual; the option marks arrive before the crash: a partial liquidation
    of the options (margin call after it), cured by the perpetual's gain on the crash.
    `perp`: the writer holds 2 BTC and is long 200,000 USD of the perpetual (a wrong-way
    hedge: 200,000·(1/60,000 − 1/42,000) ≈ −1.43 BTC on the crash): the liquidation closes
    the perpetual at 42,000 with a realized loss, which enters the conservation."""
    inst = [{"symbol": "BTC-PERPETUAL", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC",
             "contract_size": "10", "brackets": BRACKETS}]
    for sym, right, K in (("BTC-8MAR24-55000-P", "put", "55000"), ("BTC-8MAR24-65000-C", "call", "65000")):
        inst.append({"symbol": sym, "kind": "inverse_option", "right": right, "strike": K,
                     "expiry": FAR, "underlying": "BTC-PERPETUAL", "base": "BTC", "settle": "BTC",
                     "contract_size": "1", "brackets": BRACKETS})
    t = START
    cmds = [{"time": iso(t + 60), "type": "fill", "account": "writer", "symbol": "BTC-8MAR24-55000-P", "quantity": "-10", "price": "0.0150"},
            {"time": iso(t + 60), "type": "fill", "account": "buyer", "symbol": "BTC-8MAR24-55000-P", "quantity": "10", "price": "0.0150"},
            {"time": iso(t + 60), "type": "fill", "account": "writer", "symbol": "BTC-8MAR24-65000-C", "quantity": "-5", "price": "0.0200"},
            {"time": iso(t + 60), "type": "fill", "account": "buyer", "symbol": "BTC-8MAR24-65000-C", "quantity": "5", "price": "0.0200"},
            {"time": iso(t + 600), "type": "mark", "symbol": "BTC-PERPETUAL", "price": "42000"},
            {"time": iso(t + 600), "type": "option_mark", "symbol": "BTC-8MAR24-55000-P", "price": "0.33", "implied_vol": "1.2", "source_time": iso(t + 600)},
            {"time": iso(t + 600), "type": "option_mark", "symbol": "BTC-8MAR24-65000-C", "price": "0.0001", "implied_vol": "1.2", "source_time": iso(t + 600)},
            {"time": iso(t + 660), "type": "tick"},
            {"time": iso(t + 720), "type": "tick"}]
    collateral = {"plain": "1.2", "partial": "3.5", "perp": "2"}[variant]
    if variant != "plain":
        q = -20000 if variant == "partial" else 20000
        cmds[4:4] = [{"time": iso(t + 120), "type": "fill", "account": "writer", "symbol": "BTC-PERPETUAL", "quantity": str(q), "price": "60000"},
                     {"time": iso(t + 120), "type": "fill", "account": "buyer", "symbol": "BTC-PERPETUAL", "quantity": str(-q), "price": "60000"}]
    if variant == "partial":
        crash = cmds[6]
        cmds[6:9] = cmds[7:9] + [crash]              # option marks first, then the crash
    return {"start": {"time": iso(t), "valuation_time": iso(t), "policy": POLICY,
                      "assets": {"USD": "1", "BTC": "60000"}, "haircuts": {}, "instruments": inst,
                      "marks": {"BTC-PERPETUAL": "60000", "BTC-8MAR24-55000-P": "0.0150", "BTC-8MAR24-65000-C": "0.0200"},
                      "implied_vols": {"BTC-8MAR24-55000-P": "0.7", "BTC-8MAR24-65000-C": "0.6"},
                      "accounts": [{"id": "writer", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": collateral}, "positions": []},
                                   {"id": "buyer", "settle": "BTC", "collateral": {"BTC": "10"}, "positions": []}]},
            "parameters": {"backstop": True, "adl": False, "mark_staleness_ms": 86400000},
            "insurance_fund": {"BTC": "50"}, "commands": cmds}


def random_crash_book(rng):
    """A random coin portfolio book (as in 1) on thin collateral (0.3–1 BTC per account),
    then a crash or a spike of both underlyings (×0.65–0.8 or ×1.25–1.5) with every option
    re-marked at the model value of the new underlying (vol +0.2) and two ticks."""
    doc, opts = random_book(rng)
    doc["commands"] = [c for c in doc["commands"] if c["type"] not in ("settlement_price", "tick")
                       and not c["time"].startswith("2024-03-02")]
    for a in doc["start"]["accounts"]:
        a["collateral"]["BTC"] = rng.choice(["0.3", "0.6", "1"])
    marks, vols = final_marks(doc)
    t = int(iref.pref._time(doc["commands"][-1]["time"] if doc["commands"] else doc["start"]["time"], "t")) + 60
    move = rng.uniform(0.65, 0.8) if rng.random() < 0.6 else rng.uniform(1.25, 1.5)
    new = {u: float(marks[u]) * move for u in ("BTC-PERPETUAL", "BTC-8MAR24")}
    cmds = [{"time": iso(t), "type": "mark", "symbol": u, "price": f"{v:.1f}"} for u, v in new.items()]
    for sym, (K, call, expiry, und) in opts.items():
        vol = min(2.0, float(vols[sym]) + 0.2)
        T = float(iref.pref._time(expiry, "expiry") - t) / iref.YEAR_SECONDS
        px = max(1e-4, round(iref.coin_value(new[und], K, T, vol, call), 4))
        cmds.append({"time": iso(t), "type": "option_mark", "symbol": sym, "price": f"{px:.4f}",
                     "implied_vol": f"{vol:.3f}", "source_time": iso(t)})
    cmds += [{"time": iso(t + 60), "type": "tick"}, {"time": iso(t + 120), "type": "tick"}]
    doc["commands"] += cmds
    return doc, opts


def check_conservation(doc, events, summary, require_liquidation=True):
    """Rebuild every BTC balance, the insurance fund and the external (clearing) side from the
    events (docs/mechanics.md): an option fill/liquidation fill of signed quantity q at price p
    moves q·cs·p from the account to its counterparty (the external side: scenario fills and
    the backstop); a perpetual fill books its realized_pnl against the external side; fees and
    insurance_fund_contribution go to the fund, insurance_fund_draw comes from it; a settled
    option pays q·cs·settlement_price.  Then: rebuilt = summary for each balance, the fund and
    `external`; the totals identity holds; no fill flipped a position; the writer was
    liquidated down to flat or to fewer short options."""
    insts = {i["symbol"]: i for i in doc["start"]["instruments"]}
    bal = {a["id"]: F(a["collateral"].get("BTC", "0")) for a in doc["start"]["accounts"]}
    pos = {}
    fund = F(doc["insurance_fund"]["BTC"])
    external = F(0)
    probs, n, liq_fills = [], 0, 0

    def move(acc, sym, qty, forced):
        """A client fill may flip a position; a liquidation fill must not (docs/mechanics.md)."""
        nonlocal n
        before = pos.get((acc, sym), F(0))
        after = before + qty
        n += forced
        if forced and before != 0 and after != 0 and (before > 0) != (after > 0):
            probs.append(f"{acc} {sym}: position flipped {dec(before)} → {dec(after)}")
        pos[(acc, sym)] = after
        return after

    for e in events:
        t = e.get("type")
        if t in ("filled", "liquidation_fill"):
            inst = insts[e["symbol"]]
            q, cs = F(e["quantity"]), F(inst["contract_size"])
            after = move(e["account"], e["symbol"], q, t == "liquidation_fill")
            if t == "filled" and "position" in e and F(e["position"]) != after:
                probs.append(f"seq {e['seq']}: position {e['position']}, rebuilt {dec(after)}")
            if inst["kind"] == "inverse_option":
                cash = q * cs * F(e["price"])
                bal[e["account"]] -= cash
                external += cash
            else:
                bal[e["account"]] += F(e.get("realized_pnl", "0"))
                external -= F(e.get("realized_pnl", "0"))
            fee = F(e.get("fee") or "0")
            bal[e["account"]] -= fee
            fund += fee
            if t == "liquidation_fill":
                liq_fills += 1
                if F(e["quantity"]) * (after - F(e["quantity"])) > 0:
                    probs.append(f"seq {e['seq']}: liquidation fill increased |position|")
        elif t == "insurance_fund_contribution":
            bal[e["account"]] -= F(e["amount"])
            fund += F(e["amount"])
            n += 1
            if fund != F(e["fund"]):
                probs.append(f"seq {e['seq']}: fund {e['fund']}, rebuilt {dec(fund)}")
        elif t == "insurance_fund_draw":
            bal[e["account"]] += F(e["amount"])
            fund -= F(e["amount"])
            n += 1
            if fund != F(e["fund"]):
                probs.append(f"seq {e['seq']}: fund {e['fund']}, rebuilt {dec(fund)}")
        elif t == "settled":
            q, cs = F(e["quantity"]), F(insts[e["symbol"]]["contract_size"])
            paid = q * cs * F(e["settlement_price"])
            bal[e["account"]] += paid
            external -= paid
        elif t in ("socialized_loss", "adl_fill", "auto_deleveraged", "funding"):
            probs.append(f"event {t} not modelled by this check: {json.dumps(e)[:160]}")
    tot = summary["totals"]["BTC"]
    for acc in summary["accounts"]:
        n += 1
        if F(acc["balances"].get("BTC", "0")) != bal[acc["id"]]:
            probs.append(f"{acc['id']} BTC: engine {acc['balances'].get('BTC')}, rebuilt from events {dec(bal[acc['id']])}")
        for p in acc["positions"]:
            n += 1
            if F(p["quantity"]) != pos.get((acc["id"], p["symbol"]), 0):
                probs.append(f"{acc['id']} {p['symbol']}: engine {p['quantity']}, rebuilt {dec(pos.get((acc['id'], p['symbol']), 0))}")
    for label, got, want in (("insurance_fund", tot["insurance_fund"], fund), ("external", tot["external"], external),
                             ("balances", tot["balances"], sum(bal.values()))):
        n += 1
        if F(got) != want:
            probs.append(f"totals.{label}: engine {got}, rebuilt from events {dec(want)}")
    n += 1
    lhs = F(tot["opening"]) + F(tot["deposited"]) - F(tot["withdrawn"])
    rhs = F(tot["balances"]) + F(tot["insurance_fund"]) + F(tot["fees"]) + F(tot["external"]) + F(tot["socialized_loss"])
    opening = sum(F(a["collateral"].get("BTC", "0")) for a in doc["start"]["accounts"]) + F(doc["insurance_fund"]["BTC"])
    n += 1
    if F(tot["opening"]) != opening:
        probs.append(f"totals.opening {tot['opening']}: expected the accounts' and the fund's {dec(opening)}")
    if lhs != rhs:
        probs.append(f"BTC not conserved: opening + deposited − withdrawn = {dec(lhs)}, "
                     f"balances + fund + fees + external + socialized = {dec(rhs)}")
    SEEN["liq_fills"] += liq_fills
    if not require_liquidation:
        return probs, n
    n += 1
    if liq_fills == 0:
        probs.append("no liquidation_fill: the scenario did not liquidate the writer")
    w = next(a for a in summary["accounts"] if a["id"] == "writer")
    short = sum(-F(p["quantity"]) for p in w["positions"] if p["symbol"] in insts
                and insts[p["symbol"]]["kind"] == "inverse_option" and F(p["quantity"]) < 0)
    if short >= 15:
        probs.append(f"writer still short {dec(short)} options after the crash")
    return probs, n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--solvent", required=True)
    ap.add_argument("--cases", type=int, default=12, help="random coin portfolio books")
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    tally, compared = [0, 0], 0
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(args.seed)
        for k in range(args.cases):
            doc, opts = random_book(rng)
            events, summary, err, path = simulate(args.solvent, doc, tmp, f"book-{k}")
            if summary is None:
                record(f"random coin portfolio book {k}", [err], tally)
                continue
            probs, n = check_random_book(doc, opts, events, summary)
            compared += n
            if probs:
                probs.append(keep(path, f"book-{args.seed}-{k}"))
            record(f"random coin portfolio book {k}", probs, tally)
        print(f"{SEEN['positions']} positions ({SEEN['options']} options, {SEEN['futures']} futures) "
              f"in {args.cases} random coin portfolio books; largest |engine − reference| "
              f"{float(SEEN['max_diff']):.1e} BTC (tolerance {float(MODEL_TOL):.0e}); "
              f"{SEEN['settled']} settled option positions checked per side")
        if args.cases >= 4 and (SEEN["options"] == 0 or SEEN["futures"] == 0 or SEEN["settled"] == 0):
            record("random coin portfolio books", ["no option or no future position held: too little checked"], tally)

        with open(EXAMPLE) as fh:
            doc = json.load(fh)
        events, summary, err, path = simulate(args.solvent, doc, tmp, "expiry-day")
        if summary is None:
            record("inverse-option-expiry-day settlements", [err], tally)
        else:
            probs, n = check_expiry_example(events, summary, doc)
            compared += n
            record("inverse-option-expiry-day settlements", probs, tally)

        for variant in ("plain", "partial", "perp"):
            name = f"liquidation-{variant}"
            doc = liquidation_scenario(variant)
            events, summary, err, path = simulate(args.solvent, doc, tmp, name)
            if summary is None:
                record(f"coin option book {name}", [err], tally)
                continue
            probs, n = check_conservation(doc, events, summary)
            compared += n
            if probs:
                probs.append(keep(path, name))
            record(f"coin option book {name} (conservation, no flip)", probs, tally)
        fills_before = SEEN["liq_fills"]
        for k in range(args.cases):
            doc, opts = random_crash_book(rng)
            events, summary, err, path = simulate(args.solvent, doc, tmp, f"crash-{k}")
            if summary is None:
                record(f"random crash book {k}", [err], tally)
                continue
            probs, n = check_conservation(doc, events, summary, require_liquidation=False)
            pp, pn = pool_problems(doc, opts, summary)      # after the liquidations
            probs += pp
            n += pn
            compared += n
            if probs:
                probs.append(keep(path, f"crash-{args.seed}-{k}"))
            record(f"random crash book {k} (conservation, no flip)", probs, tally)
        print(f"{SEEN['liq_fills'] - fills_before} liquidation fills in {args.cases} random crash books")
        if args.cases >= 4 and SEEN["liq_fills"] == fills_before:
            record("random crash books", ["no liquidation: nothing checked"], tally)
    print(f"{compared} engine numbers compared")
    if compared == 0:
        record("nothing compared", ["zero checks"], tally)
    finish(tally)


if __name__ == "__main__":
    main()
