// The dashboard's pure functions (Sources/SolventServer/Resources/dashboard-format.js), run by node's
// built-in test runner: `node --test Tests/dashboard` (scripts/test). No packages.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const F = require(path.join(__dirname, "../../Sources/SolventServer/Resources/dashboard-format.js"));

test("num reads decimal strings and numbers, null for anything else", () => {
  assert.equal(F.num("65000.5"), 65000.5);
  assert.equal(F.num(12), 12);
  for (const v of [null, undefined, "", "abc", "Infinity", NaN]) assert.equal(F.num(v), null, String(v));
});

test("amounts: two decimals with grouping, three significant digits below a cent, a dash when absent", () => {
  assert.equal(F.fmtAmt("1234567.891"), "1,234,567.89");
  assert.equal(F.fmtAmt("-0.004567"), "-0.00457");
  assert.equal(F.fmtAmt("0"), "0.00");
  assert.equal(F.fmtAmt(undefined), "—");
  assert.equal(F.fmtAmt("not a number"), "—");
});

test("prices: decimals by magnitude", () => {
  assert.equal(F.fmtPx("65010"), "65,010.00");
  assert.equal(F.fmtPx("3.14159"), "3.1416");
  assert.equal(F.fmtPx("0.000123456"), "0.00012346");
  assert.equal(F.fmtPx("0"), "0");
  assert.equal(F.fmtPx(null), "—");
});

test("quantities keep up to eight decimals; integers and percentages", () => {
  assert.equal(F.fmtQty("0.123456789"), "0.12345679");
  assert.equal(F.fmtQty("-2"), "-2");
  assert.equal(F.fmtInt("12345"), "12,345");
  assert.equal(F.fmtPct(12.345, 1), "12.3%");
  assert.equal(F.fmtPct(null, 1), "—");
});

test("compact numbers use k, M and B with the decimals their size needs", () => {
  assert.equal(F.compact(0), "0");
  assert.equal(F.compact(0.5), "0.50");
  assert.equal(F.compact(12.5), "12.50");
  assert.equal(F.compact(250), "250");
  assert.equal(F.compact(12_345), "12.3k");
  assert.equal(F.compact(250_000), "250k");
  assert.equal(F.compact(1_500_000), "1.50M");
  assert.equal(F.compact(25_000_000), "25.0M");
  assert.equal(F.compact(-2_000_000_000), "-2.00B");
});

test("times are UTC, second resolution; durations say overdue when negative", () => {
  const t = Date.UTC(2020, 2, 12, 14, 5, 9);
  assert.equal(F.isoTime(t), "2020-03-12 14:05:09");
  assert.equal(F.hms(t), "14:05:09");
  assert.equal(F.mdhms(t), "03-12 14:05:09");
  assert.equal(F.isoTime(NaN), "—");
  assert.equal(F.duration(42), "42s");
  assert.equal(F.duration(125), "2m 05s");
  assert.equal(F.duration(3 * 3600 + 7 * 60), "3h 07m");
  assert.equal(F.duration(2 * 86400 + 5 * 3600), "2d 05h");
  assert.equal(F.duration(-90), "overdue 1m 30s");
  assert.equal(F.human("margin_call"), "margin call");
  assert.equal(F.human(null), "");
});

test("event details name the numbers of each event type", () => {
  const call = F.detail({ type: "margin_call", pool: "cross", call_amount: "1500", deadline: Date.UTC(2020, 2, 12, 16, 0, 0),
                          margin_ratio: "0.9", equity: "10000", maintenance_margin: "9000" });
  assert.equal(call, "cross · demands 1,500.00 · by 03-12 16:00:00 · ratio 90.0% · eq 10,000.00 · MM 9,000.00");
  assert.equal(F.detail({ type: "liquidation_fill", quantity: "-0.5", symbol: "BTCUSDT", price: "4000", executor: "book" }),
               "sell 0.5 BTCUSDT @ 4,000.00 · via book");
  assert.equal(F.detail({ type: "insurance_fund_draw", amount: "120.5", fund: "249879.5" }), "−120.50 · fund → 249,879.50");
  assert.equal(F.detail({ type: "auto_deleveraged", quantity: "0.1", symbol: "BTCUSDT", price: "3800", bankrupt_account: "t-7" }),
               "0.1 BTCUSDT @ 3,800.00 · vs bankrupt t-7");
  assert.equal(F.detail({ type: "liquidations_paused", symbol: "BTCUSDT", reasons: ["oracle_divergence", "volume_cap"] }),
               "BTCUSDT · oracle divergence, volume cap");
  // A bankrupt pool has no ratio: shown as infinity, never NaN.
  assert.equal(F.detail({ type: "margin_warning", pool: "cross", margin_ratio: null }), "cross · ratio ∞");
});

test("unknown event types list their scalar fields, never the routing fields", () => {
  assert.equal(F.detail({ type: "deposit", seq: 9, time: 1, account: "a", asset: "USDT", amount: "10", nested: { x: 1 } }),
               "asset USDT · amount 10");
});

test("server strings stay text: details carry markup through unchanged (the page sets textContent)", () => {
  const d = F.detail({ type: "bad_debt", amount: "1", asset: "<img src=x onerror=alert(1)>" });
  assert.ok(d.includes("<img src=x onerror=alert(1)>"));
});

test("axis steps are 1, 2, 2.5 or 5 times a power of ten and give at most the asked ticks", () => {
  for (const [span, count] of [[1, 5], [7, 4], [1234, 5], [0.03, 3], [987654321, 6]]) {
    const step = F.niceStep(span, count);
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 2.5, 5, 10].some((m) => Math.abs(m - mantissa) < 1e-9), `${span}/${count}: ${step}`);
    assert.ok(span / step <= count + 1e-9, `${span}/${count}: ${step}`);
  }
});

test("axis labels use one unit and just the decimals the step needs, so neighbouring ticks differ", () => {
  const f = F.tickFormat(0, 1_500_000, 250_000);
  assert.deepEqual([0, 250_000, 500_000, 1_250_000].map(f), ["0", "0.25M", "0.50M", "1.25M"]);
  const g = F.tickFormat(0, 50_000, 10_000);
  assert.deepEqual([0, 10_000, 40_000].map(g), ["0", "10k", "40k"]);
  const h = F.tickFormat(0, 3, 0.5);
  assert.deepEqual([0.5, 1, 2.5].map(h), ["0.5", "1.0", "2.5"]);
});
