#!/usr/bin/env python3
"""Renders `solvent report` with headless Chromium and checks that the plots are there.

Two checks, both on what the browser actually rendered:
1. the DOM after rendering (`--dump-dom`) holds the nine plots by their data-plot ids, each
   with drawn marks (paths, bars or points), the comparison table and the test results; the
   frontier plot has its dashed frontier, a point per model and the industry tiers placed on it,
   and the incident table has a row per incident (real and synthetic) with its numbers;
2. the screenshot (PNG) shows the series colours of the charts, i.e. the SVGs were painted.

Usage: check_report.py --solvent BIN --out DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

PLOTS = ["price", "margin-ratio-median", "margin-ratio-p90", "liquidations", "fund", "maintenance-rate", "calibration", "cascade", "frontier"]
# Incidents whose data ships with the repository (Examples/data) or is synthetic: always in the table.
# FTX needs the research data ($SOLVENT_DATA_ROOT/minute); it is checked when that data is there.
# 2025-10-10 twice: the collateral de-peg at the venue's book price and the counterfactual at redemption value.
INCIDENTS = ["Black Thursday", "2021-05-19", "LUNA", "2025-10-10: collateral de-peg", "collateral at redemption value", "Mango kind", "JELLY kind"]
COLOURS = {"dynamic blue": (0x1F, 0x6F, 0xB2), "static red": (0xC0, 0x39, 0x2B), "dynamic_raw amber": (0xE6, 0x9F, 0x00)}


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_report: no chromium found (scripts/test installs Debian's chromium)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solvent", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--data-root", default=None, help="research data folder for the incident replays (default: $SOLVENT_DATA_ROOT, else the repository's data)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    html = os.path.join(args.out, "report.html")
    png = os.path.join(args.out, "report.png")
    subprocess.run([args.solvent, "report", "--out", html, "--accounts", "600", "--cascade-accounts", "150",
                    "--frontier-accounts", "200", "--incident-accounts", "100"] + (["--data-root", args.data_root] if args.data_root else []),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   # The engine's debug self-checks (every invariant after every command) would make the
                   # report's thirty backtests take minutes; the engine tests run with them on.
                   env=dict(os.environ, SOLVENT_ENGINE_INVARIANTS="0"))
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,8200"]
    dom = subprocess.run(browser + ["--dump-dom", "file://" + os.path.abspath(html)], capture_output=True, text=True, timeout=180).stdout
    problems = []
    for plot in PLOTS:
        m = re.search(r'<svg[^>]*data-plot="%s"[^>]*>(.*?)</svg>' % re.escape(plot), dom, re.S)
        if not m:
            problems.append(f"plot {plot} missing from the rendered DOM")
        elif len(re.findall(r"<(path|rect|circle)\b", m.group(1))) < 2:
            problems.append(f"plot {plot} has no drawn series")
    m = re.search(r'<svg[^>]*data-plot="frontier"[^>]*>(.*?)</svg>', dom, re.S)
    if m:
        inner = m.group(1)
        if not re.search(r'<path[^>]*stroke-dasharray[^>]*data-series="frontier"', inner):
            problems.append("frontier plot: no dashed frontier line")
        points = re.findall(r'<circle\b[^>]*data-series="([^"]+)"', inner)
        for family in ("static", "calibrated", "dynamic", "industry tiers"):
            if family not in points:
                problems.append(f"frontier plot: no {family} point")
        if "industry (Binance-like)" not in inner:
            problems.append("frontier plot: the industry tiers are not labelled")
    if "Recommendation for a fund of" not in dom:
        problems.append("frontier: no recommendation")
    section = re.search(r"<h2>Incident library</h2>(.*?)</section>", dom, re.S)
    if not section:
        problems.append("incident library section missing")
    else:
        rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", section.group(1), re.S)
        names = " ".join(r[0] for r in rows)
        root = args.data_root or os.environ.get("SOLVENT_DATA_ROOT")
        wanted = INCIDENTS + (["FTX"] if root and os.path.exists(os.path.join(root, "minute", "binance-BTCUSDT-5m-2022-10-25_2022-11-30.csv.gz")) else [])
        for name in wanted:
            if name not in names:
                problems.append(f"incident table: no row for {name}")
        for name, rest in rows:
            cells = re.findall(r"<td>(.*?)</td>", rest)
            if len(cells) != 8 or not cells[2].isdigit():
                problems.append(f"incident table: row {name!r} incomplete: {cells}")
        if "synthetic" not in section.group(1):
            problems.append("incident table: synthetic scenarios not labelled")
    for text in ("Model comparison", "Kupiec", "Christoffersen", "Insurance-fund sizing", "Cover-2", "Liquidation cascades",
                 "Capital against shortfall", "Incident library"):
        if text not in dom:
            problems.append(f"section text {text!r} missing")
    subprocess.run(browser + ["--screenshot=" + png, "file://" + os.path.abspath(html)], capture_output=True, timeout=180)
    if not os.path.exists(png) or os.path.getsize(png) < 50_000:
        problems.append("screenshot missing or nearly empty")
    else:
        from PIL import Image
        image = Image.open(png).convert("RGB")
        counts = {name: 0 for name in COLOURS}
        data = image.tobytes()
        for k in range(0, len(data), 3):
            r, g, b = data[k], data[k + 1], data[k + 2]
            for name, (cr, cg, cb) in COLOURS.items():
                if abs(r - cr) + abs(g - cg) + abs(b - cb) < 40:
                    counts[name] += 1
        for name, count in counts.items():
            if count < 200:
                problems.append(f"screenshot shows almost no {name} ({count} pixels): charts not painted")
        print("painted series pixels:", counts)
    for p in problems:
        print("check_report:", p)
    print(f"report {html}: {len(PLOTS)} plots checked, {len(problems)} problem(s); screenshot {png}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
