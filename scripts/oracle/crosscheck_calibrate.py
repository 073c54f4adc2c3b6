#!/usr/bin/env python3
"""Cross-checks `solvent calibrate`'s backtest statistics against scipy on the same series.

`calibrate --exceedances-out FILE` writes the dynamic model's exceedance flags; the Kupiec and
Christoffersen statistics and p-values are recomputed here (scipy, via crosscheck_stats.py's
functions) on that file and compared with calibrate's JSON. Runs on real data from
data/ and the research data root (every dataset, both volatility models on BTC). Prints `N passed, M failed`.
"""
import argparse
import json
import os
import tempfile

from common import finish, record, run
from crosscheck_stats import christoffersen, close, kupiec

DATASETS = [
    ("binance-usdm-1h/BTCUSDT.csv.gz", ["--model", "ewma"]),
    ("binance-usdm-1h/BTCUSDT.csv.gz", ["--model", "garch"]),
    ("binance-usdm-1h/ETHUSDT.csv.gz", []),
    ("binance-usdm-1h/SOLUSDT.csv.gz", ["--coverage", "0.99", "--stressed-weight", "0", "--buffer", "0"]),
    ("btcusd-cccagg-1h/BTCUSD.csv.gz", []),
    ("ethusdt-spot-4h/ETHUSDT.csv.gz", ["--training-bars", "2000"]),
    ("btcusd-1d/BTCUSD.csv", ["--training-bars", "1000", "--coverage", "0.99"]),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--data", default=os.environ.get("SOLVENT_DATA_ROOT", os.path.join(ROOT, "data")))
    args = parser.parse_args()
    tally = [0, 0]
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in DATASETS:
            path = os.path.join(args.data, name)
            label = f"{name} {' '.join(extra)}".strip()
            if not os.path.exists(path):
                record(label, [f"missing dataset {path}"], tally)
                continue
            flags_path = os.path.join(folder, "flags.txt")
            status, out, err = run([args.solvent, "calibrate", "--data", path, "--exceedances-out", flags_path] + extra)
            if status != 0:
                record(label, [f"calibrate failed: {err.strip()}"], tally)
                continue
            result = json.loads(out)
            flags = [line.strip() == "1" for line in open(flags_path) if line.strip()]
            dynamic = result["backtest"]["dynamic"]
            coverage = float(result["coverage"])
            problems = []
            if len(flags) != dynamic["observations"] or sum(flags) != dynamic["exceedances"]:
                problems.append(f"flags file ({len(flags)}, {sum(flags)}) differs from the JSON ({dynamic['observations']}, {dynamic['exceedances']})")
            lr, p = kupiec(len(flags), sum(flags), coverage)
            for what, ours, theirs in [("kupiec statistic", float(dynamic["kupiec"]["statistic"]), lr),
                                       ("kupiec p", float(dynamic["kupiec"]["p_value"]), p)]:
                if not close(ours, theirs):
                    problems.append(f"{what}: solvent {ours} scipy {theirs}")
            lr, p = christoffersen(flags)
            for what, ours, theirs in [("christoffersen statistic", float(dynamic["christoffersen"]["statistic"]), lr),
                                       ("christoffersen p", float(dynamic["christoffersen"]["p_value"]), p)]:
                if not close(ours, theirs):
                    problems.append(f"{what}: solvent {ours} scipy {theirs}")
            record(label, problems, tally)
            print(f"  {label}: mmr {result['proposal'][0]['mmr']}, dynamic {dynamic['exceedances']}/{dynamic['observations']} "
                  f"(Kupiec p {float(dynamic['kupiec']['p_value']):.3g}), static {result['backtest']['static']['exceedances']}")
    finish(tally)


if __name__ == "__main__":
    main()
