#!/usr/bin/env python3
"""Cross-checks `solvent reserves` against the independent verifier scripts/verify_reserves.py.

For every example scenario: journal it, snapshot the liabilities, then check that every proof
holds under both verifiers with the same balances and totals, that the totals equal root.json,
and that tampered proofs (an amount, a sibling sum, a negative sum, a side) fail under both.
Prints `N passed, M failed`; exits non-zero on any failure.
"""
import argparse
import copy
import glob
import importlib.util
import json
import os
import tempfile
from decimal import Decimal

from common import finish, record, run

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("verify_reserves", os.path.join(HERE, "..", "verify_reserves.py"))
verifier = importlib.util.module_from_spec(spec)
spec.loader.exec_module(verifier)


def python_verdict(proof, root):
    try:
        return verifier.verify(proof, root)
    except (verifier.ProofFailure, KeyError, ValueError, TypeError):
        return None


def swift_verdict(solvent, proof, root, folder):
    path = os.path.join(folder, "tampered.json")
    with open(path, "w") as f:
        json.dump(proof, f)
    status, out, _ = run([solvent, "reserves", "verify", "--proof", path, "--root", root])
    return json.loads(out) if status == 0 else None


def tampered(proof):
    cases = []
    p = copy.deepcopy(proof)
    p["pieces"][0]["amounts"][0] = str(Decimal(p["pieces"][0]["amounts"][0]) + Decimal("0.01"))
    cases.append(("amount", p))
    if proof["pieces"][0]["path"]:
        p = copy.deepcopy(proof)
        p["pieces"][0]["path"][-1]["sums"][0] = str(Decimal(p["pieces"][0]["path"][-1]["sums"][0]) + 1)
        cases.append(("sibling sum", p))
        p = copy.deepcopy(proof)
        p["pieces"][0]["path"][0]["sums"][0] = "-1"
        cases.append(("negative sum", p))
        p = copy.deepcopy(proof)
        step = p["pieces"][0]["path"][0]
        step["side"] = "left" if step["side"] == "right" else "right"
        cases.append(("side", p))
    return cases


def generated_scenario(base, folder, count, seed):
    """The crash scenario with `count` more accounts: random USDT/BTC collateral, random long or
    short positions, ids with characters that file names must escape."""
    import random
    rng = random.Random(seed)
    doc = json.load(open(base))
    for k in range(count):
        quantity = Decimal(rng.randint(1, 4000)) / 1000 * rng.choice([1, -1])
        doc["start"]["accounts"].append({
            "id": f"user {k}/ü" if k % 17 == 0 else f"u{k}",
            "settle": "USDT",
            "collateral": {"USDT": str(Decimal(rng.randint(100, 10**9)) / 100), "BTC": str(Decimal(rng.randint(0, 10**8)) / 10**8)},
            "positions": [{"symbol": "BTCUSDT", "quantity": str(quantity), "entry_price": str(rng.randint(7000, 9000)), "leverage": "10"}],
        })
    path = os.path.join(folder, "generated.json")
    json.dump(doc, open(path, "w"))
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--scenarios", default="Examples/scenarios")
    args = parser.parse_args()
    tally = [0, 0]
    scratch = tempfile.mkdtemp()
    scenarios = sorted(glob.glob(os.path.join(args.scenarios, "*.json")))
    scenarios.append(generated_scenario(os.path.join(args.scenarios, "crash-adl.json"), scratch, 300, 17))
    for scenario in scenarios:
        name = os.path.basename(scenario)
        with tempfile.TemporaryDirectory() as folder:
            data, out = os.path.join(folder, "data"), os.path.join(folder, "out")
            status, _, err = run([args.solvent, "simulate", "--scenario", scenario, "--data", data])
            if status != 0:
                record(name, [f"simulate failed: {err.strip()}"], tally)
                continue
            status, _, err = run([args.solvent, "reserves", "snapshot", "--data", data, "--out", out])
            if status != 0:
                record(name, [f"snapshot failed: {err.strip()}"], tally)
                continue
            root_doc = json.load(open(os.path.join(out, "root.json")))
            root = root_doc["root_hash"]
            for n, proof_path in enumerate(sorted(glob.glob(os.path.join(out, "proofs", "*.json")))):
                label = f"{name}/{os.path.basename(proof_path)}"
                proof = json.load(open(proof_path))
                problems = []
                py = python_verdict(proof, root)
                sw = swift_verdict(args.solvent, proof, root, folder)
                if py is None or sw is None:
                    problems.append(f"valid proof rejected (python={py is not None}, swift={sw is not None})")
                else:
                    for key in ("balances", "totals"):
                        a = {k: Decimal(v) for k, v in py[key].items()}
                        b = {k: Decimal(v) for k, v in sw[key].items()}
                        if a != b:
                            problems.append(f"{key} differ: python {a} swift {b}")
                    if {k: Decimal(v) for k, v in py["totals"].items()} != {k: Decimal(v) for k, v in root_doc["totals"].items()}:
                        problems.append("totals differ from root.json")
                for what, bad in tampered(proof):
                    if python_verdict(bad, root) is not None:
                        problems.append(f"python accepted a tampered {what}")
                    # The binary is started once per check: every 10th proof is enough for it.
                    if n % 10 == 0 and swift_verdict(args.solvent, bad, root, folder) is not None:
                        problems.append(f"swift accepted a tampered {what}")
                record(label, problems, tally)
    import shutil
    shutil.rmtree(scratch, ignore_errors=True)
    finish(tally)


if __name__ == "__main__":
    main()
