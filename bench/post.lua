-- post.lua - wrk script for bench/run: POST one signed JSON webhook.
--
-- bench/run writes the body to a file and computes its signature; both
-- come in through the environment so that this script holds no secrets:
--	BENCH_BODY_FILE		the exact bytes to send (~1.5 KB of JSON)
--	BENCH_SIGNATURE		lower-case hex HMAC-SHA256 of those bytes
-- The path is the one on wrk's command line (the floor ignores it all).

local f = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"),
    "BENCH_BODY_FILE not set"), "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Knock-Signature"] = assert(os.getenv("BENCH_SIGNATURE"),
    "BENCH_SIGNATURE not set")

-- wrk's own summary already counts "Non-2xx or 3xx responses"; add the
-- percentiles bench/run prints.
function done(summary, latency, requests)
	io.write(string.format("bench: latency p50 %d us, p99 %d us\n",
	    latency:percentile(50), latency:percentile(99)))
end
