-- post.lua - wrk script for bench/run: POST one signed JSON webhook.
--
-- bench/run writes the body to a file and computes its signature headers;
-- both come in through the environment so this script holds no secrets:
--	BENCH_BODY_FILE		the exact bytes to send (~1.5 KB of JSON)
--	BENCH_HEADERS		header lines "Name: value", separated by "|"
--	BENCH_UNIQUE		when "1", an X-Request-Id unique per request
--				(for the idempotency scenario's key)
-- The path is the one on wrk's command line (the floor ignores it all).

local f = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"),
    "BENCH_BODY_FILE not set"), "rb"))
local body = f:read("*a")
f:close()

local headers = { ["Content-Type"] = "application/json" }
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
	local name, value = string.match(line, "^%s*([^:]+):%s*(.*)$")
	if name then headers[name] = value end
end
local unique = os.getenv("BENCH_UNIQUE") == "1"

-- Threads get distinct prefixes so that request ids never repeat.
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local n = 0
function request()
	if unique then
		n = n + 1
		headers["X-Request-Id"] = string.format("%d-%d-%d", tid or 0,
		    os.time(), n)
	end
	return wrk.format("POST", nil, headers, body)
end

-- wrk's own summary counts "Non-2xx or 3xx responses"; add the
-- percentiles bench/run prints.
function done(summary, latency, requests)
	io.write(string.format("bench: latency p50 %d us, p99 %d us\n",
	    latency:percentile(50), latency:percentile(99)))
end
