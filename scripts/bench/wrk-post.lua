-- Single-event POSTs with unique ids: each wrk thread numbers its own requests.
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"id":"wrk-%d-%d-%d","type":"deployment.succeeded","service":"svc-%d","environment":"production","version":"1.%d"}',
    tid, counter, os.time(), counter % 100, counter)
  return wrk.format("POST", "/api/v1/events", {["Content-Type"] = "application/json"}, body)
end

local statuses = {}
function response(status, headers, body)
  if status ~= 201 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  for status, count in pairs(statuses) do
    io.write(string.format("non-201 status %d: %d\n", status, count))
  end
end
