-- wrk script: mark-price updates. POST /v1/commands {"type":"mark","symbol":"BTCUSDT","price":"<p>"}
--   SOLVENT_KEY=<operator key> wrk -t2 -c8 -d15s --latency -s prices.lua http://127.0.0.1:PORT
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") and
   (debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path) or package.path
local common = require("common")

setup = common.setup

local counter = 0
local prefix, headers

function init(args)
   prefix = common.run .. "-p" .. tostring(thread_id) .. "-"
   headers = common.headers()
end

function request()
   counter = counter + 1
   headers["Idempotency-Key"] = prefix .. counter
   local body = '{"type":"mark","symbol":"BTCUSDT","price":"' .. common.price(counter + 997 * thread_id) .. '"}'
   return wrk.format("POST", "/v1/commands", headers, body)
end

done = common.done("prices")
