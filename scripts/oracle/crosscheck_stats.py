#!/usr/bin/env python3
"""Cross-checks `solvent stats kupiec|christoffersen` against scipy on random cases.

The likelihood ratios are recomputed here with scipy.special.xlogy and the p-values with
scipy.stats.chi2.sf. Prints `N passed, M failed`; exits non-zero on any failure.
"""
import argparse
import json
import random
import tempfile

from scipy.special import xlogy
from scipy.stats import chi2

from common import finish, record, run

REL = 1e-9


def close(a, b):
    return abs(a - b) <= REL * max(abs(a), abs(b)) + 1e-14


def kupiec(n, x, coverage):
    p = 1 - coverage
    ratio = x / n
    lr = -2 * ((xlogy(n - x, 1 - p) + xlogy(x, p)) - (xlogy(n - x, 1 - ratio) + xlogy(x, ratio)))
    lr = max(lr, 0.0)
    return lr, chi2.sf(lr, 1)


def christoffersen(flags):
    n = {(a, b): 0 for a in (0, 1) for b in (0, 1)}
    for a, b in zip(flags, flags[1:]):
        n[(a, b)] += 1
    n00, n01, n10, n11 = n[(0, 0)], n[(0, 1)], n[(1, 0)], n[(1, 1)]
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    null = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
    alt = xlogy(n00, 1 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1 - pi1) + xlogy(n11, pi1)
    lr = max(-2 * (null - alt), 0.0)
    return lr, chi2.sf(lr, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = [0, 0]
    for case in range(args.cases):
        if case % 2 == 0:
            n = rng.choice([10, 250, 1000, 5000, 36940])
            coverage = rng.choice([0.9, 0.95, 0.99, 0.995, 0.999])
            x = min(n, max(0, int(rng.gauss(n * (1 - coverage), 3 + n * (1 - coverage)))))
            x = rng.choice([x, 0, n]) if rng.random() < 0.05 else x
            expected = kupiec(n, x, coverage)
            command = [args.solvent, "stats", "kupiec", "--observations", str(n), "--exceedances", str(x), "--coverage", str(coverage)]
            label = f"kupiec n={n} x={x} c={coverage}"
        else:
            length = rng.choice([2, 50, 500, 2000])
            rate, stickiness = rng.uniform(0.005, 0.2), rng.uniform(0, 0.8)
            flags, previous = [], 0
            for _ in range(length):
                previous = 1 if (previous and rng.random() < stickiness) or rng.random() < rate else 0
                flags.append(previous)
            expected = christoffersen(flags)
            file = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
            file.write("\n".join(map(str, flags)) + "\n")
            file.close()
            command = [args.solvent, "stats", "christoffersen", "--series", file.name]
            label = f"christoffersen {file.name}"
        status, stdout, stderr = run(command)
        problems = []
        if status != 0:
            problems.append(f"exit {status}: {stderr.strip()}")
        else:
            got = json.loads(stdout)
            for key, value in zip(("lr", "p_value"), expected):
                if not close(float(got[key]), value):
                    problems.append(f"{key}: solvent {got[key]} scipy {value!r}")
        record(label, problems, tally)
    finish(tally)


if __name__ == "__main__":
    main()
