# shared helpers for the attack scripts: start a fresh `solvent serve` on a loopback port, create keys.
BIN=${BIN:-$(cd "$(dirname "$0")/.." && swift build --show-bin-path)/solvent}
PORT=${PORT:-18555}
U=http://127.0.0.1:$PORT
start_server() {  # start_server DATA [extra args...]
  local D=$1; shift
  (setsid "$BIN" serve --data "$D" --host 127.0.0.1 --port "$PORT" "$@" >> "$D/serve.log" 2>&1 & echo $! > "$D/serve.pid")
  for _ in $(seq 1 50); do curl -s -m1 "$U/healthz" >/dev/null && return 0; sleep 0.2; done; return 1
}
stop_server() { local D=$1; kill -9 "$(cat "$D/serve.pid")" 2>/dev/null; sleep 0.5; }
operator_key() { grep -m1 '^operator key:' "$1/serve.log" | awk '{print $3}'; }
new_key() { "$BIN" keys create --data "$1" --role "${@:2}" 2>/dev/null; }   # new_key DATA ROLE [--account A]
alive() { curl -s -m2 "$U/healthz" >/dev/null && echo alive || echo DEAD; }
cmd() { local k=$1; curl -s -m10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k" -H "Idempotency-Key: $RANDOM$RANDOM$RANDOM" -H 'Content-Type: application/json' -X POST "$U/v1/commands" -d "$2"; }
