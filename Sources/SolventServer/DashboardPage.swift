/// The risk desk's dashboard (docs/service.md), served at `/` from the binary: no CDN, no external asset.
/// One self-contained page (inline CSS, JS and SVG). It reads the key from `#key=KEY` (then keeps it in
/// sessionStorage and drops it from the URL), loads `GET /v1/risk` and recent `GET /v1/events`, then follows
/// `/v1/stream` (events, risk, prices) with reconnect and gap filling. `scripts/check_dashboard.py` renders it
/// in headless Chromium and checks the element ids it fills.
enum DashboardPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>Solvent · risk desk</title>
    <style>
    :root {
      --bg: #0b0e13; --panel: #11161d; --panel2: #151b23; --line: #232a35; --line2: #1a2029;
      --text: #c5ced9; --bright: #e8eef5; --dim: #7b8796; --faint: #4b5563;
      --ok: #3fb950; --warn: #d4a72c; --call: #f0883e; --liq: #f85149; --bk: #d6336c;
      --adl: #b392f0; --fund: #39c5cf; --info: #58a6ff;
      --mono: "DejaVu Sans Mono", ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
      --sans: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
      color-scheme: dark;
    }
    * { box-sizing: border-box; }
    html, body { margin: 0; height: 100%; }
    body { background: var(--bg); color: var(--text); font: 12px/1.4 var(--sans); display: flex; flex-direction: column; height: 100vh; overflow: hidden; }
    .mono, td.n, .big, .num { font-family: var(--mono); font-variant-numeric: tabular-nums; }
    button { font: inherit; color: var(--text); background: var(--panel2); border: 1px solid var(--line); border-radius: 3px; padding: 2px 8px; cursor: pointer; }
    button:hover { border-color: var(--faint); color: var(--bright); }

    header { flex: none; display: flex; align-items: center; gap: 16px; height: 40px; padding: 0 12px; background: #0d1117; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; }
    .brand { font-weight: 700; font-size: 14px; color: var(--bright); letter-spacing: .02em; display: flex; align-items: center; gap: 7px; }
    .brand svg { display: block; }
    .brand small { font-weight: 400; font-size: 11px; color: var(--dim); letter-spacing: 0; }
    .kv { display: flex; align-items: baseline; gap: 6px; }
    .kv label, .lbl { color: var(--dim); font-size: 10px; text-transform: uppercase; letter-spacing: .07em; }
    .kv .num { color: var(--bright); font-size: 12.5px; }
    #marks { display: flex; gap: 6px; min-width: 0; overflow: hidden; }
    .mark { font-family: var(--mono); font-size: 11.5px; padding: 2px 8px; border: 1px solid var(--line); border-radius: 3px; background: var(--panel); }
    .mark b { font-family: var(--sans); font-weight: 600; color: var(--dim); margin-right: 6px; font-size: 11px; }
    .mark .px { color: var(--bright); }
    .mark .dir { margin: 0 6px 0 3px; font-size: 9px; }
    .mark .dir.up { color: var(--ok); } .mark .dir.down { color: var(--liq); } .mark .dir.flat { color: var(--faint); }
    .mark .sig { color: var(--dim); }
    .spacer { flex: 1; }
    #note { color: var(--info); font-size: 11px; }
    #note.bad { color: var(--call); }
    #quiet { color: var(--warn); font-size: 11px; }
    #conn-reason { color: var(--dim); font-size: 11px; max-width: 360px; overflow: hidden; text-overflow: ellipsis; }
    .badge { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 10px; border: 1px solid var(--line); font-size: 11px; font-weight: 600; letter-spacing: .03em; }
    .badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--faint); }
    .badge[data-state="live"] { color: var(--ok); border-color: #23502c; background: #0f1f14; }
    .badge[data-state="live"]::before { background: var(--ok); }
    .badge[data-state="connecting"] { color: var(--info); border-color: #1f3a5c; }
    .badge[data-state="connecting"]::before { background: var(--info); }
    .badge[data-state="reconnecting"] { color: var(--warn); border-color: #5a4712; background: #1d180a; }
    .badge[data-state="reconnecting"]::before { background: var(--warn); }
    .badge[data-state="closed"] { color: var(--liq); border-color: #5c1f1d; background: #200e0e; }
    .badge[data-state="closed"]::before { background: var(--liq); }

    main { flex: 1; min-height: 0; display: grid; grid-template-rows: auto minmax(0, 1fr); gap: 8px; padding: 8px; }
    .tiles { display: grid; grid-template-columns: 2.2fr 1.85fr 1fr 1.15fr 0.85fr 1.6fr; gap: 8px; }
    .tile { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 7px 10px 8px; min-width: 0; overflow: hidden; }
    .tile h3 { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; margin: 0 0 5px; font-size: 10px; font-weight: 600; color: var(--dim); text-transform: uppercase; letter-spacing: .08em; display: flex; justify-content: space-between; }
    .tile h3 span { text-transform: none; letter-spacing: 0; font-weight: 400; }
    .big { font-size: 24px; line-height: 1.1; color: var(--bright); }
    .sub { color: var(--dim); font-size: 11px; margin-top: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .sub .num { color: var(--text); }
    .bar { display: flex; height: 8px; border-radius: 2px; overflow: hidden; background: var(--line2); margin: 2px 0 7px; gap: 1px; }
    .bar i { display: block; min-width: 0; }
    .legend { display: grid; grid-template-columns: repeat(5, minmax(0, auto)); gap: 2px 10px; justify-content: space-between; }
    .legend4 { grid-template-columns: repeat(4, minmax(0, auto)); }
    .legend div { display: flex; flex-direction: column; min-width: 0; }
    .legend span { font-size: 10px; color: var(--dim); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .legend span::before { content: ""; display: inline-block; width: 7px; height: 7px; border-radius: 1px; margin-right: 5px; background: var(--c, var(--faint)); }
    .legend b { font-family: var(--mono); font-weight: 400; font-size: 15px; color: var(--bright); }
    .legend b.zero { color: var(--faint); }
    .c-healthy, .c-normal { --c: var(--ok); } .c-warning { --c: var(--warn); } .c-margin_call { --c: var(--call); }
    .c-liquidatable, .c-liquidating { --c: var(--liq); } .c-bankrupt { --c: var(--bk); }
    .big.hot { color: var(--call); } .big.red { color: var(--liq); } .big.amber { color: var(--warn); } .big.zero { color: var(--faint); }
    #fund-balances { display: grid; grid-template-columns: auto 1fr auto; gap: 1px 10px; align-items: baseline; }
    #fund-balances .asset { color: var(--dim); font-size: 11px; }
    #fund-balances .num { text-align: right; color: var(--bright); font-size: 15px; }
    #fund-balances .delta { text-align: right; font-family: var(--mono); font-size: 10.5px; }
    .pos { color: var(--ok); } .neg { color: var(--liq); }

    .cols { display: grid; grid-template-columns: minmax(0, 1.42fr) minmax(0, 1fr); gap: 8px; min-height: 0; }
    .col { display: flex; flex-direction: column; gap: 8px; min-height: 0; min-width: 0; }
    .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; display: flex; flex-direction: column; min-height: 0; overflow: hidden; }
    .ph { flex: none; display: flex; align-items: center; gap: 10px; padding: 5px 10px; border-bottom: 1px solid var(--line); min-height: 29px; }
    .ph h2 { margin: 0; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .08em; color: #a9b4c1; }
    .ph .meta { color: var(--dim); font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .ph .right { margin-left: auto; display: flex; gap: 8px; align-items: center; flex: none; }
    .pb { flex: 1; min-height: 0; overflow: auto; }
    #p-closest { flex: 1 1 0; }
    #p-calls { flex: 0 0 262px; }
    #p-fund { flex: 0 0 262px; }
    #p-breakers { flex: none; }
    #p-feed { flex: 1 1 0; }

    table { width: 100%; border-collapse: collapse; font-size: 11.5px; }
    th { position: sticky; top: 0; z-index: 1; background: var(--panel2); color: var(--dim); font-weight: 600; font-size: 10px; text-transform: uppercase; letter-spacing: .06em; text-align: left; padding: 4px 7px; border-bottom: 1px solid var(--line); white-space: nowrap; }
    th.n { text-align: right; }
    td { padding: 2px 7px; height: 21px; border-bottom: 1px solid var(--line2); white-space: nowrap; }
    td.n { text-align: right; }
    td.acct { font-family: var(--mono); color: var(--bright); }
    td.dim, span.dim { color: var(--dim); }
    tbody tr:hover { background: #18202a; }
    tr.empty td { color: var(--faint); text-align: center; padding: 14px; height: auto; border: 0; }
    .pill { display: inline-block; padding: 0 6px; border-radius: 2px; font-size: 10.5px; line-height: 16px; border: 1px solid currentColor; }
    .s-healthy { color: #5f9e6c; border-color: transparent; } .s-warning { color: var(--warn); } .s-margin_call { color: var(--call); }
    .s-liquidatable { color: var(--liq); } .s-bankrupt { color: #fff; background: var(--bk); border-color: var(--bk); }
    .ratio { display: flex; align-items: center; justify-content: flex-end; gap: 7px; }
    .rbar { width: 46px; height: 5px; background: var(--line2); border-radius: 1px; overflow: hidden; flex: none; }
    .rbar i { display: block; height: 100%; }
    .side-long { color: #8fbf9a; } .side-short { color: #d39a9a; }
    tr.d-crit td.dist { color: var(--liq); font-weight: 700; }
    tr.d-high td.dist { color: var(--call); }
    tr.d-med td.dist { color: var(--warn); }
    tr.d-low td.dist { color: var(--dim); }
    tr.d-crit td:first-child { box-shadow: inset 3px 0 var(--liq); }
    tr.d-high td:first-child { box-shadow: inset 3px 0 var(--call); }
    tr.d-med td:first-child { box-shadow: inset 3px 0 var(--warn); }
    td.left.urgent { color: var(--liq); font-weight: 700; }
    td.left.soon { color: var(--call); }
    body[data-conn="reconnecting"] main, body[data-conn="closed"] main { opacity: .62; }

    #feed-body td { height: 20px; }
    #feed-body td.t { font-family: var(--mono); color: var(--dim); }
    #feed-body td.seq { font-family: var(--mono); color: var(--faint); text-align: right; }
    #feed-body td.detail { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 0; width: 100%; color: var(--text); font-family: var(--mono); font-size: 11px; }
    .tag { display: inline-block; min-width: 92px; font-size: 10.5px; font-weight: 600; letter-spacing: .02em; }
    .ev-ok { color: var(--ok); } .ev-warn { color: var(--warn); } .ev-call { color: var(--call); } .ev-liq { color: var(--liq); }
    .ev-bk { color: #ff6b9a; } .ev-adl { color: var(--adl); } .ev-fund { color: var(--fund); } .ev-info { color: var(--info); } .ev-routine { color: var(--faint); }
    .seg { display: inline-flex; border: 1px solid var(--line); border-radius: 3px; overflow: hidden; }
    .seg button { border: 0; border-radius: 0; padding: 1px 9px; background: transparent; color: var(--dim); font-size: 11px; }
    .seg button[aria-pressed="true"] { background: #223044; color: var(--bright); }

    #fund-wrap { flex: 1; min-height: 0; position: relative; }
    #fund-chart { position: absolute; inset: 0; display: block; }
    #fund-chart text { font-family: var(--mono); font-size: 10px; fill: var(--dim); }
    #fund-chart .grid { stroke: #1d242e; stroke-width: 1; }
    #fund-chart .axis { stroke: #2c3542; stroke-width: 1; }
    #fund-chart text.asset { font-family: var(--sans); font-size: 10.5px; font-weight: 600; fill: #a9b4c1; }
    #fund-chart text.last { fill: var(--bright); font-size: 10.5px; }

    #breakers { display: flex; flex-wrap: wrap; gap: 6px; padding: 7px 10px; }
    .chip { display: inline-flex; align-items: center; gap: 7px; padding: 3px 9px; border: 1px solid var(--line); border-radius: 3px; background: var(--panel2); font-size: 11px; }
    .chip::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--ok); }
    .chip b { font-weight: 600; color: var(--bright); }
    .chip .st { color: var(--ok); }
    .chip .cap { color: var(--dim); font-family: var(--mono); font-size: 10.5px; }
    .chip[data-paused="true"] { border-color: #6b2a22; background: #1f1010; }
    .chip[data-paused="true"]::before { background: var(--liq); border-radius: 1px; }
    .chip[data-paused="true"] .st { color: var(--liq); font-weight: 600; }
    .none { color: var(--faint); font-size: 11px; }

    #keyform { position: fixed; inset: 0; background: rgba(5, 7, 10, .86); display: none; align-items: center; justify-content: center; z-index: 10; }
    #keyform.show { display: flex; }
    #keyform form { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 20px 22px; width: 420px; display: flex; flex-direction: column; gap: 10px; }
    #keyform h2 { margin: 0; font-size: 14px; color: var(--bright); }
    #keyform p { margin: 0; color: var(--dim); }
    #keyform input { font: 12px var(--mono); color: var(--bright); background: var(--bg); border: 1px solid var(--line); border-radius: 3px; padding: 6px 8px; }
    #keyform .err { color: var(--liq); min-height: 1em; }

    @media (max-width: 1520px) {
      .opt, #conn-reason { display: none; }
      header { gap: 12px; }
    }
    @media (max-width: 1180px), (max-height: 720px) {
      body { height: auto; overflow: auto; }
      .cols { grid-template-columns: minmax(0, 1fr); }
      #p-closest { flex: none; height: 520px; }
      #p-feed { flex: none; height: 480px; }
      .tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); }
    }
    </style>
    </head>
    <body>
    <header>
      <div class="brand"><svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><rect x="1" y="9" width="3" height="6" fill="#3fb950"/><rect x="6.5" y="5" width="3" height="10" fill="#d4a72c"/><rect x="12" y="1" width="3" height="14" fill="#f85149"/></svg>Solvent<small>risk desk</small></div>
      <div class="kv"><label>engine time</label><span class="num" id="engine-time">—</span></div>
      <div class="kv"><label>seq</label><span class="num" id="sequence">—</span></div>
      <div id="marks"></div>
      <div class="spacer"></div>
      <span id="note"></span>
      <span id="quiet"></span>
      <span id="conn-reason"></span>
      <span id="conn" class="badge" data-state="connecting">connecting</span>
      <button id="key-btn" type="button" title="Change the API key">key</button>
    </header>
    <main>
      <section class="tiles">
        <div class="tile">
          <h3>Accounts by status <span><span class="num" id="status-total">—</span> accounts</span></h3>
          <div class="bar" id="status-bar"></div>
          <div class="legend">
            <div class="c-healthy"><span>healthy</span><b id="status-healthy">—</b></div>
            <div class="c-warning"><span>warning</span><b id="status-warning">—</b></div>
            <div class="c-margin_call"><span>margin call</span><b id="status-margin_call">—</b></div>
            <div class="c-liquidatable"><span>liquidatable</span><b id="status-liquidatable">—</b></div>
            <div class="c-bankrupt"><span>bankrupt</span><b id="status-bankrupt">—</b></div>
          </div>
        </div>
        <div class="tile">
          <h3>Procedures</h3>
          <div class="bar" id="proc-bar"></div>
          <div class="legend legend4">
            <div class="c-normal"><span>normal</span><b id="proc-normal">—</b></div>
            <div class="c-warning"><span>warning</span><b id="proc-warning">—</b></div>
            <div class="c-margin_call"><span>margin call</span><b id="proc-margin_call">—</b></div>
            <div class="c-liquidating"><span>liquidating</span><b id="proc-liquidating">—</b></div>
          </div>
        </div>
        <div class="tile">
          <h3>Open margin calls</h3>
          <div class="big" id="calls-count">—</div>
          <div class="sub">demanded <span class="num" id="calls-total">—</span></div>
        </div>
        <div class="tile">
          <h3>Liquidating</h3>
          <div class="big" id="liquidating-count">—</div>
          <div class="sub mono" id="liquidating-list"></div>
        </div>
        <div class="tile">
          <h3>Backlog</h3>
          <div class="big" id="backlog">—</div>
          <div class="sub">queued liquidations</div>
        </div>
        <div class="tile">
          <h3>Insurance fund</h3>
          <div id="fund-balances"><span class="none">—</span></div>
        </div>
      </section>
      <section class="cols">
        <div class="col">
          <div class="panel" id="p-closest">
            <div class="ph"><h2>Closest to liquidation</h2><span class="meta">top 20 by margin ratio (MM / equity) · distance to the largest position's liquidation price</span><span class="meta right" id="closest-asof"></span></div>
            <div class="pb">
              <table>
                <thead><tr><th>Account</th><th>Status</th><th class="opt">Proc.</th><th class="n">Ratio</th><th class="n">Equity</th><th class="n">Maint. margin</th><th>Position</th><th class="n opt">Mark</th><th class="n">Liq. price</th><th class="n">Dist.</th><th class="n">σ 1d</th></tr></thead>
                <tbody id="closest-body"></tbody>
              </table>
            </div>
          </div>
          <div class="panel" id="p-calls">
            <div class="ph"><h2>Open margin calls</h2><span class="meta" id="calls-meta">by deadline · time left in engine time</span></div>
            <div class="pb">
              <table>
                <thead><tr><th>Account</th><th>Pool</th><th class="n">Demanded</th><th class="n">Deadline (engine, UTC)</th><th class="n">Time left</th></tr></thead>
                <tbody id="calls-body"></tbody>
              </table>
            </div>
          </div>
        </div>
        <div class="col">
          <div class="panel" id="p-fund">
            <div class="ph"><h2>Insurance fund</h2><span class="meta" id="fund-meta"></span></div>
            <div id="fund-wrap"><svg id="fund-chart" role="img" aria-label="Insurance fund balance over engine time" xmlns="http://www.w3.org/2000/svg"></svg></div>
          </div>
          <div class="panel" id="p-breakers">
            <div class="ph"><h2>Circuit breakers</h2><span class="meta">liquidations per symbol · notional liquidated in the cap window</span></div>
            <div id="breakers"><span class="none">—</span></div>
          </div>
          <div class="panel" id="p-feed">
            <div class="ph"><h2>Liquidations &amp; ADL</h2><span class="meta" id="feed-meta"></span>
              <div class="right"><div class="seg" id="feed-filter"><button type="button" data-filter="risk" aria-pressed="true">risk events</button><button type="button" data-filter="all" aria-pressed="false">all</button></div></div>
            </div>
            <div class="pb">
              <table>
                <thead><tr><th>Engine time</th><th class="n">Seq</th><th>Event</th><th>Account</th><th>Details</th></tr></thead>
                <tbody id="feed-body"></tbody>
              </table>
            </div>
          </div>
        </div>
      </section>
    </main>
    <div id="keyform">
      <form id="key-form" autocomplete="off">
        <h2>Solvent risk desk</h2>
        <p>Paste an operator API key. It is kept in this tab only (sessionStorage).</p>
        <input id="key-input" type="password" placeholder="API key" spellcheck="false">
        <div class="err" id="key-err"></div>
        <div><button type="submit">Connect</button></div>
      </form>
    </div>
    <script>
    (() => {
      "use strict";
      const $ = (id) => document.getElementById(id);
      const SVGNS = "http://www.w3.org/2000/svg";
      const STATUSES = ["healthy", "warning", "margin_call", "liquidatable", "bankrupt"];
      const PROCS = ["normal", "warning", "margin_call", "liquidating"];
      const COLOR = { healthy: "#3fb950", normal: "#3fb950", warning: "#d4a72c", margin_call: "#f0883e", liquidatable: "#f85149", liquidating: "#f85149", bankrupt: "#d6336c" };
      const SERIES = ["#39c5cf", "#b392f0", "#d4a72c", "#58a6ff", "#3fb950"];
      const EVENTS = {
        margin_warning: ["margin warning", "ev-warn"], warning_cleared: ["warning cleared", "ev-ok"],
        margin_call: ["margin call", "ev-call"], margin_call_cured: ["call cured", "ev-ok"],
        liquidation_started: ["liquidation", "ev-liq"], orders_cancelled_for_liquidation: ["orders cancelled", "ev-liq"],
        liquidation_fill: ["liq. fill", "ev-liq"], liquidation_ended: ["liq. ended", "ev-info"],
        insurance_fund_draw: ["fund draw", "ev-liq"], insurance_fund_contribution: ["fund +", "ev-fund"],
        auto_deleveraged: ["ADL", "ev-adl"], socialized_loss: ["socialized loss", "ev-bk"], bad_debt: ["bad debt", "ev-bk"],
        liquidations_paused: ["breaker paused", "ev-warn"], liquidations_resumed: ["breaker resumed", "ev-ok"],
        liquidation_throttled: ["throttled", "ev-warn"]
      };
      const FEED_CAP = 300;
      const KEY_STORE = "solvent.key";

      const S = {
        key: null, risk: null, engineTime: null, sequence: null, lastSeq: null, gapFree: true,
        streamSeq: null, feedRisk: [], feedAll: [], filter: "risk",
        fund: new Map(), fundT0: null, prevMarks: {}, markDir: {},
        ws: null, gen: 0, attempt: 0, timer: null, helloAt: 0, closeReason: "",
        filling: false, pending: [], lastMsgAt: 0, dirty: new Set(), flushTimer: null, fundRenderedAt: 0, noteTimer: null
      };

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

      // ---------- DOM helpers (text only: server strings never become markup) ----------
      function el(tag, cls, text) {
        const e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
      }
      function td(text, cls) { return el("td", cls, text); }
      function svg(tag, attrs, text) {
        const e = document.createElementNS(SVGNS, tag);
        for (const k in attrs) e.setAttribute(k, String(attrs[k]));
        if (text !== undefined) e.textContent = String(text);
        return e;
      }
      function setText(id, text) { const e = $(id); if (e && e.textContent !== String(text)) e.textContent = String(text); }
      function emptyRow(cols, text) { const tr = el("tr", "empty"); const c = td(text); c.colSpan = cols; tr.append(c); return tr; }
      function note(text, bad) {
        const n = $("note");
        n.textContent = text;
        n.className = bad ? "bad" : "";
        clearTimeout(S.noteTimer);
        S.noteTimer = setTimeout(() => { n.textContent = ""; }, 15000);
      }

      // ---------- key ----------
      function readKey() {
        const m = /(?:^#|[#&])key=([^&]*)/.exec(location.hash);
        if (m && m[1]) {
          let k = m[1];
          try { k = decodeURIComponent(k); } catch (e) { /* keep raw */ }
          try { sessionStorage.setItem(KEY_STORE, k); } catch (e) { /* storage off: keep in memory */ }
          history.replaceState(null, "", location.pathname + location.search);
          return k;
        }
        try { return sessionStorage.getItem(KEY_STORE); } catch (e) { return null; }
      }
      function showKeyForm(message) {
        $("key-err").textContent = message || "";
        $("keyform").classList.add("show");
        setTimeout(() => $("key-input").focus(), 0);
      }
      $("key-form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        const k = $("key-input").value.trim();
        if (!k) return;
        S.key = k;
        try { sessionStorage.setItem(KEY_STORE, k); } catch (e) { /* memory only */ }
        $("key-input").value = "";
        $("keyform").classList.remove("show");
        S.attempt = 0;
        connect();
      });
      $("key-btn").addEventListener("click", () => {
        try { sessionStorage.removeItem(KEY_STORE); } catch (e) { /* ignore */ }
        stop("key removed");
        showKeyForm("");
      });

      // ---------- REST ----------
      async function api(path) {
        const r = await fetch(path, { headers: { Authorization: "Bearer " + S.key }, cache: "no-store" });
        if (r.status === 401 || r.status === 403) {
          const e = new Error("key rejected (HTTP " + r.status + ")");
          e.auth = true;
          throw e;
        }
        if (!r.ok) throw new Error(path.split("?")[0] + ": HTTP " + r.status);
        return r.json();
      }
      async function fetchEventsAfter(after, gen) {
        let got = 0;
        for (let page = 0; page < 25; page++) {
          const r = await api("/v1/events?after=" + after + "&limit=2000");
          if (gen !== S.gen) return got;
          const evs = Array.isArray(r.events) ? r.events : [];
          if (page === 0 && S.lastSeq !== null && typeof r.oldest_retained === "number" && r.oldest_retained > S.lastSeq + 1) {
            note("events " + (S.lastSeq + 1) + "–" + (r.oldest_retained - 1) + " no longer retained", true);
          }
          for (const e of evs) ingest(e, false);
          got += evs.length;
          if (evs.length < 2000) break;
          after = evs[evs.length - 1].seq;
        }
        return got;
      }

      // ---------- connection ----------
      function setConn(state, text, reason) {
        const b = $("conn");
        b.dataset.state = state;
        document.body.dataset.conn = state;
        b.textContent = text;
        if (reason !== undefined) setText("conn-reason", reason);
      }
      function stop(reason) {
        S.gen++;
        clearTimeout(S.timer);
        if (S.ws) { try { S.ws.close(1000); } catch (e) { /* ignore */ } S.ws = null; }
        setConn("closed", "closed: " + reason, "");
      }
      async function connect() {
        const gen = ++S.gen;
        clearTimeout(S.timer);
        if (S.ws) { try { S.ws.close(1000); } catch (e) { /* ignore */ } S.ws = null; }
        setConn("connecting", "connecting");
        try {
          const risk = await api("/v1/risk");
          if (gen !== S.gen) return;
          applySnapshot(risk);
          if (S.lastSeq === null) {
            const seq = num(risk.sequence) || 0;
            const n = await fetchEventsAfter(Math.max(0, seq - 3000), gen);
            if (gen !== S.gen) return;
            if (S.lastSeq === null) S.lastSeq = seq;
            if (n) markDirty("feed");
          } else {
            skipAhead(num(risk.sequence));
            const from = S.lastSeq;
            const n = await fetchEventsAfter(from, gen);
            if (gen !== S.gen) return;
            if (n) note("resynced " + n + " event" + (n === 1 ? "" : "s") + " after #" + from);
          }
        } catch (e) {
          if (gen !== S.gen) return;
          if (e.auth) { stop(e.message); showKeyForm(e.message + ": paste another key"); return; }
          scheduleReconnect(String(e.message || e));
          return;
        }
        openSocket(gen);
      }
      function openSocket(gen) {
        const proto = location.protocol === "https:" ? "wss:" : "ws:";
        const url = proto + "//" + location.host + "/v1/stream?channels=events,risk,prices&access_token=" + encodeURIComponent(S.key);
        let ws;
        try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(String(e.message || e)); return; }
        S.ws = ws;
        S.streamSeq = null;
        S.closeReason = "";
        S.helloAt = 0;
        ws.onmessage = (m) => {
          if (gen !== S.gen) return;
          let msg;
          try { msg = JSON.parse(m.data); } catch (e) { return; }
          if (msg && typeof msg === "object") onMessage(msg, gen);
        };
        ws.onclose = (ev) => {
          if (gen !== S.gen) return;
          S.ws = null;
          if (S.helloAt && Date.now() - S.helloAt > 10000) S.attempt = 0;
          const why = S.closeReason || ev.reason || (S.helloAt ? "connection lost (" + ev.code + ")" : "stream refused (" + ev.code + ")");
          scheduleReconnect(why);
        };
        ws.onerror = () => { /* onclose follows */ };
      }
      function scheduleReconnect(reason) {
        const gen = ++S.gen;
        clearTimeout(S.timer);
        if (S.ws) { try { S.ws.close(1000); } catch (e) { /* ignore */ } S.ws = null; }
        let left = Math.min(30, 2 ** S.attempt);
        S.attempt++;
        const tick = () => {
          if (gen !== S.gen) return;
          if (left <= 0) { connect(); return; }
          setConn("reconnecting", "reconnecting in " + left + "s", "closed: " + reason);
          left--;
          S.timer = setTimeout(tick, 1000);
        };
        tick();
      }
      window.addEventListener("online", () => { if ($("conn").dataset.state === "reconnecting") { S.attempt = 0; connect(); } });

      function onMessage(msg, gen) {
        S.lastMsgAt = Date.now();
        if (typeof msg.stream_seq === "number") {
          // A jump means the server dropped messages for this client (the first risk summary repeats stream_seq 0).
          if (S.streamSeq !== null && msg.stream_seq > S.streamSeq + 1 && msg.type !== "hello") {
            note("stream skipped " + (msg.stream_seq - S.streamSeq - 1) + " message(s): resyncing", true);
          }
          if (msg.type === "hello" || S.streamSeq === null || msg.stream_seq > S.streamSeq) S.streamSeq = msg.stream_seq;
        }
        if (typeof msg.sequence === "number") setSequence(msg.sequence);
        switch (msg.type) {
          case "hello":
            S.helloAt = Date.now();
            S.gapFree = msg.role === "operator" || msg.role === undefined;
            setConn("live", "live", msg.role ? msg.role + (msg.account ? " " + msg.account : "") : "");
            if (S.lastSeq !== null && typeof msg.sequence === "number" && msg.sequence > S.lastSeq) fillGap(gen, !S.everLive, msg.sequence);
            S.everLive = true;
            break;
          case "event": onStreamEvent(msg.event, gen); break;
          case "prices": applyPrices(msg); break;
          case "risk": applyRisk(msg); break;
          case "closing":
            S.closeReason = msg.reason || "server closing";
            setConn("closed", "closed", "closed: " + S.closeReason);
            break;
          default: break;
        }
      }
      function onStreamEvent(e, gen) {
        if (!e || typeof e.seq !== "number") return;
        if (S.filling) { S.pending.push(e); return; }
        if (S.lastSeq !== null && e.seq <= S.lastSeq) return;
        if (S.gapFree && S.lastSeq !== null && e.seq > S.lastSeq + 1) { S.pending.push(e); fillGap(gen, false, e.seq - 1); return; }
        ingest(e, true);
      }
      // After a long gap only the newest events matter to the feed: fetch at most the last 3000.
      function skipAhead(target) {
        if (S.lastSeq === null || target === null || target - S.lastSeq <= 6000) return;
        note("skipped " + fmtInt(target - 3000 - S.lastSeq) + " older events (feed shows the newest)", true);
        S.lastSeq = target - 3000;
      }
      async function fillGap(gen, quiet, target) {
        if (S.filling) return;
        S.filling = true;
        skipAhead(typeof target === "number" ? target : null);
        const from = S.lastSeq;
        let n = 0, failed = null;
        try { n = await fetchEventsAfter(from, gen); } catch (err) { failed = err; }
        S.filling = false;
        const pending = S.pending.sort((a, b) => a.seq - b.seq);
        S.pending = [];
        if (gen !== S.gen) return;
        if (failed) note("resync failed: " + (failed.message || failed), true);
        else if (n && !quiet) note("resynced " + n + " event" + (n === 1 ? "" : "s") + " after #" + from);
        for (const e of pending) if (S.lastSeq === null || e.seq > S.lastSeq) ingest(e, true);
      }
      function ingest(e, live) {
        if (!e || typeof e.seq !== "number") return;
        if (S.lastSeq !== null && e.seq <= S.lastSeq) return;
        S.lastSeq = e.seq;
        if (live && typeof e.time === "number") setEngineTime(e.time);
        S.feedAll.unshift(e);
        if (S.feedAll.length > FEED_CAP) S.feedAll.length = FEED_CAP;
        if (EVENTS[e.type]) {
          S.feedRisk.unshift(e);
          if (S.feedRisk.length > FEED_CAP) S.feedRisk.length = FEED_CAP;
        }
        markDirty("feed");
      }

      // ---------- state updates ----------
      function setEngineTime(t) { if (typeof t === "number" && t !== S.engineTime) { S.engineTime = t; markDirty("time"); } }
      function setSequence(s) { if (s !== S.sequence) { S.sequence = s; markDirty("time"); } }
      function trackMarks(marks) {
        if (!marks) return;
        for (const sym in marks) {
          const x = num(marks[sym]), p = num(S.prevMarks[sym]);
          if (x !== null && p !== null && x !== p) S.markDir[sym] = x > p ? "up" : "down";
          S.prevMarks[sym] = marks[sym];
        }
      }
      function applySnapshot(risk) {
        trackMarks(risk.marks);
        S.risk = risk;
        S.fund = new Map();
        const hist = Array.isArray(risk.insurance_fund_history) ? risk.insurance_fund_history : [];
        for (const p of hist) addFundPoint(p.time, p.balances);
        addFundPoint(risk.time, risk.insurance_fund);
        if (typeof risk.time === "number") S.engineTime = risk.time;
        if (typeof risk.sequence === "number") S.sequence = risk.sequence;
        renderAll();
        document.body.dataset.loaded = "1";
      }
      function applyRisk(msg) {
        const marks = Object.assign({}, S.risk && S.risk.marks, msg.marks);
        trackMarks(msg.marks);
        S.risk = Object.assign({}, msg, { marks });
        if (typeof msg.time === "number") setEngineTime(msg.time);
        if (addFundPoint(msg.time, msg.insurance_fund)) markDirty("fund");
        markDirty("risk", "marks", "calls");
      }
      function applyPrices(msg) {
        if (!S.risk) return;
        trackMarks(msg.marks);
        S.risk.marks = Object.assign({}, S.risk.marks, msg.marks);
        if (typeof msg.time === "number") setEngineTime(msg.time);
        markDirty("marks");
      }
      // One series per asset; a run of equal balances is kept as its first and last point.
      function addFundPoint(t, balances) {
        if (typeof t !== "number" || !balances || typeof balances !== "object") return false;
        let changed = false;
        for (const asset in balances) {
          const v = num(balances[asset]);
          if (v === null) continue;
          let s = S.fund.get(asset);
          if (!s) { s = []; S.fund.set(asset, s); }
          const n = s.length;
          if (n && t < s[n - 1][0]) continue;
          if (n >= 2 && s[n - 1][1] === v && s[n - 2][1] === v) s[n - 1][0] = t;
          else s.push([t, v]);
          if (s.length > 8000) s.splice(0, s.length - 8000);
          changed = true;
        }
        return changed;
      }

      // ---------- rendering ----------
      function markDirty(...parts) {
        for (const p of parts) S.dirty.add(p);
        if (!S.flushTimer) S.flushTimer = setTimeout(flush, 120);
      }
      function flush() {
        S.flushTimer = null;
        const d = S.dirty;
        S.dirty = new Set();
        if (!S.risk) return;
        if (d.has("risk")) renderRisk();
        if (d.has("marks")) renderMarks();
        if (d.has("time")) renderTime();
        if (d.has("calls") || d.has("time")) renderCalls();
        if (d.has("feed") || d.has("time")) renderFeed();
        if (d.has("fund")) {
          if (Date.now() - S.fundRenderedAt >= 400) renderFund();
          else markDirty("fund");
        }
      }
      function renderAll() {
        renderRisk(); renderMarks(); renderTime(); renderCalls(); renderFeed(); renderFund();
      }
      function renderTime() {
        setText("engine-time", S.engineTime === null ? "—" : isoTime(S.engineTime) + " UTC");
        setText("sequence", S.sequence === null ? "—" : fmtInt(S.sequence));
      }
      function renderMarks() {
        const r = S.risk, box = $("marks");
        const marks = r.marks || {}, vol = r.volatility || {};
        const syms = Object.keys(marks).sort();
        if (unchanged("marks", [marks, vol, S.markDir])) return;
        const nodes = syms.map((sym) => {
          const c = el("span", "mark");
          c.dataset.symbol = sym;
          const dir = S.markDir[sym] || "flat";
          const sig = num(vol[sym]);
          c.append(el("b", null, sym), el("span", "px", fmtPx(marks[sym])), el("span", "dir " + dir, dir === "up" ? "▲" : dir === "down" ? "▼" : "•"),
            el("span", "sig", "σ1d " + (sig === null ? "—" : fmtPct(sig * 100, 2))));
          return c;
        });
        box.replaceChildren(...nodes);
      }
      function fillBar(id, keys, counts) {
        const bar = $(id), total = keys.reduce((a, k) => a + (num(counts[k]) || 0), 0);
        const parts = [];
        for (const k of keys) {
          const n = num(counts[k]) || 0;
          if (!n) continue;
          const i = el("i");
          i.style.flex = n + " 0 0";
          i.style.minWidth = "3px";
          i.style.background = COLOR[k];
          i.title = human(k) + ": " + n + " (" + fmtPct(100 * n / total, 1) + ")";
          parts.push(i);
        }
        bar.replaceChildren(...parts);
        return total;
      }
      function setCount(id, v) {
        const e = $(id), n = num(v) || 0;
        setText(id, fmtInt(n));
        e.classList.toggle("zero", n === 0);
      }
      function renderRisk() {
        const r = S.risk;
        const bs = r.by_status || {}, pr = r.procedures || {};
        for (const k of STATUSES) setCount("status-" + k, bs[k]);
        for (const k of PROCS) setCount("proc-" + k, pr[k]);
        const total = fillBar("status-bar", STATUSES, bs);
        fillBar("proc-bar", PROCS, pr);
        setText("status-total", fmtInt(num(r.accounts) === null ? total : r.accounts));

        const calls = Array.isArray(r.margin_calls) ? r.margin_calls : [];
        const cc = $("calls-count");
        setText("calls-count", fmtInt(calls.length));
        cc.className = "big" + (calls.length ? " hot" : " zero");
        setText("calls-total", fmtAmt(calls.reduce((a, c) => a + (num(c.amount) || 0), 0)));

        const liq = Array.isArray(r.liquidating) ? r.liquidating : [];
        setText("liquidating-count", fmtInt(liq.length));
        $("liquidating-count").className = "big" + (liq.length ? " red" : " zero");
        const ids = liq.slice(0, 4).map((x) => x.account).join(" ");
        setText("liquidating-list", liq.length ? ids + (liq.length > 4 ? " +" + (liq.length - 4) : "") : "none");

        const bl = num(r.backlog) || 0;
        setText("backlog", fmtInt(bl));
        $("backlog").className = "big" + (bl ? " amber" : " zero");

        renderFundTile();
        setText("closest-asof", "as of " + (typeof r.time === "number" ? hms(r.time) : "—") + " · seq " + fmtInt(r.sequence));
        renderClosest();
        renderBreakers();
        const bad = (num(bs.liquidatable) || 0) + (num(bs.bankrupt) || 0);
        document.title = "Solvent · " + calls.length + " calls · " + liq.length + " liquidating" + (bad ? " · " + bad + " liquidatable" : "");
      }
      function fundAssets() {
        return [...S.fund.keys()].sort((a, b) => (/USD/.test(b) - /USD/.test(a)) || a.localeCompare(b));
      }
      function renderFundTile() {
        const r = S.risk, box = $("fund-balances");
        const bal = r.insurance_fund || {};
        const assets = Object.keys(bal).sort((a, b) => (/USD/.test(b) - /USD/.test(a)) || a.localeCompare(b));
        if (!assets.length) { box.replaceChildren(el("span", "none", "no balance")); return; }
        const nodes = [];
        for (const a of assets) {
          const v = num(bal[a]);
          const s = S.fund.get(a);
          const first = s && s.length ? s[0][1] : null;
          const d = v !== null && first !== null ? v - first : null;
          const asset = el("span", "asset", a);
          const val = el("span", "num", fmtAmt(bal[a]));
          val.dataset.asset = a;
          val.id = "fund-" + a;
          const delta = el("span", "delta " + (d === null || d === 0 ? "" : d > 0 ? "pos" : "neg"),
            d === null ? "" : (d > 0 ? "+" : d < 0 ? "−" : "±") + compact(Math.abs(d)));
          if (s && s.length) delta.title = "change since " + isoTime(s[0][0]) + " UTC";
          nodes.push(asset, val, delta);
        }
        box.replaceChildren(...nodes);
      }
      const PROC_SHORT = { normal: "—", warning: "warn", margin_call: "call", liquidating: "liq." };
      const drawn = {};
      function unchanged(name, value) {
        const sig = JSON.stringify(value);
        if (drawn[name] === sig) return true;
        drawn[name] = sig;
        return false;
      }
      function renderClosest() {
        const r = S.risk, body = $("closest-body");
        const rows = Array.isArray(r.closest) ? r.closest.slice() : [];
        if (unchanged("closest", rows)) return;
        if (!rows.length) { body.replaceChildren(emptyRow(11, "no account with open positions")); return; }
        const out = rows.map((c) => {
          const tr = el("tr");
          tr.dataset.account = String(c.account);
          tr.dataset.status = String(c.status);
          if (c.pool) tr.title = "pool " + c.pool;
          const dist = num(c.distance_pct), sig = num(c.distance_sigma), ratio = num(c.margin_ratio);
          const crit = c.status === "bankrupt" || c.status === "liquidatable";
          tr.className = crit || (dist !== null && dist < 2) ? "d-crit" : dist === null ? "" : dist < 5 ? "d-high" : dist < 10 ? "d-med" : "d-low";
          const st = el("td");
          st.append(el("span", "pill s-" + c.status, human(c.status)));
          const rc = el("td", "n");
          const wrap = el("div", "ratio");
          const bar = el("span", "rbar"), fill = el("i");
          fill.style.width = (ratio === null ? 100 : Math.max(0, Math.min(100, ratio * 100))) + "%";
          fill.style.background = COLOR[c.status] || "#7b8796";
          bar.append(fill);
          wrap.append(bar, el("span", null, ratio === null ? "∞" : fmtPct(ratio * 100, 1)));
          rc.append(wrap);
          const pos = el("td");
          if (c.symbol) pos.append(el("span", null, c.symbol + " "), el("span", "side-" + c.side, c.side || ""));
          else pos.append(el("span", "dim", "—"));
          const proc = td(PROC_SHORT[c.procedure] || human(c.procedure), "dim opt");
          proc.title = human(c.procedure);
          tr.append(td(c.account, "acct"), st, proc, rc, td(fmtAmt(c.equity), "n"), td(fmtAmt(c.maintenance_margin), "n"), pos,
            td(fmtPx(c.mark), "n opt"), td(fmtPx(c.liquidation_price), "n"), td(dist === null ? "—" : fmtPct(dist, 2), "n dist"),
            td(sig === null ? "—" : nf(2).format(sig) + "σ", "n dist"));
          return tr;
        });
        body.replaceChildren(...out);
      }
      function renderCalls() {
        const r = S.risk, body = $("calls-body");
        const calls = (Array.isArray(r.margin_calls) ? r.margin_calls.slice() : []).sort((a, b) => (num(a.deadline) || 0) - (num(b.deadline) || 0));
        const now = S.engineTime;
        if (unchanged("calls", [calls, now])) return;
        setText("calls-meta", "by deadline · time left against engine time " + (now === null ? "—" : hms(now)));
        if (!calls.length) { body.replaceChildren(emptyRow(5, "no open margin calls")); return; }
        const out = calls.map((c) => {
          const tr = el("tr");
          tr.dataset.account = String(c.account);
          const dl = num(c.deadline);
          const left = dl !== null && now !== null ? (dl - now) / 1000 : num(c.seconds_left);
          const lc = left === null ? "" : left < 600 ? " urgent" : left < 1800 ? " soon" : "";
          tr.append(td(c.account, "acct"), td(c.pool, "dim"), td(fmtAmt(c.amount), "n"), td(dl === null ? "—" : mdhms(dl), "n"),
            td(left === null ? "—" : duration(left), "n left" + lc));
          return tr;
        });
        body.replaceChildren(...out);
      }
      function renderBreakers() {
        const list = Array.isArray(S.risk.breakers) ? S.risk.breakers : [];
        const box = $("breakers");
        if (unchanged("breakers", list)) return;
        if (!list.length) { box.replaceChildren(el("span", "none", "no breakers")); return; }
        box.replaceChildren(...list.map((b) => {
          const c = el("span", "chip");
          c.dataset.symbol = String(b.symbol);
          c.dataset.paused = b.paused ? "true" : "false";
          const reasons = Array.isArray(b.reasons) ? b.reasons : typeof b.reasons === "string" && b.reasons ? b.reasons.split(",") : [];
          c.append(el("b", null, b.symbol), el("span", "st", b.paused ? "paused" + (reasons.length ? ": " + reasons.map(human).join(", ") : "") : "running"),
            el("span", "cap", "cap used " + fmtAmt(b.cap_used)));
          return c;
        }));
      }

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
      function renderFeed() {
        const list = S.filter === "all" ? S.feedAll : S.feedRisk;
        const body = $("feed-body");
        if (unchanged("feed", [S.filter, list.length, list.length ? list[0].seq : null, S.engineTime === null ? 0 : Math.floor(S.engineTime / 864e5)])) return;
        setText("feed-meta", list.length + " newest first" + (list.length >= FEED_CAP ? " (capped)" : ""));
        if (!list.length) { body.replaceChildren(emptyRow(5, S.filter === "all" ? "no events yet" : "no margin, liquidation, ADL, fund or breaker events yet")); return; }
        const out = list.map((e) => {
          const tr = el("tr");
          tr.dataset.seq = String(e.seq);
          tr.dataset.type = String(e.type);
          const meta = EVENTS[e.type];
          const sameDay = S.engineTime !== null && typeof e.time === "number" && Math.floor(e.time / 864e5) === Math.floor(S.engineTime / 864e5);
          const t = td(typeof e.time === "number" ? (sameDay ? hms(e.time) : mdhms(e.time)) : "—", "t");
          if (typeof e.time === "number") t.title = isoTime(e.time) + " UTC";
          const tagCell = el("td");
          const tag = el("span", "tag " + (meta ? meta[1] : "ev-routine"), meta ? meta[0] : human(e.type));
          tag.title = e.type;
          tagCell.append(tag);
          const d = detail(e);
          const dc = td(d, "detail");
          dc.title = d;
          tr.append(t, td(e.seq, "seq"), tagCell, td(e.account || "", "acct"), dc);
          return tr;
        });
        body.replaceChildren(...out);
      }
      document.querySelectorAll("#feed-filter button").forEach((b) => b.addEventListener("click", () => {
        S.filter = b.dataset.filter;
        document.querySelectorAll("#feed-filter button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        renderFeed();
      }));

      // ---------- insurance fund chart (inline SVG, one band per asset) ----------
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
      const TIME_STEPS = [60e3, 300e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3, 172800e3, 604800e3, 2592000e3];
      function renderFund() {
        S.fundRenderedAt = Date.now();
        const chart = $("fund-chart"), wrap = $("fund-wrap");
        chartSize = wrap.clientWidth + "x" + wrap.clientHeight;
        const W = Math.max(240, Math.floor(wrap.clientWidth)), H = Math.max(120, Math.floor(wrap.clientHeight));
        chart.setAttribute("viewBox", "0 0 " + W + " " + H);
        chart.setAttribute("width", W);
        chart.setAttribute("height", H);
        // Assets whose fund never held anything get no band (the tile still lists them).
        let assets = fundAssets().filter((a) => S.fund.get(a).length);
        const held = assets.filter((a) => S.fund.get(a).some((p) => p[1] !== 0));
        if (held.length) assets = held;
        const nodes = [];
        if (!assets.length) {
          nodes.push(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no insurance fund data"));
          chart.replaceChildren(...nodes);
          setText("fund-meta", "");
          return;
        }
        let t0 = Infinity, t1 = -Infinity;
        for (const a of assets) { const s = S.fund.get(a); t0 = Math.min(t0, s[0][0]); t1 = Math.max(t1, s[s.length - 1][0]); }
        if (t1 <= t0) t1 = t0 + 60000;
        const L = 58, R = 86, T = 4, B = 18;
        const pw = W - L - R, band = (H - T - B) / assets.length;
        const X = (t) => L + (t - t0) / (t1 - t0) * pw;
        // time axis
        const tstep = TIME_STEPS.find((s) => (t1 - t0) / s <= Math.max(2, pw / 110)) || TIME_STEPS[TIME_STEPS.length - 1];
        for (let t = Math.ceil(t0 / tstep) * tstep; t <= t1; t += tstep) {
          const x = X(t).toFixed(1);
          nodes.push(svg("line", { x1: x, x2: x, y1: T, y2: H - B, class: "grid" }));
          const iso = isoTime(t);
          nodes.push(svg("text", { x, y: H - 5, "text-anchor": "middle" }, tstep >= 86400e3 || iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16)));
        }
        nodes.push(svg("line", { x1: L, x2: L + pw, y1: H - B + 0.5, y2: H - B + 0.5, class: "axis" }));
        assets.forEach((asset, k) => {
          const s = S.fund.get(asset), color = SERIES[k % SERIES.length];
          const top = T + k * band + 14, bottom = T + (k + 1) * band - 6;
          let lo = Infinity, hi = -Infinity;
          for (const p of s) { if (p[1] < lo) lo = p[1]; if (p[1] > hi) hi = p[1]; }
          if (hi - lo < Math.abs(hi) * 1e-6 || hi === lo) { const pad = Math.abs(hi) * 0.01 || 1; lo -= pad; hi += pad; }
          const step = niceStep(hi - lo, Math.max(1, Math.round((bottom - top) / 36)));
          lo = Math.floor(lo / step) * step;
          hi = Math.ceil(hi / step) * step;
          const Y = (v) => bottom - (v - lo) / (hi - lo) * (bottom - top);
          const tick = tickFormat(lo, hi, step);
          for (let v = lo; v <= hi + step / 2; v += step) {
            const y = Y(v).toFixed(1);
            nodes.push(svg("line", { x1: L, x2: L + pw, y1: y, y2: y, class: "grid" }));
            nodes.push(svg("text", { x: L - 6, y: +y + 3, "text-anchor": "end" }, tick(v)));
          }
          if (k > 0) nodes.push(svg("line", { x1: 0, x2: W, y1: T + k * band, y2: T + k * band, class: "axis" }));
          nodes.push(svg("text", { x: L + 4, y: top - 3, class: "asset" }, asset));
          // step line, at most a few points per pixel column
          let d = "", lastX = null, lastY = null;
          for (const [t, v] of s) {
            const x = X(t), y = Y(v);
            const xs = x.toFixed(1), ys = y.toFixed(1);
            if (d === "") d = "M" + xs + " " + ys;
            else {
              if (ys !== lastY) {
                if (xs !== lastX) d += " L" + xs + " " + lastY;
                d += " L" + xs + " " + ys;
              } else if (xs !== lastX) d += " L" + xs + " " + ys;
            }
            lastX = xs; lastY = ys;
          }
          const xEnd = X(t1).toFixed(1);
          if (xEnd !== lastX) d += " L" + xEnd + " " + lastY;
          nodes.push(svg("path", { d: d + " L" + xEnd + " " + bottom.toFixed(1) + " L" + X(s[0][0]).toFixed(1) + " " + bottom.toFixed(1) + " Z", fill: color, "fill-opacity": 0.08, stroke: "none" }));
          const line = svg("path", { d, fill: "none", stroke: color, "stroke-width": 1.6, "stroke-linejoin": "round", class: "fund-line" });
          line.dataset.asset = asset;
          line.dataset.points = String(s.length);
          nodes.push(line);
          const last = s[s.length - 1][1];
          nodes.push(svg("circle", { cx: xEnd, cy: lastY, r: 2.8, fill: color }));
          nodes.push(svg("text", { x: +xEnd + 7, y: +lastY + 3.5, class: "last" }, Math.abs(last) >= 1e7 ? compact(last) : fmtAmt(last)));
        });
        chart.replaceChildren(...nodes);
        const first = assets[0], fs = S.fund.get(first);
        const dv = fs[fs.length - 1][1] - fs[0][1];
        setText("fund-meta", first + " " + fmtAmt(fs[fs.length - 1][1]) + " · " + (dv >= 0 ? "+" : "−") + fmtAmt(Math.abs(dv)) + " since " + isoTime(fs[0][0]).slice(5, 16));
      }
      // Redraw the chart at its box's size whenever that changes (window resize, layout settling).
      let chartSize = "";
      const redrawOnResize = () => {
        const w = $("fund-wrap"), size = w.clientWidth + "x" + w.clientHeight;
        if (size !== chartSize && S.risk) { chartSize = size; renderFund(); }
      };
      if (typeof ResizeObserver === "function") new ResizeObserver(redrawOnResize).observe($("fund-wrap"));
      window.addEventListener("resize", redrawOnResize);

      // Quiet stream: say how long since the last message (wall clock) once it exceeds 10 s.
      setInterval(() => {
        const live = $("conn").dataset.state === "live";
        const q = live && S.lastMsgAt ? (Date.now() - S.lastMsgAt) / 1000 : 0;
        setText("quiet", q > 10 ? "no message for " + duration(q) : "");
      }, 1000);

      // ---------- start ----------
      S.key = readKey();
      if (S.key) connect();
      else { setConn("closed", "closed: no key", ""); showKeyForm(""); }
    })();
    </script>
    </body>
    </html>
    """#
}
