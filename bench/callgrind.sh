#!/usr/bin/env bash
# Instructions per signed GetCallerIdentity, counted by valgrind's callgrind (noise-free, so two
# binaries can be compared on a busy machine):
#
#   bench/callgrind.sh RAMPART_BINARY [post|get] [CONNECTIONS] [SECONDS]
#
# Starts `rampart serve --ephemeral` under callgrind, warms up with wrk for 3 s, dumps the
# counters, runs wrk (-t1, CONNECTIONS (16), SECONDS (10)), dumps again, and prints the
# instructions of the measured run divided by wrk's completed requests. The profile of the
# measured run is left in callgrind.out.2 of the printed directory (callgrind_annotate reads it).
# Valgrind hides the CPU's SHA extensions, so SHA-256 (SigV4) runs in software there and costs
# several times its native share. Needs valgrind, wrk and bench/.venv-moto (bench/run.sh).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$1"
MODE="${2:-post}"
CONNECTIONS="${3:-16}"
SECONDS_RUN="${4:-10}"
VENV="${BENCH_VENV:-$BENCH_DIR/.venv-moto}"
KEY=AKIAIOSFODNN7EXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
OUT="$(mktemp -d -t rampart-callgrind.XXXXXX)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

RAMPART_ROOT_ACCESS_KEY_ID=$KEY RAMPART_ROOT_SECRET_ACCESS_KEY=$SECRET RAMPART_LOG=warn \
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
    "$BIN" serve --ephemeral --listen "127.0.0.1:$PORT" >"$OUT/server.out" 2>"$OUT/server.err" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/_rampart/health" && break
    sleep 0.2
done
if [[ "$MODE" == post ]]; then
    { "$VENV/bin/python" "$BENCH_DIR/lib/sign.py" header "127.0.0.1:$PORT" $KEY $SECRET us-east-1
      cat "$BENCH_DIR/lib/report.lua"; } >"$OUT/run.lua"
    URL="http://127.0.0.1:$PORT/"
else
    cp "$BENCH_DIR/lib/report.lua" "$OUT/run.lua"
    URL="$("$VENV/bin/python" "$BENCH_DIR/lib/sign.py" query "127.0.0.1:$PORT" $KEY $SECRET us-east-1)"
fi
wrk -t1 -c"$CONNECTIONS" -d3s -s "$OUT/run.lua" "$URL" >/dev/null
callgrind_control -d "$PID" >/dev/null 2>&1
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --timeout 10s -s "$OUT/run.lua" "$URL" >"$OUT/wrk.txt"
callgrind_control -d "$PID" >/dev/null 2>&1
kill "$PID"
wait "$PID" 2>/dev/null || true
grep -q 'status_errors=0 connect=0 read=0 write=0 timeout=0' "$OUT/wrk.txt" ||
    { cat "$OUT/wrk.txt" >&2; echo "some requests failed" >&2; exit 1; }
REQUESTS="$(sed -nE 's/^BENCH requests=([0-9]+).*/\1/p' "$OUT/wrk.txt")"
IR="$(sed -nE 's/^summary: ([0-9]+)/\1/p' "$OUT/callgrind.out.2")"
echo "$MODE, $CONNECTIONS connections: $REQUESTS requests, $IR instructions, $((IR / REQUESTS)) per request ($OUT)"
