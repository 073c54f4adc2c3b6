#!/usr/bin/env python3
"""Rewrites the newest snapshot of a SQLite journal (DATA/journal.sqlite) with a hostile binary
body whose CRC-32C (SOLVBIN1 layout) and row checksum are both valid. Usage:
  21-hostile-binary-snapshot.py DATA KIND
KIND: keylen   key-table length varint = 2^64-1 (Int(UInt64) trap)
      keywrap  key-table length varint = 2^63-1 (p + length overflows)
      strlen   an unknown entry holding a string of length 2^64-1 (skip(): Int(UInt64) trap)
      deep     root value: 200,000 nested unkeyed containers inside an unknown key (skip() recursion)
"""
import sqlite3, struct, sys

def crc32c(data: bytes) -> int:
    poly = 0x82F63B78
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF

def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F; v >>= 7
        if v: out.append(b | 0x80)
        else: out.append(b); return bytes(out)

def body(kind: str) -> bytes:
    TAG_STRING, TAG_KEYED, TAG_UNKEYED, END = 5, 9, 10, 15
    if kind == "keylen":
        root = bytes([TAG_KEYED, END]); table = varint(1) + varint(2**64 - 1)
    elif kind == "keywrap":
        root = bytes([TAG_KEYED, END]); table = varint(1) + varint(2**63 - 1)
    elif kind == "strlen":
        # a keyed root whose entry "x" (an inline key, kind 1) is a string of length 2^64-1, skipped while looking for a field
        root = bytes([TAG_KEYED]) + varint((1 << 2) | 1) + b"x" + bytes([TAG_STRING]) + varint(2**64 - 1) + bytes([END]); table = varint(0)
    elif kind == "deep":
        n = 200_000
        # a keyed root whose first entry has an inline key "x" (kind 1: (1 << 2) | 1) and a deeply nested value
        root = bytes([TAG_KEYED]) + varint((1 << 2) | 1) + b"x" + bytes([TAG_UNKEYED]) * n + bytes([END]) * n + bytes([END])
        table = varint(0)
    else:
        raise SystemExit("unknown kind " + kind)
    offset = 20 + len(root)
    rest = struct.pack("<Q", offset) + root + table
    return b"SOLVBIN1" + struct.pack("<I", crc32c(rest)) + rest

data, kind = sys.argv[1], sys.argv[2]
db = sqlite3.connect(f"{data}/journal.sqlite")
seq, state_hash, version = db.execute("SELECT sequence, state_hash, version FROM snapshot ORDER BY sequence DESC LIMIT 1").fetchone()
b = body(kind)
checksum = crc32c(f"{seq}\n{state_hash}\n{version}\n".encode() + b)
if checksum >= 2**31: checksum -= 2**32  # stored as Int64(UInt32) by the journal: keep it as written
db.execute("UPDATE snapshot SET body = ?, checksum = ? WHERE sequence = ?", (b, crc32c(f"{seq}\n{state_hash}\n{version}\n".encode() + b), seq))
db.commit()
print(f"snapshot {seq} rewritten ({kind}, {len(b)} bytes)")
