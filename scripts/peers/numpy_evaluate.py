#!/usr/bin/env python3
"""numpy peer of `solvent evaluate`: the whole book at once, struct of arrays, float64.

What is compared, and why
-------------------------
Solvent evaluates a book account by account in exact 18-digit fixed point (Int128).  The
obvious alternative a risk team would write is a vectorized float64 evaluator in numpy.
This peer implements the same contract (DESIGN.md, "The evaluation contract";
docs/evaluate.md) with no per-position Python loop in the evaluated part:

  per position   notional, uPnL (linear and inverse), bracket by np.searchsorted over the
                 bracket floors, MM = notional*mmr - maintenance_amount,
                 IM = notional / min(leverage, max_leverage),
                 liquidation price (solved in every bracket, the highest bracket whose
                 notional at that price lies in it is kept) and bankruptcy price;
  per pool       collateral value (haircut on positive balances) + sum of cross uPnL =
                 equity, sums of MM and IM, margin ratio, status from the policy
                 (decided as MM >= equity*threshold, like Solvent), call amount,
                 available; every isolated position is its own pool.

It computes everything Solvent's evaluator computes except the account-level status
roll-up and the output document (no JSON is written in the timed part).

Agreement is checked *before* timing, against `solvent evaluate` on a small book
(Solvent's output is exact to 18 digits, so every difference is the peer's float64
rounding or a bug on one side): max relative error per field, and status / null
disagreements.  Timing: the book is loaded into arrays first (not timed), then
`evaluate` runs over the whole book REPEAT times; the median gives positions/s.

    numpy_evaluate.py --check SMALL.json --solvent .build/debug/solvent
    numpy_evaluate.py --time BIG.json [--repeat 5] [--json-out result.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import book as bk  # noqa: E402

HEALTHY, WARNING, MARGIN_CALL, LIQUIDATABLE, BANKRUPT = range(5)


@dataclass
class Layout:
    """Index arrays that depend only on the book's shape, built once outside the timing
    (Solvent resolves symbols to instrument indices at decode time, the same way)."""
    pos_table: np.ndarray         # bracket table of each position
    table_positions: list         # per table: positions using it (None = all)
    single_table: bool
    cross: np.ndarray             # bool mask
    iso_idx: np.ndarray           # positions that are isolated pools
    has_inverse: bool
    has_cross: np.ndarray         # per account: any cross position?


def layout(b: bk.Book) -> Layout:
    pos_table = b.inst_table[b.pos_inst]
    T = b.tables.floor.shape[0]
    single = T == 1
    table_positions = [None] if single else [np.nonzero(pos_table == t)[0] for t in range(T)]
    cross = ~b.pos_isolated
    has_cross = np.bincount(b.pos_account[cross], minlength=b.n_accounts) > 0
    return Layout(pos_table, table_positions, single, cross, np.nonzero(b.pos_isolated)[0],
                  bool(b.inst_inverse.any()), has_cross)


def _col(arr2d: np.ndarray, lay: Layout, k):
    """Bracket-table column k for every position (a scalar when there is one table)."""
    if lay.single_table:
        return arr2d[0, k]
    return arr2d[lay.pos_table, k]


def _status(policy: dict, equity, mm, has_positions):
    """Pool status, thresholds compared as products (MM >= equity*ratio), as Solvent does."""
    st = np.full(equity.shape, HEALTHY, dtype=np.int8)
    st[mm >= equity * policy["warning_ratio"]] = WARNING
    st[mm >= equity * policy["call_ratio"]] = MARGIN_CALL
    st[mm >= equity] = LIQUIDATABLE
    st[equity <= 0] = BANKRUPT
    st[~has_positions] = HEALTHY
    return st


def _pool(policy, equity, mm, im, has_positions):
    st = _status(policy, equity, mm, has_positions)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(equity > 0, mm / equity, np.nan)
    call = np.where(st >= MARGIN_CALL, np.maximum(0.0, mm / policy["restore_ratio"] - equity), 0.0)
    return {"equity": equity, "mm": mm, "im": im, "ratio": ratio, "status": st,
            "call": call, "available": np.maximum(0.0, equity - im)}


def evaluate(b: bk.Book, lay: Layout, prices: bool = True) -> dict:
    """Evaluate every position and pool of the book; returns arrays (see module doc).
    prices=False stops after the pool numbers and statuses (no liquidation or bankruptcy
    prices): the peer of `solvent bench rescan` without --prices."""
    tb = b.tables
    cs = b.inst_cs[b.pos_inst]
    mark = b.inst_mark[b.pos_inst]
    q, entry = b.pos_q, b.pos_entry
    side = np.sign(q)
    Q = np.abs(q) * cs                                   # size in base units (or USD for inverse)
    if lay.has_inverse:
        inv = b.inst_inverse[b.pos_inst]
        notional = np.where(inv, Q / mark, Q * mark)
        upnl = np.where(inv, q * cs * (1.0 / entry - 1.0 / mark), q * cs * (mark - entry))
    else:
        notional = Q * mark
        upnl = q * cs * (mark - entry)

    # Bracket: the last floor <= notional (beyond the last cap: the last bracket).
    bracket = np.empty(len(q), dtype=np.int64)
    for t, idx in enumerate(lay.table_positions):
        floors = tb.floor[t, :tb.length[t]]
        if idx is None:
            bracket[:] = np.searchsorted(floors, notional, side="right") - 1
        else:
            bracket[idx] = np.searchsorted(floors, notional[idx], side="right") - 1
    np.clip(bracket, 0, None, out=bracket)
    mmr = tb.mmr[lay.pos_table, bracket]
    amount = tb.amount[lay.pos_table, bracket]
    maxlev = tb.max_leverage[lay.pos_table, bracket]
    mm = notional * mmr - amount
    im = notional / np.fmin(b.pos_leverage, maxlev)      # fmin: NaN (absent) -> bracket max

    # Collateral value in each account's settle asset; cross pools.
    val = b.col_amount * b.col_price / b.acc_settle_price[b.col_account]
    val = np.where(b.col_amount > 0, val * (1.0 - b.col_haircut), val)
    n_acc = b.n_accounts
    W = np.bincount(b.col_account, weights=val, minlength=n_acc)
    cross = lay.cross
    acc_c = b.pos_account[cross]
    c_upnl = np.bincount(acc_c, weights=upnl[cross], minlength=n_acc)
    c_mm = np.bincount(acc_c, weights=mm[cross], minlength=n_acc)
    c_im = np.bincount(acc_c, weights=im[cross], minlength=n_acc)
    cross_pools = _pool(b.policy, W + c_upnl, c_mm, c_im, lay.has_cross)
    iso = lay.iso_idx
    iso_pools = _pool(b.policy, b.pos_iso_margin[iso] + upnl[iso], mm[iso], im[iso],
                      np.ones(len(iso), dtype=bool))

    if not prices:
        return {"positions": {"notional": notional, "upnl": upnl, "mm": mm, "im": im, "mmr": mmr},
                "cross": cross_pools, "isolated": iso_pools}

    # Liquidation and bankruptcy prices: every other number of the pool held fixed.
    acc = b.pos_account
    pw = np.where(cross, W[acc], b.pos_iso_margin)                 # pool collateral
    uo = np.where(cross, c_upnl[acc] - upnl, 0.0)                  # other positions' uPnL
    mmo = np.where(cross, c_mm[acc] - mm, 0.0)                     # other positions' MM
    base = pw + uo - mmo
    lin_term = side * Q * entry
    liq = np.full(len(q), np.nan)
    K = tb.floor.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(K):                                         # loop over brackets, not positions
            f, c = _col(tb.floor, lay, k), _col(tb.cap, lay, k)
            r, a = _col(tb.mmr, lay, k), _col(tb.amount, lay, k)
            last = (k == tb.length[lay.pos_table] - 1) if not lay.single_table else (k == tb.length[0] - 1)
            p = (base + a - lin_term) / (Q * (r - side))           # linear
            n_at = Q * p
            if lay.has_inverse:
                x = (base + a + side * Q / entry) / (Q * (r + side))   # inverse, solved in 1/P
                p = np.where(inv, 1.0 / x, p)
                n_at = np.where(inv, Q * x, n_at)
            ok = (p > 0) & (n_at >= f) & (last | (n_at < c))
            liq = np.where(ok, p, liq)                             # highest consistent bracket wins
        b0 = pw + uo
        bank = entry - b0 / (side * Q)
        if lay.has_inverse:
            x = (b0 + side * Q / entry) / (side * Q)
            bank = np.where(inv, 1.0 / x, bank)
            bank = np.where(inv & (x <= 0), np.nan, bank)
        bank = np.where(bank > 0, bank, np.nan)

    return {"positions": {"notional": notional, "upnl": upnl, "mm": mm, "im": im, "mmr": mmr,
                          "liq": liq, "bank": bank},
            "cross": cross_pools, "isolated": iso_pools}


# ----------------------------------------------------------------------------- agreement

def _rel(peer: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|peer - ref| / |ref|; where ref == 0 the absolute difference."""
    d = np.abs(peer - ref)
    return np.where(ref != 0, d / np.where(ref != 0, np.abs(ref), 1.0), d)


def check(input_path: str, solvent: str) -> dict:
    """Evaluate INPUT with `solvent evaluate` and with this peer; compare every field.

    Returns {"fields": {name: (max_rel_err, argmax description)}, "status_mismatch": n,
    "null_mismatch": n, "pools": n, "positions": n, "ok": bool} where ok means equity, MM
    and IM of every pool agree within 1e-9 relative and all statuses agree."""
    out = subprocess.run([solvent, "evaluate", "--input", input_path], check=True,
                         capture_output=True, text=True).stdout
    sol = json.loads(out)["accounts"]
    b = bk.load(input_path)
    lay = layout(b)
    r = evaluate(b, lay)
    P, C, I = r["positions"], r["cross"], r["isolated"]

    # Solvent's numbers in the peer's array order.
    f = bk.solvent_float
    ref = {k: [] for k in ("c_equity", "c_mm", "c_im", "c_ratio", "c_call", "c_avail",
                           "i_equity", "i_mm", "i_im", "notional", "upnl", "mm", "im", "mmr",
                           "liq", "bank")}
    c_status, i_status, where_pos = [], [], []
    for acc in sol:
        pools = acc["pools"]
        cp = pools[0]
        ref["c_equity"].append(f(cp["equity"])); ref["c_mm"].append(f(cp["maintenance_margin"]))
        ref["c_im"].append(f(cp["initial_margin"])); ref["c_call"].append(f(cp["call_amount"]))
        ref["c_avail"].append(f(cp["available"]))
        ref["c_ratio"].append(np.nan if cp["margin_ratio"] is None else f(cp["margin_ratio"]))
        c_status.append(bk.STATUSES.index(cp["status"]))
        for ip in pools[1:]:
            ref["i_equity"].append(f(ip["equity"])); ref["i_mm"].append(f(ip["maintenance_margin"]))
            ref["i_im"].append(f(ip["initial_margin"]))
            i_status.append(bk.STATUSES.index(ip["status"]))
        for j, p in enumerate(acc["positions"]):
            for key, name in (("notional", "notional"), ("upnl", "unrealized_pnl"),
                              ("mm", "maintenance_margin"), ("im", "initial_margin"),
                              ("mmr", "mmr")):
                ref[key].append(f(p[name]))
            ref["liq"].append(np.nan if p["liquidation_price"] is None else f(p["liquidation_price"]))
            ref["bank"].append(np.nan if p["bankruptcy_price"] is None else f(p["bankruptcy_price"]))
            where_pos.append(f"{acc['id']}.positions[{j}]")
    ref = {k: np.asarray(v, dtype=np.float64) for k, v in ref.items()}
    peer = {"c_equity": C["equity"], "c_mm": C["mm"], "c_im": C["im"], "c_ratio": C["ratio"],
            "c_call": C["call"], "c_avail": C["available"],
            "i_equity": I["equity"], "i_mm": I["mm"], "i_im": I["im"],
            "notional": P["notional"], "upnl": P["upnl"], "mm": P["mm"], "im": P["im"],
            "mmr": P["mmr"], "liq": P["liq"], "bank": P["bank"]}
    ids = [a["id"] for a in sol]
    iso_where = [f"{b.account_ids[b.pos_account[i]]}.pool isolated #{b.pos_index_in_account[i]}"
                 for i in np.nonzero(b.pos_isolated)[0]]
    fields, null_mismatch = {}, 0
    for k in ref:
        a, e = peer[k], ref[k]
        both = ~np.isnan(a) & ~np.isnan(e)
        null_mismatch += int(np.sum(np.isnan(a) != np.isnan(e)))
        if not len(e):                                 # e.g. a book without isolated pools
            fields[k] = (0.0, "-")
            continue
        rel = np.where(both, _rel(np.where(both, a, 0), np.where(both, e, 0)), 0.0)
        i = int(np.argmax(rel))
        who = ids[i] if k.startswith("c_") else iso_where[i] if k.startswith("i_") else where_pos[i]
        fields[k] = (float(rel[i]), who)
    status_mismatch = int(np.sum(C["status"] != np.asarray(c_status))) + \
        int(np.sum(I["status"] != np.asarray(i_status, dtype=np.int8)))
    required = ("c_equity", "c_mm", "c_im", "i_equity", "i_mm", "i_im")
    ok = all(fields[k][0] <= 1e-9 for k in required) and status_mismatch == 0
    return {"fields": fields, "status_mismatch": status_mismatch, "null_mismatch": null_mismatch,
            "pools": len(ids) + len(iso_where), "positions": len(where_pos), "ok": ok}


# ----------------------------------------------------------------------------- timing

def time_book(path: str, repeat: int) -> dict:
    t0 = time.perf_counter()
    b = bk.load(path)
    lay = layout(b)
    load_s = time.perf_counter() - t0
    evaluate(b, lay)                                   # warm-up (page faults, caches)
    # Wall-clock per pass, and the process's CPU time per pass (time.process_time: every
    # thread of the process), which stays comparable on a loaded machine where wall-clock
    # rates do not (`solvent bench rescan` reports the same pair).
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        evaluate(b, lay)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    med = statistics.median(times)
    evaluate(b, lay, prices=False)
    pool_times, pool_cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        evaluate(b, lay, prices=False)
        pool_times.append(time.perf_counter() - t)
        pool_cpu.append(time.process_time() - c)
    pool_med = statistics.median(pool_times)
    return {"positions": b.n_positions, "accounts": b.n_accounts, "load_s": load_s,
            "times_s": times, "median_s": med, "positions_per_s": b.n_positions / med,
            "cpu_s": cpu, "cpu_positions_per_s": b.n_positions / max(statistics.median(cpu), 1e-9),
            "no_prices": {"times_s": pool_times, "median_s": pool_med, "positions_per_s": b.n_positions / pool_med,
                          "cpu_s": pool_cpu, "cpu_positions_per_s": b.n_positions / max(statistics.median(pool_cpu), 1e-9)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", metavar="SMALL.json", help="compare with solvent evaluate")
    ap.add_argument("--solvent", default="solvent", help="path of the solvent binary")
    ap.add_argument("--time", metavar="BIG.json", help="time the evaluation of this book")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json-out", help="write the results here")
    args = ap.parse_args(argv)
    result = {}
    if args.check:
        c = check(args.check, args.solvent)
        result["check"] = c
        print(f"numpy peer vs solvent evaluate on {args.check}: {c['pools']} pools, "
              f"{c['positions']} positions")
        for k, (err, who) in c["fields"].items():
            print(f"  max rel err {k:9s} {err:.2e}  ({who})")
        print(f"  status disagreements {c['status_mismatch']}, null disagreements "
              f"(ratio/liquidation/bankruptcy price) {c['null_mismatch']}")
        print("  AGREE (equity/MM/IM within 1e-9, statuses equal)" if c["ok"] else "  DISAGREE")
    if args.time:
        t = time_book(args.time, args.repeat)
        result["time"] = t
        print(f"numpy peer: {t['positions']} positions, {t['accounts']} accounts; load "
              f"{t['load_s']:.1f} s (not timed); evaluate median {t['median_s']*1e3:.1f} ms of "
              f"{args.repeat} -> {t['positions_per_s']:,.0f} positions/s")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
