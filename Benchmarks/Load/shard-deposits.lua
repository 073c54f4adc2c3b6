-- wrk script: deposits into the accounts of one shard (scripts/bench-shards). POST /v1/commands
--   {"type":"deposit","account":"<one of $SOLVENT_ACCOUNT_LIST>","asset":"USDT","amount":"1"}
-- $SOLVENT_ACCOUNT_LIST: comma-separated account ids, all in the shard the target node leads
-- (the client routes, as a client following the router's 307 would after its first request).
--   SOLVENT_KEY=<operator key> SOLVENT_ACCOUNT_LIST=a,b,c wrk -t1 -c8 -d10s --latency -s shard-deposits.lua http://127.0.0.1:PORT
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") and
   (debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path) or package.path
local common = require("common")

setup = common.setup

local accounts = {}
for id in string.gmatch(os.getenv("SOLVENT_ACCOUNT_LIST") or "", "[^,]+") do table.insert(accounts, id) end
if #accounts == 0 then
   io.stderr:write("SOLVENT_ACCOUNT_LIST is empty\n")
   os.exit(2)
end
local counter = 0
local prefix, headers

function init(args)
   prefix = common.run .. "-d" .. tostring(thread_id) .. "-"
   headers = common.headers()
end

function request()
   counter = counter + 1
   headers["Idempotency-Key"] = prefix .. counter
   local account = accounts[(counter + 37 * thread_id) % #accounts + 1]
   local body = '{"type":"deposit","account":"' .. account .. '","asset":"USDT","amount":"1"}'
   return wrk.format("POST", "/v1/commands", headers, body)
end

done = common.done("shard-deposits")
