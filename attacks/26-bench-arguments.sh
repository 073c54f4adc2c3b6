#!/usr/bin/env bash
# 26: hostile `solvent bench` arguments. Expected: exit 2 naming the flag. Actual at 48e4690: 132 (trap).
set -u
cd "$(dirname "$0")"
BIN=${BIN:-$(cd .. && swift build --show-bin-path)/solvent}
"$BIN" bench pretrade --accounts 10 --rate 1e-300 > /dev/null 2>&1; echo "pretrade --rate 1e-300: exit $?"
"$BIN" bench pretrade --accounts 9223372036854775807 > /dev/null 2>&1; echo "pretrade --accounts Int.max: exit $?"
