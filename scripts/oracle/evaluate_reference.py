#!/usr/bin/env python3
"""Independent reference implementation (test oracle) of `solvent evaluate`.

Written from DESIGN.md, section "The evaluation contract (`solvent evaluate`)", and
reference/MECHANICS.md sections 1-2 only (not from the Swift sources).  All arithmetic is
exact (fractions.Fraction); numbers become decimal strings only when the output document
is rendered.

    python3 evaluate_reference.py INPUT.json     # prints the output JSON
    python3 evaluate_reference.py -              # reads stdin

Invalid input: exit status 2, nothing on stdout, one line `PATH: reason` on stderr.

Library use:
    evaluate(doc)              -> output document (decimal strings, None for null)
    evaluate_exact(doc)        -> same shape, numbers as Fraction, and each position
                                  carries "_liquidation_candidates": every bracket
                                  solution that satisfies the fixed point (more than one
                                  is only possible with discontinuous explicit
                                  maintenance amounts, which the contract leaves open).
    EvaluateError(path, msg)   -> raised for invalid input.
"""
from __future__ import annotations

import json
import re
import sys
from fractions import Fraction

DEFAULT_POLICY = {
    "warning_ratio": Fraction(70, 100),
    "call_ratio": Fraction(85, 100),
    "restore_ratio": Fraction(70, 100),
}
# Debt margin (docs/loans.md): maintenance / initial margin per unit of debt.
DEFAULT_DEBT_RATES = {"maintenance": Fraction(10, 100), "initial": Fraction(25, 100)}
STATUS_ORDER = ["healthy", "warning", "margin_call", "liquidatable", "bankrupt"]
LINEAR_KINDS = {"linear_perpetual", "linear_future"}
INVERSE_KINDS = {"inverse_perpetual", "inverse_future"}

_DECIMAL_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class EvaluateError(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --------------------------------------------------------------------------- parsing

def _dec(value, path: str) -> Fraction:
    if value is None:
        raise EvaluateError(path, "missing")
    if not isinstance(value, str):
        raise EvaluateError(path, f"not a decimal string: {json.dumps(value)}")
    if not _DECIMAL_RE.match(value):
        raise EvaluateError(path, f"not a decimal: {json.dumps(value)}")
    return Fraction(value)


def _obj(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise EvaluateError(path, "missing" if value is None else "not an object")
    return value


def _arr(value, path: str) -> list:
    if not isinstance(value, list):
        raise EvaluateError(path, "missing" if value is None else "not an array")
    return value


def _str(value, path: str) -> str:
    if not isinstance(value, str):
        raise EvaluateError(path, "missing" if value is None else "not a string")
    return value


def _parse(doc: dict):
    doc = _obj(doc, "$")

    policy = dict(DEFAULT_POLICY)
    if doc.get("policy") is not None:
        pol = _obj(doc["policy"], "policy")
        for key in DEFAULT_POLICY:
            if pol.get(key) is not None:
                policy[key] = _dec(pol[key], f"policy.{key}")
                if policy[key] <= 0:
                    raise EvaluateError(f"policy.{key}", "must be > 0")

    assets = {}
    for name, price in _obj(doc.get("assets"), "assets").items():
        p = _dec(price, f"assets.{name}")
        if p <= 0:
            raise EvaluateError(f"assets.{name}", "price must be > 0")
        assets[name] = p

    # docs/loans.md: policy.debt_maintenance_rate, policy.debt_initial_rate (in [0, 1],
    # initial >= maintenance), policy.debt_rates {asset: {maintenance, initial}}.
    debt_default = dict(DEFAULT_DEBT_RATES)
    debt_rates = {}
    pol = doc.get("policy") or {}
    if isinstance(pol, dict):
        def rate(v, path):
            r = _dec(v, path)
            if r < 0 or r > 1:
                raise EvaluateError(path, "must be in [0, 1]")
            return r
        if pol.get("debt_maintenance_rate") is not None:
            debt_default["maintenance"] = rate(pol["debt_maintenance_rate"], "policy.debt_maintenance_rate")
        if pol.get("debt_initial_rate") is not None:
            debt_default["initial"] = rate(pol["debt_initial_rate"], "policy.debt_initial_rate")
            if debt_default["initial"] < debt_default["maintenance"]:
                raise EvaluateError("policy.debt_initial_rate", "must not be below debt_maintenance_rate")
        else:
            debt_default["initial"] = max(debt_default["initial"], debt_default["maintenance"])
        if pol.get("debt_rates") is not None:
            for name, r in _obj(pol["debt_rates"], "policy.debt_rates").items():
                rp = f"policy.debt_rates.{name}"
                if name not in assets:
                    raise EvaluateError(rp, f"unknown asset {json.dumps(name)}")
                r = _obj(r, rp)
                mm = rate(r.get("maintenance"), f"{rp}.maintenance")
                im = rate(r.get("initial"), f"{rp}.initial")
                if im < mm:
                    raise EvaluateError(f"{rp}.initial", "must not be below maintenance")
                debt_rates[name] = {"maintenance": mm, "initial": im}
    policy["_debt"] = lambda asset: debt_rates.get(asset, debt_default)

    haircuts = {}
    if doc.get("haircuts") is not None:
        for name, h in _obj(doc["haircuts"], "haircuts").items():
            v = _dec(h, f"haircuts.{name}")
            if v < 0 or v > 1:
                raise EvaluateError(f"haircuts.{name}", "must be in [0, 1]")
            haircuts[name] = v

    instruments = {}
    for i, raw in enumerate(_arr(doc.get("instruments"), "instruments")):
        p = f"instruments[{i}]"
        raw = _obj(raw, p)
        sym = _str(raw.get("symbol"), f"{p}.symbol")
        if sym in instruments:
            raise EvaluateError(f"{p}.symbol", f"duplicate symbol {json.dumps(sym)}")
        kind = _str(raw.get("kind"), f"{p}.kind")
        if kind in LINEAR_KINDS:
            inverse = False
        elif kind in INVERSE_KINDS:
            inverse = True
        else:
            raise EvaluateError(f"{p}.kind", f"unknown kind {json.dumps(kind)}")
        settle = _str(raw.get("settle"), f"{p}.settle")
        cs = _dec(raw.get("contract_size"), f"{p}.contract_size")
        if cs <= 0:
            raise EvaluateError(f"{p}.contract_size", "must be > 0")
        braw = _arr(raw.get("brackets"), f"{p}.brackets")
        if not braw:
            raise EvaluateError(f"{p}.brackets", "empty")
        brackets = []
        for j, b in enumerate(braw):
            bp = f"{p}.brackets[{j}]"
            b = _obj(b, bp)
            floor = _dec(b.get("notional_floor"), f"{bp}.notional_floor")
            cap = _dec(b.get("notional_cap"), f"{bp}.notional_cap")
            maxlev = _dec(b.get("max_leverage"), f"{bp}.max_leverage")
            mmr = _dec(b.get("mmr"), f"{bp}.mmr")
            if j == 0 and floor != 0:
                raise EvaluateError(f"{bp}.notional_floor", "first bracket must start at 0")
            if j > 0 and floor != brackets[-1]["cap"]:
                what = "gap" if floor > brackets[-1]["cap"] else "overlap"
                raise EvaluateError(f"{bp}.notional_floor",
                                    f"{what}: does not equal the previous notional_cap")
            if cap <= floor:
                raise EvaluateError(f"{bp}.notional_cap", "must be > notional_floor")
            if maxlev <= 0:
                raise EvaluateError(f"{bp}.max_leverage", "must be > 0")
            if mmr < 0 or mmr >= 1:
                raise EvaluateError(f"{bp}.mmr", "must be in [0, 1)")
            if b.get("maintenance_amount") is not None:
                amount = _dec(b["maintenance_amount"], f"{bp}.maintenance_amount")
            elif j == 0:
                amount = Fraction(0)
            else:
                prev = brackets[-1]
                amount = prev["amount"] + floor * (mmr - prev["mmr"])
            brackets.append({"floor": floor, "cap": cap, "max_leverage": maxlev,
                             "mmr": mmr, "amount": amount})
        instruments[sym] = {"symbol": sym, "inverse": inverse, "settle": settle,
                            "cs": cs, "brackets": brackets}

    marks_raw = _obj(doc.get("marks"), "marks")
    marks = {}
    for sym in instruments:
        if sym not in marks_raw or marks_raw[sym] is None:
            raise EvaluateError(f"marks.{sym}", "missing")
        m = _dec(marks_raw[sym], f"marks.{sym}")
        if m <= 0:
            raise EvaluateError(f"marks.{sym}", "must be > 0")
        marks[sym] = m

    accounts = []
    seen_ids = set()
    for i, raw in enumerate(_arr(doc.get("accounts"), "accounts")):
        p = f"accounts[{i}]"
        raw = _obj(raw, p)
        aid = _str(raw.get("id"), f"{p}.id")
        if aid in seen_ids:
            raise EvaluateError(f"{p}.id", f"duplicate account id {json.dumps(aid)}")
        seen_ids.add(aid)
        settle = _str(raw.get("settle"), f"{p}.settle")
        if settle not in assets:
            raise EvaluateError(f"{p}.settle", f"unknown asset {json.dumps(settle)}")
        collateral = []
        if raw.get("collateral") is not None:
            for asset, amt in _obj(raw["collateral"], f"{p}.collateral").items():
                cp = f"{p}.collateral.{asset}"
                if asset not in assets:
                    raise EvaluateError(cp, f"unknown asset {json.dumps(asset)}")
                collateral.append((asset, _dec(amt, cp)))
        positions = []
        cross_symbols = set()
        praw = raw.get("positions")
        praw = [] if praw is None else _arr(praw, f"{p}.positions")
        for j, pos in enumerate(praw):
            pp = f"{p}.positions[{j}]"
            pos = _obj(pos, pp)
            sym = _str(pos.get("symbol"), f"{pp}.symbol")
            if sym not in instruments:
                raise EvaluateError(f"{pp}.symbol", f"unknown symbol {json.dumps(sym)}")
            inst = instruments[sym]
            if inst["settle"] != settle:
                raise EvaluateError(f"{pp}.symbol",
                                    f"settles in {inst['settle']}, account settles in {settle}")
            q = _dec(pos.get("quantity"), f"{pp}.quantity")
            if q == 0:
                raise EvaluateError(f"{pp}.quantity", "must not be 0")
            entry = _dec(pos.get("entry_price"), f"{pp}.entry_price")
            if entry <= 0:
                raise EvaluateError(f"{pp}.entry_price", "must be > 0")
            lev = None
            if pos.get("leverage") is not None:
                lev = _dec(pos["leverage"], f"{pp}.leverage")
                if lev <= 0:
                    raise EvaluateError(f"{pp}.leverage", "must be > 0")
            mode = pos.get("margin_mode")
            mode = "cross" if mode is None else _str(mode, f"{pp}.margin_mode")
            if mode not in ("cross", "isolated"):
                raise EvaluateError(f"{pp}.margin_mode", f"unknown mode {json.dumps(mode)}")
            iso = None
            if mode == "isolated":
                if pos.get("isolated_margin") is None:
                    raise EvaluateError(f"{pp}.isolated_margin", "missing")
                iso = _dec(pos["isolated_margin"], f"{pp}.isolated_margin")
                if iso < 0:
                    raise EvaluateError(f"{pp}.isolated_margin", "must be >= 0")
            else:
                if sym in cross_symbols:
                    raise EvaluateError(f"{pp}.symbol",
                                        f"duplicate cross position in {json.dumps(sym)}")
                cross_symbols.add(sym)
            positions.append({"index": j, "symbol": sym, "inst": inst, "q": q,
                              "entry": entry, "leverage": lev, "mode": mode,
                              "isolated_margin": iso})
        accounts.append({"id": aid, "settle": settle, "collateral": collateral,
                         "positions": positions})
    return policy, assets, haircuts, instruments, marks, accounts


# --------------------------------------------------------------------------- margin math

def bracket_for(brackets, notional: Fraction) -> dict:
    for b in brackets:
        if b["floor"] <= notional < b["cap"]:
            return b
    return brackets[-1]  # beyond the last cap (notional >= 0 always)


def in_bracket(brackets, idx: int, notional: Fraction) -> bool:
    b = brackets[idx]
    if notional < b["floor"]:
        return False
    return idx == len(brackets) - 1 or notional < b["cap"]


def position_numbers(pos, mark: Fraction) -> dict:
    inst = pos["inst"]
    Q = abs(pos["q"]) * inst["cs"]
    if inst["inverse"]:
        notional = Q / mark
        upnl = pos["q"] * inst["cs"] * (1 / pos["entry"] - 1 / mark)
    else:
        notional = Q * mark
        upnl = pos["q"] * inst["cs"] * (mark - pos["entry"])
    b = bracket_for(inst["brackets"], notional)
    mm = notional * b["mmr"] - b["amount"]
    lev = pos["leverage"] if pos["leverage"] is not None else b["max_leverage"]
    im = notional * max(1 / lev, 1 / b["max_leverage"])
    return {"notional": notional, "upnl": upnl, "mm": mm, "im": im, "mmr": b["mmr"]}


def liquidation_candidates(pos, W: Fraction, Uo: Fraction, MMo: Fraction) -> list:
    """All bracket-consistent positive prices where pool equity == pool MM."""
    inst = pos["inst"]
    s = 1 if pos["q"] > 0 else -1
    Q = abs(pos["q"]) * inst["cs"]
    out = []
    for idx, b in enumerate(inst["brackets"]):
        if inst["inverse"]:
            # W + Uo + s*Q*(1/EP - x) = MMo + Q*x*mmr - amount, x = 1/P
            den = Q * (b["mmr"] + s)
            if den == 0:
                continue
            x = (W + Uo - MMo + b["amount"] + s * Q / pos["entry"]) / den
            if x <= 0:
                continue
            if in_bracket(inst["brackets"], idx, Q * x):
                out.append(1 / x)
        else:
            den = Q * b["mmr"] - s * Q
            if den == 0:
                continue
            P = (W + Uo - MMo + b["amount"] - s * Q * pos["entry"]) / den
            if P <= 0:
                continue
            if in_bracket(inst["brackets"], idx, Q * P):
                out.append(P)
    return out


def bankruptcy_price(pos, W: Fraction, Uo: Fraction):
    inst = pos["inst"]
    s = 1 if pos["q"] > 0 else -1
    Q = abs(pos["q"]) * inst["cs"]
    if inst["inverse"]:
        # W + Uo + s*Q*(1/EP - x) = 0
        x = (W + Uo + s * Q / pos["entry"]) / (s * Q)
        return 1 / x if x > 0 else None
    P = pos["entry"] - (W + Uo) / (s * Q)
    return P if P > 0 else None


def pool_status(policy, equity, mm, has_positions):
    if not has_positions:
        return "healthy"
    if equity <= 0:
        return "bankrupt"
    ratio = mm / equity
    if ratio >= 1:
        return "liquidatable"
    if ratio >= policy["call_ratio"]:
        return "margin_call"
    if ratio >= policy["warning_ratio"]:
        return "warning"
    return "healthy"


def make_pool(policy, name, equity, im, mm, has_positions, collateral, debt=Fraction(0)):
    status = pool_status(policy, equity, mm, has_positions or debt > 0)
    call = Fraction(0)
    if status in ("margin_call", "liquidatable", "bankrupt"):
        call = max(Fraction(0), mm / policy["restore_ratio"] - equity)
    return {"pool": name, "equity": equity, "initial_margin": im,
            "maintenance_margin": mm,
            "margin_ratio": (mm / equity) if equity > 0 else None,
            "available": max(Fraction(0), equity - im),
            # unrealized profit counts as margin but is not withdrawable (Binance, Bybit)
            "withdrawable": max(Fraction(0), collateral + min(Fraction(0), equity - collateral) - im),
            "status": status, "call_amount": call,
            # docs/loans.md: settle value of negative balances; margin level = assets / debt
            "debt": debt, "margin_level": (equity + debt) / debt if debt > 0 else None}


def evaluate_exact(doc: dict) -> dict:
    policy, assets, haircuts, instruments, marks, accounts = _parse(doc)
    out_accounts = []
    for acc in accounts:
        price_settle = assets[acc["settle"]]
        W = Fraction(0)
        debt = debt_mm = debt_im = Fraction(0)
        values = {}
        for asset, amt in acc["collateral"]:
            v = amt * assets[asset] / price_settle
            if amt > 0:
                v *= 1 - haircuts.get(asset, Fraction(0))
            else:
                rates = policy["_debt"](asset)
                debt += -v
                debt_mm += -v * rates["maintenance"]
                debt_im += -v * rates["initial"]
            values[asset] = v
            W += v
        nums = [position_numbers(p, marks[p["symbol"]]) for p in acc["positions"]]
        cross = [k for k, p in enumerate(acc["positions"]) if p["mode"] == "cross"]
        cross_upnl = sum((nums[k]["upnl"] for k in cross), Fraction(0))
        cross_mm = sum((nums[k]["mm"] for k in cross), Fraction(0)) + debt_mm
        cross_im = sum((nums[k]["im"] for k in cross), Fraction(0)) + debt_im
        pools = [make_pool(policy, "cross", W + cross_upnl, cross_im, cross_mm, bool(cross), W, debt)]
        # docs/loans.md: the price of each positive non-settle balance at which the cross
        # pool's equity equals its maintenance margin, all else fixed (equity is linear in it).
        liq_prices = {}
        for asset, amt in acc["collateral"]:
            if amt <= 0:
                continue
            h = haircuts.get(asset, Fraction(0))
            price = None
            if asset != acc["settle"] and h < 1:
                rest = W + cross_upnl - values[asset]
                x = (cross_mm - rest) * price_settle / (amt * (1 - h))
                price = x if x > 0 else None
            liq_prices[asset] = price
        positions_out = []
        for k, pos in enumerate(acc["positions"]):
            n = nums[k]
            if pos["mode"] == "cross":
                name = "cross"
                pw, uo, mmo = W, cross_upnl - n["upnl"], cross_mm - n["mm"]
            else:
                name = f"isolated:{pos['symbol']}:{pos['index']}"
                pw, uo, mmo = pos["isolated_margin"], Fraction(0), Fraction(0)
                pools.append(make_pool(policy, name, pw + n["upnl"], n["im"], n["mm"], True, pw))
            cands = liquidation_candidates(pos, pw, uo, mmo)
            positions_out.append({
                "symbol": pos["symbol"], "pool": name, "notional": n["notional"],
                "unrealized_pnl": n["upnl"], "initial_margin": n["im"],
                "maintenance_margin": n["mm"], "mmr": n["mmr"],
                "liquidation_price": cands[0] if cands else None,
                "bankruptcy_price": bankruptcy_price(pos, pw, uo),
                "_liquidation_candidates": cands,
            })
        status = max((p["status"] for p in pools), key=STATUS_ORDER.index)
        out_accounts.append({"id": acc["id"], "status": status, "pools": pools,
                             "positions": positions_out,
                             "collateral_liquidation_prices": liq_prices})
    return {"accounts": out_accounts}


# --------------------------------------------------------------------------- rendering

def fraction_to_decimal(x: Fraction, digits: int = 30) -> str:
    """Exact when the expansion terminates, else rounded half-even to `digits`."""
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    neg = x < 0
    a = abs(x)
    if d == 1:
        scale = 0
        while (a * 10 ** scale).denominator != 1:
            scale += 1
        n = int(a * 10 ** scale)
    else:
        scale = digits
        n = round(a * 10 ** scale)  # Fraction.__round__ is half-even
    s = str(n)
    if scale:
        s = s.rjust(scale + 1, "0")
        s = s[:-scale] + "." + s[-scale:]
        s = s.rstrip("0").rstrip(".")
    if neg and s.strip("0.") != "":
        s = "-" + s
    return s


def _render(v):
    if isinstance(v, Fraction):
        return fraction_to_decimal(v)
    if isinstance(v, dict):
        return {k: _render(x) for k, x in v.items() if not k.startswith("_")}
    if isinstance(v, list):
        return [_render(x) for x in v]
    return v


def evaluate(doc: dict) -> dict:
    return _render(evaluate_exact(doc))


def main(argv) -> int:
    if len(argv) != 2:
        print("usage: evaluate_reference.py INPUT.json|-", file=sys.stderr)
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
