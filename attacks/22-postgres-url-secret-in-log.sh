#!/usr/bin/env bash
# 22: a PostgreSQL URL with a typo (no "://") prints its password in clear twice: in the startup
# configuration log line (URLRedaction returned text without "://" unchanged, although its doc says
# text holding an "@" is redacted) and in the error "not a PostgreSQL URL ...: <url>".
# Expected: no "hunter2" in the output. Actual at 48e4690: 2 lines contain it.
set -u
cd "$(dirname "$0")"
BIN=${BIN:-$(cd .. && swift build --show-bin-path)/solvent}
D=$(mktemp -d)
timeout 20 "$BIN" serve --data "$D" --port "${PORT:-18555}" --postgres 'postgres//solvent:hunter2@db.internal/solvent' --node-id a 2>&1 | grep -c hunter2
rm -rf "$D"
