#!/usr/bin/env python3
"""Independent executable reference model (test oracle) of `solvent simulate`.

Written from the documents only: docs/scenarios.md (scenario format, the margin-call
procedure, the waterfall), docs/evaluate.md and the evaluation contract of DESIGN.md
(equity, IM, MM with brackets and cum, haircuts, statuses, call amount), the venue
mechanics reference (MECHANICS.md), docs/journal.md (chain deposits, reorgs) and docs/loans.md
(debt margin, the loan-liquidation step, and "Borrowing": borrow, repay, hourly interest,
caps, the lending pool's liquidity, books and bad debt). It is
NOT a translation of the Swift engine (Sources/SolventEngine was not read, except the list
of event type names in EngineEvent.swift, to name events the docs do not name).
Where the documents are silent the reading chosen is listed in ENGINE_REFERENCE.md.

Arithmetic: exact fractions.Fraction everywhere. Rounding only where the engine must hold an
18-digit decimal: amounts it books (fees, funding, bankruptcy prices, average entries, shares
of socialized loss) are rounded half-even to 18 digits; a call amount is rounded UP (paying
it must cure); liquidation quantities are in lots of 1e-8 (see ENGINE_REFERENCE.md).

    python3 engine_reference.py SCENARIO.json          # prints events and a summary line
    python3 engine_reference.py SCENARIO.json --json   # prints the final state as JSON

Library use: run_scenario(doc) -> Engine (engine.events, engine.summary()).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
from fractions import Fraction as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_reference as ev  # noqa: E402  (independent contract oracle: brackets, statuses)

ZERO = F(0)
ONE = F(1)
E18 = 10 ** 18
LOT = F(1, 10 ** 8)          # liquidation quantity lot (ambiguity A3)


# --------------------------------------------------------------------------- arithmetic

def r18(x: F) -> F:
    """Half-even to 18 fractional digits."""
    return F(round(x * E18), E18)


def floor18(x: F) -> F:
    return F(math.floor(x * 10 ** 18), 10 ** 18)


def up18(x: F) -> F:
    """Toward +infinity to 18 fractional digits."""
    return F(math.ceil(x * E18), E18)


def floor_lot(x: F) -> F:
    return F(math.floor(x / LOT)) * LOT


def ceil_lot(x: F) -> F:
    return F(math.ceil(x / LOT)) * LOT


def dec(x) -> F:
    if isinstance(x, F):
        return x
    if isinstance(x, (int,)):
        return F(x)
    return F(str(x))


def fmt(x) -> str | None:
    if x is None:
        return None
    return ev.fraction_to_decimal(r18(x)) if x.denominator != 1 else str(x.numerator)


def parse_time(t) -> int:
    if isinstance(t, (int, float)):
        return int(t)
    s = str(t)
    if s.isdigit():
        return int(s)
    s = s.replace("Z", "+00:00")
    d = _dt.datetime.fromisoformat(s)
    return int(round(d.timestamp() * 1000))


DEFAULTS = {
    "grace_period_ms": 0, "hysteresis": F("0.05"), "liquidation_fee_rate": F("0.005"),
    "liquidation_step_fraction": F("0.25"), "liquidation_steps_per_command": 64,
    "liquidation_notional_cap": None, "liquidation_cap_interval_ms": 60000,
    "price_band": F("0.1"), "oracle_divergence_limit": F("0.05"), "index_move_limit": F("0.3"),
    "index_move_window_ms": 60000, "mark_staleness_ms": 30000, "execution": "depth",
    "backstop": False, "adl": True, "socialize_over": "profitable", "finality_depth": 6,
    "unconfirmed_haircut": None,
}
INT_PARAMS = {"grace_period_ms", "liquidation_steps_per_command", "liquidation_cap_interval_ms",
              "index_move_window_ms", "mark_staleness_ms", "finality_depth"}
DEC_PARAMS = {"hysteresis", "liquidation_fee_rate", "liquidation_step_fraction",
              "liquidation_notional_cap", "price_band", "oracle_divergence_limit",
              "index_move_limit", "unconfirmed_haircut"}
PRESETS = {  # ambiguity A1: presets are not spelled out in the docs
    "exchange": {},
    # lender-call-uncured.json: "the backstop liquidator takes the position at its
    # bankruptcy price" (whole)
    "lender": {"grace_period_ms": 4 * 3600 * 1000, "execution": "backstop", "backstop": True,
               "liquidation_step_fraction": F(1),
               "_policy": {"warning_ratio": F("0.5"), "call_ratio": F("0.7"),
                           "restore_ratio": F("0.5")}},
}


def parse_params(raw: dict, base: dict) -> dict:
    p = dict(base)
    for k, v in raw.items():
        if k == "preset":
            continue
        if k in INT_PARAMS:
            p[k] = int(v)
        elif k in DEC_PARAMS:
            p[k] = None if v is None else dec(v)
        else:
            p[k] = v
    return p


class Reject(Exception):
    def __init__(self, code, field, reason):
        super().__init__(reason)
        self.code, self.field, self.reason = code, field, reason


# --------------------------------------------------------------------------- the engine

class Engine:
    def __init__(self, doc: dict):
        start = doc["start"]
        policy, assets, haircuts, instruments, marks, accounts = ev._parse(start)
        self.policy = dict(policy)
        self.assets = dict(assets)
        self.haircuts = dict(haircuts)
        self.instruments = instruments
        self.now = parse_time(start.get("time", 0))
        self.marks = {s: [m, self.now] for s, m in marks.items()}
        self.index = {}            # symbol -> price
        self.index_hist = {}       # symbol -> [(time, price)]
        self.index_src = {}        # symbol -> source time of the last index
        # Dated instruments (docs/scenarios.md "Expiry and settlement"): symbol -> expiry (ms)
        self.expiry, self.options = {}, set()
        for raw in start.get("instruments") or []:
            if raw.get("kind") in ("linear_future", "inverse_future", "option"):
                self.expiry[raw["symbol"]] = parse_time(raw["expiry"])
            if raw.get("kind") == "option":
                self.options.add(raw["symbol"])
        self.books = {}            # symbol -> {"bids": [[p, q]], "asks": [[p, q]]}
        raw_params = doc.get("parameters") or {}
        base = dict(DEFAULTS)
        preset = PRESETS.get(raw_params.get("preset") or "exchange", {})
        for k, v in preset.items():
            if k == "_policy":
                for pk, pv in v.items():
                    if (start.get("policy") or {}).get(pk) is None:
                        self.policy[pk] = pv
            else:
                base[k] = v
        self.params = parse_params(raw_params, base)
        self.pending_changes = []
        self.fund = {a: ZERO for a in self.assets}
        for a, v in (doc.get("insurance_fund") or {}).items():
            self.fund[a] = self.fund.get(a, ZERO) + dec(v)
        self.fees = {a: ZERO for a in self.assets}
        self.opening = {a: ZERO for a in self.assets}
        self.deposited = {a: ZERO for a in self.assets}
        self.withdrawn = {a: ZERO for a in self.assets}
        self.socialized_total = {a: ZERO for a in self.assets}
        self.accounts = {}
        for a in accounts:
            acct = self._new_account(a["id"], a["settle"])
            for asset, amt in a["collateral"]:
                acct["bal"][asset] = acct["bal"].get(asset, ZERO) + amt
                self.opening[asset] = self.opening.get(asset, ZERO) + amt
            for p in a["positions"]:
                pos = {"q": p["q"], "entry": p["entry"], "lev": p["leverage"],
                       "mode": p["mode"], "iso": p["isolated_margin"] or ZERO}
                acct["pos"][p["symbol"]] = pos
                acct["mode_set"][p["symbol"]] = p["mode"]
                if p["leverage"] is not None:
                    acct["lev_set"][p["symbol"]] = p["leverage"]
                if p["mode"] == "isolated":
                    self.opening[a["settle"]] = self.opening.get(a["settle"], ZERO) + pos["iso"]
        self.orders = {}            # id -> order
        self.chain_tips = {}
        self.chain_deposits = []    # dicts
        self.cap_used = {}          # (symbol, window) -> notional
        self.paused = {}            # symbol -> reasons string
        # Borrowing (docs/loans.md, "Borrowing"): terms per asset, loans (P, I) per
        # (account, asset), the lending pool's books per asset, the charged hour
        self.debt_default, self.debt_rates = self._parse_debt_policy(start.get("policy") or {})
        self.lending = {a: self._terms(t, None) for a, t in (doc.get("lending") or {}).items()}
        self.loans = {}
        self.lbooks = {}
        self.charged_hour = None
        self.events = []
        self.commands_applied = 0
        self.journal = []           # [{"cmd", "forced"}]: what a reorg replays
        self._current = None
        self._genesis_doc = {k: v for k, v in doc.items() if k != "commands"}

    # ------------------------------------------------------------------ helpers
    def _new_account(self, aid, settle):
        acct = {"id": aid, "settle": settle, "bal": {}, "pos": {}, "mode_set": {}, "lev_set": {},
                "proc": {}, "socialized": ZERO, "bad_debt": ZERO, "pending": []}
        acct["bal"][settle] = ZERO
        self.accounts[aid] = acct
        return acct

    def emit(self, typ, **kw):
        e = {"type": typ, "time": self.now}
        e.update(kw)
        self.events.append(e)

    def inst(self, sym):
        return self.instruments[sym]

    def mark(self, sym):
        return self.marks[sym][0]

    def pos_numbers(self, sym, pos):
        p = {"inst": self.inst(sym), "q": pos["q"], "entry": pos["entry"],
             "leverage": pos["lev"]}
        return ev.position_numbers(p, self.mark(sym))

    def asset_value(self, acct, asset, amt, pending=False):
        v = amt * self.assets[asset] / self.assets[acct["settle"]]
        if amt > 0:
            v *= 1 - self.haircuts.get(asset, ZERO)
        return v

    def collateral(self, acct):
        # a pending chain deposit is in the balance at what it counts (A19)
        return sum((self.asset_value(acct, a, v) for a, v in acct["bal"].items()), ZERO)

    def pools(self, acct):
        names = ["cross"]
        for sym, pos in acct["pos"].items():
            if pos["mode"] == "isolated":
                names.append("isolated:" + sym)
        return names

    def pool_positions(self, acct, pool):
        if pool == "cross":
            return [s for s, p in acct["pos"].items() if p["mode"] == "cross"]
        sym = pool.split(":", 1)[1]
        return [sym] if sym in acct["pos"] else []

    def pool_numbers(self, acct, pool):
        syms = self.pool_positions(acct, pool)
        nums = {s: self.pos_numbers(s, acct["pos"][s]) for s in syms}
        if pool == "cross":
            w = self.collateral(acct)
        else:
            w = acct["pos"][syms[0]]["iso"] if syms else ZERO
        upnl = sum((n["upnl"] for n in nums.values()), ZERO)
        mm = sum((n["mm"] for n in nums.values()), ZERO)
        im = sum((n["im"] for n in nums.values()), ZERO)
        debt = ZERO
        if pool == "cross":
            # docs/loans.md: a negative balance is debt and carries margin in the cross pool
            # (default debt rates: the engine's policy has no per-asset debt rates yet).
            for a, v in acct["bal"].items():
                if v < 0:
                    d = -self.asset_value(acct, a, v)
                    debt += d
                    rates = self.debt_rate(a)
                    mm += r18(d * rates["maintenance"])
                    im += r18(d * rates["initial"])
        return {"w": w, "equity": w + upnl, "upnl": upnl, "mm": mm, "im": im, "nums": nums,
                "syms": syms, "debt": debt}

    def pool_status(self, acct, pool):
        n = self.pool_numbers(acct, pool)
        return ev.pool_status(self.policy, n["equity"], n["mm"], bool(n["syms"]) or n["debt"] > 0)

    def account_status(self, acct):
        sts = [self.pool_status(acct, p) for p in self.pools(acct)]
        return max(sts, key=ev.STATUS_ORDER.index)

    def in_call(self, acct):
        return any(st.get("kind") in ("call", "liq") for st in acct["proc"].values())

    def order_margin(self, acct):
        m = ZERO
        for o in self.orders.values():
            if o["account"] == acct["id"] and not o["reduce_only"]:
                m += o["reserved"]
        return m

    # ------------------------------------------------------------------ commands
    def apply(self, cmd: dict, forced: bool = False):
        """Applies one command. `forced`: a withdrawal accepted in the original history,
        replayed after a reorganization (the coins left; it is not judged again)."""
        problem = self._range_problem(cmd)
        if problem is not None:
            # A36: refused by the range contract before the command runs: nothing changes,
            # not even the clock (no interest, no expiry, no due change)
            self.emit("rejected", code=1009, field=problem, reason="out of range")
            self.commands_applied += 1
            return
        entry = {"cmd": dict(cmd), "forced": forced}
        before = self.now
        if cmd.get("time") is not None:
            self.now = parse_time(cmd["time"])
        entry["cmd"]["time"] = self.now
        self.journal.append(entry)
        self._current = entry
        if self.now > before:
            self.expire(before)
        self.accrue_interest()
        self._apply_due_changes()
        typ = cmd.get("type")
        try:
            handler = getattr(self, "cmd_" + str(typ), None)
            if handler is None:
                raise Reject(1000, "type", f"unknown command {typ}")
            handler(cmd)
        except Reject as r:
            self.emit("rejected", code=r.code, field=r.field, reason=r.reason)
        self.commands_applied += 1
        self.after_command()

    def _account(self, cmd, field="account"):
        aid = cmd.get(field)
        if aid not in self.accounts:
            raise Reject(2000, field, f"unknown account {aid}")
        return self.accounts[aid]

    def _symbol(self, cmd):
        sym = cmd.get("symbol")
        if sym not in self.instruments:
            raise Reject(2000, "symbol", f"unknown symbol {sym}")
        return sym

    def _positive(self, cmd, field):
        v = dec(cmd.get(field))
        if v <= 0:
            raise Reject(2000, field, "must be > 0")
        return v

    def cmd_tick(self, cmd):
        pass

    def tradable(self, sym):
        """Orders and fills: options are refused (2012), an expired instrument too (2011)."""
        if sym in self.options:
            raise Reject(2012, "symbol", "options need a portfolio-margined account")
        if sym in self.expiry and self.now >= self.expiry[sym]:
            raise Reject(2011, "symbol", "expired")

    def expire(self, before):
        """Settles every instrument whose expiry lies in (before, now]: the index when its
        source time is within mark_staleness_ms before the expiry, else the mark (with neither:
        postponed, positions kept); resting
        orders cancelled, every position closed at that price without fee, a cross pool left
        flat and negative settled at once (collateral, fund, socialized loss, bad debt)."""
        for sym in self.instruments:
            exp = self.expiry.get(sym)
            if exp is None or not (before < exp <= self.now):
                continue
            src = self.index_src.get(sym)
            if src is not None and src <= exp and exp - src <= self.params["mark_staleness_ms"]:
                price = self.index[sym]
            else:
                price = self.marks[sym][0] if sym in self.marks else None
            for oid in [o for o, v in self.orders.items() if v["symbol"] == sym]:
                o = self.orders.pop(oid)
                self.emit("order_cancelled", account=o["account"], order=oid)
            if price is None:
                # No index and no mark: settlement is postponed until a settlement_price (not at
                # the entry price); positions stay (docs/scenarios.md "Expiry and settlement").
                self.emit("settlement_postponed", symbol=sym)
                continue
            for acct in self.accounts.values():
                pos = acct["pos"].get(sym)
                if pos is None:
                    continue
                realized = self.trade(acct, sym, -pos["q"], price)
                if acct.pop("deficit_check", False):
                    self.settle_negative_cross(acct)
                self.emit("settled", account=acct["id"], symbol=sym, realized_pnl=realized)
            self.emit("expired", symbol=sym, settlement_price=price)

    def cmd_mark(self, cmd):
        sym = self._symbol(cmd)
        price = self._positive(cmd, "price")
        st = parse_time(cmd["source_time"]) if cmd.get("source_time") is not None else self.now
        self.marks[sym] = [price, st]

    def cmd_index(self, cmd):
        sym = self._symbol(cmd)
        price = self._positive(cmd, "price")
        self.index[sym] = price
        self.index_hist.setdefault(sym, []).append((self.now, price))
        self.index_src[sym] = parse_time(cmd["source_time"]) if cmd.get("source_time") is not None else self.now

    def cmd_asset_price(self, cmd):
        a = cmd.get("asset")
        if a not in self.assets:
            raise Reject(2000, "asset", f"unknown asset {a}")
        self.assets[a] = self._positive(cmd, "price")

    def cmd_book(self, cmd):
        sym = self._symbol(cmd)
        self.books[sym] = {"bids": [[dec(p), dec(q)] for p, q in cmd.get("bids", [])],
                           "asks": [[dec(p), dec(q)] for p, q in cmd.get("asks", [])]}

    def cmd_deposit(self, cmd):
        asset = cmd.get("asset")
        if asset not in self.assets:
            raise Reject(2000, "asset", f"unknown asset {asset}")
        amount = self._positive(cmd, "amount")
        aid = cmd.get("account")
        if aid not in self.accounts:
            settle = cmd.get("settle") or asset
            self._new_account(aid, settle)
            self.emit("account_opened", account=aid, settle=settle)
        acct = self.accounts[aid]
        acct["bal"][asset] = acct["bal"].get(asset, ZERO) + amount
        self.deposited[asset] += amount
        self.emit("deposited", account=aid, asset=asset, amount=amount,
                  balance=acct["bal"][asset])

    def withdrawable_check(self, acct, asset, amount, from_iso=None):
        """The cross pool after taking `amount` of `asset` out: collateral plus unrealized
        LOSS only (never unrealized profit) must still cover IM plus open-order margin."""
        if self.in_call(acct):
            raise Reject(2005, "account", "the account is in a margin call")
        if not self._fits_initial_after(acct, asset, amount):
            raise Reject(2001, "amount", "would leave the cross pool below initial margin")

    def _fits_initial_after(self, acct, asset, amount):
        """The cross pool with `amount` of `asset` taken out (IM re-evaluated on the balances
        after, so a debt the withdrawal creates carries its initial rate — A37)."""
        old = acct["bal"].get(asset, ZERO)
        acct["bal"][asset] = old - amount
        try:
            n = self.pool_numbers(acct, "cross")
        finally:
            acct["bal"][asset] = old
        need = n["im"] + self.order_margin(acct)
        return n["w"] + min(ZERO, n["upnl"]) >= need

    def cmd_withdraw(self, cmd):
        acct = self._account(cmd)
        asset = cmd.get("asset")
        if asset not in self.assets:
            raise Reject(2000, "asset", f"unknown asset {asset}")
        amount = self._positive(cmd, "amount")
        if not self._current or not self._current["forced"]:
            unconfirmed = sum((d["counted"] for d in acct["pending"] if d["asset"] == asset),
                              ZERO)
            if self.holdings(acct, asset) - unconfirmed < amount:
                raise Reject(2006, "amount", "above the withdrawable balance")
            self.withdrawable_check(acct, asset, amount)
        if self._current:
            self._current["forced"] = True   # accepted: a replay keeps it
        acct["bal"][asset] = acct["bal"].get(asset, ZERO) - amount
        self.withdrawn[asset] += amount
        self.emit("withdrew", account=acct["id"], asset=asset, amount=amount,
                  balance=acct["bal"][asset])

    def cmd_funding(self, cmd):
        sym = self._symbol(cmd)
        rate = dec(cmd.get("rate"))
        inst = self.inst(sym)
        mark = self.mark(sym)
        for acct in list(self.accounts.values()):
            pos = acct["pos"].get(sym)
            if pos is None:
                continue
            if inst["inverse"]:
                signed_notional = pos["q"] * inst["cs"] / mark
            else:
                signed_notional = pos["q"] * inst["cs"] * mark
            payment = r18(-signed_notional * rate)
            if pos["mode"] == "isolated":
                pos["iso"] += payment
            else:
                acct["bal"][inst["settle"]] = acct["bal"].get(inst["settle"], ZERO) + payment
            self.emit("funding", account=acct["id"], symbol=sym, rate=rate, payment=payment)

    def _leverage_for(self, acct, sym, notional, pos=None):
        lev = pos["lev"] if pos is not None and pos.get("lev") is not None else \
            acct["lev_set"].get(sym)
        if lev is None:
            lev = ev.bracket_for(self.inst(sym)["brackets"], notional)["max_leverage"]
        return lev

    def trade(self, acct, sym, qty, price, fee=ZERO, keep=False):
        """Applies a fill of `qty` at `price` to the account's position; returns realized."""
        inst = self.inst(sym)
        settle = inst["settle"]
        pos = acct["pos"].get(sym)
        realized = ZERO
        old = pos["q"] if pos else ZERO
        new = old + qty
        if pos is not None and old * qty < 0:
            closed = min(abs(qty), abs(old))
            sign = 1 if old > 0 else -1
            if inst["inverse"]:
                realized = r18(sign * closed * inst["cs"] * (1 / pos["entry"] - 1 / price))
            else:
                realized = r18(sign * closed * inst["cs"] * (price - pos["entry"]))
        if pos is None:
            mode = acct["mode_set"].get(sym, "cross")
            pos = {"q": ZERO, "entry": price, "lev": acct["lev_set"].get(sym), "mode": mode,
                   "iso": ZERO}
            acct["pos"][sym] = pos
        if pos["mode"] == "isolated":
            pos["iso"] += realized
        else:
            acct["bal"][settle] = acct["bal"].get(settle, ZERO) + realized
        if fee:
            acct["bal"][settle] = acct["bal"].get(settle, ZERO) - fee
            self.fees[settle] = self.fees.get(settle, ZERO) + fee
        def im_of(q):    # A29: an isolated pool takes the IM of what opens, at the fill price
            def notional_of(x):
                return abs(x) * inst["cs"] * price if not inst["inverse"] else \
                    abs(x) * inst["cs"] / price
            # the contract's IM of what opens: leverage capped by the bracket of that notional
            cap = ev.bracket_for(inst["brackets"], notional_of(q))["max_leverage"]
            lev = min(self._leverage_for(acct, sym, notional_of(q), pos), cap)
            return r18(notional_of(q) / lev)

        if new == 0 and keep:
            pos["q"] = ZERO
        elif new == 0:
            self._close_position(acct, sym)
        elif old * new < 0 or old == 0:
            pos["q"] = new
            pos["entry"] = price
            if pos["mode"] == "isolated":
                # a flip keeps the IM of the new position, the rest goes back to the wallet
                margin = im_of(new)
                acct["bal"][settle] = acct["bal"].get(settle, ZERO) + pos["iso"] - margin
                pos["iso"] = margin
        elif abs(new) > abs(old):
            if pos["mode"] == "isolated":
                margin = im_of(qty)
                acct["bal"][settle] = acct["bal"].get(settle, ZERO) - margin
                pos["iso"] += margin
            if inst["inverse"]:
                # average entry on contract value: Q/avg = Q1/e1 + Q2/p
                pos["entry"] = r18(abs(new) / (abs(old) / pos["entry"] + abs(qty) / price))
            else:
                pos["entry"] = r18((old * pos["entry"] + qty * price) / new)
            pos["q"] = new
        else:
            pos["q"] = new
        return realized

    def _close_position(self, acct, sym):
        pos = acct["pos"].pop(sym)
        if pos["mode"] == "cross":
            acct["deficit_check"] = True
            acct["last_liquidated"] = sym   # the instrument a deficit is socialized in
        if pos["mode"] == "isolated":
            settle = self.inst(sym)["settle"]
            if pos["iso"] >= 0:
                acct["bal"][settle] = acct["bal"].get(settle, ZERO) + pos["iso"]
            else:
                self.cover_deficit(acct, "isolated:" + sym, sym, -pos["iso"], isolated=True)
        for oid in [o for o, v in self.orders.items()
                    if v["account"] == acct["id"] and v["symbol"] == sym and v["reduce_only"]]:
            del self.orders[oid]

    def cmd_fill(self, cmd):
        acct = self._account(cmd)
        sym = self._symbol(cmd)
        self.tradable(sym)
        qty = dec(cmd.get("quantity"))
        if qty == 0:
            raise Reject(2000, "quantity", "must not be 0")
        price = self._positive(cmd, "price")
        fee = dec(cmd.get("fee") or "0")
        pos = acct["pos"].get(sym)
        old = pos["q"] if pos else ZERO
        order = None
        if cmd.get("order_id") is not None:
            order = self.orders.get(cmd["order_id"])
            if order is None or order["account"] != acct["id"] or order["symbol"] != sym:
                raise Reject(2007, "order_id", "unknown order")
            if order["q"] * qty < 0:
                raise Reject(2007, "quantity", "does not match the order's side")
            # A26: a fill is the venue's fact; more than the order's rest consumes the order
        if order is not None and order["reduce_only"]:
            # never increases or flips: only what is left of the opposite position closes
            if old * qty < 0:
                qty = (1 if qty > 0 else -1) * min(abs(qty), abs(old))
            else:
                qty = ZERO
        new = old + qty
        excess = ZERO
        if self.in_call(acct) and (abs(new) > abs(old) or old * new < 0):
            # reduce-only while called: the closing part of the fill applies, the rest not
            if old * qty < 0:
                excess = abs(qty) - abs(old)
                fee = r18(fee * abs(old) / abs(qty))   # the fee of the part applied
                qty = -old
                new = ZERO
            else:
                raise Reject(2004, "quantity",
                             "the account is in a margin call: a fill may only reduce")
        if order is not None:
            filled = dec(cmd.get("quantity"))
            left = order["q"] - filled
            if left == 0 or left * order["q"] < 0:
                del self.orders[order["id"]]
            else:   # the reservation shrinks with the order
                order["reserved"] = r18(order["reserved"] * left / order["q"])
                order["q"] = left
        realized = ZERO
        if qty != 0:
            realized = self.trade(acct, sym, qty, price, fee)
        elif fee:
            settle = self.inst(sym)["settle"]
            acct["bal"][settle] -= fee
            self.fees[settle] += fee
        if order is not None and order["reduce_only"] and sym not in acct["pos"]:
            self.orders.pop(order["id"], None)
        self.emit("filled", account=acct["id"], symbol=sym, quantity=qty, price=price, fee=fee,
                  realized_pnl=realized,
                  position=acct["pos"][sym]["q"] if sym in acct["pos"] else ZERO)
        if excess:
            self.emit("rejected", code=2004, field="quantity",
                      reason="excess of the fill not applied: the account is in a margin call",
                      excess=excess)

    def cmd_place_order(self, cmd):
        acct = self._account(cmd)
        sym = self._symbol(cmd)
        self.tradable(sym)
        oid = cmd.get("id")
        if oid in self.orders:
            raise Reject(2008, "id", "duplicate order id")
        qty = dec(cmd.get("quantity"))
        if qty == 0:
            raise Reject(2000, "quantity", "must not be 0")
        price = self._positive(cmd, "price")
        ro = bool(cmd.get("reduce_only"))
        pos = acct["pos"].get(sym)
        old = pos["q"] if pos else ZERO
        if ro:
            resting = sum((o["q"] for o in self.orders.values()
                           if o["account"] == acct["id"] and o["symbol"] == sym
                           and o["reduce_only"]), ZERO)
            if old * qty >= 0 or abs(resting + qty) > abs(old):
                raise Reject(2009, "quantity", "a reduce-only order must reduce the position")
            reserved = ZERO
        else:
            inst = self.inst(sym)
            # an order that only closes (part of) the position needs no margin (A24)
            opening = abs(qty) if old * qty >= 0 else max(ZERO, abs(qty) - abs(old))
            if opening > 0 and self.in_call(acct):
                raise Reject(2004, "account", "the account is in a margin call")
            if opening > 0 and self.now - self.marks[sym][1] > self.params["mark_staleness_ms"]:
                # A25: no new risk on a stale mark
                raise Reject(2007, "symbol", "the mark is stale: risk-increasing orders are frozen")
            notional = opening * inst["cs"] * price if not inst["inverse"] else \
                opening * inst["cs"] / price
            after = abs(old + qty)
            total = after * inst["cs"] * price if not inst["inverse"] else \
                after * inst["cs"] / price
            # no leverage set: the maximum of the bracket of the position the order makes
            lev = self._leverage_for(acct, sym, total, pos)
            if opening > 0:
                # A32: the position the order would make must fit its bracket's leverage
                # (and no new position beyond the last cap: DESIGN, brackets)
                last = inst["brackets"][-1]
                if total >= last["cap"]:
                    raise Reject(2002, "quantity", "beyond the last bracket")
                if lev > ev.bracket_for(inst["brackets"], total)["max_leverage"]:
                    raise Reject(2002, "quantity", "leverage above the bracket's maximum")
            reserved = r18(notional / lev)
            n = self.pool_numbers(acct, "cross")
            if reserved > 0 and n["equity"] - n["im"] - self.order_margin(acct) < reserved:
                raise Reject(2001, "quantity", "insufficient margin")
        self.orders[oid] = {"id": oid, "account": acct["id"], "symbol": sym, "q": qty,
                            "price": price, "reduce_only": ro, "reserved": reserved}
        self.emit("order_accepted", account=acct["id"], order=oid, symbol=sym, quantity=qty,
                  price=price, reserved_margin=reserved)

    def cmd_cancel_order(self, cmd):
        oid = cmd.get("id")
        if oid not in self.orders:
            raise Reject(2007, "id", "unknown order")
        o = self.orders.pop(oid)
        self.emit("order_cancelled", account=o["account"], order=oid)

    def cmd_set_leverage(self, cmd):
        acct = self._account(cmd)
        sym = self._symbol(cmd)
        lev = self._positive(cmd, "leverage")
        pos = acct["pos"].get(sym)
        if pos is not None:
            n = self.pos_numbers(sym, pos)
            b = ev.bracket_for(self.inst(sym)["brackets"], n["notional"])
            if lev > b["max_leverage"]:
                raise Reject(2002, "leverage", "above the bracket's maximum")
            old = pos["lev"]
            pos["lev"] = lev
            # A30: a cross position's new IM must fit the cross pool; an isolated position
            # keeps its margin (the new leverage sizes what is added later)
            if pos["mode"] == "cross":
                pn = self.pool_numbers(acct, "cross")
                if pn["equity"] < pn["im"] + self.order_margin(acct):
                    pos["lev"] = old
                    raise Reject(2001, "leverage", "the pool cannot hold the initial margin")
        elif lev > self.inst(sym)["brackets"][0]["max_leverage"]:
            # A33: no position yet: above every bracket's maximum is refused
            raise Reject(2002, "leverage", "above the instrument's maximum leverage")
        acct["lev_set"][sym] = lev
        self.emit("leverage_set", account=acct["id"], symbol=sym, leverage=lev)

    def cmd_set_margin_mode(self, cmd):
        acct = self._account(cmd)
        sym = self._symbol(cmd)
        mode = cmd.get("mode")
        if mode not in ("cross", "isolated"):
            raise Reject(2000, "mode", "unknown mode")
        if sym in acct["pos"] or any(o["account"] == acct["id"] and o["symbol"] == sym
                                     for o in self.orders.values()):
            raise Reject(2010, "symbol", "cannot change margin mode with an open position")
        acct["mode_set"][sym] = mode
        self.emit("margin_mode_set", account=acct["id"], symbol=sym, mode=mode)

    def cmd_move_isolated_margin(self, cmd):
        acct = self._account(cmd)
        sym = self._symbol(cmd)
        amount = dec(cmd.get("amount"))
        pos = acct["pos"].get(sym)
        if pos is None or pos["mode"] != "isolated":
            raise Reject(2003, "symbol", "no isolated position")
        if amount == 0:
            raise Reject(2000, "amount", "must not be 0")
        settle = self.inst(sym)["settle"]
        if amount > 0:
            if acct["bal"].get(settle, ZERO) < amount:
                raise Reject(2006, "amount", "above the balance")
            # A23: margin into a pool (even one in a call) only has to leave the cross pool
            # able to hold its own initial margin; a called cross pool cannot give any
            if acct["proc"].get("cross", {}).get("kind") in ("call", "liq"):
                raise Reject(2005, "account", "the cross pool is in a margin call")
            n = self.pool_numbers(acct, "cross")
            w_after = n["w"] - self.asset_value(acct, settle, acct["bal"][settle]) \
                + self.asset_value(acct, settle, acct["bal"][settle] - amount)
            need = n["im"] + self.order_margin(acct)
            if w_after + min(ZERO, n["upnl"]) < need:
                raise Reject(2001, "amount", "would leave the cross pool below initial margin")
            acct["bal"][settle] -= amount
            pos["iso"] += amount
        else:
            n = self.pos_numbers(sym, pos)
            free = max(ZERO, pos["iso"] + min(ZERO, n["upnl"]) - n["im"])
            if self.in_call(acct) or -amount > free:
                raise Reject(2001, "amount", "above the isolated position's free margin")
            acct["bal"][settle] += -amount
            pos["iso"] += amount
        self.emit("isolated_margin_moved", account=acct["id"], symbol=sym, amount=amount,
                  isolated_margin=pos["iso"])

    def cmd_change_parameters(self, cmd):
        eff = parse_time(cmd["effective_time"]) if cmd.get("effective_time") is not None \
            else self.now
        change = {"brackets": cmd.get("brackets") or {}, "haircuts": cmd.get("haircuts") or {},
                  "parameters": cmd.get("parameters") or {}, "effective": eff,
                  # docs/loans.md: lending terms (partial, per asset) and debt margin rates
                  "lending": cmd.get("lending") or {},
                  "debt": {k: cmd[k] for k in ("debt_maintenance_rate", "debt_initial_rate",
                                               "debt_rates") if k in cmd}}
        for a in change["lending"]:
            if a not in self.assets:
                raise Reject(1004, f"lending.{a}", f"unknown asset {a}")
        for a in (change["debt"].get("debt_rates") or {}):
            if a not in self.assets:
                raise Reject(1004, f"debt_rates.{a}", f"unknown asset {a}")
        # validate brackets now (a bad change is rejected whole)
        for sym, br in change["brackets"].items():
            if sym not in self.instruments:
                raise Reject(2000, "brackets", f"unknown symbol {sym}")
            self._derive_brackets(br)
        self.emit("parameters_scheduled", effective_time=eff)
        self.pending_changes.append(change)
        self._apply_due_changes()

    def _derive_brackets(self, raw):
        doc = {"assets": {"X": "1"}, "instruments": [{"symbol": "T", "kind": "linear_perpetual",
               "base": "X", "settle": "X", "contract_size": "1", "brackets": raw}],
               "marks": {"T": "1"}, "accounts": []}
        try:
            return ev._parse(doc)[3]["T"]["brackets"]
        except ev.EvaluateError as e:
            raise Reject(2000, "brackets", str(e))

    def _apply_due_changes(self):
        due = [c for c in self.pending_changes if c["effective"] <= self.now]
        for c in due:
            self.pending_changes.remove(c)
            for sym, br in c["brackets"].items():
                self.instruments[sym]["brackets"] = self._derive_brackets(br)
            for a, h in c["haircuts"].items():
                self.haircuts[a] = dec(h)
            for a, t in c["lending"].items():
                self.lending[a] = self._terms(t, self.lending.get(a))
            dd = c["debt"]
            if dd.get("debt_maintenance_rate") is not None:
                self.debt_default["maintenance"] = dec(dd["debt_maintenance_rate"])
            if dd.get("debt_initial_rate") is not None:
                self.debt_default["initial"] = dec(dd["debt_initial_rate"])
            for a, r in (dd.get("debt_rates") or {}).items():
                mm = dec(r.get("maintenance"))
                self.debt_rates[a] = {"maintenance": mm,
                                      "initial": dec(r["initial"]) if r.get("initial") is not None
                                      else mm}
            for k, v in c["parameters"].items():
                if k in ("warning_ratio", "call_ratio", "restore_ratio"):
                    self.policy[k] = dec(v)
            self.params = parse_params({k: v for k, v in c["parameters"].items()
                                        if k not in ("warning_ratio", "call_ratio",
                                                     "restore_ratio")}, self.params)
            self.emit("parameters_applied")

    # chain deposits (docs/journal.md)
    def cmd_chain_deposit(self, cmd):
        asset = cmd.get("asset")
        if asset not in self.assets:
            raise Reject(2000, "asset", f"unknown asset {asset}")
        amount = self._positive(cmd, "amount")
        aid = cmd.get("account")
        key = (cmd.get("chain"), int(cmd.get("height")), cmd.get("block_hash"), aid, asset)
        if any((x["chain"], x["height"], x["hash"], x["account"], x["asset"]) == key
               for x in self.chain_deposits):
            raise Reject(1001, "block_hash", "deposit already recorded in that block")  # A22
        if aid not in self.accounts:
            settle = cmd.get("settle") or asset
            self._new_account(aid, settle)
            self.emit("account_opened", account=aid, settle=settle)
        acct = self.accounts[aid]
        d = {"account": aid, "asset": asset, "amount": amount, "chain": cmd.get("chain"),
             "height": int(cmd.get("height")), "hash": cmd.get("block_hash"), "final": False,
             "entry": self._current}
        h = self.params.get("unconfirmed_haircut")
        d["counted"] = ZERO if h is None else r18(amount * (1 - h))
        acct["bal"][asset] = acct["bal"].get(asset, ZERO) + d["counted"]
        self.deposited[asset] += d["counted"]
        self.chain_deposits.append(d)
        acct["pending"].append(d)
        self.emit("chain_deposit_seen", account=aid, amount=amount)
        self._finalize_chain(d["chain"])

    def cmd_chain_tip(self, cmd):
        self.chain_tips[cmd.get("chain")] = int(cmd.get("height"))
        self._finalize_chain(cmd.get("chain"))

    def _finalize_chain(self, chain):
        tip = self.chain_tips.get(chain)
        if tip is None:
            return
        for d in self.chain_deposits:
            if d["chain"] == chain and not d["final"] and \
                    tip - d["height"] + 1 >= self.params["finality_depth"]:
                d["final"] = True
                acct = self.accounts[d["account"]]
                acct["pending"].remove(d)
                rest = d["amount"] - d["counted"]
                acct["bal"][d["asset"]] = acct["bal"].get(d["asset"], ZERO) + rest
                self.deposited[d["asset"]] += rest
                self.emit("chain_deposit_final", account=d["account"], amount=d["amount"])

    def cmd_chain_reorg(self, cmd):
        """docs/journal.md: orphaned deposits are removed from the journal (each becomes a
        tick at its time), the engine rolls back and replays up to the notice, then goes on.
        Withdrawals accepted in the original history stay made (C01)."""
        chain = cmd.get("chain")
        fork = int(cmd.get("fork_height"))
        new = {int(k): v for k, v in (cmd.get("new_hashes") or {}).items()}
        orphaned = [d for d in self.chain_deposits
                    if d["chain"] == chain and d["height"] >= fork
                    and new.get(d["height"]) != d["hash"]]
        if orphaned:
            for d in orphaned:
                e = d["entry"]
                e["cmd"] = {"time": e["cmd"]["time"], "type": "tick"}
            history = self.journal[:-1]
            current = self._current
            replay = Engine(self._genesis_doc)
            replay.genesis()
            for e in history:
                replay.apply(e["cmd"], forced=e["forced"])
            # journal.md: "a withdrawal only the replay made (it never happened) is undone"
            # (at the notice: credited back, out of `withdrawn`)
            for e, r in zip(history, replay.journal):
                c = e["cmd"]
                if c.get("type") == "withdraw" and not e["forced"] and r["forced"] \
                        and c.get("account") in replay.accounts:
                    amt = dec(c.get("amount"))
                    ra = replay.accounts[c["account"]]
                    ra["bal"][c["asset"]] = ra["bal"].get(c["asset"], ZERO) + amt
                    replay.withdrawn[c["asset"]] -= amt
                    r["forced"] = False
            kept_events = self.events
            self.__dict__.update({k: v for k, v in replay.__dict__.items()})
            # the replayed journal (its entries are what the deposits now point to) plus
            # this notice
            self.events, self.journal, self._current = kept_events, replay.journal + [current], \
                current
            self.now = current["cmd"]["time"]
        # A20: the new chain reaches its last named hash, or the block before the fork when
        # it names none (finality is judged at the next chain_deposit or chain_tip)
        top = max(new) if new else fork - 1
        self.chain_tips[chain] = max(self.chain_tips.get(chain, top), top)
        for d in orphaned:   # (an account only an orphaned deposit opened never existed)
            if d["account"] in self.accounts:
                self.accounts[d["account"]]["deficit_check"] = True
        for d in orphaned:
            self.emit("chain_deposit_orphaned", account=d["account"], amount=d["amount"],
                      was_final=d["final"])
        self.emit("chain_reorganized", chain=chain, fork_height=fork,
                  orphaned_deposits=len(orphaned))

    # ------------------------------------------------------------------ procedure
    def genesis(self):
        """The starting book is a state at `start.time`: its pools enter the procedure then
        (a call opened here has its deadline counted from the start time); the waterfall
        first runs with the first command. Genesis transitions print no events."""
        self.update_pauses()
        for acct in self.accounts.values():
            for pool in self.pools(acct):
                self.update_pool(acct, pool)
        self.events = []

    def after_command(self):
        self.update_pauses()
        for acct in list(self.accounts.values()):
            for pool in self.pools(acct):
                self.update_pool(acct, pool)
            for pool in list(acct["proc"]):
                if pool not in self.pools(acct):
                    acct["proc"].pop(pool)
        self.run_waterfall()
        # step 6 outside a liquidation: a cross pool just left flat by the holder's own fill,
        # or a deficit a reorganization uncovered (A31); a wallet that went negative only
        # because an isolated pool took its margin is not a deficit of a flat pool
        for acct in list(self.accounts.values()):
            if acct.pop("deficit_check", False):
                self.settle_negative_cross(acct, socialize=False)   # D10: not a liquidation

    def update_pauses(self):
        p = self.params
        for sym in self.instruments:
            reasons = []
            mark, mtime = self.marks[sym]
            if self.now - mtime > p["mark_staleness_ms"]:
                reasons.append("stale_mark")
            idx = self.index.get(sym)
            if idx is not None and p["oracle_divergence_limit"] is not None:
                if abs(mark - idx) > p["oracle_divergence_limit"] * idx:
                    reasons.append("oracle_divergence")
            hist = self.index_hist.get(sym, [])
            if idx is not None and p["index_move_limit"] is not None:
                for t, old in hist:
                    if self.now - t <= p["index_move_window_ms"] and \
                            abs(idx - old) > p["index_move_limit"] * old:
                        reasons.append("index_move")
                        break
            r = ",".join(reasons)
            prev = self.paused.get(sym, "")
            if r and r != prev:
                self.emit("liquidations_paused", symbol=sym, reasons=r)
            if not r and prev:
                self.emit("liquidations_resumed", symbol=sym, previous_reasons=prev)
            self.paused[sym] = r

    def pool_event(self, typ, acct, pool, **kw):
        n = self.pool_numbers(acct, pool)
        self.emit(typ, account=acct["id"], pool=pool, equity=n["equity"],
                  maintenance_margin=n["mm"], **kw)

    def update_pool(self, acct, pool):
        n = self.pool_numbers(acct, pool)
        st = acct["proc"].setdefault(pool, {"kind": "normal"})
        pol = self.policy
        eq, mm = n["equity"], n["mm"]
        if not n["syms"] and not (pool == "cross" and self._live_debts(acct)
                                  and not self._worthless_debt(acct, pool, n)):
            if st["kind"] == "liq":
                self.pool_event("liquidation_ended", acct, pool, reason="no positions left")
            acct["proc"][pool] = {"kind": "normal"}
            return
        if st["kind"] == "liq":
            if st["reason"] == "margin_call_deadline_passed":
                if eq > 0 and mm <= pol["restore_ratio"] * eq:
                    self.pool_event("liquidation_ended", acct, pool, reason="call cured")
                    acct["proc"][pool] = {"kind": "normal"}
                    self._enter_zone(acct, pool, n)
            elif eq > 0 and mm < eq:
                self.pool_event("liquidation_ended", acct, pool,
                                reason="pool back above maintenance")
                acct["proc"][pool] = {"kind": "normal"}
                self._enter_zone(acct, pool, n)
            return
        if eq <= 0 or mm >= eq:
            self._start_liq(acct, pool, "equity_not_positive" if eq <= 0 else
                            "ratio_at_or_above_1")
            return
        if st["kind"] == "call":
            if mm <= pol["restore_ratio"] * eq:
                self.pool_event("margin_call_cured", acct, pool)
                acct["proc"][pool] = {"kind": "normal"}
                self._enter_zone(acct, pool, n, after_cure=True)
            elif self.now > st["deadline"]:
                self._start_liq(acct, pool, "margin_call_deadline_passed")
            return
        self._enter_zone(acct, pool, n)

    def _enter_zone(self, acct, pool, n, after_cure=False):
        pol = self.policy
        eq, mm = n["equity"], n["mm"]
        st = acct["proc"][pool]
        if eq > 0 and mm >= pol["call_ratio"] * eq and not after_cure:
            call = max(ZERO, up18(mm / pol["restore_ratio"] - eq))
            deadline = self.now + self.params["grace_period_ms"]
            acct["proc"][pool] = {"kind": "call", "deadline": deadline}
            self.pool_event("margin_call", acct, pool, call_amount=call, deadline=deadline)
        elif eq > 0 and mm >= pol["warning_ratio"] * eq:
            if st["kind"] != "warning":
                acct["proc"][pool] = {"kind": "warning"}
                if not after_cure:
                    self.pool_event("margin_warning", acct, pool)
        elif st["kind"] == "warning":
            if mm < (pol["warning_ratio"] - self.params["hysteresis"]) * eq:
                acct["proc"][pool] = {"kind": "normal"}
                self.pool_event("warning_cleared", acct, pool)

    def _start_liq(self, acct, pool, reason):
        acct["proc"][pool] = {"kind": "liq", "reason": reason}
        self.pool_event("liquidation_started", acct, pool, reason=reason)

    # ------------------------------------------------------------------ waterfall
    def run_waterfall(self):
        steps = 0
        waiting = set()
        while steps < self.params["liquidation_steps_per_command"]:
            # worst ACCOUNT first (A8): an account ranks by its worst liquidating pool
            # (waiting pools count); within it, its worst pool that can progress
            cands = []
            for k, acct in enumerate(self.accounts.values()):
                keys = {}
                for pool, st in acct["proc"].items():
                    if st.get("kind") != "liq":
                        continue
                    n = self.pool_numbers(acct, pool)
                    if not n["syms"] and not (pool == "cross" and self._live_debts(acct)
                                              and not self._worthless_debt(acct, pool, n)):
                        continue
                    if n["equity"] <= 0:
                        keys[pool] = (0, n["equity"])
                    else:
                        keys[pool] = (1, -(n["mm"] / n["equity"]))
                if not keys:
                    continue
                account_key = min(keys.values())
                for pool, key in keys.items():
                    if (acct["id"], pool) not in waiting:
                        cands.append(((account_key, k, key), acct, pool))
            if not cands:
                return
            cands.sort(key=lambda c: c[0])
            _, acct, pool = cands[0]
            if not self.liquidation_step(acct, pool):
                waiting.add((acct["id"], pool))
                continue
            steps += 1
            # every account is re-evaluated after a step (socialized loss, ADL and the
            # fund move other accounts too)
            for other in list(self.accounts.values()):
                for opool in self.pools(other):
                    self.update_pool(other, opool)
                for opool in list(other["proc"]):
                    if opool not in self.pools(other):
                        other["proc"].pop(opool)

    def liquidation_step(self, acct, pool) -> bool:
        # 1. cancel the account's open orders (every step: orders placed since go too)
        mine = [o for o, v in self.orders.items() if v["account"] == acct["id"]]
        if mine:
            for o in mine:
                del self.orders[o]
            self.emit("orders_cancelled_for_liquidation", account=acct["id"], orders=len(mine))
            self.update_pool(acct, pool)
            if acct["proc"].get(pool, {}).get("kind") != "liq":
                return True
        n = self.pool_numbers(acct, pool)
        if pool == "cross" and not n["syms"]:
            # docs/loans.md: a loan without positions
            if not self._loan_step(acct, n["equity"] <= 0):
                # loans.md step 5: the existing waterfall (fund, socialized loss, bad debt)
                self.settle_negative_cross(acct)
            self.update_pool(acct, pool)
            return True
        # riskiest position: largest MM (ties: first in symbol order)
        sym = max(sorted(n["syms"]), key=lambda s: n["nums"][s]["mm"])
        if self.paused.get(sym):
            return False
        pos = acct["pos"][sym]
        inst = self.inst(sym)
        num = n["nums"][sym]
        bidx = inst["brackets"].index(ev.bracket_for(inst["brackets"], num["notional"]))
        absq = abs(pos["q"])
        if bidx == 0 or n["equity"] <= 0:
            qty = absq
        else:
            qty = min(absq, ceil_lot(absq * self.params["liquidation_step_fraction"]))
        # throttle
        cap = self.params["liquidation_notional_cap"]
        if cap is not None:
            window = self.now // self.params["liquidation_cap_interval_ms"]
            used = self.cap_used.get((sym, window), ZERO)
            room = cap - used
            per_unit = num["notional"] / absq
            if room <= 0:
                self.emit("liquidation_throttled", account=acct["id"], symbol=sym,
                          reason="notional cap")
                return False
            if qty * per_unit > room:
                qty = floor_lot(room / per_unit)
                if qty <= 0:
                    return False
        return self.execute(acct, pool, sym, qty, n)

    def bankruptcy(self, acct, pool, sym, n):
        pos = acct["pos"][sym]
        p = {"inst": self.inst(sym), "q": pos["q"], "entry": pos["entry"]}
        uo = n["upnl"] - n["nums"][sym]["upnl"]
        pb = ev.bankruptcy_price(p, n["w"], uo)
        return None if pb is None else r18(pb)

    def execute(self, acct, pool, sym, qty, n) -> bool:
        pos = acct["pos"][sym]
        inst = self.inst(sym)
        settle = inst["settle"]
        cs = inst["cs"]
        s = 1 if pos["q"] > 0 else -1
        pb = self.bankruptcy(acct, pool, sym, n)
        if pb is None:      # A27: no positive bankruptcy price: the mark stands in for it
            pb = self.mark(sym)
        p = self.params
        fills = []      # (qty, price, executor)
        rem = qty
        fund_start = self.fund.get(settle, ZERO)
        deficit = ZERO

        def unit_loss(price):  # loss per contract vs the bankruptcy price (>0: worse)
            if pb is None:
                return ZERO if s > 0 else ONE
            if inst["inverse"]:
                return s * cs * (1 / price - 1 / pb)
            return s * cs * (pb - price)

        book_side = None
        lo = hi = None
        fund_dry = False
        limited = p["adl"] or p["backstop"] or p["execution"] == "backstop"
        if p["execution"] != "backstop":
            book = self.books.get(sym)
            book_side = (book["bids"] if s > 0 else book["asks"]) if book else []
            center = self.index.get(sym, self.mark(sym))
            lo, hi = center * (1 - p["price_band"]), center * (1 + p["price_band"])
            for level in book_side:
                if rem == 0 or fund_dry:
                    break
                price, avail = level
                if avail <= 0 or price < lo or price > hi:
                    continue
                take = min(avail, rem)
                d = unit_loss(price)
                if d > 0 and limited:
                    # the quotient rounded once (18 digits), then down to a lot
                    maxq = floor_lot(r18((fund_start - deficit) / d))
                    if maxq < take:
                        take, fund_dry = maxq, True
                    deficit += take * d
                if take > 0:
                    fills.append((take, price, "depth"))
                    level[1] -= take
                    rem -= take
        # book the fills in the order they happen: the walk, then ADL, then the rest
        notional = ZERO

        def book(batch):
            nonlocal notional
            for q, price, who in batch:
                realized = self.trade(acct, sym, -s * q, price, keep=True)
                self.emit("liquidation_fill", account=acct["id"], symbol=sym, quantity=-s * q,
                          price=price, executor=who, bankruptcy_price=pb, realized_pnl=realized)
                # each product/quotient rounded once (docs/evaluate.md, Arithmetic)
                notional += r18(q * cs * price) if not inst["inverse"] else r18(q * cs / price)

        book(fills)
        took = bool(fills)
        fills = []
        adl_fills = []
        # the rest of a fill the fund cannot pay goes to ADL at the bankruptcy price
        if rem > 0 and fund_dry and p["adl"] and pb is not None:
            rem = self.adl(acct, sym, s, rem, pb, adl_fills)
        # the backstop (when enabled, or as the executor) takes what remains
        if rem > 0 and pb is not None and (p["backstop"] or p["execution"] == "backstop"):
            fills.append((rem, pb, "backstop"))
            rem = ZERO
        # neither: the book is walked on, the pool bears the loss (step 6 covers it)
        if rem > 0 and fund_dry and book_side:
            for level in book_side:
                if rem == 0:
                    break
                price, avail = level
                if avail <= 0 or price < lo or price > hi:
                    continue
                take = min(avail, rem)
                fills.append((take, price, "depth_after_adl"))
                level[1] -= take
                rem -= take
        if not took and not fills and not adl_fills:
            self.emit("liquidation_throttled", account=acct["id"], symbol=sym,
                      reason="no liquidity within the price band")
            return False
        book(fills)
        if pool == "cross":
            # A39: the instrument a cross deficit is socialized in is that of the last
            # CROSS position liquidated (an isolated pool's liquidation never leaves a
            # deficit in the cross pool)
            acct["last_liquidated"] = sym
        # fee out of the pool's own surplus only
        if notional > 0:
            fee = r18(p["liquidation_fee_rate"] * notional)
            surplus = self._pool_surplus(acct, pool, sym, settle)
            fee = min(fee, max(ZERO, surplus))
            if fee > 0:
                self._credit_pool(acct, pool, sym, settle, -fee)
                self.fund[settle] = self.fund.get(settle, ZERO) + fee
                self.emit("insurance_fund_contribution", account=acct["id"], amount=fee,
                          fund=self.fund[settle])
        if p["liquidation_notional_cap"] is not None:
            window = self.now // p["liquidation_cap_interval_ms"]
            self.cap_used[(sym, window)] = self.cap_used.get((sym, window), ZERO) + notional
        # a position closed whole: gone (an isolated pool's margin back / deficit covered)
        if sym in acct["pos"] and acct["pos"][sym]["q"] == 0:
            self._close_position(acct, sym)
            # step 6 at once for a cross pool left with no positions
            if pool == "cross" and not self.pool_positions(acct, "cross"):
                self.settle_negative_cross(acct)
        return True

    def _pool_surplus(self, acct, pool, sym, settle):
        return self.pool_numbers(acct, pool)["equity"]

    def _credit_pool(self, acct, pool, sym, settle, amount):
        if pool == "cross":
            acct["bal"][settle] = acct["bal"].get(settle, ZERO) + amount
        else:
            acct["pos"][sym]["iso"] += amount

    def adl(self, acct, sym, s, rem, pb, out):
        inst = self.inst(sym)
        ranked = []
        for k, other in enumerate(self.accounts.values()):
            if other is acct:
                continue
            op = other["pos"].get(sym)
            if op is None or op["q"] * s >= 0:
                continue
            pool = "cross" if op["mode"] == "cross" else "isolated:" + sym
            on = self.pool_numbers(other, pool)
            num = on["nums"][sym]
            if inst["inverse"]:
                cost = abs(op["q"]) * inst["cs"] / op["entry"]
            else:
                cost = abs(op["q"]) * inst["cs"] * op["entry"]
            pnl_pct = num["upnl"] / cost
            if on["equity"] <= 0:
                continue        # A9: a bankrupt pool is no counterparty
            lev = num["notional"] / on["equity"]
            rank = pnl_pct * lev if pnl_pct > 0 else (pnl_pct / lev if lev else pnl_pct)
            ranked.append((-rank, k, other))
        ranked.sort(key=lambda r: (r[0], r[1]))
        flat = []
        for _, _, other in ranked:
            if rem == 0:
                break
            op = other["pos"][sym]
            q = min(rem, abs(op["q"]))
            self.trade(acct, sym, -s * q, pb, keep=True)     # the bankrupt side first
            realized = self.trade(other, sym, s * q, pb)
            if op["mode"] == "isolated" and sym in other["pos"] and other["pos"][sym]["q"] == 0:
                self._close_position(other, sym)
            if other.pop("deficit_check", False) and not self.pool_positions(other, "cross"):
                self.settle_negative_cross(other, socialize=False)   # D10b: ADL, not a liquidation
            self.emit("auto_deleveraged", account=other["id"], symbol=sym, quantity=s * q,
                      price=pb, bankrupt_account=acct["id"], realized_pnl=realized)
            out.append((q, other["id"]))
            rem -= q
        # counterparties ADL left flat in deficit: step 6 for them once the batch is done
        for other in flat:
            self.settle_negative_cross(other, socialize=False)   # D10b: ADL, not a liquidation
        return rem

    # ------------------------------------------------------------------ loans (docs/loans.md)
    LOAN_CLOSE_FACTOR = F(1, 2)
    LOAN_PENALTY = F(5, 100)

    def _worthless_debt(self, acct, pool, n):
        """loans.md, Engine: a pool without positions whose live debt is worth nothing in the
        settle asset (MM = equity = 0, not liquidatable) is left alone (attack 23)."""
        return n["mm"] == 0 and n["equity"] == 0 \
            and self.pool_status(acct, pool) not in ("liquidatable", "bankrupt")

    def _live_debts(self, acct):
        """Debt not yet written off, per asset (units > 0)."""
        out = []
        open_debt = acct.get("open_debt", {})
        for asset, v in acct["bal"].items():
            if v < 0:
                owed = -v - (open_debt.get(asset, ZERO) if asset == acct["settle"] else ZERO)
                if owed > 0:
                    out.append((asset, owed))
        return out

    def _loan_step(self, acct, bankrupt) -> bool:
        """Sell collateral to repay the largest debt: the close factor (all when bankrupt),
        at the collateral price less the penalty (to the fund in the collateral asset)."""
        # loans.md: holdings repay loans (1) at the start of every loan-liquidation step,
        # every loan asset in index order
        self._repay_all_from_holdings(acct)
        debts = self._live_debts(acct)
        if not debts:
            return False
        ps = self.assets[acct["settle"]]
        val = lambda a, x: x * self.assets[a] / ps
        debt = debts[0]
        for d in debts[1:]:
            if val(*d) > val(*debt):
                debt = d
        coll = None
        for a, v in acct["bal"].items():
            if v > 0 and a != debt[0] and (coll is None or val(a, v) > val(*coll)):
                coll = (a, v)
        if coll is None:
            # docs/loans.md: the loan's part first (fund, then written off against the pool)
            self._write_off_loan(acct, debt[0])
            if debt[0] == acct["settle"]:
                return False
            rest = -acct["bal"][debt[0]]
            if rest > 0:
                self.cover_deficit(acct, "cross", None, rest, asset=debt[0])
                acct["bal"][debt[0]] += rest
            return True
        target = debt[1] if bankrupt else min(debt[1], ceil_lot(debt[1] * self.LOAN_CLOSE_FACTOR))
        if target == 0:
            target = debt[1]
        pc, pd = self.assets[coll[0]], self.assets[debt[0]]
        disc = r18(pc * (1 - self.LOAN_PENALTY))
        seized = min(coll[1], up18(up18(target * pd) / disc))
        penalty = r18(seized * self.LOAN_PENALTY)
        sold = seized - penalty
        repaid = floor18(floor18(sold * pc) / pd)
        acct["bal"][coll[0]] -= seized
        self.fund[coll[0]] = self.fund.get(coll[0], ZERO) + penalty
        acct["bal"][debt[0]] += repaid
        self._repay_from_holdings(acct, debt[0])
        self.emit("collateral_converted", account=acct["id"], asset=coll[0], sold=seized,
                  proceeds=repaid, reason="loan_liquidation")
        return True


    # ------------------------------------------------------------------ borrowing
    # docs/loans.md, "Borrowing: borrow, repay, interest, limits and the lending pool".
    HOUR_MS = 3_600_000
    MAX_OWED = F(10 ** 18)

    def _range_problem(self, cmd):
        """docs/loans.md and docs/range-contract.md: the bounds of the lending commands and
        of a change's lending terms (rate per hour ≤ 0.01, per year ≤ 100; supply and caps in
        [0, 10^15]), checked on the terms the change would make."""
        typ = cmd.get("type")
        big = F(10 ** 15)
        if typ in ("borrow", "repay"):
            try:
                if abs(dec(cmd.get("amount"))) > big:
                    return "amount"
            except (ValueError, TypeError):
                return None
        if typ == "change_parameters":
            for a, raw in (cmd.get("lending") or {}).items():
                if a not in self.assets or not isinstance(raw, dict):
                    continue
                t = self._terms(raw, self.lending.get(a))
                limit = F(100) if t["per"] == "year" else F(1, 100)
                if t["rate"] < 0 or t["rate"] > limit:
                    return f"lending.{a}.rate"
                for k in ("supply", "borrow_cap", "account_borrow_cap"):
                    if t[k] is not None and (t[k] < 0 or t[k] > big):
                        return f"lending.{a}.{k}"
            # debt rates: each in [0, 1], initial ≥ maintenance on the rates the change makes
            # (the start policy raises a missing initial; a change is refused — A40)
            try:
                mm = dec(cmd["debt_maintenance_rate"]) if cmd.get("debt_maintenance_rate") \
                    is not None else self.debt_default["maintenance"]
                im = dec(cmd["debt_initial_rate"]) if cmd.get("debt_initial_rate") \
                    is not None else self.debt_default["initial"]
            except (ValueError, TypeError, ZeroDivisionError):
                return None
            for k, v in (("debt_maintenance_rate", mm), ("debt_initial_rate", im)):
                if v < 0 or v > 1:
                    return k
            if im < mm:
                return "debt_initial_rate"
            for a, r in (cmd.get("debt_rates") or {}).items():
                if not isinstance(r, dict):
                    continue
                rm = dec(r.get("maintenance", "0"))
                ri = dec(r["initial"]) if r.get("initial") is not None else rm
                if not (0 <= rm <= 1 and 0 <= ri <= 1) or ri < rm:
                    return f"debt_rates.{a}"
        return None

    @staticmethod
    def _parse_debt_policy(pol):
        default = dict(ev.DEFAULT_DEBT_RATES)
        if pol.get("debt_maintenance_rate") is not None:
            default["maintenance"] = dec(pol["debt_maintenance_rate"])
        if pol.get("debt_initial_rate") is not None:
            default["initial"] = dec(pol["debt_initial_rate"])
        else:   # raised to the maintenance rate when only that is given
            default["initial"] = max(default["initial"], default["maintenance"])
        rates = {}
        for a, r in (pol.get("debt_rates") or {}).items():
            mm = dec(r.get("maintenance"))
            rates[a] = {"maintenance": mm,
                        "initial": dec(r["initial"]) if r.get("initial") is not None else mm}
        return default, rates

    def debt_rate(self, asset):
        return self.debt_rates.get(asset, self.debt_default)

    @staticmethod
    def _terms(raw, base):
        t = dict(base) if base else {"rate": ZERO, "per": "hour", "compounding": "simple",
                                     "supply": None, "borrow_cap": None,
                                     "account_borrow_cap": None}
        for k, v in (raw or {}).items():
            if k in ("rate",):
                t[k] = dec(v)
            elif k in ("supply", "borrow_cap", "account_borrow_cap"):
                t[k] = None if v is None else dec(v)
            elif k in ("per", "compounding"):
                t[k] = v
        return t

    def holdings(self, acct, asset):
        """h = b + P + I: the balance is net of the loan."""
        P, I = self.loans.get((acct["id"], asset), (ZERO, ZERO))
        return acct["bal"].get(asset, ZERO) + P + I

    def _book(self, asset):
        if asset not in self.lbooks:
            self.lbooks[asset] = {k: ZERO for k in (
                "principal_outstanding", "interest_outstanding", "borrowed", "principal_repaid",
                "interest_accrued", "interest_repaid", "principal_written_off",
                "interest_written_off")}
        return self.lbooks[asset]

    def available(self, asset):
        t = self.lending.get(asset)
        if t is None or t["supply"] is None:
            return None
        b = self.lbooks.get(asset) or dict.fromkeys(
            ("interest_repaid", "principal_outstanding", "principal_written_off"), ZERO)
        return t["supply"] + b["interest_repaid"] - b["principal_outstanding"] \
            - b["principal_written_off"]

    def hourly_interest(self, t, x):
        """⌈x·rate⌉ per hour, ⌈x·rate/8760⌉ per year (the exact quotient rounded once)."""
        if t["per"] == "year":
            return up18(x * t["rate"] / 8760)
        return up18(x * t["rate"])

    def _loan_order(self):
        aidx = {a: k for k, a in enumerate(self.accounts)}
        sidx = {a: k for k, a in enumerate(self.assets)}
        return sorted(self.loans, key=lambda k: (aidx.get(k[0], 1 << 30), sidx.get(k[1], 1 << 30)))

    def accrue_interest(self):
        """Before every command: n = hour(now) − H hour starts charged to every loan."""
        if self.charged_hour is None:
            return
        h = self.now // self.HOUR_MS
        n = h - self.charged_hour
        if n <= 0:
            return
        self.charged_hour = h
        # docs/loans.md, Interest: an hour start h with h·3,600,000 < T is charged under the
        # terms before a due pending change effective at T, later ones under the terms after it.
        terms, start = dict(self.lending), h - n
        for c in sorted((c for c in self.pending_changes if c["effective"] <= self.now),
                        key=lambda c: c["effective"]):
            last = min(h, (c["effective"] - 1) // self.HOUR_MS)
            if last > start:
                self._accrue_segment(last - start, terms)
                start = last
            for a, raw in c["lending"].items():
                terms[a] = self._terms(raw, terms.get(a))
        if h > start:
            self._accrue_segment(h - start, terms)

    def _accrue_segment(self, n, terms):
        for key in self._loan_order():
            aid, asset = key
            P, I = self.loans[key]
            t = terms.get(asset)
            if t is None:
                continue
            if t["compounding"] == "compound":
                rh = t["rate"] if t["per"] != "year" else up18(t["rate"] / 8760)
                if n == 1:
                    i = up18((P + I) * rh)
                else:
                    result, base, k = ONE, 1 + rh, n
                    while k > 0:
                        if k & 1:
                            result = up18(result * base)
                        k >>= 1
                        if k > 0:
                            base = up18(base * base)
                    i = up18((P + I) * result) - (P + I)
            else:
                i = n * self.hourly_interest(t, P)
            i = max(ZERO, min(i, self.MAX_OWED - (P + I)))
            if i <= 0:
                continue
            self.loans[key] = [P, I + i]
            acct = self.accounts[aid]
            acct["bal"][asset] = acct["bal"].get(asset, ZERO) - i
            b = self._book(asset)
            b["interest_outstanding"] += i
            b["interest_accrued"] += i
            self.emit("interest_charged", account=aid, asset=asset, hours=n, amount=i,
                      principal=P, interest=I + i, balance=acct["bal"][asset])

    def cmd_borrow(self, cmd):
        amount = dec(cmd.get("amount"))
        if abs(amount) > F(10 ** 15):
            raise Reject(1009, "amount", "out of range")
        acct = self._account(cmd)
        asset = cmd.get("asset")
        if asset not in self.assets:
            raise Reject(1004, "asset", f"unknown asset {asset}")
        if amount <= 0:
            raise Reject(1001, "amount", "must be > 0")
        t = self.lending.get(asset)
        if t is None:
            raise Reject(2013, "asset", "borrowing not offered")
        if self.in_call(acct):
            raise Reject(2014, "account", "in a margin call")
        P, I = self.loans.get((acct["id"], asset), (ZERO, ZERO))
        total = sum((v[0] for k, v in self.loans.items() if k[1] == asset), ZERO)
        if t["borrow_cap"] is not None and total + amount > t["borrow_cap"]:
            raise Reject(2015, "amount", "above the borrow cap")
        if t["account_borrow_cap"] is not None and P + amount > t["account_borrow_cap"]:
            raise Reject(2015, "amount", "above the account's borrow cap")
        avail = self.available(asset)
        if avail is not None and avail - amount < 0:
            raise Reject(2016, "amount", "insufficient liquidity")
        first = self.hourly_interest(t, amount)
        # the initial requirement without the borrowed funds (the withdrawal check of amount)
        if not self._fits_initial_after(acct, asset, amount + first):
            raise Reject(2001, "amount", "insufficient margin")
        acct["bal"][asset] = acct["bal"].get(asset, ZERO) - first
        self.loans[(acct["id"], asset)] = [P + amount, I + first]
        b = self._book(asset)
        b["principal_outstanding"] += amount
        b["borrowed"] += amount
        b["interest_outstanding"] += first
        b["interest_accrued"] += first
        if self.charged_hour is None:
            self.charged_hour = self.now // self.HOUR_MS
        self.emit("borrowed", account=acct["id"], asset=asset, amount=amount,
                  interest_charged=first, principal=P + amount, interest=I + first,
                  balance=acct["bal"][asset], available_liquidity=self.available(asset))

    def cmd_repay(self, cmd):
        amount = dec(cmd.get("amount"))
        if abs(amount) > F(10 ** 15):
            raise Reject(1009, "amount", "out of range")
        acct = self._account(cmd)
        asset = cmd.get("asset")
        if asset not in self.assets:
            raise Reject(1004, "asset", f"unknown asset {asset}")
        if amount <= 0:
            raise Reject(1001, "amount", "must be > 0")
        P, I = self.loans.get((acct["id"], asset), (ZERO, ZERO))
        if amount > P + I:
            raise Reject(2017, "amount", "above the debt")
        unconfirmed = sum((d["counted"] for d in acct["pending"] if d["asset"] == asset), ZERO)
        if self.holdings(acct, asset) - unconfirmed < amount:
            raise Reject(2006, "amount", "above the balance")
        self._repay(acct, asset, amount, "repay")

    def _repay(self, acct, asset, amount, reason):
        """Interest first, then principal; the net balance does not change."""
        key = (acct["id"], asset)
        P, I = self.loans[key]
        to_i = min(amount, I)
        to_p = amount - to_i
        P, I = P - to_p, I - to_i
        b = self._book(asset)
        b["interest_outstanding"] -= to_i
        b["principal_outstanding"] -= to_p
        b["interest_repaid"] += to_i
        b["principal_repaid"] += to_p
        if P == 0 and I == 0:
            del self.loans[key]
        else:
            self.loans[key] = [P, I]
        self.emit("repaid", account=acct["id"], asset=asset, amount=amount, interest_paid=to_i,
                  principal_paid=to_p, principal=P, interest=I,
                  balance=acct["bal"].get(asset, ZERO),
                  available_liquidity=self.available(asset), reason=reason)

    def _repay_all_from_holdings(self, acct):
        sidx = {a: k for k, a in enumerate(self.assets)}
        for aid, asset in sorted([k for k in self.loans if k[0] == acct["id"]],
                                 key=lambda k: sidx.get(k[1], 1 << 30)):
            self._repay_from_holdings(acct, asset)

    def _repay_from_holdings(self, acct, asset):
        """After a loan-liquidation step: the holdings of the debt asset repay its loan."""
        loan = self.loans.get((acct["id"], asset))
        if not loan:
            return
        r = min(loan[0] + loan[1], self.holdings(acct, asset))
        if r > 0:
            self._repay(acct, asset, r, "liquidation")

    def _write_off_loan(self, acct, asset):
        """No collateral left, the account owes D = −b of `asset`: the loan's part is settled
        by the fund in that asset (a repayment), the rest written off against the pool
        (interest first, then principal)."""
        key = (acct["id"], asset)
        loan = self.loans.get(key)
        owed = -acct["bal"].get(asset, ZERO)
        if not loan or owed <= 0:
            return
        settled = min(owed, loan[0] + loan[1])
        acct["bal"][asset] += settled
        draw = min(settled, self.fund.get(asset, ZERO))
        if draw > 0:
            self.fund[asset] -= draw
            self.emit("insurance_fund_draw", account=acct["id"], amount=draw,
                      fund=self.fund[asset])
            self._repay(acct, asset, draw, "insurance_fund")
        rest = settled - draw
        if rest > 0:
            P, I = self.loans[key]
            wi = min(rest, I)
            wp = rest - wi
            b = self._book(asset)
            b["interest_outstanding"] -= wi
            b["principal_outstanding"] -= wp
            b["interest_written_off"] += wi
            b["principal_written_off"] += wp
            P, I = P - wp, I - wi
            if P == 0 and I == 0:
                del self.loans[key]
            else:
                self.loans[key] = [P, I]
            self.emit("loan_written_off", account=acct["id"], asset=asset, amount=rest,
                      principal=wp, interest=wi, borne_by="lending_pool")

    # ------------------------------------------------------------------ deficits
    def settle_negative_cross(self, acct, no_instrument=False, socialize=True):
        """Step 6 for a cross pool left without positions and a negative settle balance.
        `socialize`: scenarios.md socializes "only for the deficit a liquidated bankrupt
        position leaves" — False when the holder's own fill or ADL emptied the pool."""
        if any(p["mode"] == "cross" for p in acct["pos"].values()):
            return
        settle = acct["settle"]
        open_debt = acct.setdefault("open_debt", {})
        settled_any = False
        for asset in list(acct["bal"]):
            # scenarios.md: "the settle balance is negative" — the NET balance (docs/loans.md:
            # b = holdings − P − I) of the settle asset only; a negative balance of another
            # asset is debt for the procedure (loan step), not a cross deficit (A38).
            # A deficit already recorded as bad debt is not taken up again.
            if asset != settle:
                continue
            open_debt[asset] = min(open_debt.get(asset, ZERO), max(ZERO, -acct["bal"][asset]))
            if acct["bal"][asset] + open_debt[asset] >= 0:
                continue
            need = -acct["bal"][asset] - open_debt[asset]
            settled_any = True
            # 1. other collateral at its haircut price
            for other in list(acct["bal"]):
                if other == asset or acct["bal"][other] <= 0 or need == 0:
                    continue
                # A18: the haircut price is a quotient, rounded once to 18 digits before it
                # multiplies the amount sold (the binary's reading; the documents round "each
                # product and quotient once" without fixing the order)
                px = r18(self.assets[other] * (1 - self.haircuts.get(other, ZERO))
                         / self.assets[asset])
                if px <= 0:
                    continue
                have = acct["bal"][other]
                if have * px <= need:
                    sold, proceeds = have, r18(have * px)
                else:
                    sold = up18(need / px)
                    proceeds = r18(sold * px)
                acct["bal"][other] -= sold
                acct["bal"][asset] += proceeds
                self.emit("collateral_converted", account=acct["id"], asset=other, sold=sold,
                          proceeds=proceeds)
                need = max(ZERO, -acct["bal"][asset] - open_debt[asset])
            if need > 0:
                covered = self.cover_deficit(acct, "cross",
                                             None if no_instrument else self._last_symbol(acct),
                                             need, asset=asset, socialize=socialize)
                acct["bal"][asset] += covered
                open_debt[asset] += need - covered
        # loans.md: (3) at the end of the settlement of a cross pool left without positions,
        # holdings repay loans (every loan asset in index order) — when the settlement ran,
        # i.e. there was a settle deficit to settle (A45, the binary's reading)
        if settled_any:
            self._repay_all_from_holdings(acct)

    def _last_symbol(self, acct):
        return acct.get("last_liquidated")

    def cover_deficit(self, acct, pool, sym, need, isolated=False, asset=None, socialize=True):
        """Fund, then socialized loss, then bad debt. Returns the amount covered."""
        asset = asset or (self.inst(sym)["settle"] if sym else acct["settle"])
        covered = ZERO
        draw = min(need, self.fund.get(asset, ZERO))
        if draw > 0:
            self.fund[asset] -= draw
            covered += draw
            self.emit("insurance_fund_draw", account=acct["id"], amount=draw,
                      fund=self.fund[asset])
        rest = need - covered
        if rest > 0 and socialize:
            covered += self.socialize(acct, sym, asset, rest)
        rest = need - covered
        if rest > 0:
            acct["bad_debt"] += rest
            self.emit("bad_debt", account=acct["id"], amount=rest, asset=asset)
            if isolated:
                covered += 0
        return covered

    def socialize(self, acct, sym, asset, loss):
        weights = []
        over = self.params["socialize_over"]
        for other in self.accounts.values():
            if other is acct:
                continue
            op = None
            if over == "all":
                if other["settle"] != asset:     # A15: the accounts margined in that asset
                    continue
                w = other["bal"].get(asset, ZERO)
            else:
                op = other["pos"].get(sym) if sym else None
                if op is None or self.inst(sym)["settle"] != asset:
                    continue
                w = self.pos_numbers(sym, op)["upnl"]
            if w > 0:
                weights.append((other, w, op))
        total = sum((w for _, w, _ in weights), ZERO)
        if total <= 0:
            return ZERO
        amount = min(loss, total) if over != "all" else loss
        amount = min(amount, total) if over == "all" else amount
        got = ZERO
        for k, (other, w, op) in enumerate(weights):
            # scenarios.md: shares rounded down to 18 digits in account order, the last one
            # taking the remainder
            share = floor18(amount * w / total) if k < len(weights) - 1 else amount - got
            if op is not None and op["mode"] == "isolated":
                op["iso"] -= share          # the profit sits in that isolated pool
            else:
                other["bal"][asset] = other["bal"].get(asset, ZERO) - share
            other["socialized"] += share
            self.socialized_total[asset] = self.socialized_total.get(asset, ZERO) + share
            got += share
            self.emit("socialized_loss", account=other["id"], amount=share,
                      bankrupt_account=acct["id"], base=over, weight=w)
        return got

    # ------------------------------------------------------------------ output
    def state(self) -> dict:
        accts = []
        for acct in self.accounts.values():
            positions = []
            for sym, pos in acct["pos"].items():
                d = {"symbol": sym, "quantity": pos["q"], "entry_price": pos["entry"],
                     "margin_mode": pos["mode"]}
                if pos["mode"] == "isolated":
                    d["isolated_margin"] = pos["iso"]
                positions.append(d)
            bal = dict(acct["bal"])
            loans = {a: {"principal": v[0], "interest": v[1], "owed": v[0] + v[1]}
                     for (aid, a), v in self.loans.items() if aid == acct["id"]}
            accts.append({"id": acct["id"], "status": self.account_status(acct),
                          "balances": bal, "positions": positions, "loans": loans,
                          "socialized_loss": acct["socialized"], "bad_debt": acct["bad_debt"],
                          "procedure": {p: st["kind"] for p, st in acct["proc"].items()}})
        deposited = dict(self.deposited)
        return {"accounts": accts, "insurance_fund": dict(self.fund), "fees": dict(self.fees),
                "deposited": deposited, "withdrawn": dict(self.withdrawn),
                "opening": dict(self.opening), "socialized_loss": dict(self.socialized_total),
                "lending_pool": {a: dict(b, available=self.available(a),
                                         lender_income=b["interest_accrued"]
                                         - b["principal_written_off"] - b["interest_written_off"])
                                 for a, b in self.lbooks.items()}}


def _render(v):
    if isinstance(v, F):
        return fmt(v)
    if isinstance(v, dict):
        return {k: _render(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_render(x) for x in v]
    return v


def run_scenario(doc: dict, limit: int | None = None) -> Engine:
    eng = Engine(doc)
    eng.genesis()
    for i, cmd in enumerate(doc.get("commands") or []):
        if limit is not None and i >= limit:
            break
        eng.apply(cmd)
    return eng


def main(argv):
    if len(argv) < 2:
        print("usage: engine_reference.py SCENARIO.json [--json]", file=sys.stderr)
        return 64
    with open(argv[1]) as fh:
        doc = json.load(fh)
    eng = run_scenario(doc)
    if "--json" in argv:
        print(json.dumps(_render(eng.state()), indent=1))
        return 0
    for e in eng.events:
        print(json.dumps(_render(e)))
    print(json.dumps(_render({"type": "summary", "commands_applied": eng.commands_applied,
                              **eng.state()})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
