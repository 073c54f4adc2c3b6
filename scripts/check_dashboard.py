#!/usr/bin/env python3
"""Opens the dashboard served at `/` in headless Chromium and checks that it rendered the server's data.

Usage: check_dashboard.py BASE_URL KEY OUT_PNG [--timeout SECONDS] [--cluster N] [--shards N]
   e.g. check_dashboard.py http://127.0.0.1:8931 sk_abc /tmp/dash.png

How Chromium is driven: the DevTools protocol over `--remote-debugging-pipe` (fds 3 and 4, JSON
messages separated by NUL bytes), so no WebSocket client and no pip package is needed. The script opens
BASE_URL/#key=KEY at 1600x1000, then polls the page in real time until it says it rendered the REST
snapshot (`body[data-loaded="1"]`) and the stream is up (`#conn[data-state="live"]`), waits for one
more render flush, and takes the DOM (outerHTML) and the screenshot from that same page state.

Why not `--dump-dom --virtual-time-budget` (as check_report.py does for a static file): virtual time
does wait for pending fetch() requests, so the REST snapshot does get rendered, but it does not wait
for a WebSocket handshake, and the page's own timers (reconnect backoff, render throttling) run on
virtual time. Against a server slow to answer the handshake the dump shows "connecting"; against one
that refuses the stream the page cycles through its 1 s, 2 s, ... backoffs in a few real milliseconds
and the dump again shows "connecting", so a broken stream cannot be told from a slow one. The
screenshot also comes from a second, separate page load. `--dump-dom --timeout=5000` without a
virtual-time budget is worse: it dumps at the load event, before fetch() resolves (nothing rendered).
Real-time polling over the protocol has none of these problems and reports JavaScript exceptions too.

Checks, on the rendered DOM (the page's ids, see Sources/SolventServer/Resources/dashboard.html and dashboard.js):
- `body[data-loaded="1"]` and no uncaught JavaScript exception;
- `#status-healthy` ... `#status-bankrupt` are integers with a positive sum;
- `#closest-body` has at least one `tr[data-account]`, one of whose accounts is in `GET /v1/risk`
  (fetched by this script before and after the browser run, with `Authorization: Bearer KEY`);
- `svg#fund-chart` has a `path.fund-line` with at least two points;
- `#conn[data-state="live"]` (the WebSocket said hello), `#engine-time` is a date-time, `#marks` and
  `#breakers` show the symbols of /v1/risk, `#calls-body` and `#feed-body` are rendered;
- with `--cluster N` (a node of `solvent demo --cluster N`): `#cluster` shown, `#cluster-members` has N
  `span.member[data-node]`, exactly one `[data-role="leader"]`, named by `#cluster-leader`;
- with `--shards N` (a node of a group of N shards, docs/cluster.md "Running shards"): `#cluster`
  shown, `#cluster-shard` names "K of N", `#cluster-members` has N `span.shard[data-shard]` (0..N-1),
  each with a leader (`data-leader`), an epoch and at least one member, exactly one of them leading
  and named by the group's `data-leader`;
and on the screenshot (pillow): 1600x1000, not blank (many distinct colours, no colour covering
almost everything), the fund line's colour painted.
Prints one summary line and exits 0, or prints the problems and exits 1. The DOM is kept next to the
screenshot (OUT.dom.html) for a look after a failure.
"""
import argparse
import base64
import fcntl
import html.parser
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

STATUSES = ["healthy", "warning", "margin_call", "liquidatable", "bankrupt"]
FUND_LINE = (0x39, 0xC5, 0xCF)  # the first series colour of the fund chart
WIDTH, HEIGHT = 1600, 1000


def fail(message):
    print("check_dashboard: FAILED:", message)
    sys.exit(1)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    fail("no chromium found (apt-get install -y chromium)")


def fetch_risk(base, key):
    request = urllib.request.Request(base + "/v1/risk", headers={"Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        fail(f"GET {base}/v1/risk: HTTP {e.code} {e.read()[:200]!r}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        fail(f"GET {base}/v1/risk: {e}")


class DevTools:
    """Chromium with the DevTools protocol on a pipe (`--remote-debugging-pipe`)."""

    def __init__(self, args):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def wire():  # in the child: its fd 3 reads our commands, its fd 4 writes the answers
            r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
            w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.profile = tempfile.mkdtemp(prefix="check_dashboard.")
        self.proc = subprocess.Popen(args + ["--remote-debugging-pipe", "--user-data-dir=" + self.profile, "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=wire, close_fds=False)  # our own fds are close-on-exec; 3 and 4 are not
        os.close(to_child_r)
        os.close(from_child_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self.from_child], [], [], left)
            if ready:
                chunk = os.read(self.from_child, 1 << 20)
                if not chunk:
                    raise EOFError("Chromium closed the DevTools pipe (crashed or failed to start)")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


STATE_JS = """JSON.stringify({
  loaded: document.body ? document.body.dataset.loaded || null : null,
  conn: (document.getElementById('conn') || {dataset: {}}).dataset.state || null,
  connText: (document.getElementById('conn') || {}).textContent || null,
  reason: (document.getElementById('conn-reason') || {}).textContent || null,
  keyForm: !!document.querySelector('#keyform.show')
})"""


def render(base, key, png, timeout):
    """Loads the page, waits until it is loaded and live (or the timeout), returns (dom, state, exceptions, console)."""
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio"]
    devtools = DevTools(browser)
    try:
        target = devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        devtools.call("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session)
        devtools.call("Runtime.enable", session=session)
        devtools.call("Page.enable", session=session)
        devtools.call("Page.navigate", {"url": base + "/#key=" + key}, session)
        deadline = time.monotonic() + timeout
        state = {}
        while time.monotonic() < deadline:
            value = devtools.call("Runtime.evaluate", {"expression": STATE_JS, "returnByValue": True}, session)
            try:
                state = json.loads(value.get("result", {}).get("value") or "{}")
            except ValueError:
                state = {}
            if state.get("loaded") == "1" and state.get("conn") == "live" or state.get("keyForm"):
                break
            time.sleep(0.25)
        time.sleep(1.0)  # let pending renders land (the page coalesces them; the fund chart redraws at most every 0.4 s)
        value = devtools.call("Runtime.evaluate", {"expression": STATE_JS, "returnByValue": True}, session)
        state = json.loads(value.get("result", {}).get("value") or "{}")
        dom = devtools.call("Runtime.evaluate", {"expression": "document.documentElement.outerHTML", "returnByValue": True}, session)
        dom = dom.get("result", {}).get("value") or ""
        shot = devtools.call("Page.captureScreenshot", {"format": "png"}, session, timeout=60)
        with open(png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        exceptions, console = [], []
        for event in devtools.events:
            if event.get("method") == "Runtime.exceptionThrown":
                details = event["params"]["exceptionDetails"]
                text = (details.get("exception") or {}).get("description") or details.get("text", "")
                exceptions.append(f"{text.splitlines()[0] if text else '?'} (line {details.get('lineNumber')})")
            elif event.get("method") == "Runtime.consoleAPICalled" and event["params"].get("type") in ("error", "warning"):
                console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in event["params"].get("args", [])))
        return dom, state, exceptions, console
    finally:
        devtools.close()


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], []

    def all(self):
        yield self
        for child in self.children:
            yield from child.all()

    def content(self):
        return "".join(self.text) + "".join(child.content() for child in self.children)

    def classes(self):
        return (self.attrs.get("class") or "").split()


class Tree(html.parser.HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text.append(data)

    def by_id(self, ident):
        return next((n for n in self.root.all() if n.attrs.get("id") == ident), None)


def accounts_in(risk):
    ids = set()
    for field in ("closest", "margin_calls", "liquidating"):
        for row in risk.get(field) or []:
            if isinstance(row, dict) and row.get("account") is not None:
                ids.add(str(row["account"]))
    return ids


def check_dom(dom, state, exceptions, risks):
    problems = []
    tree = Tree(dom)
    body = next((n for n in tree.root.all() if n.tag == "body"), None)
    if body is None or body.attrs.get("data-loaded") != "1":
        if state.get("keyForm"):
            return [f"the page shows the key form: the key was rejected or not read from #key= (badge {state.get('connText')!r})"], None
        return [f"body[data-loaded] is not \"1\": the REST snapshot was never rendered (badge {state.get('connText')!r}, {state.get('reason')!r})"], None
    for text in exceptions:
        problems.append(f"uncaught JavaScript exception: {text}")

    counts = {}
    for status in STATUSES:
        node = tree.by_id("status-" + status)
        text = node.content().strip().replace(",", "") if node else None
        if text is None or not text.isdigit():
            problems.append(f"#status-{status} is {text!r}, not a count")
        else:
            counts[status] = int(text)
    if len(counts) == len(STATUSES) and sum(counts.values()) <= 0:
        problems.append(f"accounts by status sum to 0: {counts}")

    closest = tree.by_id("closest-body")
    rows = [n for n in closest.all() if n.tag == "tr" and n.attrs.get("data-account")] if closest else []
    known = set().union(*(accounts_in(r) for r in risks))
    shown = [r.attrs["data-account"] for r in rows]
    if closest is None:
        problems.append("#closest-body missing")
    elif not any(r.get("closest") for r in risks):
        problems.append("GET /v1/risk has an empty \"closest\" list: the server has no account with positions to show")
    elif not rows:
        problems.append("#closest-body has no tr[data-account] row")
    elif not set(shown) & known:
        problems.append(f"none of the closest accounts shown {shown[:5]} is in GET /v1/risk ({sorted(known)[:5]} ...)")

    chart = tree.by_id("fund-chart")
    lines = [n for n in chart.all() if n.tag == "path" and "fund-line" in n.classes()] if chart else []
    points = max((len(re.findall(r"-?\d+(?:\.\d+)?\s+-?\d+(?:\.\d+)?", n.attrs.get("d", ""))) for n in lines), default=0)
    if chart is None or chart.tag != "svg":
        problems.append("svg#fund-chart missing")
    elif points < 2:
        problems.append(f"svg#fund-chart has no fund line with points ({len(lines)} path.fund-line, at most {points} points)")

    conn = tree.by_id("conn")
    conn_state = conn.attrs.get("data-state") if conn else None
    if conn_state != "live":
        reason = tree.by_id("conn-reason")
        problems.append(f"the stream is not live: #conn is {conn_state!r} {conn.content().strip() if conn else ''!r}"
                        f" ({reason.content().strip() if reason else ''!r}); GET /v1/stream must answer the WebSocket handshake and send hello")

    engine_time = tree.by_id("engine-time")
    text = engine_time.content().strip() if engine_time else ""
    if not re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text):
        problems.append(f"#engine-time is {text!r}, not an engine date-time")

    symbols = set(risks[-1].get("marks") or {})
    marks = tree.by_id("marks")
    shown_marks = {n.attrs.get("data-symbol") for n in marks.all() if n.attrs.get("data-symbol")} if marks else set()
    if symbols and not symbols & shown_marks:
        problems.append(f"#marks shows none of the symbols {sorted(symbols)}")
    breakers = {b.get("symbol") for b in risks[-1].get("breakers") or [] if isinstance(b, dict)}
    box = tree.by_id("breakers")
    chips = {n.attrs.get("data-symbol") for n in box.all() if n.attrs.get("data-symbol")} if box else set()
    if breakers and not breakers & chips:
        problems.append(f"#breakers shows none of {sorted(breakers)}")
    for ident in ("calls-body", "feed-body"):
        node = tree.by_id(ident)
        if node is None or not any(n.tag == "tr" for n in node.all()):
            problems.append(f"#{ident} was not rendered (no row, not even the empty-state row)")
    summary = {
        "counts": counts,
        "closest": len(rows),
        "calls": len([n for n in tree.by_id("calls-body").all() if n.tag == "tr" and n.attrs.get("data-account")]) if tree.by_id("calls-body") else 0,
        "feed": len([n for n in tree.by_id("feed-body").all() if n.tag == "tr" and n.attrs.get("data-seq")]) if tree.by_id("feed-body") else 0,
        "fund_points": points,
        "conn": conn_state,
        "engine_time": text,
    }
    return problems, summary


def check_cluster(dom, nodes):
    """`--cluster N`: the header's cluster box (dashboard.js renderCluster from GET /v1/cluster)
    is shown, lists N members (span.member[data-node]) of which exactly one leads, and names that
    member as the leader."""
    tree = Tree(dom)
    box = tree.by_id("cluster")
    if box is None:
        return ["#cluster missing"], None
    problems = []
    if "hidden" in box.attrs or box.attrs.get("data-state") != "ok":
        problems.append(f"#cluster is hidden or not rendered (data-state {box.attrs.get('data-state')!r})")
    members = tree.by_id("cluster-members")
    rows = [n for n in members.all() if n.attrs.get("data-node")] if members else []
    leaders = [n.attrs["data-node"] for n in rows if n.attrs.get("data-role") == "leader"]
    if len(rows) != nodes:
        problems.append(f"#cluster-members shows {len(rows)} members, not {nodes}")
    if len(leaders) != 1:
        problems.append(f"#cluster-members shows {len(leaders)} leaders, not 1")
    named = tree.by_id("cluster-leader")
    if leaders and (named is None or named.content().strip() != leaders[0]):
        problems.append(f"#cluster-leader is {named.content().strip() if named else None!r}, not the leading member {leaders[0]!r}")
    return problems, {"members": len(rows), "leader": leaders[0] if leaders else None, "epoch": (tree.by_id("cluster-epoch").content().strip() if tree.by_id("cluster-epoch") else None)}


def check_shards(dom, shards):
    """`--shards N`: a sharded node's cluster box shows its shard ("K of N") and one group per shard
    (dashboard.js renderCluster from GET /v1/cluster's members_by_shard and shards), each naming
    its leader and epoch and listing its members, one of them the leader it names."""
    tree = Tree(dom)
    box = tree.by_id("cluster")
    if box is None:
        return ["#cluster missing"], None
    problems = []
    if "hidden" in box.attrs or box.attrs.get("data-state") != "ok":
        problems.append(f"#cluster is hidden or not rendered (data-state {box.attrs.get('data-state')!r})")
    label = tree.by_id("cluster-shard")
    text = label.content().strip() if label else None
    if text is None or not text.endswith(f" of {shards}"):
        problems.append(f"#cluster-shard is {text!r}, not 'K of {shards}'")
    members = tree.by_id("cluster-members")
    groups = [n for n in members.all() if n.attrs.get("data-shard") is not None] if members else []
    if sorted(g.attrs["data-shard"] for g in groups) != [str(k) for k in range(shards)]:
        problems.append(f"#cluster-members shows shards {[g.attrs['data-shard'] for g in groups]}, not 0..{shards - 1}")
    total = 0
    for g in groups:
        rows = [n for n in g.all() if n.attrs.get("data-node")]
        total += len(rows)
        leaders = [n.attrs["data-node"] for n in rows if n.attrs.get("data-role") == "leader"]
        if not g.attrs.get("data-leader") or not g.attrs.get("data-epoch"):
            problems.append(f"shard {g.attrs['data-shard']}: no leader or epoch ({g.attrs.get('data-leader')!r}, {g.attrs.get('data-epoch')!r})")
        if len(leaders) != 1 or leaders[0] != g.attrs.get("data-leader"):
            problems.append(f"shard {g.attrs['data-shard']}: leading members {leaders}, leader named {g.attrs.get('data-leader')!r}")
    return problems, {"shards": len(groups), "members": total, "shard": text}


def check_png(png, live):
    from PIL import Image
    if not os.path.exists(png) or os.path.getsize(png) < 20_000:
        return ["screenshot missing or nearly empty"], 0
    image = Image.open(png).convert("RGB")
    problems = []
    if image.size != (WIDTH, HEIGHT):
        problems.append(f"screenshot is {image.size}, not {WIDTH}x{HEIGHT}")
    colours = image.getcolors(maxcolors=1 << 24) or []
    total = image.size[0] * image.size[1]
    top = max((c for c, _ in colours), default=total)
    if len(colours) < 200:
        problems.append(f"screenshot has only {len(colours)} distinct colours: blank or unstyled")
    if top > 0.97 * total:
        problems.append(f"one colour covers {100 * top / total:.1f}% of the screenshot: blank")
    line = sum(c for c, (r, g, b) in colours if abs(r - FUND_LINE[0]) + abs(g - FUND_LINE[1]) + abs(b - FUND_LINE[2]) < 40)
    if live and line < 40:  # (when the stream is down the page dims its panels, and that is reported already)
        problems.append(f"the fund line's colour is nearly absent ({line} pixels): the chart was not painted")
    return problems, len(colours)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("key")
    parser.add_argument("out_png")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the snapshot and the stream (default 20)")
    parser.add_argument("--cluster", type=int, default=0, help="also check the cluster header shows N members, one leading (solvent demo --cluster N)")
    parser.add_argument("--shards", type=int, default=0, help="also check the cluster header of a sharded node shows N shards, each with its leader, epoch and members")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    out_dir = os.path.dirname(os.path.abspath(args.out_png))
    os.makedirs(out_dir, exist_ok=True)

    risks = [fetch_risk(base, args.key)]
    try:
        dom, state, exceptions, console = render(base, args.key, args.out_png, args.timeout)
    except (TimeoutError, EOFError, RuntimeError, OSError) as e:
        fail(f"driving Chromium: {e}")
    risks.append(fetch_risk(base, args.key))
    with open(os.path.splitext(args.out_png)[0] + ".dom.html", "w") as f:
        f.write(dom)

    problems, summary = check_dom(dom, state, exceptions, risks)
    png_problems, ncolours = check_png(args.out_png, bool(summary) and summary["conn"] == "live")
    problems += png_problems
    cluster_note = ""
    if args.cluster:
        cluster_problems, cluster = check_cluster(dom, args.cluster)
        problems += cluster_problems
        if cluster:
            cluster_note = f", cluster {cluster['members']} members, leader {cluster['leader']}, epoch {cluster['epoch']}"
    if args.shards:
        shard_problems, shard_summary = check_shards(dom, args.shards)
        problems += shard_problems
        if shard_summary:
            cluster_note += f", shard {shard_summary['shard']}, {shard_summary['shards']} shards, {shard_summary['members']} members"
    if problems:
        for p in problems:
            print("check_dashboard:", p)
        for c in console[:5]:
            print("check_dashboard: console:", c)
        fail(f"{len(problems)} problem(s); screenshot {args.out_png}, DOM {os.path.splitext(args.out_png)[0]}.dom.html")
    counts = summary["counts"]
    print(f"dashboard OK: {sum(counts.values())} accounts ({', '.join(f'{k} {v}' for k, v in counts.items())}), "
          f"{summary['closest']} closest rows, {summary['calls']} margin calls, {summary['feed']} feed rows, "
          f"fund line {summary['fund_points']} points, stream {summary['conn']}, engine {summary['engine_time']}, "
          f"screenshot {args.out_png} ({ncolours} colours){cluster_note}")


if __name__ == "__main__":
    main()
