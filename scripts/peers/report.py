#!/usr/bin/env python3
"""Print the side-by-side table of scripts/bench-peers: Solvent | peer | ratio.

Inputs (all optional, missing ones are shown as such):
  --numpy R.json --nautilus R.json --options R.json   results of the peer scripts
  --nautilus-error TEXT                               why nautilus_trader did not run
  --solvent-bench OUT.txt                             text output of `swift package benchmark`
  --solvent-note TEXT                                 why there is no Solvent output
  --solvent-rescan R.json                             {"pools": ..., "prices": ...}: `solvent bench
                                                      rescan --json` on the peers' book, without and
                                                      with --prices (preferred over --solvent-bench)

Solvent's numbers come from the benchmark table's "Time (wall clock)" row, p50 column
(per iteration; `--time-units microseconds` keeps the digits).  Solvent's evaluate
benchmark iterates once over `RandomBook.input(accounts: 400000, seed: 7)`; its number of
positions is recomputed exactly by randombook_count.py (the Swift draw sequence replayed
in Python), so positions/s = positions / p50.  The options grid benchmark is taken as one
pass (options x scenarios revaluations, read from its name) per iteration.

ratio = Solvent throughput / peer throughput: > 1 means Solvent is faster.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

UNITS = {"ns": 1e-9, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
EVALUATE_BENCH = re.compile(r"evaluate book of (\d+) accounts")
FILE_BENCH = re.compile(r"evaluate file book, (\d+) positions")
GRID_BENCH = re.compile(r"options scenario grid, (\d+) options x (\d+) scenarios")


def parse_benchmark_text(text: str) -> dict:
    """{benchmark name: p50 wall clock in seconds} from package-benchmark's text tables."""
    lines = text.splitlines()
    out, name = {}, None
    for i, line in enumerate(lines):
        s = line.strip()
        if i + 1 < len(lines) and lines[i + 1].lstrip().startswith("╒") and s and s[0] not in "│╒╞├╘=":
            name = s
            continue
        if name and s.startswith("│") and "Time (wall clock)" in s:
            cells = [c.strip() for c in s.strip("│").split("│")]
            m = re.search(r"\((ns|μs|us|ms|s)\)", cells[0])
            if not m:
                continue
            seconds = float(cells[3]) * UNITS[m.group(1)]      # Metric, p0, p25, p50, ...
            # Prefer the scaled ('*') row: time per single iteration.
            if name not in out or cells[0].endswith("*"):
                out[name] = seconds
    return out


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.2f} at report time")


def fmt_rate(x) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:,.2f} M/s"
    if x >= 1e3:
        return f"{x / 1e3:,.1f} K/s"
    return f"{x:,.0f} /s"


def ratio(solvent, peer) -> str:
    if solvent is None or peer is None:
        return "-"
    return f"{solvent / peer:.2f}"


def load_json(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def count_rate(evals: dict) -> str:
    from randombook_count import count_positions
    accounts = max(evals)
    positions = count_positions(accounts, seed=7)
    return f"{positions / evals[accounts] / 1e6:.2f} M positions/s"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--numpy")
    ap.add_argument("--nautilus")
    ap.add_argument("--nautilus-error")
    ap.add_argument("--options")
    ap.add_argument("--solvent-bench")
    ap.add_argument("--solvent-note")
    ap.add_argument("--solvent-rescan")
    args = ap.parse_args(argv)

    npr, ntr, opt = load_json(args.numpy), load_json(args.nautilus), load_json(args.options)

    # ---- Solvent
    sol_eval = sol_grid = None
    sol_eval_desc, sol_grid_desc = args.solvent_note or "not run", args.solvent_note or "not run"
    if args.solvent_bench and os.path.exists(args.solvent_bench):
        with open(args.solvent_bench, encoding="utf-8", errors="replace") as fh:
            p50 = parse_benchmark_text(fh.read())
        sol_eval_desc = sol_grid_desc = "not in the benchmark output"
        evals = {int(m.group(1)): t for n, t in p50.items() if (m := EVALUATE_BENCH.fullmatch(n))}
        files = [(int(m.group(1)), t) for n, t in p50.items() if (m := FILE_BENCH.fullmatch(n))]
        if files:
            # The peers' own book (SOLVENT_BENCH_BOOK): the like-for-like comparison.
            positions, seconds = files[0]
            sol_eval = positions / seconds
            sol_eval_desc = (f"the peers' gen_big_book.py book, {positions:,} positions, p50 {seconds:.3f} s per pass"
                             + (f"; on its own RandomBook (400,000 accounts) {count_rate(evals)}" if evals else ""))
        elif evals:
            from randombook_count import count_positions
            accounts = max(evals)
            positions = count_positions(accounts, seed=7)
            sol_eval = positions / evals[accounts]
            sol_eval_desc = (f"RandomBook seed 7, {accounts:,} accounts = {positions:,} positions, "
                             f"p50 {evals[accounts]:.3f} s per pass")
        grids = [(m, t) for n, t in p50.items() if (m := GRID_BENCH.fullmatch(n))]
        if grids:
            m, t = grids[0]
            per_pass = int(m.group(1)) * int(m.group(2))
            sol_grid = per_pass / t
            sol_grid_desc = (f"{per_pass:,} revaluations, p50 {t * 1e3:.3f} ms per pass (its own seed, "
                             "PortfolioPolicy's 41 scenarios and maturity-dependent vol shocks: "
                             "same work, not the same numbers as the peers' grid)")
        else:
            sol_grid_desc = "not built yet (no 'options scenario grid, 1000 options x 41 scenarios')"

    sol_pools = None
    rescan = load_json(args.solvent_rescan)
    if rescan:
        sol_pools = rescan["pools"]["positions_per_second"]
        sol_eval = rescan["prices"]["positions_per_second"]
        sol_eval_desc = (f"`solvent bench rescan` on the peers' gen_big_book.py book, {rescan['prices']['positions']:,} positions, "
                         "median of 5 passes in process (decoding not timed)")

    # ---- peers
    np_rate = npr["time"]["positions_per_s"] if npr and "time" in npr else None
    np_pools = npr["time"].get("no_prices", {}).get("positions_per_s") if npr and "time" in npr else None
    nt_rate = ntr["time"]["positions_per_s"] if ntr and "time" in ntr else None
    onp = opt["numpy"]["revaluations_per_s"] if opt and "numpy" in opt else None
    oql = opt["quantlib"].get("revaluations_per_s") if opt and "quantlib" in opt else None

    rows = [
        ("pool numbers + statuses, positions/s", sol_pools, "numpy (float64, vectorized)", np_pools),
        ("full margin evaluation, positions/s", sol_eval, "numpy (float64, vectorized)", np_rate),
        ("per-position MM + IM (tiers), positions/s", sol_eval,
         f"nautilus_trader {ntr.get('version', '') if ntr else ''}".strip(), nt_rate),
        ("options grid 1000 x 41, revaluations/s", sol_grid, "numpy Black-76 (ndtr)", onp),
        ("options grid 1000 x 41, revaluations/s", sol_grid,
         f"QuantLib {opt['quantlib'].get('version', '') if opt else ''} BlackCalculator", oql),
    ]
    print(f"bench-peers, {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print()
    w = max(len(r[0]) for r in rows)
    pw = max(len(r[2]) for r in rows)
    print(f"| {'measure':{w}} | {'Solvent':>11} | {'peer':{pw}} | {'peer rate':>11} | ratio |")
    print(f"|{'-' * (w + 2)}|{'-' * 13}|{'-' * (pw + 2)}|{'-' * 13}|-------|")
    for measure, s, peer, p in rows:
        if p is None:
            peer = peer.split()[0] + " (not run)"
        print(f"| {measure:{w}} | {fmt_rate(s):>11} | {peer:{pw}} | {fmt_rate(p):>11} | {ratio(s, p):>5} |")
    print()
    print("ratio = Solvent / peer throughput (> 1: Solvent faster); single core each.")
    print(f"Solvent evaluate: {sol_eval_desc}; exact Int128 decimals, every field incl.")
    print("  liquidation/bankruptcy prices, isolated pools, 1-4 positions/account, linear+inverse.")
    print(f"Solvent options grid: {sol_grid_desc}.")
    if npr:
        t = npr.get("time")
        if t:
            print(f"numpy: gen_big_book.py book, {t['positions']:,} positions ({t['accounts']:,} accounts, "
                  f"10 linear instruments, every 4th isolated), median of {len(t['times_s'])} passes "
                  f"{t['median_s'] * 1e3:.0f} ms, load not timed; computes every pool/position field "
                  "Solvent does (liquidation prices included), but in float64 and without writing output.")
        c = npr.get("check")
        if c:
            f = c["fields"]
            print(f"  agreement with `solvent evaluate` ({c['positions']:,} positions, {c['pools']:,} pools): "
                  f"max rel err equity {f['c_equity'][0]:.1e}, MM {f['c_mm'][0]:.1e}, IM {f['c_im'][0]:.1e}, "
                  f"isolated equity {f['i_equity'][0]:.1e}, liq. price {f['liq'][0]:.1e}, "
                  f"bankr. price {f['bank'][0]:.1e}; status disagreements {c['status_mismatch']}, "
                  f"null disagreements {c['null_mismatch']} -> {'AGREE' if c['ok'] else 'DISAGREE'} (1e-9)")
    if ntr and "time" in ntr:
        t = ntr["time"]
        sub = ("the whole book" if t["positions"] == t["book_positions"] else
               f"first {t['positions']:,} of {t['book_positions']:,} positions (whole accounts), "
               f"extrapolated per position: {t['extrapolated_full_book_s']:.1f} s per full pass")
        print(f"nautilus_trader: {sub}; computes LESS than Solvent: per position MM (StandardMarginModel, "
              "flat rate set to the position's tier mmr, tier and maintenance amount applied by the "
              "wrapper) and IM (LeveragedMarginModel), cross sums; no uPnL/equity/status/prices.")
        c = ntr.get("check")
        if c:
            print(f"  agreement ({c['positions']:,} positions): MM max rel {c['mm']['max_rel']:.1e}, "
                  f"IM max rel {c['im']['max_rel']:.1e} (Money rounds to 1e-8 USDT), cross MM "
                  f"{c['cross_mm']['max_rel']:.1e}, cross IM {c['cross_im']['max_rel']:.1e} -> "
                  f"{'AGREE' if c['ok'] else 'DISAGREE'}")
    elif args.nautilus_error:
        print(f"nautilus_trader: not run: {args.nautilus_error}")
    if opt:
        a = opt.get("agreement")
        if a:
            print(f"options grid: numpy vs QuantLib max rel err {a['max_rel']:.1e} (prices >= 1e-6 F), "
                  f"max |diff| {a['max_abs']:.1e} = {a['max_abs_over_F']:.1e} F overall -> "
                  f"{'AGREE' if a['ok'] else 'DISAGREE'}; peers' book: same distributions, own seed.")
        if "error" in opt.get("quantlib", {}):
            print(f"QuantLib: {opt['quantlib']['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
