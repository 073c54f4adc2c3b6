#!/usr/bin/env python3
"""Renders `solvent report` with headless Chromium and checks that the plots are there.

Two checks, both on what the browser actually rendered:
1. the DOM after rendering (`--dump-dom`) holds the eight plots by their data-plot ids, each
   with drawn marks (paths or bars), the comparison table and the test results;
2. the screenshot (PNG) shows the series colours of the charts, i.e. the SVGs were painted.

Usage: check_report.py --solvent BIN --out DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

PLOTS = ["price", "margin-ratio-median", "margin-ratio-p90", "liquidations", "fund", "maintenance-rate", "calibration", "cascade"]
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
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    html = os.path.join(args.out, "report.html")
    png = os.path.join(args.out, "report.png")
    subprocess.run([args.solvent, "report", "--out", html, "--accounts", "600", "--cascade-accounts", "150"], check=True,
                   stdout=subprocess.DEVNULL)
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,5600"]
    dom = subprocess.run(browser + ["--dump-dom", "file://" + os.path.abspath(html)], capture_output=True, text=True, timeout=180).stdout
    problems = []
    for plot in PLOTS:
        m = re.search(r'<svg[^>]*data-plot="%s"[^>]*>(.*?)</svg>' % re.escape(plot), dom, re.S)
        if not m:
            problems.append(f"plot {plot} missing from the rendered DOM")
        elif len(re.findall(r"<(path|rect)\b", m.group(1))) < 2:
            problems.append(f"plot {plot} has no drawn series")
    for text in ("Model comparison", "Kupiec", "Christoffersen", "Insurance-fund sizing", "Cover-2", "Liquidation cascades"):
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
