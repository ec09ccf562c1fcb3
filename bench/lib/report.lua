-- wrk hook: print one machine-readable line at the end of a run. Only `done` is defined, so
-- wrk does not parse response bodies into Lua (a `response` hook would slow every request).
-- summary.errors.status counts responses whose status was not 2xx/3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p99_us=%d mean_us=%.1f max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
