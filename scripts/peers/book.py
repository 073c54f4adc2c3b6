"""Load a `solvent evaluate` input (DESIGN.md, "The evaluation contract") into flat arrays.

The peers in this folder time *evaluation*, not JSON parsing, so every input is first
turned into a struct of arrays (one numpy array per field, one row per position /
collateral balance / account).  Loading is never timed.

Decimal strings become float64.  The only derived input, each bracket's
`maintenance_amount` (`a[i] = a[i-1] + floor[i]*(mmr[i]-mmr[i-1])`), is computed exactly
with fractions and rounded once to float, so the peers start from the same numbers Solvent
starts from (up to one float rounding per input).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

DEFAULT_POLICY = {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"}
LINEAR_KINDS = {"linear_perpetual", "linear_future"}
INVERSE_KINDS = {"inverse_perpetual", "inverse_future"}
STATUSES = ["healthy", "warning", "margin_call", "liquidatable", "bankrupt"]


@dataclass
class BracketTables:
    """Distinct bracket tables, padded to the longest: arrays of shape (tables, K).

    Padding rows have floor = +inf so they never match a notional."""
    floor: np.ndarray
    cap: np.ndarray
    max_leverage: np.ndarray
    mmr: np.ndarray
    amount: np.ndarray
    length: np.ndarray          # brackets per table
    exact: list                 # per table: list of (floor, cap, maxlev, mmr, amount) Fractions


@dataclass
class Book:
    policy: dict                # warning_ratio, call_ratio, restore_ratio (float)
    tables: BracketTables
    # instruments
    symbols: list
    inst_inverse: np.ndarray    # bool
    inst_cs: np.ndarray         # contract size
    inst_mark: np.ndarray       # mark price
    inst_table: np.ndarray      # index into tables
    # accounts
    account_ids: list
    acc_settle_price: np.ndarray
    # collateral balances (one row per (account, asset))
    col_account: np.ndarray
    col_amount: np.ndarray
    col_price: np.ndarray       # asset price
    col_haircut: np.ndarray
    # positions, in input order (account by account)
    pos_account: np.ndarray
    pos_inst: np.ndarray
    pos_q: np.ndarray           # signed quantity
    pos_entry: np.ndarray
    pos_leverage: np.ndarray    # NaN = absent (the bracket's maximum applies)
    pos_isolated: np.ndarray    # bool
    pos_iso_margin: np.ndarray  # 0 for cross positions
    pos_index_in_account: np.ndarray

    @property
    def n_positions(self) -> int:
        return len(self.pos_q)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)


def _bracket_table(raw_brackets) -> tuple:
    rows = []
    for j, b in enumerate(raw_brackets):
        floor, cap = Fraction(b["notional_floor"]), Fraction(b["notional_cap"])
        maxlev, mmr = Fraction(b["max_leverage"]), Fraction(b["mmr"])
        if b.get("maintenance_amount") is not None:
            amount = Fraction(b["maintenance_amount"])
        elif j == 0:
            amount = Fraction(0)
        else:
            amount = rows[-1][4] + floor * (mmr - rows[-1][3])
        rows.append((floor, cap, maxlev, mmr, amount))
    return tuple(rows)


def load(path: str) -> Book:
    """Parse an evaluate input file into a Book (not validated: feed it valid inputs)."""
    with open(path) as fh:
        doc = json.load(fh)
    return from_document(doc)


def from_document(doc: dict) -> Book:
    policy = dict(DEFAULT_POLICY)
    policy.update({k: v for k, v in (doc.get("policy") or {}).items() if v is not None})
    policy = {k: float(Fraction(v)) for k, v in policy.items()}
    assets = {k: Fraction(v) for k, v in doc["assets"].items()}
    haircuts = {k: Fraction(v) for k, v in (doc.get("haircuts") or {}).items()}

    table_index: dict = {}
    symbols, inverse, cs, marks, inst_table = [], [], [], [], []
    for raw in doc["instruments"]:
        table = _bracket_table(raw["brackets"])
        t = table_index.setdefault(table, len(table_index))
        symbols.append(raw["symbol"])
        inverse.append(raw["kind"] in INVERSE_KINDS)
        cs.append(float(Fraction(raw["contract_size"])))
        marks.append(float(Fraction(doc["marks"][raw["symbol"]])))
        inst_table.append(t)
    sym_index = {s: i for i, s in enumerate(symbols)}

    tables = list(table_index)
    K = max(len(t) for t in tables)
    shape = (len(tables), K)
    floor = np.full(shape, np.inf)
    cap = np.full(shape, np.inf)
    maxlev = np.ones(shape)
    mmr = np.zeros(shape)
    amount = np.zeros(shape)
    for t, rows in enumerate(tables):
        for k, (f, c, ml, r, a) in enumerate(rows):
            floor[t, k], cap[t, k], maxlev[t, k] = float(f), float(c), float(ml)
            mmr[t, k], amount[t, k] = float(r), float(a)
    bt = BracketTables(floor, cap, maxlev, mmr, amount,
                       np.array([len(t) for t in tables]), tables)

    account_ids, settle_price = [], []
    col_account, col_amount, col_price, col_haircut = [], [], [], []
    p_acc, p_inst, p_q, p_entry, p_lev, p_iso, p_isom, p_idx = ([] for _ in range(8))
    for a, acc in enumerate(doc["accounts"]):
        account_ids.append(acc["id"])
        settle_price.append(float(assets[acc["settle"]]))
        for asset, amt in (acc.get("collateral") or {}).items():
            col_account.append(a)
            col_amount.append(float(Fraction(amt)))
            col_price.append(float(assets[asset]))
            col_haircut.append(float(haircuts.get(asset, 0)))
        for j, pos in enumerate(acc.get("positions") or []):
            p_acc.append(a)
            p_inst.append(sym_index[pos["symbol"]])
            p_q.append(float(pos["quantity"]))
            p_entry.append(float(pos["entry_price"]))
            lev = pos.get("leverage")
            p_lev.append(float(lev) if lev is not None else np.nan)
            iso = pos.get("margin_mode") == "isolated"
            p_iso.append(iso)
            p_isom.append(float(pos["isolated_margin"]) if iso else 0.0)
            p_idx.append(j)

    f64 = lambda xs: np.asarray(xs, dtype=np.float64)
    i64 = lambda xs: np.asarray(xs, dtype=np.int64)
    return Book(
        policy=policy, tables=bt, symbols=symbols,
        inst_inverse=np.asarray(inverse, dtype=bool), inst_cs=f64(cs), inst_mark=f64(marks),
        inst_table=i64(inst_table),
        account_ids=account_ids, acc_settle_price=f64(settle_price),
        col_account=i64(col_account), col_amount=f64(col_amount), col_price=f64(col_price),
        col_haircut=f64(col_haircut),
        pos_account=i64(p_acc), pos_inst=i64(p_inst), pos_q=f64(p_q), pos_entry=f64(p_entry),
        pos_leverage=f64(p_lev), pos_isolated=np.asarray(p_iso, dtype=bool),
        pos_iso_margin=f64(p_isom), pos_index_in_account=i64(p_idx),
    )


def solvent_float(s):
    """A decimal string of Solvent's output as float (None for JSON null)."""
    return None if s is None else float(s)
