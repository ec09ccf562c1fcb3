#!/usr/bin/env bash
# A/B comparison of rampart binaries on KMS Encrypt of 4 KiB (an authorized call: key policy,
# grants, tags and condition keys looked up, key material opened, event audited), interleaved
# so that the machine's background load hits every binary alike:
#
#   bench/kms_compare.sh OLD_BINARY NEW_BINARY [MORE_BINARIES...]
#
# Each of BENCH_ROUNDS rounds (3) starts each binary in turn on a fresh data directory, warms
# it up for 2 s and measures BENCH_DURATION (8) seconds of wrk -t2 -c64 replaying the
# header-signed Encrypt of bench/lib/kms.py; prints req/s and the server's CPU time per request
# (user + system from /proc/PID/stat). Needs wrk and .venv (scripts/test makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 2)) || { echo "usage: $0 OLD_BINARY NEW_BINARY [MORE...]" >&2; exit 2; }
KEY=AKIAIOSFODNN7EXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
PYTHON="${PYTHON:-.venv/bin/python}"
ROUNDS="${BENCH_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-8}"

measure() { # BINARY -> prints "N req/s, M CPU-µs/req"
    local bin="$1" work pid port="" line requests duration before after
    work="$(mktemp -d)"
    RAMPART_ROOT_ACCESS_KEY_ID=$KEY RAMPART_ROOT_SECRET_ACCESS_KEY=$SECRET RAMPART_LOG=warn \
        RAMPART_KMS_SYMMETRIC_RPS=1000000000 \
        "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" --account-id 444455556666 \
        >"$work/out" 2>"$work/err" &
    pid=$!
    for _ in $(seq 1 200); do
        port="$(sed -nE 's|rampart listening on http://127.0.0.1:([0-9]+)|\1|p' "$work/out")"
        [[ -n "$port" ]] && break
        sleep 0.05
    done
    [[ -n "$port" ]] || { echo "$bin did not start" >&2; cat "$work/err" >&2; exit 1; }
    { "$PYTHON" bench/lib/kms.py encrypt "127.0.0.1:$port" $KEY $SECRET 4096; cat bench/lib/report.lua; } >"$work/encrypt.lua"
    wrk -t2 -c64 -d2s --timeout 10s -s "$work/encrypt.lua" "http://127.0.0.1:$port/" >/dev/null
    before="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
    wrk -t2 -c64 -d"${DURATION}s" --timeout 10s -s "$work/encrypt.lua" "http://127.0.0.1:$port/" >"$work/wrk.txt"
    after="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
    line="$(grep '^BENCH ' "$work/wrk.txt")"
    grep -qE 'status_errors=0 connect=0 read=0 write=0 timeout=0 ' <<<"$line" || { cat "$work/wrk.txt" >&2; exit 1; }
    requests="$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")"
    duration="$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$work"
    awk -v r="$requests" -v d="$duration" -v c="$((after - before))" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.0f req/s, %.1f CPU-µs/req", r / (d / 1e6), c / hz * 1e6 / r }'
}

for round in $(seq 1 "$ROUNDS"); do
    line="round $round"
    for bin in "$@"; do
        line+=" | $(basename "$bin"): $(measure "$bin")"
    done
    echo "$line"
done
