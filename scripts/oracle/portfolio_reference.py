#!/usr/bin/env python3
"""Independent reference (test oracle) of portfolio (scenario) margin in `solvent evaluate`.

Written from docs/evaluate.md, section "Portfolio (scenario) margin: options and
`"mode": "portfolio"`" only (not from the Swift sources).  Linear parts are exact
(fractions.Fraction); Black-76 values are computed in float (scipy.special.ndtr); a group's
option value changes are summed in float per scenario and cross into exact decimals once,
rounded half-even to 18 digits (V0, value and delta once per position), as the spec says.  Standard accounts are delegated to evaluate_reference.py (the standard oracle).

    python3 portfolio_reference.py INPUT.json     # prints the output JSON
    python3 portfolio_reference.py -              # reads stdin

Invalid input: exit status 2, nothing on stdout, one line `PATH: reason` on stderr.

Library use:
    evaluate_exact(doc) -> output document, numbers as Fraction (None for null); each
                           portfolio group also carries "_scenarios" (move, vol, weight)
                           and each portfolio account "_groups_by_name".
    evaluate(doc)       -> the same rendered as decimal strings.
    EvaluateError       -> evaluate_reference.EvaluateError (path, message).

Interpretations of points the spec leaves open (see the report of the cross-check):
  * `portfolio_policy` defaults "as shown": the example's `price_ranges` {"ETH": "0.20"}
    and `correlations` {"BTC/ETH": "0.80"} are NOT defaults (DEFAULT_MAPS_FROM_EXAMPLE
    switches to the literal reading); an omitted map is empty.
  * position `value` of an option = V0 (the Black-76 value), even when a mark is given.
  * `years` = (expiry - valuation_time)/365 days, negative after expiry (not clamped;
    YEARS_CLAMPED switches to max(T, 0)).
  * expired delta: call 1 if F > K else 0; put -1 if F < K else 0.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import sys
from fractions import Fraction

from scipy.special import ndtr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_reference as ref  # noqa: E402
from evaluate_reference import EvaluateError, _dec, _obj, _arr, _str  # noqa: E402

DEFAULT_MAPS_FROM_EXAMPLE = False
YEARS_CLAMPED = True       # output `years` = max(T, 0) (the spec); False gives raw T
ONE = Fraction(1)
E18 = 10 ** 18
YEAR_SECONDS = 365 * 86400
VOL_SHOCKS = ("down", "none", "up")


def default_policy():
    pol = {
        "price_range": Fraction("0.15"), "price_ranges": {}, "price_steps": 13,
        "vol_shock": Fraction("0.20"), "vol_shock_cap": Fraction("0.50"),
        "vol_shock_reference_days": 30,
        "extreme_multiple": Fraction(2), "extreme_fraction": Fraction("0.35"),
        "short_option_minimum": Fraction("0.01"), "basis_minimum": Fraction("0.005"),
        "maintenance_fraction": Fraction("0.75"),
        "correlation_credit": Fraction("0.70"), "correlations": {},
    }
    if DEFAULT_MAPS_FROM_EXAMPLE:
        pol["price_ranges"] = {"ETH": Fraction("0.20")}
        pol["correlations"] = {"BTC/ETH": Fraction("0.80")}
    return pol


def d18(x) -> Fraction:
    """Round a float or Fraction half-even to 18 fractional digits (DoubleBoundary)."""
    f = Fraction(x)
    return Fraction(round(f * E18), E18)


_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _time(value, path) -> Fraction:
    """Seconds since the epoch, exactly."""
    s = _str(value, path)
    if not _TS_RE.match(s):
        raise EvaluateError(path, f"not an ISO 8601 UTC time: {json.dumps(s)}")
    main, _, frac = s[:-1].partition(".")
    try:
        t = _dt.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        raise EvaluateError(path, f"not a valid time: {json.dumps(s)}")
    secs = Fraction(int(t.timestamp()))
    if frac:
        secs += Fraction(int(frac), 10 ** len(frac))
    return secs


def _int(value, path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvaluateError(path, "not an integer")
    return value


# --------------------------------------------------------------------------- Black-76

def black76(F: float, K: float, T: float, sigma: float, r: float, call: bool):
    """(value, delta = dV/dF) per unit; intrinsic at or after expiry (T <= 0)."""
    if T <= 0:
        if call:
            return max(F - K, 0.0), (1.0 if F > K else 0.0)
        return max(K - F, 0.0), (-1.0 if F < K else 0.0)
    df = math.exp(-r * T)
    sd = sigma * math.sqrt(T)
    d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if call:
        return df * (F * float(ndtr(d1)) - K * float(ndtr(d2))), df * float(ndtr(d1))
    return df * (K * float(ndtr(-d2)) - F * float(ndtr(-d1))), -df * float(ndtr(-d1))


def vol_shock(pol, T: float) -> float:
    days = max(T * 365.0, 1.0)
    return min(float(pol["vol_shock_cap"]),
               float(pol["vol_shock"]) * math.sqrt(pol["vol_shock_reference_days"] / days))


def shocked_vol(sigma: float, s: float, which: str) -> float:
    if which == "up":
        return sigma * (1 + s)
    if which == "down":
        return max(0.01, sigma * (1 - s))
    return sigma


def smile_vol(points, K: Fraction) -> Fraction:
    """Linear in strike between points, flat beyond the first and last (exact)."""
    pts = sorted(points)
    if K <= pts[0][0]:
        return pts[0][1]
    if K >= pts[-1][0]:
        return pts[-1][1]
    for (k0, v0), (k1, v1) in zip(pts, pts[1:]):
        if k0 <= K <= k1:
            return v0 + (v1 - v0) * (K - k0) / (k1 - k0)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- parsing

def _parse_ext(doc):
    """Parses what the portfolio extension adds; validates only that."""
    doc = _obj(doc, "$")
    assets = {k: _dec(v, f"assets.{k}") for k, v in _obj(doc.get("assets"), "assets").items()}
    insts = {}
    for i, raw in enumerate(_arr(doc.get("instruments"), "instruments")):
        p = f"instruments[{i}]"
        raw = _obj(raw, p)
        sym = _str(raw.get("symbol"), f"{p}.symbol")
        kind = _str(raw.get("kind"), f"{p}.kind")
        inst = {"symbol": sym, "kind": kind, "index": i,
                "base": raw.get("base"), "settle": raw.get("settle")}
        if kind == "option":
            right = _str(raw.get("right"), f"{p}.right")
            if right not in ("call", "put"):
                raise EvaluateError(f"{p}.right", f"unknown right {json.dumps(right)}")
            inst["call"] = right == "call"
            inst["strike"] = _dec(raw.get("strike"), f"{p}.strike")
            if inst["strike"] <= 0:
                raise EvaluateError(f"{p}.strike", "must be > 0")
            inst["expiry"] = _time(raw.get("expiry"), f"{p}.expiry")
            inst["underlying"] = _str(raw.get("underlying"), f"{p}.underlying")
            inst["base"] = _str(raw.get("base"), f"{p}.base")
            inst["cs"] = _dec(raw.get("contract_size"), f"{p}.contract_size")
            if inst["cs"] <= 0:
                raise EvaluateError(f"{p}.contract_size", "must be > 0")
        else:
            inst["cs"] = _dec(raw.get("contract_size"), f"{p}.contract_size")
        insts[sym] = inst
    for inst in insts.values():
        if inst["kind"] == "option":
            u = inst["underlying"]
            if u not in insts and u not in assets:
                raise EvaluateError(f"instruments[{inst['index']}].underlying",
                                    f"unknown instrument or asset {json.dumps(u)}")
            if u in insts and insts[u]["kind"] == "option":
                raise EvaluateError(f"instruments[{inst['index']}].underlying",
                                    "an option cannot be an underlying")
    marks_raw = _obj(doc.get("marks"), "marks")
    opt_marks = {}
    for sym, inst in insts.items():
        if inst["kind"] == "option" and marks_raw.get(sym) is not None:
            m = _dec(marks_raw[sym], f"marks.{sym}")
            if m < 0:
                raise EvaluateError(f"marks.{sym}", "must be >= 0")
            opt_marks[sym] = m

    vols = {}
    if doc.get("implied_vols") is not None:
        for sym, v in _obj(doc["implied_vols"], "implied_vols").items():
            x = _dec(v, f"implied_vols.{sym}")
            if x <= 0:
                raise EvaluateError(f"implied_vols.{sym}", "must be > 0")
            vols[sym] = x
    smiles = {}
    if doc.get("smiles") is not None:
        for u, pts in _obj(doc["smiles"], "smiles").items():
            pts = _arr(pts, f"smiles.{u}")
            if not pts:
                raise EvaluateError(f"smiles.{u}", "empty")
            out = []
            for k, pt in enumerate(pts):
                pp = f"smiles.{u}[{k}]"
                pt = _obj(pt, pp)
                K = _dec(pt.get("strike"), f"{pp}.strike")
                if K <= 0:
                    raise EvaluateError(f"{pp}.strike", "must be > 0")
                v = _dec(pt.get("vol"), f"{pp}.vol")
                if v <= 0:
                    raise EvaluateError(f"{pp}.vol", "must be > 0")
                out.append((K, v))
            smiles[u] = out

    pol = default_policy()
    if doc.get("portfolio_policy") is not None:
        raw = _obj(doc["portfolio_policy"], "portfolio_policy")
        pp = "portfolio_policy"
        for key in ("price_range", "vol_shock", "vol_shock_cap", "extreme_multiple",
                    "extreme_fraction", "short_option_minimum", "basis_minimum",
                    "maintenance_fraction",
                    "correlation_credit"):
            if raw.get(key) is not None:
                v = _dec(raw[key], f"{pp}.{key}")
                if v < 0:
                    raise EvaluateError(f"{pp}.{key}", "must be >= 0")
                pol[key] = v
        if raw.get("price_steps") is not None:
            n = _int(raw["price_steps"], f"{pp}.price_steps")
            if n < 3 or n % 2 == 0:
                raise EvaluateError(f"{pp}.price_steps", "must be odd and >= 3")
            pol["price_steps"] = n
        if raw.get("vol_shock_reference_days") is not None:
            d = _int(raw["vol_shock_reference_days"], f"{pp}.vol_shock_reference_days")
            if d <= 0:
                raise EvaluateError(f"{pp}.vol_shock_reference_days", "must be > 0")
            pol["vol_shock_reference_days"] = d
        if raw.get("price_ranges") is not None:
            pol["price_ranges"] = {}
            for g, v in _obj(raw["price_ranges"], f"{pp}.price_ranges").items():
                x = _dec(v, f"{pp}.price_ranges.{g}")
                if x < 0:
                    raise EvaluateError(f"{pp}.price_ranges.{g}", "must be >= 0")
                pol["price_ranges"][g] = x
        if raw.get("correlations") is not None:
            pol["correlations"] = {}
            for pair, v in _obj(raw["correlations"], f"{pp}.correlations").items():
                x = _dec(v, f"{pp}.correlations.{pair}")
                if abs(x) > 1 or pair.count("/") != 1:
                    raise EvaluateError(f"{pp}.correlations.{pair}", "invalid correlation")
                pol["correlations"][pair] = x

    rate = Fraction(0)
    if doc.get("rate") is not None:
        rate = _dec(doc["rate"], "rate")
    vt = None

    accounts = _arr(doc.get("accounts"), "accounts")
    modes = []
    any_option_held = False
    for i, acc in enumerate(accounts):
        acc = _obj(acc, f"accounts[{i}]")
        mode = acc.get("mode")
        mode = "standard" if mode is None else _str(mode, f"accounts[{i}].mode")
        if mode not in ("standard", "portfolio"):
            raise EvaluateError(f"accounts[{i}].mode", f"unknown mode {json.dumps(mode)}")
        modes.append(mode)
        for j, pos in enumerate(acc.get("positions") or []):
            sym = pos.get("symbol") if isinstance(pos, dict) else None
            inst = insts.get(sym)
            if inst is None:
                continue
            path = f"accounts[{i}].positions[{j}].symbol"
            if inst["kind"] == "option":
                any_option_held = True
                if mode != "portfolio":
                    raise EvaluateError(path, "options are accepted only in portfolio accounts")
            if mode == "portfolio" and inst["kind"].startswith("inverse"):
                raise EvaluateError(path, "inverse contracts are rejected in portfolio accounts")
    if any_option_held:
        if doc.get("valuation_time") is None:
            raise EvaluateError("valuation_time", "required when options are held")
    if doc.get("valuation_time") is not None:
        vt = _time(doc["valuation_time"], "valuation_time")
    for i, acc in enumerate(accounts):
        for j, pos in enumerate(acc.get("positions") or []):
            inst = insts.get(pos.get("symbol"))
            if inst is not None and inst["kind"] == "option":
                if inst["symbol"] not in vols and inst["underlying"] not in smiles:
                    raise EvaluateError(f"accounts[{i}].positions[{j}].symbol",
                                        f"no implied vol for {json.dumps(inst['symbol'])}")
    return {"insts": insts, "opt_marks": opt_marks, "vols": vols, "smiles": smiles,
            "policy": pol, "rate": rate, "vt": vt, "modes": modes}


# --------------------------------------------------------------------------- evaluation

def _standard_doc(doc, ext):
    """The document evaluate_reference.py sees: no options, portfolio accounts emptied."""
    d = dict(doc)
    d["instruments"] = [x for x in doc["instruments"] if x.get("kind") != "option"]
    d["marks"] = {k: v for k, v in doc["marks"].items()
                  if k not in ext["insts"] or ext["insts"][k]["kind"] != "option"}
    accs = []
    for acc, mode in zip(doc["accounts"], ext["modes"]):
        if mode == "portfolio":
            accs.append({"id": acc.get("id"), "settle": acc.get("settle"), "positions": []})
        else:
            accs.append(acc)
    d["accounts"] = accs
    return d


def scenarios(pol, R: Fraction):
    N = pol["price_steps"]
    out = []
    for k in range(N):
        m = d18(R * (Fraction(2 * k, N - 1) - 1))
        for v in VOL_SHOCKS:
            out.append({"move": m, "vol_shock": v, "weight": ONE})
    E, w = pol["extreme_multiple"], pol["extreme_fraction"]
    out.append({"move": d18(-E * R), "vol_shock": "up", "weight": w})
    out.append({"move": d18(E * R), "vol_shock": "up", "weight": w})
    return out


def _portfolio_account(acc_raw, idx, std_parsed_acc, ext, assets, haircuts, marks, policy_std):
    """std_parsed_acc: the account parsed by evaluate_reference (collateral, settle)."""
    insts, pol = ext["insts"], ext["policy"]
    settle = acc_raw["settle"]
    price_settle = assets[settle]
    r = float(ext["rate"])
    # collateral value (haircuts as in the contract)
    W = Fraction(0)
    collateral = []
    for asset, amt in _obj(acc_raw.get("collateral") or {}, f"accounts[{idx}].collateral").items():
        a = _dec(amt, f"accounts[{idx}].collateral.{asset}")
        v = a * assets[asset] / price_settle
        if a > 0:
            v *= 1 - haircuts.get(asset, Fraction(0))
        W += v
        collateral.append((asset, a))

    positions = []
    groups = []          # names, first appearance
    total_upnl = Fraction(0)
    for j, praw in enumerate(acc_raw.get("positions") or []):
        pp = f"accounts[{idx}].positions[{j}]"
        praw = _obj(praw, pp)
        sym = _str(praw.get("symbol"), f"{pp}.symbol")
        if sym not in insts:
            raise EvaluateError(f"{pp}.symbol", f"unknown symbol {json.dumps(sym)}")
        inst = insts[sym]
        if inst["settle"] != settle:
            raise EvaluateError(f"{pp}.symbol",
                                f"settles in {inst['settle']}, account settles in {settle}")
        q = _dec(praw.get("quantity"), f"{pp}.quantity")
        if q == 0:
            raise EvaluateError(f"{pp}.quantity", "must not be 0")
        entry = _dec(praw.get("entry_price"), f"{pp}.entry_price")
        if entry <= 0:
            raise EvaluateError(f"{pp}.entry_price", "must be > 0")
        cs = inst["cs"]
        group = inst["base"]
        if group not in groups:
            groups.append(group)
        pos = {"symbol": sym, "q": q, "cs": cs, "group": group, "entry": entry,
               "option": inst["kind"] == "option"}
        out = {"symbol": sym, "pool": "portfolio"}
        if pos["option"]:
            u = inst["underlying"]
            F = marks[u] if u in marks else assets[u] / assets[settle]
            K = inst["strike"]
            T = (inst["expiry"] - ext["vt"]) / YEAR_SECONDS
            sigma = ext["vols"][sym] if sym in ext["vols"] else smile_vol(ext["smiles"][u], K)
            v0f, deltaf = black76(float(F), float(K), float(T), float(sigma), r, inst["call"])
            V0 = d18(v0f)
            price = ext["opt_marks"].get(sym, V0)
            upnl = q * cs * (price - entry)
            pos.update({"F": F, "K": K, "T": T, "sigma": sigma, "V0": V0, "V0f": v0f,
                        "call": inst["call"],
                        "s": vol_shock(pol, float(T))})
            out.update({"notional": abs(q) * cs * F, "unrealized_pnl": upnl,
                        "value": V0, "implied_vol": sigma,
                        "years": max(T, Fraction(0)) if YEARS_CLAMPED else T,
                        "delta": d18(deltaf)})
        else:
            mark = marks[sym]
            upnl = q * cs * (mark - entry)
            pos["mark"] = mark
            out.update({"notional": abs(q) * cs * mark, "unrealized_pnl": upnl})
        out["liquidation_price"] = None
        total_upnl += upnl
        positions.append(pos)
        outputs = out
        positions[-1]["_out"] = outputs

    group_out = []
    by_name = {}
    for g in groups:
        R = pol["price_ranges"].get(g, pol["price_range"])
        scen = scenarios(pol, R)
        gpos = [p for p in positions if p["group"] == g]
        gcol = [(a, amt) for a, amt in collateral if a == g and a != settle]
        losses = []
        for sc in scen:
            m = sc["move"]
            gain = Fraction(0)
            opt_change = 0.0      # summed in Double, crosses into decimals once (spec)
            for p in gpos:
                if p["option"]:
                    sig = shocked_vol(float(p["sigma"]), p["s"], sc["vol_shock"])
                    vf, _ = black76(float(p["F"] * (1 + m)), float(p["K"]), float(p["T"]),
                                    sig, r, p["call"])
                    opt_change += float(p["q"] * p["cs"]) * (vf - p["V0f"])
                else:
                    gain += p["q"] * p["cs"] * p["mark"] * m
            gain += d18(opt_change)
            for a, amt in gcol:
                gain += amt * assets[a] * m / price_settle
            losses.append(-gain * sc["weight"])
        mx = max(losses)
        wi = losses.index(mx)
        N = pol["price_steps"]
        i_minus, i_plus = 1, 3 * (N - 1) + 1   # (-R, none), (+R, none); weight 1
        delta_eq = (losses[i_minus] - losses[i_plus]) / 2
        som = pol["short_option_minimum"] * sum(
            (abs(p["q"]) * p["cs"] * p["F"] for p in gpos if p["option"] and p["q"] < 0),
            Fraction(0))
        bm = pol["basis_minimum"] * sum(
            (abs(p["q"]) * p["cs"] * p["mark"] for p in gpos if not p["option"]), Fraction(0))
        worst = max(Fraction(0), mx)
        gim = max(worst, som, bm)
        gout = {"underlying": g, "price_range": R, "worst_loss": worst,
                "worst_scenario": {"index": wi, "move": scen[wi]["move"],
                                   "vol_shock": scen[wi]["vol_shock"],
                                   "weight": scen[wi]["weight"]},
                "short_option_minimum": som, "basis_minimum": bm, "initial_margin": gim,
                "delta_equivalent": delta_eq, "scenario_losses": losses,
                "_scenarios": scen}
        group_out.append(gout)
        by_name[g] = gout

    # correlation credit
    A = {g: min(by_name[g]["initial_margin"], abs(by_name[g]["delta_equivalent"]))
         for g in groups}
    pairs = []
    for name, rho in pol["correlations"].items():
        g1, g2 = name.split("/")
        if g1 in A and g2 in A and g1 != g2:
            pairs.append((-abs(rho), name, g1, g2, rho))
    pairs.sort(key=lambda t: (t[0], t[1]))
    credit = Fraction(0)
    for _, name, g1, g2, rho in pairs:
        d1 = by_name[g1]["delta_equivalent"]
        d2 = by_name[g2]["delta_equivalent"]
        if d1 == 0 or d2 == 0:
            continue
        opposite = (d1 > 0) != (d2 > 0)
        if not ((rho > 0 and opposite) or (rho < 0 and not opposite)):
            continue
        h = min(A[g1], A[g2])
        credit += pol["correlation_credit"] * abs(rho) * h
        A[g1] -= h
        A[g2] -= h

    im = sum((g["initial_margin"] for g in group_out), Fraction(0)) - credit
    mm = pol["maintenance_fraction"] * im
    equity = W + total_upnl
    pool = ref.make_pool(policy_std, "portfolio", equity, im, mm, bool(positions), W)
    return {"id": acc_raw["id"], "status": pool["status"], "pools": [pool],
            "positions": [p["_out"] for p in positions],
            "scenario_margin": {"initial_margin": im, "maintenance_margin": mm,
                                "correlation_credit": credit, "groups": group_out},
            "_groups_by_name": by_name}


def evaluate_exact(doc: dict) -> dict:
    ext = _parse_ext(doc)
    std = ref.evaluate_exact(_standard_doc(doc, ext))   # validates the standard parts
    policy_std, assets, haircuts, _, marks, _ = ref._parse(_standard_doc(doc, ext))
    out = []
    for i, (acc, mode) in enumerate(zip(doc["accounts"], ext["modes"])):
        if mode == "portfolio":
            out.append(_portfolio_account(acc, i, None, ext, assets, haircuts, marks,
                                          policy_std))
        else:
            out.append(std["accounts"][i])
    return {"accounts": out}


def evaluate(doc: dict) -> dict:
    return ref._render(evaluate_exact(doc))


def main(argv) -> int:
    if len(argv) != 2:
        print("usage: portfolio_reference.py INPUT.json|-", file=sys.stderr)
        return 64
    try:
        if argv[1] == "-":
            doc = json.load(sys.stdin)
        else:
            with open(argv[1]) as fh:
                doc = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"$: cannot read input: {exc}", file=sys.stderr)
        return 2
    try:
        out = evaluate(doc)
    except EvaluateError as exc:
        print(str(exc).replace("\n", " "), file=sys.stderr)
        return 2
    print(json.dumps(out, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
