#!/usr/bin/env python3
"""Runs the service checks of scripts/test against a live `solvent demo`.

1. Starts `solvent demo --port 0 --speed 0 --accounts 150` over the March 2020 window (so the
   crash has happened and the dashboard has margin calls, liquidations and a fund history), and
   waits for "replay finished".
2. scripts/check_dashboard.py: the dashboard rendered by headless Chromium, live over the stream
   (before schemathesis, whose commands change the book the dashboard check expects).
3. schemathesis (from PyPI) against /openapi.json with the operator key: every operation but the
   WebSocket one, no 5xx, and every response conforming to its documented status code, content
   type and schema. scripts/schemathesis_hooks.py gives every generated write a fresh
   Idempotency-Key, and the document's schemas and examples (commands on the demo's accounts
   and market, a simple evaluate portfolio) make generated requests reach the engine: the
   script prints how many commands were applied and how many evaluate documents were valid
   (from /metrics and the run's own count), and fails when none were. Bounded by --time-limit.
4. Ctrl-C (SIGINT) to the demo: it must stop cleanly (exit 0, "demo: stopped cleanly").

Usage: check_service.py --solvent PATH [--out DIR] [--max-examples N]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time


def applied_commands(url: str) -> int:
    """solvent_commands_applied_total summed over types, from /metrics."""
    import urllib.request
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("solvent_commands_applied_total{")))


def evaluate_outcomes(folder: str) -> dict:
    """Status codes of the POST /v1/evaluate calls recorded in schemathesis's HAR report."""
    import glob
    import json
    counts: dict = {}
    for path in glob.glob(os.path.join(folder, "har-*.json")) + glob.glob(os.path.join(folder, "*.har")):
        with open(path) as f:
            for entry in json.load(f).get("log", {}).get("entries", []):
                request = entry.get("request", {})
                if request.get("method") == "POST" and request.get("url", "").split("?")[0].endswith("/v1/evaluate"):
                    status = entry.get("response", {}).get("status")
                    counts[status] = counts.get(status, 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--out", default=tempfile.mkdtemp(prefix="solvent-service-"))
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--time-limit", type=int, default=200, help="seconds schemathesis may run")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    demo = subprocess.Popen(
        [args.solvent, "demo", "--port", "0", "--speed", "0", "--accounts", "150",
         "--from", "2020-03-08T00:00:00Z", "--to", "2020-03-16T00:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    finished = threading.Event()

    def read() -> None:
        for line in demo.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("replay finished"):
                finished.set()
        finished.set()

    threading.Thread(target=read, daemon=True).start()
    if not finished.wait(180) or demo.poll() is not None:
        print("check_service: the demo did not finish its replay:\n" + "\n".join(lines[-20:]) + (demo.stderr.read() if demo.poll() is not None else ""))
        demo.kill()
        return 1
    text = "\n".join(lines)
    base = re.search(r"dashboard:\s+(http://[0-9.]+:\d+)/#key=(\S+)", text)
    if not base:
        print("check_service: no dashboard URL in the demo's output:\n" + text)
        demo.kill()
        return 1
    url, key = base.group(1), base.group(2)
    print(f"check_service: demo at {url}: " + next(l for l in lines if l.startswith("replay finished")))

    failures = 0
    dash = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "check_dashboard.py"), url, key,
                           os.path.join(args.out, "dashboard.png")], capture_output=True, text=True)
    sys.stdout.write(dash.stdout)
    if dash.returncode != 0:
        sys.stdout.write(dash.stderr)
        failures += 1

    applied_before = applied_commands(url)
    env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
               PYTHONPATH=os.path.dirname(os.path.abspath(__file__)) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.monotonic()
    try:
        st = subprocess.run(
            ["schemathesis", "run", f"{url}/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
             "--exclude-path", "/v1/stream", "--max-examples", str(args.max_examples),
             "--phases", "examples,coverage,fuzzing", "--seed", "7", "--workers", "1",
             "--report", "har", "--report-dir", args.out],
            capture_output=True, text=True, env=env, timeout=args.time_limit)
    except subprocess.TimeoutExpired:
        print(f"check_service: schemathesis did not finish within {args.time_limit} s")
        demo.kill()
        return 1
    elapsed = time.monotonic() - started
    if st.returncode != 0:
        print("check_service: schemathesis found problems:\n" + st.stdout[-6000:] + st.stderr[-2000:])
        failures += 1
    else:
        cases = re.search(r"(\d+) generated, (\d+) passed", st.stdout)
        print(f"check_service: schemathesis in {elapsed:.0f} s: {cases.group(0) if cases else 'passed'} (no 5xx, status codes, content types and schemas conform)")
    applied = applied_commands(url) - applied_before
    evaluations = evaluate_outcomes(args.out)
    print(f"check_service: schemathesis reached the engine: {applied} commands applied; "
          f"evaluate documents: {evaluations.get(200, 0)} valid, {sum(v for k, v in evaluations.items() if k != 200)} refused")
    if applied == 0 or evaluations.get(200, 0) == 0:
        print("check_service: generated requests did not reach the engine (no command applied or no valid evaluate document)")
        failures += 1

    demo.send_signal(signal.SIGINT)
    try:
        code = demo.wait(60)
    except subprocess.TimeoutExpired:
        demo.kill()
        print("check_service: the demo did not stop within 60 s of Ctrl-C")
        return 1
    stderr = demo.stderr.read()
    if code != 0 or "demo: stopped cleanly" not in stderr:
        print(f"check_service: the demo did not stop cleanly (exit {code}):\n{stderr[-2000:]}")
        failures += 1
    else:
        print("check_service: Ctrl-C stopped the demo cleanly")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
