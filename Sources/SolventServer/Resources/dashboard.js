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

  // ---------- formatting (dashboard-format.js) ----------
  const { num, fmtAmt, fmtPx, fmtQty, fmtInt, fmtPct, compact, isoTime, hms, mdhms, pad2, duration, human, detail, niceStep, tickFormat, nf } = SolventFormat;

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

  // ---------- cluster header (GET /v1/cluster, no key; docs/cluster.md "Members") ----------
  // A single node shows nothing. A cluster node shows the epoch and each member of the group
  // (from the member table every node heartbeats into): its id, role, applied sequence and lag.
  async function pollCluster() {
    let doc = null;
    try {
      const r = await fetch("/v1/cluster", { cache: "no-store" });
      if (r.ok) doc = await r.json();
    } catch (_) { doc = null; }
    renderCluster(doc);
  }
  function renderCluster(doc) {
    const box = $("cluster");
    if (!box) return;
    if (doc && doc.role === "single") box.dataset.single = "1";
    if (!doc || doc.role === "single") {
      box.hidden = !doc ? box.hidden : true;
      if (!doc && !box.hidden) box.dataset.state = "unreachable";
      return;
    }
    box.hidden = false;
    box.dataset.state = "ok";
    box.dataset.role = doc.role;
    box.dataset.leader = doc.leader_id || "";
    setText("cluster-epoch", String(doc.epoch));
    setText("cluster-leader", doc.leader_id ? doc.leader_id : "none");
    setText("cluster-self", doc.node_id + " (" + doc.role + ")");
    // A sharded node (docs/cluster.md "Running shards"): its shard in the header (the leader and
    // epoch above are its shard's), and members_by_shard as one group per shard (leader, epoch
    // from `shards`, members).
    const sharded = typeof doc.shard_count === "number" && doc.shard_count > 1;
    const shardKv = $("cluster-shard-kv");
    if (shardKv) shardKv.hidden = !sharded;
    if (sharded) { setText("cluster-shard", doc.shard + " of " + doc.shard_count); box.dataset.shard = String(doc.shard); }
    else delete box.dataset.shard;
    const members = Array.isArray(doc.members) ? doc.members : [];
    const list = $("cluster-members");
    const memberSpan = (m) => {
      const span = el("span", "member " + (m.role === "leader" ? "lead" : "stby"));
      span.dataset.node = m.node_id;
      span.dataset.role = m.role;
      span.dataset.applied = String(m.applied_sequence);
      span.dataset.lag = String(m.lag_commands);
      span.title = m.url + " · heartbeat " + m.seen_ms_ago + " ms ago";
      span.append(el("b", null, m.node_id), el("span", "role", m.role === "leader" ? "leader" : "standby"),
                  el("span", "seq", "#" + fmtInt(m.applied_sequence)),
                  el("span", "lag", m.role === "leader" ? "" : "lag " + fmtInt(m.lag_commands) + " · " + m.lag_ms + " ms"));
      return span;
    };
    const byShard = Array.isArray(doc.members_by_shard) ? doc.members_by_shard : [];
    if (byShard.length) {
      const leases = {};
      for (const s of (Array.isArray(doc.shards) ? doc.shards : [])) leases[s.shard] = s;
      list.replaceChildren(...byShard.map((g) => {
        const lease = leases[g.shard] || {};
        const group = el("span", "shard" + (g.shard === doc.shard ? " own" : ""));
        group.dataset.shard = String(g.shard);
        group.dataset.leader = lease.leader_id || "";
        group.dataset.epoch = lease.epoch === undefined || lease.epoch === null ? "" : String(lease.epoch);
        group.append(el("label", null, "shard " + g.shard),
                     el("span", "sl", "leader " + (lease.leader_id || "none")),
                     el("span", "se", "epoch " + (lease.epoch === undefined || lease.epoch === null ? "—" : lease.epoch)),
                     ...(Array.isArray(g.members) ? g.members : []).map(memberSpan));
        return group;
      }));
    } else {
      list.replaceChildren(...members.map(memberSpan));
    }
  }
  // A single node answers "single" once and is not asked again (/v1/cluster computes the state
  // hash on every call: no per-second hash on a node that has no cluster to show).
  const clusterTimer = setInterval(() => { if ($("cluster").dataset.single === "1") clearInterval(clusterTimer); else pollCluster(); }, 1000);
  pollCluster();

  // ---------- start ----------
  S.key = readKey();
  if (S.key) connect();
  else { setConn("closed", "closed: no key", ""); showKeyForm(""); }
})();
