-- wrk script: fills. POST /v1/commands
--   {"type":"fill","account":"load-<n>","symbol":"BTCUSDT","quantity":"±0.001","price":"<p>","fee":"0"}
-- The accounts load-0 .. load-(N-1) must hold collateral first (scripts/bench-load deposits
-- 100000 USDT into each); N is $SOLVENT_ACCOUNTS (default 100).
--   SOLVENT_KEY=<operator key> wrk -t2 -c8 -d15s --latency -s fills.lua http://127.0.0.1:PORT
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") and
   (debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path) or package.path
local common = require("common")

setup = common.setup

local accounts = tonumber(os.getenv("SOLVENT_ACCOUNTS") or "100")
local counter = 0
local prefix, headers

function init(args)
   prefix = common.run .. "-f" .. tostring(thread_id) .. "-"
   headers = common.headers()
end

function request()
   counter = counter + 1
   headers["Idempotency-Key"] = prefix .. counter
   -- Threads walk the accounts from different offsets; buys and sells alternate per
   -- account visit so positions stay small.
   local n = (counter + 37 * thread_id) % accounts
   local side = (math.floor(counter / accounts) % 2 == 0) and "0.001" or "-0.001"
   local body = '{"type":"fill","account":"load-' .. n .. '","symbol":"BTCUSDT","quantity":"' .. side ..
      '","price":"' .. common.price(counter + 997 * thread_id) .. '","fee":"0"}'
   return wrk.format("POST", "/v1/commands", headers, body)
end

done = common.done("fills")
