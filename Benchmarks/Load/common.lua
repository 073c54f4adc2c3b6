-- Shared by prices.lua and fills.lua (wrk 4.x, LuaJIT). Not a wrk script on its own.
--
-- Every request: POST /v1/commands with the operator key from $SOLVENT_KEY, JSON body and
-- a unique Idempotency-Key "<run>-<thread>-<counter>". <run> comes from $SOLVENT_RUN
-- (the runner gives each wrk run its own) or else the clock, so that two runs against one
-- server never replay each other's keys (a replay is answered as a cheap duplicate and
-- would inflate the numbers).
local M = {}

local key = os.getenv("SOLVENT_KEY")
if key == nil or key == "" then
   io.stderr:write("SOLVENT_KEY is not set: export the operator key printed by `solvent serve`\n")
   os.exit(2)
end
M.run = os.getenv("SOLVENT_RUN") or tostring(os.time())

local threads = {}
local next_id = 0

-- setup(thread) runs in the main Lua state once per thread: give each its id.
function M.setup(thread)
   thread:set("thread_id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- The headers of every request (the Idempotency-Key is added per request).
function M.headers()
   return {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
   }
end

-- A price in 65000.00 .. 65099.99, oscillating: a triangle wave over the counter plus the
-- thread id, always a decimal string with exactly two decimals.
function M.price(n)
   local step = n % 20000                       -- 0 .. 19999
   local cents = step < 10000 and step or (19999 - step)
   return string.format("%d.%02d", 65000 + math.floor(cents / 100), cents % 100)
end

-- done(summary, latency, requests) runs in the main state after the run.
function M.done(name)
   return function(summary, latency, requests)
      local seconds = summary.duration / 1e6
      local errors = summary.errors
      io.write("-- solvent load: ", name, "\n")
      io.write(string.format("requests=%d duration_s=%.2f rps=%.1f\n",
                             summary.requests, seconds, summary.requests / seconds))
      for _, p in ipairs({ 50, 90, 99, 99.9 }) do
         io.write(string.format("p%s_us=%d\n", tostring(p), latency:percentile(p)))
      end
      io.write(string.format("mean_us=%.0f max_us=%d\n", latency.mean, latency.max))
      io.write(string.format("non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
                             errors.status, errors.connect, errors.read, errors.write, errors.timeout))
   end
end

return M
