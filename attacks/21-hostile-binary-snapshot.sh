#!/usr/bin/env bash
# 21: a hostile binary snapshot (SOLVBIN1, valid CRC-32C and row checksum) crashes recovery.
# Builds a journal with `simulate --data`, rewrites its newest snapshot with each hostile body of
# 21-hostile-binary-snapshot.py, then runs `solvent replay --data` (the same recovery `serve` does).
# Expected: every body refused (the snapshot is ignored, replay from the journal, exit 0).
# Actual at 48e4690: keylen/keywrap/strlen exit 132 (Int(UInt64) / offset overflow traps), deep 139 (stack overflow).
set -u
cd "$(dirname "$0")"
BIN=${BIN:-$(cd .. && swift build --show-bin-path)/solvent}
D=$(mktemp -d)
for kind in keylen keywrap strlen deep; do
  rm -rf "$D/j"
  "$BIN" simulate --scenario 21-snapshot-scenario.json --data "$D/j" --snapshot-every 1 > /dev/null
  python3 21-hostile-binary-snapshot.py "$D/j" "$kind"
  "$BIN" replay --data "$D/j" > /dev/null 2>&1
  echo "$kind: replay exit $?"
done
rm -rf "$D"
