#!/usr/bin/env python3
"""Checks the operations kit of Solvent (ops/, docs/operations.md) against a live service.

1. Live expositions: starts `solvent demo --port 0 --speed 0` on a short window of the shipped
   crash and waits for "replay finished", then `solvent serve` on a fresh data folder with a
   webhook subscription (so that the webhook metrics are exported too), and scrapes `/metrics`
   of each. Each exposition must pass `promtool check metrics` (exit 0, no lint problem) and
   follow the conventions of docs/operations.md ("Metrics"): counters end in `_total`, the
   process_* metrics of client libraries are present, no sample is NaN.
2. The Grafana dashboard ops/grafana/solvent.json against the classic dashboard JSON model of
   Grafana's documentation ("Dashboard JSON model": the dashboard's keys and their types,
   `templating.list`, `annotations.list`, `time.from/to`, `schemaVersion`; the constraints of
   its schema: uid of 8-40 characters, timezone, graphTooltip; each panel's `id`
   (unique), `type` (a built-in panel plugin), `title`, `gridPos` (h, w, x, y integers on the
   24-column grid, no two panels overlapping), `datasource` ({type, uid}) and `targets`
   (refId unique within the panel, a non-empty PromQL `expr`); rows hold no targets), and
   every metric named by a panel's PromQL is in the live expositions (or is a recording rule
   of the rules file, or `up`).
3. The rules ops/prometheus/solvent-rules.yml: every metric they name is exported (the
   solvent_ha_* names excepted, which must be listed in docs/operations.md as exported once HA
   lands), every alert has a severity, a summary, a description and a runbook_url pointing at a
   heading of docs/operations.md that exists.

`promtool check rules` and `promtool test rules` run as their own steps of scripts/test.

Usage: check_ops.py --solvent PATH [--promtool promtool] [--keep DIR]
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap", "piechart", "state-timeline",
               "status-history", "histogram", "logs", "barchart", "alertlist", "dashlist", "news", "nodeGraph", "trend", "xychart",
               "canvas", "geomap", "flamegraph", "traces", "candlestick"}
HA_METRICS = {"solvent_ha_is_leader", "solvent_ha_standby_lag_commands"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
                "inf", "nan", "le"}

failures: list[str] = []


def fail(message: str) -> None:
    failures.append(message)
    print("check_ops: FAIL: " + message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def metrics_after_refresh(base: str, seconds: float = 60) -> str:
    """/metrics once the engine-state gauges are in it. They are set by a refresh scheduled after a
    command batch (ProcessMetrics.swift: nothing before the first refresh); a fixed 0.5 s sleep
    raced that refresh on a loaded machine, so this polls until `solvent_accounts` appears (the
    last read is returned either way: a missing gauge is then reported by the checks)."""
    deadline = time.monotonic() + seconds
    while True:
        text = get(base + "/metrics")
        if re.search(r"^solvent_accounts[ {]", text, re.M) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def demo_exposition(solvent: str) -> str:
    demo = subprocess.Popen([solvent, "demo", "--port", "0", "--speed", "0", "--accounts", "80",
                             "--from", "2020-03-11T00:00:00Z", "--to", "2020-03-14T00:00:00Z"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in demo.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("replay finished"):
                done.set()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not done.wait(90) or demo.poll() is not None:
            raise RuntimeError("the demo did not finish its replay:\n" + "\n".join(lines[-10:]))
        url = re.search(r"dashboard:\s+(http://[0-9.]+:\d+)/", "\n".join(lines))
        if not url:
            raise RuntimeError("no dashboard URL in the demo's output")
        return metrics_after_refresh(url.group(1))
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()


def serve_exposition(solvent: str, data: str) -> str:
    port = free_port()
    env = dict(os.environ, SOLVENT_WEBHOOKS=json.dumps([{"name": "ops-check", "url": "http://127.0.0.1:9/hook",
                                                          "secret": "0123456789abcdef0123"}]))
    serve = subprocess.Popen([solvent, "serve", "--data", data, "--port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        key = serve.stdout.readline().strip()
        if not key.startswith("operator key: "):
            raise RuntimeError(f"solvent serve printed {key!r} instead of the operator key: " + (serve.stderr.read()[-2000:] if serve.poll() is not None else ""))
        key = key.split(": ", 1)[1]
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            if serve.poll() is not None:
                raise RuntimeError("solvent serve exited: " + serve.stderr.read()[-2000:])
            try:
                if "ok" in get(base + "/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        # A mark, then one outside the range contract (prices ≤ 10^8): refused with code 1009.
        for n, price in enumerate(["65000", "1000000000"]):
            request = urllib.request.Request(base + "/v1/commands", method="POST",
                                             data=json.dumps({"type": "mark", "symbol": "BTCUSDT", "price": price}).encode(),
                                             headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"ops-check-{n}",
                                                      "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as error:
                raise RuntimeError(f"POST /v1/commands mark {price}: HTTP {error.code}: {error.read()[:300]!r}")
        text = metrics_after_refresh(base)
        if 'solvent_commands_refused_total{reason="out_of_range"} 1' not in text:
            fail("serve: the out-of-range mark is not counted in solvent_commands_refused_total{reason=\"out_of_range\"}")
        return text
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()


def parse_exposition(text: str) -> tuple[dict[str, str], set[str]]:
    """(metric family → TYPE, sample names)."""
    types: dict[str, str] = {}
    samples: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind.strip()
        elif line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            samples.add(name)
            value = line.rsplit(" ", 1)[-1]
            if value.lower() == "nan":
                fail(f"exposition: {name} is NaN")
    return types, samples


def check_exposition(label: str, text: str, promtool: str, keep: str) -> set[str]:
    path = os.path.join(keep, f"metrics-{label}.txt")
    with open(path, "w") as f:
        f.write(text)
    st = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    if st.returncode != 0 or st.stdout.strip() or st.stderr.strip():
        fail(f"promtool check metrics ({label}, {path}): exit {st.returncode}: {st.stdout}{st.stderr}")
    else:
        print(f"check_ops: promtool check metrics: the {label} exposition passes ({len(text.splitlines())} lines, {path})")
    types, samples = parse_exposition(text)
    for name, kind in types.items():
        if kind == "counter" and not name.endswith("_total"):
            fail(f"{label}: counter {name} does not end in _total")
        if name.endswith("_total") and kind != "counter":
            fail(f"{label}: {name} ends in _total but is a {kind}")
    for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                 "process_start_time_seconds", "process_open_fds", "process_max_fds", "solvent_stream_clients_dropped_total",
                 "solvent_command_duration_seconds_bucket", "solvent_accounts", "solvent_insurance_fund", "solvent_breaker_paused",
                 "solvent_mark_time_seconds", "solvent_margin_calls_past_deadline", "solvent_engine_time_seconds"]:
        if name not in samples:
            fail(f"{label}: {name} missing from /metrics")
    return samples


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (Grafana variables allowed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                      # string literals
    e = re.sub(r"\$__\w+|\$\{?\w+\}?", "1m", e)                        # Grafana variables
    e = re.sub(r"\{[^}]*\}", "", e)                                     # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                                    # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):
            continue                                                    # a function
        if word.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]", word):
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue                                                    # 1e3, 1m
        names.add(word)
    return names


def check_dashboard(exported: set[str], recorded: set[str]) -> None:
    path = os.path.join(ROOT, "ops/grafana/solvent.json")
    with open(path) as f:
        d = json.load(f)
    required = {"uid": str, "title": str, "tags": list, "timezone": str, "editable": bool, "graphTooltip": int, "panels": list,
                "time": dict, "timepicker": dict, "templating": dict, "annotations": dict, "refresh": str,
                "schemaVersion": int, "version": int, "links": list}
    for key, kind in required.items():
        if not isinstance(d.get(key), kind):
            fail(f"dashboard: {key} missing or not a {kind.__name__}")
    # Constraints of the dashboard schema (Grafana's CUE kind): uid of 8-40 characters, timezone
    # "browser" or "utc" (or empty), graphTooltip 0 (none), 1 (shared crosshair) or 2 (shared tooltip).
    if isinstance(d.get("uid"), str) and not 8 <= len(d["uid"]) <= 40:
        fail("dashboard: uid must have 8 to 40 characters")
    if d.get("timezone") not in ("browser", "utc", ""):
        fail(f"dashboard: timezone {d.get('timezone')!r} is not browser or utc")
    if d.get("graphTooltip") not in (0, 1, 2):
        fail("dashboard: graphTooltip must be 0, 1 or 2")
    if "id" not in d or d["id"] is not None:
        fail("dashboard: id must be null in a dashboard meant for import")
    if not (isinstance(d.get("time"), dict) and {"from", "to"} <= set(d["time"])):
        fail("dashboard: time needs from and to")
    for key in ("templating", "annotations"):
        if not isinstance(d.get(key, {}).get("list"), list):
            fail(f"dashboard: {key}.list missing")
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        fail("dashboard: schemaVersion below 36 (datasource references as {type, uid} need 33+; panels of type timeseries 36+)")
    variables = {v.get("name") for v in d.get("templating", {}).get("list", [])}
    for v in d.get("templating", {}).get("list", []):
        if not {"name", "type"} <= set(v):
            fail(f"dashboard: template variable without name or type: {v}")
    ids: set[int] = set()
    cells: dict[tuple[int, int], str] = {}
    queried = 0

    def check_panel(p: dict) -> None:
        nonlocal queried
        title = p.get("title", "?")
        for key in ("id", "type", "title", "gridPos"):
            if key not in p:
                fail(f"dashboard: panel {title!r} has no {key}")
        if p.get("id") in ids:
            fail(f"dashboard: panel id {p.get('id')} repeated")
        ids.add(p.get("id"))
        if p.get("type") not in PANEL_TYPES:
            fail(f"dashboard: panel {title!r}: unknown type {p.get('type')!r}")
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["w"] < 1 or g["w"] > 24 or g["h"] < 1 or not 0 <= g["x"] < 24 or g["y"] < 0 or g["x"] + g["w"] > 24:
            fail(f"dashboard: panel {title!r}: gridPos {g} is not on the 24-column grid")
        else:
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        fail(f"dashboard: panels {cells[(x, y)]!r} and {title!r} overlap at ({x}, {y})")
                        return
                    cells[(x, y)] = title
        if p.get("type") == "row":
            if p.get("targets"):
                fail(f"dashboard: row {title!r} has targets")
            for inner in p.get("panels", []):
                check_panel(inner)
            return
        ds = p.get("datasource")
        if not (isinstance(ds, dict) and ds.get("type") == "prometheus" and isinstance(ds.get("uid"), str)):
            fail(f"dashboard: panel {title!r}: datasource must be {{type: prometheus, uid}}, got {ds!r}")
        elif ds["uid"].startswith("$") and ds["uid"].strip("${}") not in variables:
            fail(f"dashboard: panel {title!r}: datasource variable {ds['uid']} is not defined")
        if not isinstance(p.get("fieldConfig", {}).get("defaults"), dict):
            fail(f"dashboard: panel {title!r}: fieldConfig.defaults missing")
        targets = p.get("targets")
        if not isinstance(targets, list) or not targets:
            fail(f"dashboard: panel {title!r} has no targets")
            return
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(refs):
            fail(f"dashboard: panel {title!r}: refIds {refs} must be unique and non-empty")
        for t in targets:
            expr = t.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                fail(f"dashboard: panel {title!r}: target {t.get('refId')} has no expr")
                continue
            queried += 1
            for name in metric_names(expr):
                if name not in exported and name not in recorded and name != "up":
                    fail(f"dashboard: panel {title!r} queries {name}, which /metrics does not export ({expr})")

    for p in d.get("panels", []):
        check_panel(p)
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query":
            for name in set(re.findall(r"label_values\((\w+)", q or "")):
                if name not in exported:
                    fail(f"dashboard: variable {v.get('name')} queries {name}, which /metrics does not export")
    if not failures:
        print(f"check_ops: dashboard: {len(ids)} panels, {queried} queries: Grafana's dashboard model, and every query names exported metrics")


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def check_rules(exported: set[str]) -> set[str]:
    with open(os.path.join(ROOT, "ops/prometheus/solvent-rules.yml")) as f:
        rules = yaml.safe_load(f)
    with open(os.path.join(ROOT, "docs/operations.md")) as f:
        runbook = f.read()
    anchors = {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", runbook, re.M)}
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    ha_section = re.search(r"exported once HA lands(.*?)(\n## |\Z)", runbook, re.S | re.I)
    alerts = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                if name in recorded or name == "up" or name in exported:
                    continue
                if name in HA_METRICS and group["name"] == "solvent-ha" and ha_section and name in ha_section.group(1):
                    continue
                fail(f"rules: {rule.get('alert') or rule.get('record')} uses {name}, which /metrics does not export")
            if "alert" not in rule:
                continue
            alerts += 1
            a = rule.get("annotations", {})
            if not rule.get("labels", {}).get("severity"):
                fail(f"rules: {rule['alert']} has no severity")
            for key in ("summary", "description", "runbook_url"):
                if not a.get(key):
                    fail(f"rules: {rule['alert']} has no {key}")
            url = a.get("runbook_url", "")
            if not url.startswith("docs/operations.md#") or url.split("#", 1)[1] not in anchors:
                fail(f"rules: {rule['alert']}: runbook_url {url!r} is not a heading of docs/operations.md")
            if f"### {rule['alert']}" not in runbook:
                fail(f"rules: docs/operations.md has no section ### {rule['alert']}")
    if not failures:
        print(f"check_ops: rules: {alerts} alerts, each with a severity, a description and a runbook section; every metric exported")
    return recorded


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--promtool", default="promtool")
    parser.add_argument("--keep", default=tempfile.mkdtemp(prefix="solvent-ops-"))
    args = parser.parse_args()
    os.makedirs(args.keep, exist_ok=True)
    exported: set[str] = set()
    try:
        exported |= check_exposition("demo", demo_exposition(args.solvent), args.promtool, args.keep)
        exported |= check_exposition("serve", serve_exposition(args.solvent, tempfile.mkdtemp(prefix="data-", dir=args.keep)), args.promtool, args.keep)
    except (RuntimeError, OSError) as error:
        fail(f"live service: {error}")
        return 1
    for name in ("solvent_webhook_deliveries", "solvent_webhook_journal_lag"):
        if name not in exported:
            fail(f"serve with a webhook subscription does not export {name}")
    recorded = check_rules(exported)
    check_dashboard(exported, recorded)
    print("check_ops: " + ("FAILED: " + str(len(failures)) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
