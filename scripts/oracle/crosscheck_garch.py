#!/usr/bin/env python3
"""Cross-checks `solvent volatility` (GARCH(1,1) maximum likelihood, EWMA) against the
arch package on the real data shipped in data/ (percent log returns of closes, zero mean).

Pass: the two fits reach the same likelihood (within 1e-3; Solvent's may be higher), the
parameters agree within 2% relative (alpha, beta) / 5% (omega, the flattest direction), and
the EWMA volatility matches a direct numpy recursion to 1e-10. Prints `N passed, M failed`.
"""
import argparse
import csv
import gzip
import json
import os

import numpy as np
from arch import arch_model

from common import finish, record, run


def closes(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return np.array([float(row["close"]) for row in csv.DictReader(f)])


def ewma(returns, lam=0.94):
    tau = min(75, len(returns))
    w = 0.94 ** np.arange(tau)
    var = float(np.sum(returns[:tau] ** 2 * w) / np.sum(w))
    for r in returns:
        var = lam * var + (1 - lam) * r * r
    return var ** 0.5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data"))
    args = parser.parse_args()
    cases = [("btcusd-1d/BTCUSD.csv", 2000), ("btcusd-1d/BTCUSD.csv", 5000), ("binance-usdm-1h/BTCUSDT.csv.gz", 5000),
             ("binance-usdm-1h/ETHUSDT.csv.gz", 5000), ("binance-usdm-1h/SOLUSDT.csv.gz", 3000),
             ("btcusd-cccagg-1h/BTCUSD.csv.gz", 8000), ("ethusdt-spot-4h/ETHUSDT.csv.gz", 4000)]
    tally = [0, 0]
    for name, last in cases:
        path = os.path.join(args.data, name)
        if not os.path.exists(path):
            record(name, [f"missing data file {path}"], tally)
            continue
        returns = (100 * np.diff(np.log(closes(path))))[-last:]
        fit = arch_model(returns, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
        status, stdout, stderr = run([args.solvent, "volatility", "--data", path, "--last", str(last)])
        problems = []
        if status != 0:
            problems.append(f"exit {status}: {stderr.strip()}")
        else:
            got = json.loads(stdout)
            g = got["garch"]
            ll = float(g["log_likelihood"])
            if ll < fit.loglikelihood - 1e-3:
                problems.append(f"log-likelihood {ll} below arch's {fit.loglikelihood}")
            for key, arch_key, tolerance in (("omega", "omega", 0.05), ("alpha", "alpha[1]", 0.02), ("beta", "beta[1]", 0.02)):
                mine, theirs = float(g[key]), float(fit.params[arch_key])
                if abs(mine - theirs) > tolerance * max(abs(theirs), 1e-12):
                    problems.append(f"{key}: solvent {mine} arch {theirs}")
            expected = ewma(returns)
            if abs(float(got["ewma_volatility_percent"]) - expected) > 1e-10 * expected:
                problems.append(f"ewma: solvent {got['ewma_volatility_percent']} numpy {expected}")
        record(f"{name} (last {last})", problems, tally)
    finish(tally)


if __name__ == "__main__":
    main()
