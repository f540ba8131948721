-- GETs the survey pages listed in a file, one respondent a line (path TAB address), in file
-- order and round and round (one wrk thread), with the request headers a browser sends for
-- a page, through a proxy that names the respondent's address (X-Forwarded-For: each
-- respondent has its own per-address rate limit). The file lists more respondents than
-- there are connections, so no two requests in flight are for the same survey. done()
-- prints one JSON line for bench/web_pages.py.

local requests = {}
local next_index = 0

function init(args)
  local host = args[2]
  for line in io.lines(args[1]) do
    local path, address = line:match("^([^\t]*)\t(.*)$")
    requests[#requests + 1] = wrk.format("GET", path, {
      ["Host"] = host,
      ["X-Forwarded-For"] = address,
      ["X-Forwarded-Proto"] = "https",
      ["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      ["Accept-Encoding"] = "gzip, deflate, br, zstd",
      ["Accept-Language"] = "en-US,en;q=0.9",
    })
  end
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"bytes": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, summary.bytes))
end
