#!/usr/bin/env python3
"""nautilus_trader peer: per-position margin by nautilus_trader's own margin models.

What is compared, and why
-------------------------
nautilus_trader is an open-source trading platform (Rust core, Cython API) whose
accounting layer computes position and order margin for margin accounts.  Its API
(version 1.221, `nautilus_trader/accounting/margin_models.pyx`):

  StandardMarginModel.calculate_margin_maint(instrument, side, quantity, price, leverage)
      = Money(instrument.notional_value(quantity, price) * instrument.margin_maint)
  LeveragedMarginModel.calculate_margin_init(instrument, quantity, price, leverage)
      = Money(notional_value / leverage * instrument.margin_init)

computed in Python `Decimal` and rounded to the settle currency's precision (8 digits
for USDT) by `Money`.  `MarginAccount.calculate_margin_maint/_init` delegate to the
same model with one leverage per *instrument* for the whole account; the contract has a
leverage per *position*, so this peer calls the models directly with each position's
leverage (the same code path, without the account's leverage dictionary).

nautilus has flat rates per instrument: no tiers and no maintenance amount.  To make its
numbers comparable, every instrument is built once per bracket (a CryptoPerpetual with
margin_maint = that bracket's mmr, margin_init = 1); per position the peer picks the
bracket by the position's notional (bisect over the bracket floors, in Python), calls
StandardMarginModel for MM (notional * mmr) and subtracts the bracket's
maintenance_amount, and calls LeveragedMarginModel for IM with leverage
min(position leverage, bracket max leverage).  MM and IM of cross positions are summed
per account.  nautilus computes *less* than Solvent here: no uPnL, equity, ratio,
status, liquidation or bankruptcy price (its uPnL lives on Position objects built from
fill events, which a margin check does not have).  Linear instruments only.

Agreement is checked on a sample against `solvent evaluate` (per position MM and IM,
cross-pool MM and IM sums).  Timing: objects (instruments, Quantity, Price) are built
before timing; the timed loop is tier lookup + two nautilus calls + pool sums.  nautilus
runs ~1e5-1e6 positions/s, so a prefix of whole accounts is timed, sized so that the
timed passes fit the time budget, and positions/s is extrapolated per position.

    nautilus_margin.py --check SMALL.json --solvent .build/debug/solvent
    nautilus_margin.py --time BIG.json [--budget 60] [--repeat 5] [--json-out r.json]
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import book as bk  # noqa: E402

from nautilus_trader.accounting.margin_models import LeveragedMarginModel, StandardMarginModel
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.identifiers import InstrumentId, Symbol
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Price, Quantity

try:
    import nautilus_trader
    NAUTILUS_VERSION = nautilus_trader.__version__
except AttributeError:  # pragma: no cover
    NAUTILUS_VERSION = "?"


def _digits(s: str) -> int:
    return len(s.split(".")[1]) if "." in s else 0


def _dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


class Prepared:
    """Everything built before the timed loop for the first `limit` positions of a book."""

    def __init__(self, doc: dict, limit: int | None = None):
        accounts = doc["accounts"]
        # Whole accounts only, so that pool sums stay meaningful.
        if limit is not None:
            taken, n = [], 0
            for acc in accounts:
                if n >= limit:
                    break
                taken.append(acc)
                n += len(acc.get("positions") or [])
            accounts = taken
        self.doc = dict(doc, accounts=accounts)
        b = bk.from_document(self.doc)
        self.book = b
        if b.inst_inverse.any():
            raise SystemExit("nautilus peer: inverse instruments are not supported here")
        self.n_positions = b.n_positions
        self.n_accounts = b.n_accounts

        qty_digits = {}
        for acc in accounts:
            for p in acc.get("positions") or []:
                qty_digits[p["symbol"]] = max(qty_digits.get(p["symbol"], 0),
                                             _digits(p["quantity"].lstrip("-")))
        std_ccy = lambda code: Currency.from_str(code)
        self.variants = []      # per instrument: one CryptoPerpetual per bracket
        self.prices = []        # per instrument: the mark as a nautilus Price
        self.floors, self.amounts, self.maxlev = [], [], []
        for i, raw in enumerate(doc["instruments"]):
            sym = raw["symbol"]
            mark = doc["marks"][sym]
            pp = _digits(mark)
            self.prices.append(Price.from_str(mark))
            table = b.tables.exact[b.inst_table[i]]
            vs = []
            for k, (_floor, _cap, _maxlev, mmr, _amount) in enumerate(table):
                vs.append(CryptoPerpetual(
                    InstrumentId.from_str(f"{sym}-T{k}.SOLVENT"), Symbol(f"{sym}-T{k}"),
                    std_ccy(raw["base"]), std_ccy(raw["settle"]), std_ccy(raw["settle"]), False,
                    pp, qty_digits.get(sym, 0), Price(10.0 ** -pp, pp),
                    Quantity(10.0 ** -qty_digits.get(sym, 0), qty_digits.get(sym, 0)), 0, 0,
                    multiplier=Quantity.from_str(raw["contract_size"]),
                    margin_init=Decimal(1), margin_maint=_dec(mmr),
                    maker_fee=Decimal(0), taker_fee=Decimal(0)))
            self.variants.append(vs)
            self.floors.append([float(r[0]) for r in table])
            self.amounts.append([float(r[4]) for r in table])
            self.maxlev.append([r[2] for r in table])
        # Per position: nautilus objects and plain floats.
        self.pos = []
        lev_cache: dict = {}
        sym_index = {s: j for j, s in enumerate(self.book.symbols)}
        for a, acc in enumerate(accounts):
            for p in acc.get("positions") or []:
                i = sym_index[p["symbol"]]
                q = Fraction(p["quantity"])
                lev = Fraction(p["leverage"]) if p.get("leverage") is not None else None
                # Effective leverage per bracket, as a Decimal (min(leverage, max_leverage)).
                levs = []
                for ml in self.maxlev[i]:
                    e = ml if lev is None else min(lev, ml)
                    levs.append(lev_cache.setdefault(e, _dec(e)))
                self.pos.append((
                    a, i, float(abs(q)) * float(Fraction(doc["instruments"][i]["contract_size"])),
                    PositionSide.LONG if q > 0 else PositionSide.SHORT,
                    Quantity.from_str(p["quantity"].lstrip("-")), tuple(levs),
                    p.get("margin_mode") != "isolated"))
        self.mark_f = [float(Fraction(doc["marks"][s])) for s in self.book.symbols]


def evaluate(pr: Prepared):
    """The timed part: per position bracket + nautilus MM and IM; cross sums per account.

    Returns (mm per position, im per position, cross mm per account, cross im per account)."""
    std, levm = StandardMarginModel(), LeveragedMarginModel()
    maint, init = std.calculate_margin_maint, levm.calculate_margin_init
    variants, prices, floors, amounts, mark_f = pr.variants, pr.prices, pr.floors, pr.amounts, pr.mark_f
    n_acc = pr.n_accounts
    c_mm, c_im = [0.0] * n_acc, [0.0] * n_acc
    mm_out, im_out = [], []
    right = bisect.bisect_right
    for a, i, size, side, qty, levs, cross in pr.pos:
        k = right(floors[i], size * mark_f[i]) - 1
        if k < 0:
            k = 0
        inst, price = variants[i][k], prices[i]
        mm = maint(inst, side, qty, price, levs[k]).as_double() - amounts[i][k]
        im = init(inst, qty, price, levs[k]).as_double()
        mm_out.append(mm)
        im_out.append(im)
        if cross:
            c_mm[a] += mm
            c_im[a] += im
    return mm_out, im_out, c_mm, c_im


def check(input_path: str, solvent: str) -> dict:
    """Per-position MM/IM and cross-pool MM/IM sums against `solvent evaluate`.

    nautilus rounds each Money to the currency's precision (1e-8 for USDT), so a position
    agrees when |diff| <= 0.5e-8 + 1e-12*|value|; pool sums add one such rounding per
    position plus float summation."""
    out = subprocess.run([solvent, "evaluate", "--input", input_path], check=True,
                         capture_output=True, text=True).stdout
    sol = json.loads(out)["accounts"]
    with open(input_path) as fh:
        doc = json.load(fh)
    pr = Prepared(doc)
    mm, im, c_mm, c_im = evaluate(pr)
    ref_mm = [float(p["maintenance_margin"]) for a in sol for p in a["positions"]]
    ref_im = [float(p["initial_margin"]) for a in sol for p in a["positions"]]
    ref_cmm = [float(a["pools"][0]["maintenance_margin"]) for a in sol]
    ref_cim = [float(a["pools"][0]["initial_margin"]) for a in sol]

    def errs(peer, ref, unit_tol):
        worst_rel = worst_abs = 0.0
        bad = 0
        for x, r in zip(peer, ref):
            d = abs(x - r)
            worst_abs = max(worst_abs, d)
            if r != 0:
                worst_rel = max(worst_rel, d / abs(r))
            if d > unit_tol + 1e-12 * abs(r):
                bad += 1
        return {"max_rel": worst_rel, "max_abs": worst_abs, "beyond_tolerance": bad}

    per_pos_pools = max((len(a["positions"]) for a in doc["accounts"]), default=1)
    res = {"positions": len(ref_mm), "pools": len(ref_cmm),
           "mm": errs(mm, ref_mm, 0.5e-8), "im": errs(im, ref_im, 0.5e-8),
           "cross_mm": errs(c_mm, ref_cmm, 0.5e-8 * per_pos_pools),
           "cross_im": errs(c_im, ref_cim, 0.5e-8 * per_pos_pools)}
    res["ok"] = all(res[k]["beyond_tolerance"] == 0 for k in ("mm", "im", "cross_mm", "cross_im"))
    return res


def time_book(path: str, repeat: int, budget: float) -> dict:
    """Time a prefix of the book sized so that 1 + repeat passes take about `budget` s."""
    with open(path) as fh:
        doc = json.load(fh)
    total = sum(len(a.get("positions") or []) for a in doc["accounts"])
    calib = Prepared(doc, limit=min(total, 20_000))
    t = time.perf_counter()
    evaluate(calib)
    per_pos = (time.perf_counter() - t) / calib.n_positions
    limit = min(total, int(budget / (repeat + 1) / per_pos))
    pr = calib if limit <= calib.n_positions else Prepared(doc, limit=limit)
    evaluate(pr)                                             # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        evaluate(pr)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    return {"version": NAUTILUS_VERSION, "book_positions": total, "positions": pr.n_positions,
            "accounts": pr.n_accounts, "times_s": times, "median_s": med,
            "positions_per_s": pr.n_positions / med,
            "extrapolated_full_book_s": total * med / pr.n_positions}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", metavar="SMALL.json")
    ap.add_argument("--solvent", default="solvent")
    ap.add_argument("--time", metavar="BIG.json")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the timed passes")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    result = {"version": NAUTILUS_VERSION}
    if args.check:
        c = check(args.check, args.solvent)
        result["check"] = c
        print(f"nautilus_trader {NAUTILUS_VERSION} vs solvent evaluate on {args.check}: "
              f"{c['positions']} positions, {c['pools']} cross pools")
        for k in ("mm", "im", "cross_mm", "cross_im"):
            e = c[k]
            print(f"  {k:9s} max rel err {e['max_rel']:.2e}, max abs err {e['max_abs']:.2e}, "
                  f"beyond Money rounding: {e['beyond_tolerance']}")
        print("  AGREE (within nautilus Money rounding, 1e-8 USDT)" if c["ok"] else "  DISAGREE")
    if args.time:
        t = time_book(args.time, args.repeat, args.budget)
        result["time"] = t
        print(f"nautilus peer: {t['positions']} of {t['book_positions']} positions timed "
              f"({t['accounts']} accounts), median {t['median_s']:.2f} s of {args.repeat} -> "
              f"{t['positions_per_s']:,.0f} positions/s (full book extrapolated: "
              f"{t['extrapolated_full_book_s']:.1f} s per pass)")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
