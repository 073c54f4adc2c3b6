#!/usr/bin/env python3
"""Cross-checks `solvent option` (Black-76 price, greeks, implied vol) against QuantLib.

QuantLib's BlackCalculator gives price, forward delta, forward gamma and vega; theta is
checked through the Black PDE with QuantLib's own value and gamma (theta = r*V - 0.5*s^2*F^2*G).
The implied volatility is checked by feeding QuantLib's price back to `solvent option --price`.
Prints `N passed, M failed`; exits non-zero on any failure.
"""
import argparse
import json
import math
import random

import QuantLib as ql

from common import finish, record, run

REL = 1e-9


def close(a, b, scale):
    return abs(a - b) <= REL * max(abs(a), abs(b)) + 1e-13 * scale


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = [0, 0]
    for n in range(args.cases):
        forward = round(rng.choice([rng.uniform(50, 500), rng.uniform(1000, 5000), rng.uniform(20000, 120000)]), 2)
        strike = round(forward * rng.uniform(0.5, 1.8), 2)
        years = round(rng.choice([rng.uniform(1 / 365, 30 / 365), rng.uniform(0.1, 1), rng.uniform(1, 3)]), 6)
        vol = round(rng.uniform(0.1, 2.0), 4)
        rate = round(rng.uniform(0, 0.1), 4)
        right = rng.choice(["call", "put"])
        std = vol * math.sqrt(years)
        discount = math.exp(-rate * years)
        kind = ql.Option.Call if right == "call" else ql.Option.Put
        calc = ql.BlackCalculator(ql.PlainVanillaPayoff(kind, strike), forward, std, discount)
        expected = {
            "price": calc.value(),
            "delta": calc.deltaForward(),
            "gamma": calc.gammaForward(),
            "vega": calc.vega(years),
        }
        expected["theta"] = rate * expected["price"] - 0.5 * vol * vol * forward * forward * expected["gamma"]
        command = [args.solvent, "option", "--forward", str(forward), "--strike", str(strike), "--years", str(years),
                   "--vol", str(vol), "--rate", str(rate), "--right", right]
        check_iv = expected["price"] > 1e-7 * forward and expected["vega"] > 1e-6 * forward
        if check_iv:
            command += ["--price", f"{expected['price']:.18f}"]
        status, stdout, stderr = run(command)
        problems = []
        if status != 0:
            problems.append(f"exit {status}: {stderr.strip()}")
        else:
            got = json.loads(stdout)
            for key, value in expected.items():
                if not isinstance(got.get(key), str) or not close(float(got[key]), value, forward):
                    problems.append(f"{key}: solvent {got.get(key)} QuantLib {value!r}")
            if check_iv:
                iv = got.get("implied_vol")
                # A price known to double precision pins the volatility down only to
                # eps * price / vega: deep in-the-money, low-vega cases get that tolerance.
                # Also, two pricers that differ by d in price imply vols that differ by d / vega.
                price_gap = abs(float(got["price"]) - expected["price"])
                allowed = max(REL * vol, (2 * price_gap + 4e-16 * expected["price"]) / expected["vega"])
                if iv is None or abs(float(iv) - vol) > allowed:
                    problems.append(f"implied_vol: solvent {iv} expected {vol}")
        record(f"case {n}: {' '.join(command[2:])}", problems, tally)
    finish(tally)


if __name__ == "__main__":
    main()
