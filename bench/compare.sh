#!/usr/bin/env bash
# A/B comparison of rampart binaries on signed GetCallerIdentity, interleaved so that the
# machine's background load hits every binary alike:
#
#   bench/compare.sh OLD_BINARY NEW_BINARY [MORE_BINARIES...]
#
# For each of BENCH_ROUNDS rounds (3), each binary in turn is started (`serve --ephemeral`),
# warmed up, and measured with wrk on the presigned GET then the header-signed POST (the two
# GetCallerIdentity lines of bench/run.sh). Prints one line per measurement and, at the end,
# each binary's median req/s and server CPU time per request (user + system, from
# /proc/PID/stat: less disturbed by other load than req/s) and their ratios to the first binary. Same knobs as run.sh:
# BENCH_DURATION (5 here), BENCH_WARMUP (2), BENCH_THREADS (2), BENCH_CONNECTIONS (64).
# Needs wrk and bench/.venv-moto (run bench/run.sh once); BENCH_VENV overrides the venv.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
(($# >= 2)) || { echo "usage: $0 OLD_BINARY NEW_BINARY [MORE...]" >&2; exit 2; }
DURATION="${BENCH_DURATION:-5}"
WARMUP="${BENCH_WARMUP:-2}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
ROUNDS="${BENCH_ROUNDS:-3}"
VENV="${BENCH_VENV:-$BENCH_DIR/.venv-moto}"
[[ -x "$VENV/bin/python" ]] || { echo "no $VENV: run bench/run.sh once first" >&2; exit 1; }

ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
export RAMPART_ROOT_ACCESS_KEY_ID="$ACCESS_KEY_ID"
export RAMPART_ROOT_SECRET_ACCESS_KEY="$SECRET_ACCESS_KEY"

WORK="$(mktemp -d -t rampart-compare.XXXXXX)"
PID=""
cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU time (user + system, clock ticks) the server process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
TICK_HZ="$(getconf CLK_TCK)"

# run_wrk URL [LUA]: "REQ_PER_S CPU_US_PER_REQUEST P99_MS" of one wrk run (the server's CPU time per
# answered request is what the machine's other load disturbs least); fails when any request
# failed.
run_wrk() {
    local out="$WORK/wrk.txt" line t0 t1
    t0="$(cpu_ticks)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
        -s "${2:-$BENCH_DIR/lib/report.lua}" "$1" >"$out"
    t1="$(cpu_ticks)"
    line="$(grep '^BENCH ' "$out")" || { cat "$out" >&2; return 1; }
    if grep -qE 'Non-2xx|Socket errors' "$out" ||
        ! grep -qE 'status_errors=0 connect=0 read=0 write=0 timeout=0 ' <<<"$line"; then
        cat "$out" >&2
        echo "some requests failed: the figure is invalid" >&2
        return 1
    fi
    awk -v l=" $line" -v ticks="$((t1 - t0))" -v hz="$TICK_HZ" 'BEGIN {
        match(l, / requests=[0-9]+/); r = substr(l, RSTART + 10, RLENGTH - 10)
        match(l, / duration_us=[0-9]+/); d = substr(l, RSTART + 13, RLENGTH - 13)
        match(l, / p99_us=[0-9]+/); p99 = substr(l, RSTART + 8, RLENGTH - 8)
        printf "%.0f %.2f %.2f", r / (d / 1e6), ticks / hz * 1e6 / r, p99 / 1000 }'
}

declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 1 $#); do
        bin="${!i}"
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        "$bin" serve --ephemeral --listen "127.0.0.1:$port" >"$WORK/out" 2>"$WORK/err" &
        PID=$!
        for _ in $(seq 1 200); do
            [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/_rampart/health" || true)" == 200 ]] && break
            sleep 0.05
        done
        url="$("$VENV/bin/python" "$BENCH_DIR/lib/sign.py" query "127.0.0.1:$port" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY")"
        grep -q '<Arn>arn:aws:iam::' <<<"$(curl -s "$url")" || { echo "$bin: no <Arn> in its answer" >&2; exit 1; }
        lua="$WORK/post.lua"
        {
            "$VENV/bin/python" "$BENCH_DIR/lib/sign.py" header "127.0.0.1:$port" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY"
            cat "$BENCH_DIR/lib/report.lua"
        } >"$lua"
        if ((WARMUP > 0)); then
            wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
        fi
        read -r get get_cpu get_p99 <<<"$(run_wrk "$url")"
        read -r post post_cpu post_p99 <<<"$(run_wrk "http://127.0.0.1:$port/" "$lua")"
        load="$(cut -d' ' -f1 /proc/loadavg)"
        echo "round $round  binary $i ($bin)  GET $get req/s, $get_cpu CPU-µs/req, p99 $get_p99 ms  POST $post req/s, $post_cpu CPU-µs/req, p99 $post_p99 ms  (load $load)"
        RESULTS["$i.get"]+="$get "
        RESULTS["$i.post"]+="$post "
        RESULTS["$i.getcpu"]+="$get_cpu "
        RESULTS["$i.postcpu"]+="$post_cpu "
        RESULTS["$i.p99"]+="$get_p99 $post_p99 "
        kill -TERM "$PID" && wait "$PID" 2>/dev/null || true
        PID=""
    done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
base_get="$(median "${RESULTS[1.get]}")"
base_post="$(median "${RESULTS[1.post]}")"
base_getcpu="$(median "${RESULTS[1.getcpu]}")"
base_postcpu="$(median "${RESULTS[1.postcpu]}")"
for i in $(seq 1 $#); do
    g="$(median "${RESULTS[$i.get]}")"
    p="$(median "${RESULTS[$i.post]}")"
    gc="$(median "${RESULTS[$i.getcpu]}")"
    pc="$(median "${RESULTS[$i.postcpu]}")"
    p99="$(median "${RESULTS[$i.p99]}")"
    awk -v i="$i" -v b="${!i}" -v g="$g" -v p="$p" -v bg="$base_get" -v bp="$base_post" \
        -v gc="$gc" -v pc="$pc" -v bgc="$base_getcpu" -v bpc="$base_postcpu" -v p99="$p99" 'BEGIN {
        printf "binary %d %s: median GET %d req/s (%.2fx), %.1f CPU-µs/req (%.2fx); POST %d req/s (%.2fx), %.1f CPU-µs/req (%.2fx); p99 %.2f ms\n",
            i, b, g, g / bg, gc, gc / bgc, p, p / bp, pc, pc / bpc, p99 }'
done
