#!/usr/bin/env python3
"""Cross-check `solvent simulate` against the independent reference model.

    python3 crosscheck_engine.py --solvent BIN [--cases N] [--seed S] [--level L]
                                 [--cases-dir DIR] [--keep-going] [--time-limit SEC]

Generates N scenarios (gen_engine_scenarios.py), runs both, and compares the final state:
per account balances per asset, positions (quantity, entry price, isolated margin), status,
socialized loss and bad debt, loans (principal and interest per asset, exactly); per asset the
insurance fund, fees, deposited, withdrawn and socialized loss, and the lending pool's books
(docs/loans.md, exactly); and the multiset of liquidation/ADL/socialized-loss/fund event kinds with
their amounts. At the first disagreement it shrinks the scenario (drops commands one at a
time, then accounts, while it still disagrees) and prints it with the diff. The regression
cases in scripts/oracle/cases/ are checked against the values written in their
"expected" block (the model must give them; the binary is reported, not required), and the
example scenarios (Examples/scenarios) must agree between the model and the binary.
Prints `N passed, M failed`; exit 0 on agreement, 1 on disagreement.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import time
from fractions import Fraction as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import engine_reference as ref  # noqa: E402
import gen_engine_scenarios as gen  # noqa: E402

EVENT_KINDS = ("liquidation_fill", "auto_deleveraged", "insurance_fund_draw",
               "insurance_fund_contribution", "socialized_loss", "bad_debt",
               "collateral_converted")
EVENT_AMOUNT = {"liquidation_fill": "quantity", "auto_deleveraged": "quantity",
                "insurance_fund_draw": "amount", "insurance_fund_contribution": "amount",
                "socialized_loss": "amount", "bad_debt": "amount",
                "collateral_converted": "sold"}


def dec(s):
    return F(0) if s is None else F(str(s))


def run_swift(binary, doc, tmpdir):
    path = os.path.join(tmpdir, f"scenario-{os.getpid()}.json")
    with open(path, "w") as fh:
        json.dump(doc, fh)
    for attempt in range(30):       # the binary may be being relinked by a build
        try:
            out = subprocess.run([binary, "simulate", "--scenario", path],
                                 capture_output=True, text=True, timeout=60)
            break
        except OSError:
            time.sleep(2)
    else:
        return {"error": "cannot run the binary"}
    if out.returncode != 0:
        return {"error": f"exit {out.returncode}: {out.stderr.strip()[:300]}"}
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    summary = lines[-1] if lines and lines[-1].get("type") == "summary" else None
    if summary is None:
        return {"error": "no summary line"}
    return {"events": lines[:-1], "summary": summary}


def swift_state(res):
    s = res["summary"]
    accts = {}
    for a in s["accounts"]:
        accts[a["id"]] = {
            "status": a.get("status"),
            "balances": {k: dec(v) for k, v in a.get("balances", {}).items()},
            "positions": {p["symbol"]: (dec(p["quantity"]), dec(p["entry_price"]),
                                        dec(p.get("isolated_margin")))
                          for p in a.get("positions", [])},
            "socialized_loss": dec(a.get("socialized_loss")),
            "bad_debt": dec(a.get("bad_debt")),
            "loans": {k: (dec(v.get("principal")), dec(v.get("interest")))
                      for k, v in (a.get("loans") or {}).items()}}
    totals = {asset: {k: dec(t.get(k)) for k in ("insurance_fund", "fees", "deposited",
                                                  "withdrawn", "socialized_loss")}
              for asset, t in s.get("totals", {}).items()}
    pools = {asset: {k: (None if v is None else dec(v)) for k, v in t["lending_pool"].items()}
             for asset, t in s.get("totals", {}).items() if t.get("lending_pool")}
    return {"accounts": accts, "totals": totals, "events": events_of(res["events"]),
            "lending_pool": pools}


SUMMED = {"insurance_fund_draw", "insurance_fund_contribution", "socialized_loss", "bad_debt",
          "collateral_converted"}


def normalize_events(items):
    """Fills and ADL closes as a multiset of quantities per account; money movements (fund
    draws and contributions, socialized loss, bad debt, conversions) as one sum per account:
    when within a liquidation the engine books them is not part of the contract."""
    fills, sums = [], {}
    for typ, acct, amt in items:
        if typ in SUMMED:
            sums[(typ, acct)] = sums.get((typ, acct), F(0)) + amt
        else:
            fills.append((typ, acct, amt))
    out = fills + [(t, a, v) for (t, a), v in sums.items() if abs(v) > F(1, 10 ** 12)]
    return sorted(out, key=lambda x: (x[0], x[1] or "", x[2]))


def events_of(events):
    out = []
    for e in events:
        if e.get("replayed"):      # a reorg's replay of history, not new movements
            continue
        if e.get("type") in EVENT_KINDS:
            amt = dec(e.get(EVENT_AMOUNT[e["type"]]))
            out.append((e["type"], e.get("account"), abs(amt)))
    return normalize_events(out)


def model_state(doc):
    eng = ref.run_scenario(doc)
    st = eng.state()
    accts = {}
    for a in st["accounts"]:
        accts[a["id"]] = {
            "status": a["status"],
            "balances": {k: ref.r18(v) for k, v in a["balances"].items()},
            "positions": {p["symbol"]: (p["quantity"], p["entry_price"],
                                        p.get("isolated_margin", F(0)))
                          for p in a["positions"]},
            "socialized_loss": a["socialized_loss"], "bad_debt": a["bad_debt"],
            "loans": {k: (v["principal"], v["interest"]) for k, v in a["loans"].items()}}
    totals = {}
    for asset in st["insurance_fund"]:
        totals[asset] = {"insurance_fund": st["insurance_fund"].get(asset, F(0)),
                         "fees": st["fees"].get(asset, F(0)),
                         "deposited": st["deposited"].get(asset, F(0)),
                         "withdrawn": st["withdrawn"].get(asset, F(0)),
                         "socialized_loss": st["socialized_loss"].get(asset, F(0))}
    ev = []
    for e in eng.events:
        if e.get("type") in EVENT_KINDS:
            ev.append((e["type"], e.get("account"), abs(ref.r18(e[EVENT_AMOUNT[e["type"]]]))))
    ev = normalize_events(ev)
    return {"accounts": accts, "totals": totals, "events": ev,
            "lending_pool": st["lending_pool"]}


# docs/loans.md, "The lending pool": the books the summary reports per asset
POOL_KEYS = ("principal_outstanding", "interest_outstanding", "borrowed", "principal_repaid",
             "interest_accrued", "interest_repaid", "principal_written_off",
             "interest_written_off", "available", "lender_income")


# The documents round every product and quotient once (half-even, 18 digits) but do not fix
# the order of the operations; money amounts that differ by no more than this are the same.
ULPS = F(1, 10 ** 12)


def same(a, b):
    return abs(a - b) <= ULPS


def diff(model, swift, with_events=True):
    problems = []
    f = ref.fmt
    for aid in sorted(set(model["accounts"]) | set(swift["accounts"])):
        m, s = model["accounts"].get(aid), swift["accounts"].get(aid)
        if m is None or s is None:
            problems.append(f"account {aid}: model {'absent' if m is None else 'present'}, "
                            f"swift {'absent' if s is None else 'present'}")
            continue
        for asset in sorted(set(m["balances"]) | set(s["balances"])):
            mv, sv = m["balances"].get(asset, F(0)), s["balances"].get(asset, F(0))
            if not same(mv, sv):
                problems.append(f"{aid}.balances.{asset}: model {f(mv)} swift {f(sv)}")
        for sym in sorted(set(m["positions"]) | set(s["positions"])):
            mp, sp = m["positions"].get(sym), s["positions"].get(sym)
            # an average entry (inverse: harmonic, through 18-digit reciprocals) carries the
            # rounding of its operations magnified: compared to 1e-12 relative
            if mp is None or sp is None or mp[0] != sp[0] \
                    or abs(mp[1] - sp[1]) > max(ULPS, abs(sp[1]) * F(1, 10 ** 12)) \
                    or not same(mp[2], sp[2]):
                show = lambda p: "none" if p is None else f"q={f(p[0])} entry={f(p[1])} iso={f(p[2])}"
                problems.append(f"{aid}.positions.{sym}: model {show(mp)} swift {show(sp)}")
        # docs/loans.md: principal and accrued interest per borrowed asset (interest is
        # rounded up once per charge, so these are compared exactly)
        for asset in sorted(set(m["loans"]) | set(s["loans"])):
            ml, sl = m["loans"].get(asset, (F(0), F(0))), s["loans"].get(asset, (F(0), F(0)))
            if ml != sl:
                problems.append(f"{aid}.loans.{asset}: model P={f(ml[0])} I={f(ml[1])} "
                                f"swift P={f(sl[0])} I={f(sl[1])}")
        for k in ("socialized_loss", "bad_debt", "status"):
            if (m[k] != s[k]) if k == "status" else not same(m[k], s[k]):
                mv = f(m[k]) if isinstance(m[k], F) else m[k]
                sv = f(s[k]) if isinstance(s[k], F) else s[k]
                problems.append(f"{aid}.{k}: model {mv} swift {sv}")
    for asset in sorted(set(model["totals"]) | set(swift["totals"])):
        mt, stt = model["totals"].get(asset, {}), swift["totals"].get(asset, {})
        for k in ("insurance_fund", "fees", "deposited", "withdrawn", "socialized_loss"):
            mv, sv = mt.get(k, F(0)), stt.get(k, F(0))
            if not same(mv, sv):
                problems.append(f"totals.{asset}.{k}: model {f(mv)} swift {f(sv)}")
    for asset in sorted(set(model.get("lending_pool", {})) | set(swift.get("lending_pool", {}))):
        mp, sp = model["lending_pool"].get(asset, {}), swift["lending_pool"].get(asset, {})
        for k in POOL_KEYS:
            mv, sv = mp.get(k, F(0)), sp.get(k, F(0))
            if k == "available" and (mv is None or sv is None):
                if (mv is None) != (sv is None) and mp and sp:
                    problems.append(f"lending_pool.{asset}.{k}: model {f(mv)} swift {f(sv)}")
                continue
            if mv != sv:
                problems.append(f"lending_pool.{asset}.{k}: model {f(mv)} swift {f(sv)}")
    if with_events and not problems and not same_events(model["events"], swift["events"]):
        me = [(t, a, f(x)) for t, a, x in model["events"]]
        se = [(t, a, f(x)) for t, a, x in swift["events"]]
        problems.append(f"events: model {me} swift {se}")
    return problems


def same_events(a, b):
    if len(a) != len(b):
        return False
    for (t1, a1, x1), (t2, a2, x2) in zip(a, b):
        if t1 != t2 or a1 != a2:
            return False
        if t1 in ("liquidation_fill", "auto_deleveraged"):
            if x1 != x2:
                return False
        elif not same(x1, x2):
            return False
    return True


def compare(binary, doc, tmpdir, with_events=True):
    # a reorganization replays history: which movements are printed again (marked
    # replayed) and which are new is not part of the contract; compare the state only
    if any(c.get("type") == "chain_reorg" for c in doc.get("commands") or []):
        with_events = False
    try:
        m = model_state(copy.deepcopy(doc))
    except Exception as exc:  # a model crash is a finding too
        return [f"model raised {type(exc).__name__}: {exc}"]
    res = run_swift(binary, doc, tmpdir)
    if "error" in res:
        return [f"swift: {res['error']}"]
    return diff(m, swift_state(res), with_events)


def shrink(binary, doc, tmpdir, with_events, deadline):
    cur = copy.deepcopy(doc)
    changed = True
    while changed and time.time() < deadline:
        changed = False
        i = len(cur["commands"]) - 1
        while i >= 0 and time.time() < deadline:
            trial = copy.deepcopy(cur)
            del trial["commands"][i]
            if compare(binary, trial, tmpdir, with_events):
                cur = trial
                changed = True
            i -= 1
        # drop accounts that are not named by a remaining command
        named = {c.get("account") for c in cur["commands"]}
        for a in list(cur["start"]["accounts"]):
            if a["id"] in named or len(cur["start"]["accounts"]) <= 1:
                continue
            trial = copy.deepcopy(cur)
            trial["start"]["accounts"] = [x for x in trial["start"]["accounts"]
                                          if x["id"] != a["id"]]
            if compare(binary, trial, tmpdir, with_events):
                cur = trial
                changed = True
        # drop instruments nothing names any more
        used = {p["symbol"] for a in cur["start"]["accounts"] for p in a["positions"]}
        used |= {c.get("symbol") for c in cur["commands"]}
        used |= {s for c in cur["commands"] for s in (c.get("brackets") or {})}
        for inst in list(cur["start"]["instruments"]):
            if inst["symbol"] in used or len(cur["start"]["instruments"]) <= 1:
                continue
            trial = copy.deepcopy(cur)
            trial["start"]["instruments"] = [i for i in trial["start"]["instruments"]
                                             if i["symbol"] != inst["symbol"]]
            trial["start"]["marks"].pop(inst["symbol"], None)
            if compare(binary, trial, tmpdir, with_events):
                cur = trial
                changed = True
        # drop positions one at a time
        for ai, a in enumerate(cur["start"]["accounts"]):
            j = len(a["positions"]) - 1
            while j >= 0:
                trial = copy.deepcopy(cur)
                del trial["start"]["accounts"][ai]["positions"][j]
                if compare(binary, trial, tmpdir, with_events):
                    cur = trial
                    a = cur["start"]["accounts"][ai]
                    changed = True
                j -= 1
    return cur


def check_cases(cases_dir, tally, binary, tmpdir):
    """Regression cases: the model must give the expected values written in the case."""
    if not cases_dir or not os.path.isdir(cases_dir):
        return
    for name in sorted(os.listdir(cases_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(cases_dir, name)) as fh:
            doc = json.load(fh)
        exp = doc.get("expected")
        if not exp:
            continue
        m = model_state({k: v for k, v in doc.items()
                         if k not in ("expected", "provenance", "note", "decided_by")})
        problems = []
        for aid, want in exp.get("accounts", {}).items():
            got = m["accounts"].get(aid)
            for asset, v in want.get("balances", {}).items():
                if got["balances"].get(asset, F(0)) != F(v):
                    problems.append(f"{aid}.balances.{asset}: model "
                                    f"{ref.fmt(got['balances'].get(asset, F(0)))} want {v}")
            if "positions" in want:
                gp = {s: ref.fmt(p[0]) for s, p in got["positions"].items()}
                if gp != want["positions"]:
                    problems.append(f"{aid}.positions: model {gp} want {want['positions']}")
            for k in ("bad_debt", "socialized_loss"):
                if k in want and got[k] != F(want[k]):
                    problems.append(f"{aid}.{k}: model {ref.fmt(got[k])} want {want[k]}")
            if "loans" in want and set(got["loans"]) != set(want["loans"]):
                problems.append(f"{aid}.loans: model {sorted(got['loans'])} "
                                f"want {sorted(want['loans'])}")
            for asset, lv in want.get("loans", {}).items():
                gl = got["loans"].get(asset, (F(0), F(0)))
                if gl != (F(lv["principal"]), F(lv["interest"])):
                    problems.append(f"{aid}.loans.{asset}: model P={ref.fmt(gl[0])} "
                                    f"I={ref.fmt(gl[1])} want {lv}")
        for asset, want in exp.get("totals", {}).items():
            for k, v in want.items():
                if m["totals"][asset][k] != F(v):
                    problems.append(f"totals.{asset}.{k}: model "
                                    f"{ref.fmt(m['totals'][asset][k])} want {v}")
        for asset, want in exp.get("lending_pool", {}).items():
            got = m["lending_pool"].get(asset, {})
            for k, v in want.items():
                gv = got.get(k)
                if (gv is None) != (v is None) or (v is not None and gv != F(v)):
                    problems.append(f"lending_pool.{asset}.{k}: model {ref.fmt(gv)} want {v}")
        for kind, n in exp.get("event_counts", {}).items():
            got_n = sum(1 for e in m["events"] if e[0] == kind)
            if got_n != n:
                problems.append(f"events.{kind}: model {got_n} want {n}")
        label = f"case {name}"
        if problems:
            tally[1] += 1
            print(f"{label}: MODEL WRONG: " + "; ".join(problems))
        else:
            tally[0] += 1
        if binary:
            sw = compare(binary, {k: v for k, v in doc.items()
                                  if k not in ("expected", "provenance", "note", "decided_by")}, tmpdir,
                         with_events=True)
            if sw:
                print(f"{label}: swift disagrees with the right values (reported, not counted): "
                      + "; ".join(sw[:4]))


def uses_lending(doc):
    """Whether a scenario uses lending (docs/loans.md, "Borrowing"): a top-level `lending`, a
    borrow or repay, or lending fields in a parameter change (the model covers them)."""
    if "lending" in doc:
        return True
    for c in doc.get("commands", []):
        if c.get("type") in ("borrow", "repay"):
            return True
        if c.get("type") == "change_parameters" and any(
                k in c for k in ("lending", "debt_rates", "debt_maintenance_rate", "debt_initial_rate")):
            return True
    return False


def check_examples(examples_dir, tally, binary, tmpdir):
    """The repository's example scenarios: model and binary must agree on them."""
    if not binary or not examples_dir or not os.path.isdir(examples_dir):
        return
    for name in sorted(os.listdir(examples_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(examples_dir, name)) as fh:
            doc = json.load(fh)
        # The reference model covers linear contracts only: scenarios with options or
        # portfolio-margined accounts are checked by crosscheck_engine_portfolio.py instead.
        start = doc.get("start", {})
        if any(i.get("kind") == "option" for i in start.get("instruments", [])) or \
                any(a.get("mode") == "portfolio" for a in start.get("accounts", [])):
            print(f"example {name}: skipped (options / portfolio accounts: see crosscheck_engine_portfolio.py)")
            continue
        problems = compare(binary, doc, tmpdir, True)
        if problems:
            tally[1] += 1
            print(f"example {name}: " + "; ".join(problems[:6]))
        else:
            tally[0] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--solvent", required=True)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--level", type=int, default=5)
    ap.add_argument("--no-events", action="store_true",
                    help="compare final state only, not liquidation event amounts")
    ap.add_argument("--keep-going", action="store_true",
                    help="do not stop at the first disagreement (no shrinking)")
    ap.add_argument("--time-limit", type=float, default=170.0)
    ap.add_argument("--cases-dir", default=os.path.join(HERE, "cases"))
    ap.add_argument("--examples-dir",
                    default=os.path.join(HERE, "..", "..", "Examples", "scenarios"))
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--avoid", default="",
                    help="comma-separated known disagreements the generator avoids "
                         "(gen_engine_scenarios.KNOWN)")
    ap.add_argument("--lending", default="auto", choices=["auto", "on", "off"],
                    help="borrow/repay/interest in the generated scenarios (auto: 40 %%)")
    a = ap.parse_args()
    started = time.time()
    tally = [0, 0]
    check_cases(a.cases_dir, tally, a.solvent, a.tmp)
    check_examples(a.examples_dir, tally, a.solvent, a.tmp)
    rng = random.Random(a.seed)
    with_events = not a.no_events
    for i in range(a.cases):
        if time.time() - started > a.time_limit:
            print(f"time limit reached after {i} scenarios")
            break
        doc = gen.generate(rng, a.level, [x for x in a.avoid.split(",") if x], a.lending)
        problems = compare(a.solvent, doc, a.tmp, with_events)
        if not problems:
            tally[0] += 1
            continue
        tally[1] += 1
        if a.keep_going:
            print(f"scenario {i} (seed {a.seed}): " + "; ".join(problems[:6]))
            continue
        small = shrink(a.solvent, doc, a.tmp, with_events, started + a.time_limit + 60)
        print(f"scenario {i} (seed {a.seed}) disagrees; shrunk to "
              f"{len(small['commands'])} commands:")
        print(json.dumps(small))
        for p in compare(a.solvent, small, a.tmp, with_events):
            print("  " + p)
        break
    print(f"{tally[0]} passed, {tally[1]} failed")
    sys.exit(1 if tally[1] else 0)


if __name__ == "__main__":
    main()
