#!/usr/bin/env python3
"""Cross-checks `solvent calibrate`'s backtest statistics against scipy on the same series.

`calibrate --exceedances-out FILE` writes the dynamic model's exceedance flags; the Kupiec and
Christoffersen statistics and p-values are recomputed here (scipy, via crosscheck_stats.py's
functions) on that file and compared with calibrate's JSON. Runs on real data from
data/ and the research data root (every dataset, both volatility models on BTC, the walk-forward calibrated and the
fixed method, one- and five-minute horizons on minute bars). For sub-bar horizons (one minute
from hourly ranges) it checks the fat-tail multiplier against scipy's Student t(4) quantile
scaled to unit variance, and the validation's exceedance count against a Kupiec recomputation.
Prints `N passed, M failed`.
"""
import argparse
import json
import os
import tempfile

from common import finish, record, run
from crosscheck_stats import christoffersen, close, kupiec
from scipy.stats import t as student_t

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DATASETS = [
    ("binance-usdm-1h/BTCUSDT.csv.gz", ["--model", "ewma"]),
    ("binance-usdm-1h/BTCUSDT.csv.gz", ["--model", "garch"]),
    ("binance-usdm-1h/ETHUSDT.csv.gz", []),
    ("binance-usdm-1h/SOLUSDT.csv.gz", ["--coverage", "0.99", "--stressed-weight", "0", "--buffer", "0"]),
    ("btcusd-cccagg-1h/BTCUSD.csv.gz", []),
    ("ethusdt-spot-4h/ETHUSDT.csv.gz", ["--training-bars", "2000"]),
    ("btcusd-1d/BTCUSD.csv", ["--training-bars", "1000", "--coverage", "0.99"]),
    ("binance-usdm-1h/BTCUSDT.csv.gz", ["--method", "fixed"]),
    ("minute/binance-BTCUSDT-1m-2021-04-20_2021-05-20.csv.gz", ["--horizon", "1m", "--training-bars", "20000"]),
    ("minute/binance-BTCUSDT-1m-2021-04-20_2021-05-20.csv.gz", ["--horizon", "5m", "--training-bars", "20000"]),
    ("Examples/data/binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz", ["--horizon", "5m", "--training-bars", "4032"]),
]
# Sub-bar horizons: (hourly data, finer data for the validation, horizon)
SUB_BAR = [
    ("binance-usdm-1h/BTCUSDT.csv.gz", "minute/binance-BTCUSDT-1m-2021-04-20_2021-05-20.csv.gz", "1m"),
    ("btcusd-cccagg-1h/BTCUSD.csv.gz", "Examples/data/binanceusdm-BTCUSDT-5m-2025-09-25_2025-10-25.csv.gz", "5m"),
    ("binance-usdm-1h/ETHUSDT.csv.gz", "minute/binance-ETHUSDT-1m-2021-04-20_2021-05-20.csv.gz", "1m"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--data", default=os.environ.get("SOLVENT_DATA_ROOT", os.path.join(ROOT, "data")))
    args = parser.parse_args()
    tally = [0, 0]
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in DATASETS:
            path = os.path.join(ROOT, name) if name.startswith("Examples/") else os.path.join(args.data, name)
            if not os.path.exists(path) and os.path.exists(os.path.join(ROOT, "data", name)):
                path = os.path.join(ROOT, "data", name)
            label = f"{name} {' '.join(extra)}".strip()
            if not os.path.exists(path):
                if name.startswith("minute/"):
                    print(f"  {label}: skipped, the minute bars are research data outside the repository (set SOLVENT_DATA_ROOT)")
                    continue
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
        for coarse, fine, horizon in SUB_BAR:
            label = f"{coarse} --horizon {horizon} (sub-bar) vs {os.path.basename(fine)}"
            cpath = os.path.join(args.data, coarse)
            if not os.path.exists(cpath):
                cpath = os.path.join(ROOT, "data", coarse)
            fpath = os.path.join(ROOT, fine) if fine.startswith("Examples/") else os.path.join(args.data, fine)
            if not (os.path.exists(cpath) and os.path.exists(fpath)):
                if fine.startswith("minute/") and not os.path.exists(fpath):
                    print(f"  {label}: skipped, the minute bars are research data outside the repository (set SOLVENT_DATA_ROOT)")
                    continue
                record(label, [f"missing dataset {cpath} or {fpath}"], tally)
                continue
            status, out, err = run([args.solvent, "calibrate", "--data", cpath, "--horizon", horizon, "--minute-data", fpath])
            if status != 0:
                record(label, [f"calibrate failed: {err.strip()}"], tally)
                continue
            result = json.loads(out)
            coverage = float(result["coverage"])
            problems = []
            expected = student_t.ppf(1 - (1 - coverage) / 2, 4) * (0.5 ** 0.5)
            if not result["sub_bar"]:
                problems.append("not marked sub_bar")
            if not close(float(result["z"]), expected):
                problems.append(f"fat-tail z: solvent {result['z']} scipy t4 {expected}")
            v = result["validation"]
            if v["moves"] < 1000:
                problems.append(f"validation: only {v['moves']} moves overlap")
                record(label, problems, tally)
                continue
            lr, p = kupiec(v["moves"], v["exceedances"], coverage)
            if not close(float(v["kupiec_p"]), p):
                problems.append(f"validation Kupiec p: solvent {v['kupiec_p']} scipy {p}")
            record(label, problems, tally)
            print(f"  {label}: z {float(result['z']):.4f} (t4 {expected:.4f}); validation {v['exceedances']}/{v['moves']}, "
                  f"realized z {float(v['realized_z']):.3f}")
    finish(tally)


if __name__ == "__main__":
    main()
