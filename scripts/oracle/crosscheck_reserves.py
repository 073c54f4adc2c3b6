#!/usr/bin/env python3
"""Cross-checks `solvent reserves` against the independent verifier scripts/verify_reserves.py.

For every example scenario: journal it, snapshot the liabilities, then check that every proof
holds under both verifiers with the same balances and totals, that the totals equal root.json,
and that tampered proofs (an amount, a sibling sum, a negative sum, a side, a longer salt, the
proof rewritten for another account) fail under both.

Regressions of issue 22 (items 6 and 7), on a scenario with accounts "7" and "17", a
20,000,000,000.5 USDT holder and a pending on-chain deposit:
- account 17's proof rewritten for account 7 with the salt `salt || "1"` (one leaf for two
  accounts under the version-1 encoding) is rejected by both verifiers;
- every proof verifies in both (29 significant digits per piece, no decimal context);
- two snapshots of the same journal at different positions share no leaf hash and no salt;
- the pending deposit counts in full in the totals and in root.json's pending_deposits;
- the test vector of docs/reserves.md holds in both verifiers.

All amounts are exact integers (amount x 10^18): no float and no Decimal here either.
Prints `N passed, M failed`; exits non-zero on any failure.
"""
import argparse
import copy
import glob
import hashlib
import importlib.util
import json
import os
import tempfile

from common import finish, record, run

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("verify_reserves", os.path.join(HERE, "..", "verify_reserves.py"))
verifier = importlib.util.module_from_spec(spec)
spec.loader.exec_module(verifier)


def exact(text):
    """A non-negative decimal string as the exact integer x 10^18."""
    return verifier.amount(text, "crosscheck")


def python_verdict(proof, root):
    try:
        return verifier.verify(proof, root)
    except (verifier.ProofFailure, KeyError, ValueError, TypeError, AttributeError):
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
    p["pieces"][0]["amounts"][0] = verifier.text_of(exact(p["pieces"][0]["amounts"][0]) + 10 ** 16)
    cases.append(("amount", p))
    p = copy.deepcopy(proof)
    p["pieces"][0]["salt"] += "00"
    cases.append(("33-byte salt", p))
    p = copy.deepcopy(proof)
    p["pieces"][0]["salt"] = p["pieces"][0]["salt"][:62]
    cases.append(("31-byte salt", p))
    p = copy.deepcopy(proof)
    p["account"] = p["account"] + "x"
    cases.append(("account id", p))
    if proof["pieces"][0]["path"]:
        p = copy.deepcopy(proof)
        p["pieces"][0]["path"][-1]["sums"][0] = verifier.text_of(exact(p["pieces"][0]["path"][-1]["sums"][0]) + verifier.SCALE)
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
    short positions, ids with the characters of the account-id pattern that file names must
    handle with care (`.`, `:`, `..`; ids are ASCII `^[A-Za-z0-9_.:-]{1,128}$`)."""
    import random
    rng = random.Random(seed)
    doc = json.load(open(base))
    for k in range(count):
        quantity = rng.randint(1, 4000) * 10 ** 15 * rng.choice([1, -1])
        doc["start"]["accounts"].append({
            "id": f"..:user.{k}:-_" if k % 17 == 0 else f"u{k}",
            "settle": "USDT",
            "collateral": {"USDT": verifier.text_of(rng.randint(100, 10**9) * 10 ** 16),
                           "BTC": verifier.text_of(rng.randint(0, 10**8) * 10 ** 10)},
            "positions": [{"symbol": "BTCUSDT", "quantity": verifier.text_of(quantity), "entry_price": str(rng.randint(7000, 9000)), "leverage": "10"}],
        })
    path = os.path.join(folder, "generated.json")
    json.dump(doc, open(path, "w"))
    return path


# The test vector of docs/reserves.md ("Test vector"), assembled from the byte layout alone.
VECTOR_ROOT = "a0c4e93c4fe4fd74b75b96782a6137c3346ffc6dbc585c840d9593e784e66c24"
VECTOR_PROOF = {"version": 2, "account": "17", "assets": ["USDT", "BTC"], "leaf_count": 2, "root_hash": VECTOR_ROOT,
                "balances": {"USDT": "1.5", "BTC": "0"},
                "pieces": [{"leaf_index": 0, "salt": bytes(range(32)).hex(), "amounts": ["1.5", "0"],
                            "path": [{"side": "right", "hash": "ff" * 32, "sums": ["2", "0.000000000000000001"]}]}]}


def check_test_vector(solvent, folder, tally):
    problems = []
    leaf = verifier.leaf_hash(bytes(range(32)), "17", [15 * 10 ** 17, 0])
    if leaf.hex() != "0c0c4b028bd0a0d8534fdf6c24789fedfddbd300e2fcab6d4a9adcc5cdb5b153":
        problems.append(f"leaf hash {leaf.hex()}")
    node = verifier.node_hash(leaf, [15 * 10 ** 17, 0], b"\xff" * 32, [2 * 10 ** 18, 1])
    if node.hex() != "b5d2cf19551f067dc50bf1ed12b2e9c7b9549272701ccdd5b6459df31015f02c":
        problems.append(f"node hash {node.hex()}")
    if verifier.root_hash(2, ["USDT", "BTC"], node, [35 * 10 ** 17, 1]).hex() != VECTOR_ROOT:
        problems.append("root hash")
    if python_verdict(VECTOR_PROOF, VECTOR_ROOT) is None:
        problems.append("python rejects the test-vector proof")
    if swift_verdict(solvent, VECTOR_PROOF, VECTOR_ROOT, folder) is None:
        problems.append("swift rejects the test-vector proof")
    forged = forge_longer_salt(VECTOR_PROOF, "7", "1")
    if python_verdict(forged, VECTOR_ROOT) is not None or swift_verdict(solvent, forged, VECTOR_ROOT, folder) is not None:
        problems.append("the test-vector proof rewritten for account 7 with salt || '1' verifies")
    record("docs/reserves.md test vector", problems, tally)


def forge_longer_salt(proof, account, moved):
    """The version-1 forgery: `proof` of account `moved + account` rewritten for `account`, the
    moved prefix appended to every salt (salt || moved || account was salt || moved+account)."""
    forged = copy.deepcopy(proof)
    forged["account"] = account
    for piece in forged["pieces"]:
        piece["salt"] += moved.encode("utf-8").hex()
    return forged


def issue_22_scenario(folder):
    """Accounts "7" and "17", a 20,000,000,000.5 USDT holder, a deposit, then a pending on-chain
    deposit of 5,000 USDT to "17" (counted at 60 % by the engine while unconfirmed)."""
    doc = {"description": "issue 22: one leaf for two accounts, 29-digit amounts, a pending deposit",
           "start": {"time": "2024-01-01T00:00:00Z", "assets": {"USDT": "1", "BTC": "50000"}, "instruments": [], "marks": {},
                     "accounts": [{"id": "17", "settle": "USDT", "collateral": {"USDT": "1000"}},
                                  {"id": "7", "settle": "USDT", "collateral": {"USDT": "250.25"}},
                                  {"id": "whale", "settle": "USDT", "collateral": {"USDT": "20000000000.5", "BTC": "3"}}]},
           "parameters": {"finality_depth": 6, "unconfirmed_haircut": "0.4"},
           "commands": [{"time": "2024-01-01T00:01:00Z", "type": "deposit", "account": "7", "asset": "USDT", "amount": "1"},
                        {"time": "2024-01-01T00:02:00Z", "type": "chain_deposit", "account": "17", "asset": "USDT", "amount": "5000",
                         "chain": "ethereum", "height": 100, "block_hash": "0xaaa100"}]}
    path = os.path.join(folder, "issue-22.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def significant_digits(text):
    """Significant digits of a non-negative decimal text: leading zeros do not count."""
    return len(text.replace(".", "").lstrip("0"))


def leaves(out):
    """Leaf hashes and salts of every proof in a snapshot folder (recomputed, as a verifier does)."""
    hashes, salts = set(), set()
    for path in glob.glob(os.path.join(out, "proofs", "*.json")):
        with open(path) as f:
            proof = json.load(f)
        for piece in proof["pieces"]:
            salt = bytes.fromhex(piece["salt"])
            salts.add(salt)
            hashes.add(verifier.leaf_hash(salt, proof["account"], [exact(a) for a in piece["amounts"]]))
    return hashes, salts


def check_issue_22(solvent, scratch, tally):
    folder = os.path.join(scratch, "issue-22")
    data = os.path.join(folder, "data")
    status, _, err = run([solvent, "simulate", "--scenario", issue_22_scenario(scratch), "--data", data])
    if status != 0:
        record("issue 22", [f"simulate failed: {err.strip()}"], tally)
        return
    # The split of the whale's 20,000,000,000.5 into two pieces derives from the secret: about one
    # secret in ten gives pieces whose text trims to fewer than 29 significant digits. Secrets are
    # tried in a fixed order until one exercises the 29-digit case, so the check never depends on
    # the random secret a first snapshot creates.
    secret_path = os.path.join(data, "reserves.secret")
    for attempt in range(64):
        with open(secret_path, "w") as f:
            f.write(hashlib.sha256(f"issue-22 secret {attempt}".encode()).hexdigest() + "\n")
        probe = os.path.join(folder, "probe")
        status, _, err = run([solvent, "reserves", "snapshot", "--data", data, "--out", probe])
        if status != 0:
            record("issue 22", [f"snapshot probe failed: {err.strip()}"], tally)
            return
        with open(os.path.join(probe, "proofs", "whale.json")) as f:
            whale = json.load(f)
        if max(significant_digits(a) for p in whale["pieces"] for a in p["amounts"]) >= 29:
            break
    outs = {}
    for label, extra in (("all", []), ("again", []), ("at0", ["--at", "0"]), ("at1", ["--at", "1"])):
        outs[label] = os.path.join(folder, label)
        status, _, err = run([solvent, "reserves", "snapshot", "--data", data, "--out", outs[label]] + extra)
        if status != 0:
            record("issue 22", [f"snapshot {label} failed: {err.strip()}"], tally)
            return
    with open(os.path.join(outs["all"], "root.json")) as f:
        root_doc = json.load(f)
    root = root_doc["root_hash"]

    # Item 6: account 17's proof rewritten for account 7 with salt || "1".
    with open(os.path.join(outs["all"], "proofs", "17.json")) as f:
        genuine = json.load(f)
    problems = []
    if python_verdict(genuine, root) is None or swift_verdict(solvent, genuine, root, folder) is None:
        problems.append("the genuine proof of 17 is rejected")
    forged = forge_longer_salt(genuine, "7", "1")
    if python_verdict(forged, root) is not None:
        problems.append("python accepts 17's proof rewritten for 7 with a longer salt")
    if swift_verdict(solvent, forged, root, folder) is not None:
        problems.append("swift accepts 17's proof rewritten for 7 with a longer salt")
    # The same with a 32-byte salt (its first byte dropped): the encoding, not only the length check.
    for piece in forged["pieces"]:
        piece["salt"] = piece["salt"][2:]
    if python_verdict(forged, root) is not None or swift_verdict(solvent, forged, root, folder) is not None:
        problems.append("a 32-byte rewritten salt verifies for account 7")
    record("issue 22: forged longer-salt proof rejected", problems, tally)

    # Item 7: every proof verifies in both, the 20,000,000,000.5 holder's balance exactly.
    problems = []
    for path in sorted(glob.glob(os.path.join(outs["all"], "proofs", "*.json"))):
        with open(path) as f:
            proof = json.load(f)
        py, sw = python_verdict(proof, root), swift_verdict(solvent, proof, root, folder)
        if py is None or sw is None:
            problems.append(f"{os.path.basename(path)} rejected (python={py is not None}, swift={sw is not None})")
        elif proof["account"] == "whale":
            for verdict, name in ((py, "python"), (sw, "swift")):
                if verdict["balances"]["USDT"] != "20000000000.5":
                    problems.append(f"{name} balance {verdict['balances']['USDT']}")
            if max(significant_digits(a) for p in proof["pieces"] for a in p["amounts"]) < 29:
                problems.append("no piece of 29 digits (the case is not exercised)")
    status, _, err = run(["python3", os.path.join(HERE, "..", "verify_reserves.py"), "--all", outs["all"]])
    if status != 0:
        problems.append(f"verify_reserves.py --all: {err.strip()}")
    record("issue 22: 20,000,000,000.5 USDT holder verifies in both", problems, tally)

    # Unlinkable snapshots: no leaf and no salt shared between journal positions; the same
    # position twice gives the same root.
    problems = []
    with open(os.path.join(outs["again"], "root.json")) as f:
        if json.load(f)["root_hash"] != root:
            problems.append("the same journal position gives another root")
    seen = {label: leaves(outs[label]) for label in ("all", "at0", "at1")}
    for a, b in (("all", "at0"), ("all", "at1"), ("at0", "at1")):
        if seen[a][0] & seen[b][0]:
            problems.append(f"snapshots {a} and {b} share {len(seen[a][0] & seen[b][0])} leaf hash(es)")
        if seen[a][1] & seen[b][1]:
            problems.append(f"snapshots {a} and {b} share a salt")
    record("issue 22: snapshots share no leaf", problems, tally)

    # A pending deposit counts in full: 1000 + 5000 (not 1000 + 3000) for "17".
    problems = []
    if exact(root_doc["totals"]["USDT"]) != exact("20000006251.75"):
        problems.append(f"USDT total {root_doc['totals']['USDT']}, expected 20000006251.75")
    if root_doc.get("pending_deposits", {}).get("USDT") != "5000":
        problems.append(f"pending_deposits {root_doc.get('pending_deposits')}")
    if python_verdict(genuine, root)["balances"]["USDT"] != "6000":
        problems.append(f"17's balance {python_verdict(genuine, root)['balances']}, expected 6000")
    record("issue 22: a pending deposit counts in full", problems, tally)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--scenarios", default="Examples/scenarios")
    args = parser.parse_args()
    tally = [0, 0]
    scratch = tempfile.mkdtemp()
    check_test_vector(args.solvent, scratch, tally)
    check_issue_22(args.solvent, scratch, tally)
    scenarios = sorted(glob.glob(os.path.join(args.scenarios, "*.json")))
    scenarios.append(generated_scenario(os.path.join(args.scenarios, "crash-adl.json"), scratch, 300, 17))
    scenarios.append(issue_22_scenario(scratch))
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
                        a = {k: exact(v) for k, v in py[key].items()}
                        b = {k: exact(v) for k, v in sw[key].items()}
                        if a != b:
                            problems.append(f"{key} differ: python {a} swift {b}")
                    if {k: exact(v) for k, v in py["totals"].items()} != {k: exact(v) for k, v in root_doc["totals"].items()}:
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
