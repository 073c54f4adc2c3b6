// The dashboard page as files (Sources/SolventServer/Resources): the template names each part once,
// the scripts parse, and every element id the script looks up exists in the HTML. Run by
// `node --test Tests/dashboard` (scripts/test); the rendering itself is scripts/check_dashboard.py's.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const dir = path.join(__dirname, "../../Sources/SolventServer/Resources");
const read = (name) => fs.readFileSync(path.join(dir, name), "utf8");
const html = read("dashboard.html"), js = read("dashboard.js"), formatJs = read("dashboard-format.js");

test("the template names the stylesheet and both scripts once each, in load order", () => {
  const markers = ["/* dashboard.css */", "/* dashboard-format.js */", "/* dashboard.js */"];
  const at = markers.map((m) => {
    assert.equal(html.split(m).length, 2, m);
    return html.indexOf(m);
  });
  assert.deepEqual([...at].sort((a, b) => a - b), at, "format before the page script");
});

test("the scripts parse and the page script uses the formatting module, not its own copy", () => {
  new vm.Script(formatJs, { filename: "dashboard-format.js" });
  new vm.Script(js, { filename: "dashboard.js" });
  assert.match(js, /= SolventFormat;/);
  assert.doesNotMatch(js, /function fmtAmt\(/);
});

test("every id the script looks up is in the page", () => {
  const ids = new Set([...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
  const used = new Set([...js.matchAll(/(?:\$|setText|setCount|fillBar)\("([^"]+)"/g)].map((m) => m[1]));
  assert.ok(used.size > 20, `only ${used.size} ids found: the pattern no longer matches the script`);
  // "status-" + k: a prefix completed by each of a list of the script (STATUSES, PROCS).
  const lists = Object.fromEntries([...js.matchAll(/const (STATUSES|PROCS) = (\[[^\]]*\]);/g)].map((m) => [m[1], JSON.parse(m[2])]));
  assert.deepEqual(Object.keys(lists).sort(), ["PROCS", "STATUSES"]);
  const expanded = [...used].flatMap((id) => !id.endsWith("-") ? [id]
    : id === "status-" ? lists.STATUSES.map((s) => id + s) : id === "proc-" ? lists.PROCS.map((s) => id + s) : [id]);
  const missing = expanded.filter((id) => !ids.has(id));
  assert.deepEqual(missing, []);
});

test("the page has no external asset (no src or href to another origin)", () => {
  const page = html + js;
  assert.doesNotMatch(page, /\b(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(page, /@import|url\(\s*["']?https?:/);
});
