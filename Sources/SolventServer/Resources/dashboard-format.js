// Pure functions of the dashboard (no DOM, no state): number, price, time and event formatting and the
// fund chart's axis steps. The page inlines this script before dashboard.js; the node tests
// (Tests/dashboard/*.test.js, run by `node --test Tests/dashboard`) load it with require().
const SolventFormat = (() => {
  "use strict";
  // ---------- formatting ----------
  const NF = {};
  const nf = (dp) => NF[dp] || (NF[dp] = new Intl.NumberFormat("en-US", { minimumFractionDigits: dp, maximumFractionDigits: dp }));
  const NQ = new Intl.NumberFormat("en-US", { maximumFractionDigits: 8 });
  function num(v) {
    if (v === null || v === undefined || v === "") return null;
    const x = typeof v === "number" ? v : Number(v);
    return Number.isFinite(x) ? x : null;
  }
  function fmtAmt(v) {
    const x = num(v);
    if (x === null) return "—";
    const a = Math.abs(x);
    if (a !== 0 && a < 0.01) return x.toPrecision(3);
    return nf(2).format(x);
  }
  function fmtPx(v) {
    const x = num(v);
    if (x === null) return "—";
    const a = Math.abs(x);
    if (a >= 100) return nf(2).format(x);
    if (a >= 1) return nf(4).format(x);
    return a === 0 ? "0" : x.toPrecision(5);
  }
  const fmtQty = (v) => { const x = num(v); return x === null ? "—" : NQ.format(x); };
  const fmtInt = (v) => { const x = num(v); return x === null ? "—" : nf(0).format(x); };
  const fmtPct = (x, dp) => x === null ? "—" : nf(dp).format(x) + "%";
  function compact(x) {
    const a = Math.abs(x);
    if (a >= 1e9) return nf(a >= 1e10 ? 1 : 2).format(x / 1e9) + "B";
    if (a >= 1e6) return nf(a >= 1e7 ? 1 : 2).format(x / 1e6) + "M";
    if (a >= 1e4) return nf(a >= 1e5 ? 0 : 1).format(x / 1e3) + "k";
    if (a >= 100) return nf(0).format(x);
    if (a >= 1) return nf(2).format(x);
    return a === 0 ? "0" : x.toPrecision(2);
  }
  function isoTime(ms) { const d = new Date(ms); return isNaN(d) ? "—" : d.toISOString().slice(0, 19).replace("T", " "); }
  const hms = (ms) => isoTime(ms).slice(11);
  const mdhms = (ms) => isoTime(ms).slice(5);
  const pad2 = (n) => String(n).padStart(2, "0");
  function duration(sec) {
    const s = Math.abs(Math.round(sec));
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    const t = d ? d + "d " + pad2(h) + "h" : h ? h + "h " + pad2(m) + "m" : m ? m + "m " + pad2(r) + "s" : r + "s";
    return sec < 0 ? "overdue " + t : t;
  }
  const human = (s) => String(s == null ? "" : s).replace(/_/g, " ");

  function detail(e) {
    const f = (k) => e[k];
    const parts = [];
    const add = (...xs) => { for (const x of xs) if (x !== null && x !== undefined && x !== "") parts.push(String(x)); };
    const ratio = num(e.margin_ratio);
    const ratioTxt = e.margin_ratio === undefined ? null : "ratio " + (ratio === null ? "∞" : fmtPct(ratio * 100, 1));
    const eqmm = e.equity !== undefined ? "eq " + fmtAmt(e.equity) + " · MM " + fmtAmt(e.maintenance_margin) : null;
    switch (e.type) {
      case "margin_warning": case "warning_cleared": case "margin_call_cured":
        add(f("pool"), ratioTxt, eqmm, e.reason ? human(e.reason) : null); break;
      case "margin_call":
        add(f("pool"), "demands " + fmtAmt(e.call_amount !== undefined ? e.call_amount : e.amount),
          typeof e.deadline === "number" ? "by " + mdhms(e.deadline) : null, ratioTxt, eqmm); break;
      case "liquidation_started":
        add(f("pool"), human(e.reason), ratioTxt, eqmm,
          Array.isArray(e.positions) ? e.positions.map((p) => fmtQty(p.quantity) + " " + p.symbol).join(", ") : null); break;
      case "liquidation_fill": {
        const q = num(e.quantity);
        add((q !== null && q < 0 ? "sell " : "buy ") + fmtQty(q === null ? e.quantity : Math.abs(q)) + " " + (e.symbol || "") + " @ " + fmtPx(e.price),
          e.executor ? "via " + e.executor : null, e.bankruptcy_price !== undefined ? "bkr " + fmtPx(e.bankruptcy_price) : null,
          e.realized_pnl !== undefined ? "pnl " + fmtAmt(e.realized_pnl) : null); break;
      }
      case "liquidation_ended": add(f("pool"), human(e.reason)); break;
      case "insurance_fund_draw": add("−" + fmtAmt(e.amount), "fund → " + fmtAmt(e.fund)); break;
      case "insurance_fund_contribution": add("+" + fmtAmt(e.amount), "fund → " + fmtAmt(e.fund)); break;
      case "auto_deleveraged":
        add(fmtQty(e.quantity) + " " + (e.symbol || "") + " @ " + fmtPx(e.price), "vs bankrupt " + (e.bankrupt_account || "?"),
          e.deficit_covered !== undefined ? "covers " + fmtAmt(e.deficit_covered) : null,
          e.realized_pnl !== undefined ? "pnl " + fmtAmt(e.realized_pnl) : null); break;
      case "socialized_loss":
        add(fmtAmt(e.amount), e.bankrupt_account ? "for " + e.bankrupt_account : null, e.base ? "over " + e.base : null); break;
      case "bad_debt": add(fmtAmt(e.amount) + (e.asset ? " " + e.asset : "")); break;
      case "liquidations_paused":
        add(e.symbol, Array.isArray(e.reasons) ? e.reasons.map(human).join(", ") : human(e.reasons)); break;
      case "liquidations_resumed":
        add(e.symbol, e.previous_reasons ? "after " + human(e.previous_reasons) : null); break;
      case "liquidation_throttled":
        add(e.symbol, e.reason ? human(e.reason) : null, e.cap !== undefined ? "cap " + fmtAmt(e.cap) : null,
          e.backlog !== undefined ? "backlog " + e.backlog : null); break;
      default:
        for (const k in e) {
          if (k === "type" || k === "seq" || k === "time" || k === "account") continue;
          const v = e[k];
          if (v !== null && typeof v === "object") continue;
          add(k + " " + v);
        }
    }
    return parts.join(" · ");
  }

  function niceStep(span, count) {
    const raw = span / Math.max(1, count), mag = 10 ** Math.floor(Math.log10(raw)), r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
  }
  // Axis labels in one unit (k, M, B) with just the decimals the step needs, so ticks never repeat.
  function tickFormat(lo, hi, step) {
    const a = Math.max(Math.abs(lo), Math.abs(hi));
    const [div, suffix] = a >= 1e9 ? [1e9, "B"] : a >= 1e6 ? [1e6, "M"] : a >= 1e4 ? [1e3, "k"] : [1, ""];
    const x = step / div;
    let dp = 0;
    for (let y = x; dp < 8 && Math.abs(Math.round(y) - y) > 1e-6 * Math.max(1, Math.abs(y)); y = x * 10 ** dp) dp++;
    return (v) => Math.abs(v) < step / 1e6 ? "0" : nf(dp).format(v / div) + suffix;
  }
  return { num, fmtAmt, fmtPx, fmtQty, fmtInt, fmtPct, compact, isoTime, hms, mdhms, pad2, duration, human, detail, niceStep, tickFormat, nf };
})();
if (typeof module !== "undefined" && module.exports) module.exports = SolventFormat;
