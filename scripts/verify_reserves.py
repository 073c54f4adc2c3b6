#!/usr/bin/env python3
"""Independent verifier of Solvent's proof-of-liabilities inclusion proofs (docs/reserves.md, version 1).

Written from the format document, sharing no code with the Swift implementation.

    scripts/verify_reserves.py --proof OUT/proofs/alice.json --root <hex>
    scripts/verify_reserves.py --all OUT            # every proof in OUT/proofs against OUT/root.json

Exit status 0 only when every proof checked holds.
"""
import argparse
import hashlib
import json
import os
import sys
from decimal import Decimal, InvalidOperation

SCALE = 10 ** 18
LIMIT = 2 ** 127  # amounts and sums are signed 128-bit fixed-point integers


class ProofFailure(Exception):
    pass


def amount(text, where):
    if not isinstance(text, str):
        raise ProofFailure(f"{where}: expected a decimal string")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ProofFailure(f"{where}: not a decimal: {text!r}")
    scaled = d * SCALE
    if scaled != scaled.to_integral_value():
        raise ProofFailure(f"{where}: more than 18 fractional digits")
    value = int(scaled)
    if value < 0:
        raise ProofFailure(f"{where}: negative amount {text}")
    if value >= LIMIT:
        raise ProofFailure(f"{where}: out of the 128-bit range")
    return value


def enc(value):
    return value.to_bytes(16, "big", signed=True)


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def root_hash(leaf_count, assets, top, sums):
    parts = [b"\x02", leaf_count.to_bytes(8, "big"), len(assets).to_bytes(4, "big")]
    for symbol in assets:
        raw = symbol.encode("utf-8")
        parts += [len(raw).to_bytes(4, "big"), raw]
    parts += [top] + [enc(s) for s in sums]
    return sha(*parts)


def verify(proof, root_hex):
    if proof.get("version") != 1:
        raise ProofFailure("version: expected 1")
    account = proof["account"]
    assets = proof["assets"]
    n = len(assets)
    leaf_count = proof["leaf_count"]
    if not isinstance(leaf_count, int) or leaf_count < 1:
        raise ProofFailure("leaf_count: must be a positive integer")
    pieces = proof["pieces"]
    if not pieces:
        raise ProofFailure("pieces: empty")
    root = bytes.fromhex(root_hex)
    balances = [0] * n
    seen = set()
    totals = None
    for p, piece in enumerate(pieces):
        index = piece["leaf_index"]
        if not (0 <= index < leaf_count) or index in seen:
            raise ProofFailure(f"pieces[{p}].leaf_index: invalid or repeated")
        seen.add(index)
        amounts = [amount(a, f"pieces[{p}].amounts[{j}]") for j, a in enumerate(piece["amounts"])]
        if len(amounts) != n:
            raise ProofFailure(f"pieces[{p}].amounts: expected {n}")
        balances = [b + a for b, a in zip(balances, amounts)]
        commitment = sha(bytes.fromhex(piece["salt"]), account.encode("utf-8"))
        node = sha(b"\x00", commitment, *[enc(a) for a in amounts])
        sums = amounts
        path = piece["path"]
        i, count, k = index, leaf_count, 0
        while count > 1:
            if i % 2 == 1 or i + 1 < count:
                if k >= len(path):
                    raise ProofFailure(f"pieces[{p}].path: too short")
                step = path[k]
                left = i % 2 == 1
                if step["side"] != ("left" if left else "right"):
                    raise ProofFailure(f"pieces[{p}].path[{k}].side: does not match the leaf index")
                sibling = bytes.fromhex(step["hash"])
                if len(sibling) != 32:
                    raise ProofFailure(f"pieces[{p}].path[{k}].hash: not 32 bytes")
                other = [amount(s, f"pieces[{p}].path[{k}].sums[{j}]") for j, s in enumerate(step["sums"])]
                if len(other) != n:
                    raise ProofFailure(f"pieces[{p}].path[{k}].sums: expected {n}")
                if left:
                    node = sha(b"\x01", sibling, *[enc(s) for s in other], node, *[enc(s) for s in sums])
                else:
                    node = sha(b"\x01", node, *[enc(s) for s in sums], sibling, *[enc(s) for s in other])
                sums = [a + b for a, b in zip(sums, other)]
                if any(s >= LIMIT for s in sums):
                    raise ProofFailure(f"pieces[{p}].path[{k}]: sum out of range")
                k += 1
            i //= 2
            count = (count + 1) // 2
        if k != len(path):
            raise ProofFailure(f"pieces[{p}].path: longer than the tree")
        computed = root_hash(leaf_count, assets, node, sums)
        if computed != root:
            raise ProofFailure(f"pieces[{p}]: leads to root {computed.hex()}, not {root_hex}")
        totals = sums
    fmt = lambda v: str(Decimal(v) / SCALE)
    return {"account": account, "balances": {a: fmt(b) for a, b in zip(assets, balances)},
            "totals": {a: fmt(t) for a, t in zip(assets, totals)}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proof")
    parser.add_argument("--root")
    parser.add_argument("--all", metavar="OUT")
    args = parser.parse_args()
    if args.all:
        root_doc = json.load(open(os.path.join(args.all, "root.json")))
        folder = os.path.join(args.all, "proofs")
        names = sorted(os.listdir(folder))
        for name in names:
            result = verify(json.load(open(os.path.join(folder, name))), root_doc["root_hash"])
            # Totals must match the published root file exactly.
            expected = {a: amount(v, "root.totals") for a, v in root_doc["totals"].items()}
            got = {a: amount(v, "totals") for a, v in result["totals"].items()}
            if expected != got:
                raise ProofFailure(f"{name}: totals differ from root.json")
        print(json.dumps({"verified": len(names), "root_hash": root_doc["root_hash"]}))
        return
    if not (args.proof and args.root):
        parser.error("give --proof and --root, or --all OUT")
    print(json.dumps(verify(json.load(open(args.proof)), args.root)))


if __name__ == "__main__":
    try:
        main()
    except (ProofFailure, KeyError, ValueError, TypeError) as e:
        print(f"verify_reserves: the proof does not hold: {e}", file=sys.stderr)
        sys.exit(1)
