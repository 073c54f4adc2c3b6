#!/bin/bash
# Expected (docs/service.md "Streams"): a refused upgrade gets a status and a JSON error body (401 without a key, 400 for a malformed upgrade); actual: an upgrade without Sec-WebSocket-Key,
# or with Sec-WebSocket-Version other than 13, is answered with nothing: the connection is just closed (also for an unauthenticated request, which should be 401).
# Fixed: 400 (no Sec-WebSocket-Key) and 426 with Sec-WebSocket-Version: 13 (another version), each with the JSON error body, for any key or none.
set -u
cd "$(dirname "$0")"; . ./lib.sh
D=$(mktemp -d); start_server "$D" || exit 1; OP=$(operator_key "$D")
python3 - "$PORT" "$OP" <<'PY'
import socket, sys
port, op = int(sys.argv[1]), sys.argv[2]
def up(extra, auth):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    h = b"GET /v1/stream?channels=events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extra
    if auth: h += b"Authorization: Bearer " + auth.encode() + b"\r\n"
    s.sendall(h + b"\r\n"); out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d: break
            out += d
    except socket.timeout: out += b"<timeout>"
    s.close(); return out[:80]
print("operator, no Sec-WebSocket-Key:      ", up(b"Sec-WebSocket-Version: 13\r\n", op))
print("no key at all, no Sec-WebSocket-Key: ", up(b"Sec-WebSocket-Version: 13\r\n", None))
print("operator, Sec-WebSocket-Version: 8:  ", up(b"Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", op))
print("control, valid upgrade, no API key:  ", up(b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", None))
PY
stop_server "$D"
