#!/usr/bin/env python3
"""Independent verifier of Solvent's proof-of-liabilities inclusion proofs (docs/reserves.md, version 2).

Written from the format document, sharing no code with the Swift implementation. Amounts are
exact integers (amount x 10^18) from the text to the hash: no float and no decimal context.

    scripts/verify_reserves.py --proof OUT/proofs/alice.json --root <hex>
    scripts/verify_reserves.py --all OUT            # every proof in OUT/proofs against OUT/root.json

Exit status 0 only when every proof checked holds.
"""
import argparse
import hashlib
import json
import os
import re
import sys

VERSION = 2
SCALE_DIGITS = 18
SCALE = 10 ** SCALE_DIGITS
LIMIT = 2 ** 127  # amounts and sums are signed 128-bit fixed-point integers; here never negative
SALT_BYTES = 32
HASH_BYTES = 32
MAX_LEAF_COUNT = 2 ** 31 - 1

TAG_LEAF = "solvent/reserves/v2/leaf"
TAG_NODE = "solvent/reserves/v2/node"
TAG_ROOT = "solvent/reserves/v2/root"

DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]{1,18}))?")
HEX = re.compile(r"[0-9a-fA-F]*")


class ProofFailure(Exception):
    pass


def amount(text, where):
    """`digits[.digits]` (no sign, no exponent, at most 18 fractional digits) -> the exact integer x 10^18."""
    if not isinstance(text, str):
        raise ProofFailure(f"{where}: expected a decimal string")
    match = DECIMAL.fullmatch(text)
    if match is None:
        if text.startswith("-"):
            raise ProofFailure(f"{where}: negative amount {text}")
        raise ProofFailure(f"{where}: not digits[.digits] with at most 18 fractional digits: {text[:60]!r}")
    integer, fraction = match.group(1), match.group(2) or ""
    value = int(integer) * SCALE + int(fraction.ljust(SCALE_DIGITS, "0"))
    if value >= LIMIT:
        raise ProofFailure(f"{where}: out of the 128-bit range")
    return value


def text_of(value):
    """The exact decimal text of an integer x 10^-18 (no trailing zeros)."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), SCALE)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:018d}".rstrip("0")


def hex_bytes(text, where, length):
    """Exactly `length` bytes written as 2 x length hex digits (no spaces, no prefix)."""
    if not isinstance(text, str) or HEX.fullmatch(text) is None or len(text) % 2 != 0:
        raise ProofFailure(f"{where}: not hexadecimal")
    raw = bytes.fromhex(text)
    if length is not None and len(raw) != length:
        raise ProofFailure(f"{where}: expected {length} bytes, found {len(raw)}")
    return raw


def integer(value, where):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofFailure(f"{where}: expected an integer")
    return value


def tag(name):
    raw = name.encode("ascii")
    return bytes([len(raw)]) + raw


def u32(value):
    return value.to_bytes(4, "big")


def enc(value):
    return value.to_bytes(16, "big", signed=True)


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def leaf_hash(salt, account, amounts):
    """tag(leaf) || salt (32) || u32 len(id) || UTF-8 id || enc(amount)*n"""
    if len(salt) != SALT_BYTES:
        raise ProofFailure(f"salt: expected {SALT_BYTES} bytes, found {len(salt)}")
    raw = account.encode("utf-8")
    return sha(tag(TAG_LEAF), salt, u32(len(raw)), raw, *[enc(a) for a in amounts])


def node_hash(left, left_sums, right, right_sums):
    """tag(node) || left hash (32) || enc(left sum)*n || right hash (32) || enc(right sum)*n"""
    return sha(tag(TAG_NODE), left, *[enc(s) for s in left_sums], right, *[enc(s) for s in right_sums])


def root_hash(leaf_count, assets, top, sums):
    """tag(root) || u64 leaf count || u32 n || (u32 len || UTF-8 symbol)*n || top hash || enc(top sum)*n"""
    parts = [tag(TAG_ROOT), leaf_count.to_bytes(8, "big"), u32(len(assets))]
    for symbol in assets:
        raw = symbol.encode("utf-8")
        parts += [u32(len(raw)), raw]
    parts += [top] + [enc(s) for s in sums]
    return sha(*parts)


def verify(proof, root_hex):
    if not isinstance(proof, dict):
        raise ProofFailure("the proof is not a JSON object")
    if integer(proof.get("version"), "version") != VERSION:
        raise ProofFailure(f"version: expected {VERSION}")
    root = hex_bytes(root_hex, "root", HASH_BYTES)
    account = proof["account"]
    if not isinstance(account, str) or account == "":
        raise ProofFailure("account: expected a non-empty string")
    if len(account.encode("utf-8")) >= 2 ** 32:
        raise ProofFailure("account: too long")
    assets = proof["assets"]
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) and a for a in assets):
        raise ProofFailure("assets: expected a non-empty list of non-empty symbols")
    if len(set(assets)) != len(assets):
        raise ProofFailure("assets: an asset is listed twice")
    n = len(assets)
    leaf_count = integer(proof["leaf_count"], "leaf_count")
    if not 1 <= leaf_count <= MAX_LEAF_COUNT:
        raise ProofFailure(f"leaf_count: must be in 1...{MAX_LEAF_COUNT}")
    pieces = proof["pieces"]
    if not isinstance(pieces, list) or not pieces:
        raise ProofFailure("pieces: expected a non-empty list")
    balances = [0] * n
    seen = set()
    totals = None
    for p, piece in enumerate(pieces):
        at = f"pieces[{p}]"
        index = integer(piece["leaf_index"], f"{at}.leaf_index")
        if not (0 <= index < leaf_count) or index in seen:
            raise ProofFailure(f"{at}.leaf_index: outside 0..<{leaf_count} or repeated")
        seen.add(index)
        salt = hex_bytes(piece["salt"], f"{at}.salt", SALT_BYTES)
        if not isinstance(piece["amounts"], list) or len(piece["amounts"]) != n:
            raise ProofFailure(f"{at}.amounts: expected {n}, one per asset")
        amounts = [amount(a, f"{at}.amounts[{j}]") for j, a in enumerate(piece["amounts"])]
        balances = [b + a for b, a in zip(balances, amounts)]
        if any(b >= LIMIT for b in balances):
            raise ProofFailure(f"{at}.amounts: the balance leaves the 128-bit range")
        node = leaf_hash(salt, account, amounts)
        sums = amounts
        path = piece["path"]
        if not isinstance(path, list):
            raise ProofFailure(f"{at}.path: expected a list")
        i, count, k = index, leaf_count, 0
        while count > 1:
            if i % 2 == 1 or i + 1 < count:
                if k >= len(path):
                    raise ProofFailure(f"{at}.path: too short")
                step = path[k]
                where = f"{at}.path[{k}]"
                left = i % 2 == 1
                if step["side"] != ("left" if left else "right"):
                    raise ProofFailure(f"{where}.side: does not match the leaf index")
                sibling = hex_bytes(step["hash"], f"{where}.hash", HASH_BYTES)
                if not isinstance(step["sums"], list) or len(step["sums"]) != n:
                    raise ProofFailure(f"{where}.sums: expected {n}, one per asset")
                other = [amount(s, f"{where}.sums[{j}]") for j, s in enumerate(step["sums"])]
                if left:
                    node = node_hash(sibling, other, node, sums)
                else:
                    node = node_hash(node, sums, sibling, other)
                sums = [a + b for a, b in zip(sums, other)]
                if any(s >= LIMIT for s in sums):
                    raise ProofFailure(f"{where}: sum out of range")
                k += 1
            i //= 2
            count = (count + 1) // 2
        if k != len(path):
            raise ProofFailure(f"{at}.path: longer than the tree")
        computed = root_hash(leaf_count, assets, node, sums)
        if computed != root:
            raise ProofFailure(f"{at}: leads to root {computed.hex()}, not {root_hex}")
        totals = sums
    return {"account": account, "balances": {a: text_of(b) for a, b in zip(assets, balances)},
            "totals": {a: text_of(t) for a, t in zip(assets, totals)}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proof")
    parser.add_argument("--root")
    parser.add_argument("--all", metavar="OUT")
    args = parser.parse_args()
    if args.all:
        with open(os.path.join(args.all, "root.json")) as f:
            root_doc = json.load(f)
        if root_doc.get("version") != VERSION:
            raise ProofFailure(f"root.json: version {root_doc.get('version')!r}, expected {VERSION}")
        expected = {a: amount(v, f"root.json totals.{a}") for a, v in root_doc["totals"].items()}
        folder = os.path.join(args.all, "proofs")
        names = sorted(os.listdir(folder))
        for name in names:
            with open(os.path.join(folder, name)) as f:
                result = verify(json.load(f), root_doc["root_hash"])
            # Totals must match the published root file exactly.
            got = {a: amount(v, "totals") for a, v in result["totals"].items()}
            if expected != got:
                raise ProofFailure(f"{name}: totals differ from root.json")
        print(json.dumps({"verified": len(names), "root_hash": root_doc["root_hash"]}))
        return
    if not (args.proof and args.root):
        parser.error("give --proof and --root, or --all OUT")
    with open(args.proof) as f:
        print(json.dumps(verify(json.load(f), args.root)))


if __name__ == "__main__":
    try:
        main()
    except (ProofFailure, KeyError, ValueError, TypeError, AttributeError) as e:
        print(f"verify_reserves: the proof does not hold: {e}", file=sys.stderr)
        sys.exit(1)
