-- Single-event POSTs with unique ids: each wrk thread numbers its own requests.
-- No response() hook: it would make wrk run Lua for every answer on the cores the server
-- needs; wrk itself reports "Non-2xx or 3xx responses" when any request failed.
-- SERVICES (default 100) is how many services the events are spread over; PREFIX (default
-- wrk) starts every id, so that two wrk processes at once post different ids.
local counter = 0
local threads = 0
local services = tonumber(os.getenv("SERVICES") or "100")
local prefix = os.getenv("PREFIX") or "wrk"

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"id":"%s-%d-%d-%d","type":"deployment.succeeded","service":"svc-%d","environment":"production","version":"1.%d"}',
    prefix, tid, counter, os.time(), counter % services, counter)
  return wrk.format("POST", "/api/v1/events", {["Content-Type"] = "application/json"}, body)
end
