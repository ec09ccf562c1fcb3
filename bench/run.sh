#!/usr/bin/env bash
# The server benchmark: builds release, then measures side by side on this machine
#   1. Rampart: SigV4-signed STS GetCallerIdentity requests/s, wrk replaying a presigned URL (GET)
#   2. Rampart: the same call as the SDKs send it: POST, form body, SigV4 Authorization header
#   3. Rampart: GET /_rampart/health requests/s (no SigV4, no audit journal: explains the cost)
#   4. baseline (a): a minimal hyper 1.x hello-world server (bench/hello)
#   5. baseline (b): moto's server answering the header-signed GetCallerIdentity POST of line 2
#      (moto routes a request by its Authorization header: a presigned URL reaches its S3 backend)
#   6. Rampart: IAM ListUsers signed by a non-root user with BENCH_IAM_POLICIES (10) customer
#      managed policies attached, so every request is authorized by the policy engine
#   7. Rampart: IAM CreateUser, every request a new user (a durable write), from pre-signed
#      requests replayed once each (bench/lib/iam.py, bench/lib/replay.lua)
# plus Rampart's start-up time (median of BENCH_STARTS starts) and its idle RSS before and after
# the load. Prints a table and writes it to bench/results/<date>.md. See bench/README.md.
#
# Knobs (environment): BENCH_DURATION (wrk seconds per target, default 10), BENCH_WARMUP
# (default 2), BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_STARTS (5),
# BENCH_SKIP_MOTO=1 (no moto baseline), BENCH_IAM_POLICIES (10), BENCH_IAM_REQUESTS (pre-signed
# CreateUser requests, 300000: more than a run can send), CARGO_TARGET_DIR (default <repo>/target),
# BENCH_QUIET_PCT (15) and BENCH_QUIET_WAIT (300): before each measurement, wait while other
# processes keep the machine more than BENCH_QUIET_PCT % busy, at most BENCH_QUIET_WAIT seconds
# over the whole run; the busy share seen last is reported beside each figure.
#
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO"

DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
STARTS="${BENCH_STARTS:-5}"
SKIP_MOTO="${BENCH_SKIP_MOTO:-0}"
IAM_POLICIES="${BENCH_IAM_POLICIES:-10}"
IAM_REQUESTS="${BENCH_IAM_REQUESTS:-300000}"
QUIET_PCT="${BENCH_QUIET_PCT:-15}"
QUIET_LEFT="${BENCH_QUIET_WAIT:-300}"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

# Fixed root credentials (AWS's documentation example pair): the presigned URL is signed with them.
ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION="us-east-1"

WORK="$(mktemp -d -t rampart-bench.XXXXXX)"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Stops one process started by this script (SIGTERM, SIGKILL after 10 s) and forgets it.
stop() {
    local pid="$1" keep=() p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded) until `curl URL` answers with HTTP 200.
wait_http_ok() {
    local url="$1" seconds="$2" pid="$3"
    for _ in $(seq 1 $((seconds * 20))); do
        kill -0 "$pid" 2>/dev/null || return 1
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" == "200" ]]; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Waits (bounded) until URL answers at all, whatever the status.
wait_http_any() {
    local url="$1" seconds="$2" pid="$3"
    for _ in $(seq 1 $((seconds * 20))); do
        kill -0 "$pid" 2>/dev/null || return 1
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" != "000" ]] && return 0
        sleep 0.05
    done
    return 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# post_script HOST:PORT: a wrk script sending the header-signed GetCallerIdentity POST to it.
post_script() {
    local lua="$WORK/post-${1//[^0-9]/}.lua"
    {
        "$VENV/bin/python" "$BENCH_DIR/lib/sign.py" header "$1" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$REGION"
        cat "$BENCH_DIR/lib/report.lua"
    } >"$lua"
    echo "$lua"
}

journal_seq() {
    curl -sf "http://127.0.0.1:$1/_rampart/health" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["store"]["journal_seq"])'
}

# Percentage of CPU time the whole machine spent busy over one second: taken before each
# measurement (while the server under test is idle) to expose load from other processes.
background_busy() {
    python3 - <<'EOF'
import time
def sample():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]
t0, i0 = sample(); time.sleep(1); t1, i1 = sample()
print(f"{100 * (1 - (i1 - i0) / max(1, t1 - t0)):.0f}")
EOF
}

# Waits (bounded by what is left of BENCH_QUIET_WAIT) for the machine to be quiet; sets BUSY.
wait_quiet() {
    BUSY="$(background_busy)"
    while (( BUSY > QUIET_PCT && QUIET_LEFT > 0 )); do
        log "machine ${BUSY}% busy with other work; waiting (${QUIET_LEFT}s of waiting left)"
        sleep 4
        QUIET_LEFT=$((QUIET_LEFT - 5))
        BUSY="$(background_busy)"
    done
}

# warmup URL [LUA]: a short wrk run, not counted.
warmup() {
    if (( WARMUP > 0 )); then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 10s \
            -s "${2:-$BENCH_DIR/lib/report.lua}" "$1" >/dev/null
    fi
}

# measure NAME URL [LUA]: runs wrk against URL (with the request of the LUA script, which ends
# with bench/lib/report.lua) and prints report.lua's BENCH line. Fails when any request failed:
# a non-2xx/3xx status, a timeout, or a connect/read/write error.
measure() {
    local name="$1" url="$2" out="$WORK/wrk-$1.txt"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
        -s "${3:-$BENCH_DIR/lib/report.lua}" "$url" >"$out"
    cp "$out" "$RESULTS_RAW/wrk-$name.txt"
    local line
    line="$(grep '^BENCH ' "$out")" || die "wrk printed no result for $name: $(cat "$out")"
    if grep -qE 'Non-2xx|Socket errors' "$out" ||
        ! grep -qE 'status_errors=0 connect=0 read=0 write=0 timeout=0 ' <<<"$line"; then
        cat "$out" >&2
        die "$name: some requests failed, the figure is invalid"
    fi
    echo "$line"
}

field() { sed -E "s/.* $2=([0-9.]+).*/\\1/" <<<" $1"; }
rps() { awk -v r="$(field "$1" requests)" -v d="$(field "$1" duration_us)" 'BEGIN { printf "%.0f", r / (d / 1e6) }'; }
ms() { awk -v u="$(field "$1" "$2")" 'BEGIN { printf "%.2f", u / 1000 }'; }

# ---------------------------------------------------------------------------------------------
# Tools
command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required"
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    if [[ "$(id -u)" == 0 ]]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
    fi
fi

VENV="$BENCH_DIR/.venv-moto"
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
fi
if [[ ! -x "$VENV/bin/moto_server" ]]; then
    log "installing moto[server] (also brings botocore, used to presign)"
    "$VENV/bin/pip" install -q 'moto[server]'
fi

log "building release (CARGO_TARGET_DIR=$TARGET_DIR)"
CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -q -p rampart -p rampart-bench-hello
RAMPART="$TARGET_DIR/release/rampart"
HELLO="$TARGET_DIR/release/hello"

STAMP="$(date -u +%Y-%m-%dT%H%MZ)"
mkdir -p "$BENCH_DIR/results"
RESULTS_MD="$BENCH_DIR/results/$STAMP.md"
RESULTS_RAW="$BENCH_DIR/results/$STAMP"
mkdir -p "$RESULTS_RAW"

export RAMPART_ROOT_ACCESS_KEY_ID="$ACCESS_KEY_ID"
export RAMPART_ROOT_SECRET_ACCESS_KEY="$SECRET_ACCESS_KEY"

# ---------------------------------------------------------------------------------------------
wait_quiet
log "start-up: $STARTS starts of rampart serve --ephemeral, to the first answered health check"
python3 "$BENCH_DIR/lib/startup.py" "$RAMPART" "$STARTS" | tee "$RESULTS_RAW/startup.txt" >&2
STARTUP_LINE="$(grep '^STARTUP ' "$RESULTS_RAW/startup.txt")"
BUSY_STARTUP="$BUSY"

# ---------------------------------------------------------------------------------------------
log "rampart: serving"
RPORT="$(free_port)"
"$RAMPART" serve --ephemeral --listen "127.0.0.1:$RPORT" >"$WORK/rampart.out" 2>"$WORK/rampart.err" &
RPID=$!
PIDS+=("$RPID")
for _ in $(seq 1 300); do
    grep -q "rampart listening on http://127.0.0.1:$RPORT" "$WORK/rampart.out" 2>/dev/null && break
    kill -0 "$RPID" 2>/dev/null || die "rampart exited: $(cat "$WORK/rampart.err")"
    sleep 0.1
done
grep -q "rampart listening on" "$WORK/rampart.out" || die "rampart did not start within 30 s"
wait_http_ok "http://127.0.0.1:$RPORT/_rampart/health" 10 "$RPID" || die "rampart health failed"
sleep 2
RSS_IDLE_START="$(rss_kib "$RPID")"

URL="$("$VENV/bin/python" "$BENCH_DIR/lib/sign.py" query "127.0.0.1:$RPORT" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$REGION")"
BODY="$(curl -s "$URL")"
grep -q '<Arn>arn:aws:iam::' <<<"$BODY" || die "Rampart's GetCallerIdentity answer has no <Arn>arn:aws:iam::…: $BODY"
log "rampart answers the presigned GetCallerIdentity: $(grep -o '<Arn>[^<]*</Arn>' <<<"$BODY")"
BODY="$("$VENV/bin/python" "$BENCH_DIR/lib/sign.py" send "127.0.0.1:$RPORT" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$REGION")"
grep -q '<Arn>arn:aws:iam::' <<<"$BODY" || die "Rampart's answer to the header-signed POST has no <Arn>arn:aws:iam::…: $BODY"

wait_quiet
BUSY_RAMPART="$BUSY"
log "rampart: GetCallerIdentity, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (machine busy ${BUSY_RAMPART}% before)"
warmup "$URL"
sleep 1 # the warm-up's last events land before the count is read
SEQ_BEFORE="$(journal_seq "$RPORT")"
STS_LINE="$(measure rampart-sts "$URL")"
sleep 1 # requests in flight when wrk stopped land too
SEQ_AFTER="$(journal_seq "$RPORT")"
log "rampart: $STS_LINE"

wait_quiet
BUSY_POST="$BUSY"
log "rampart: GetCallerIdentity header-signed POST (machine busy ${BUSY_POST}% before)"
RPOST_LUA="$(post_script "127.0.0.1:$RPORT")"
warmup "http://127.0.0.1:$RPORT/" "$RPOST_LUA"
sleep 1
SEQ_P_BEFORE="$(journal_seq "$RPORT")"
POST_LINE="$(measure rampart-sts-post "http://127.0.0.1:$RPORT/" "$RPOST_LUA")"
sleep 1
SEQ_P_AFTER="$(journal_seq "$RPORT")"
log "rampart POST: $POST_LINE"

wait_quiet
BUSY_HEALTH="$BUSY"
log "rampart: GET /_rampart/health (machine busy ${BUSY_HEALTH}% before)"
warmup "http://127.0.0.1:$RPORT/_rampart/health"
SEQ_H_BEFORE="$(journal_seq "$RPORT")"
HEALTH_LINE="$(measure rampart-health "http://127.0.0.1:$RPORT/_rampart/health")"
SEQ_H_AFTER="$(journal_seq "$RPORT")"
log "rampart health: $HEALTH_LINE"
sleep 3
RSS_IDLE_AFTER="$(rss_kib "$RPID")"
RSS_PEAK="$(awk '/^VmHWM:/ { print $2 }' "/proc/$RPID/status")"

# IAM, after the RSS figures (CreateUser leaves hundreds of thousands of users behind).
log "rampart: IAM setup: a user with $IAM_POLICIES customer managed policies and an access key"
read -r READER_KEY_ID READER_SECRET < <("$VENV/bin/python" "$BENCH_DIR/lib/iam.py" setup \
    "127.0.0.1:$RPORT" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$IAM_POLICIES")
[[ -n "$READER_SECRET" ]] || die "IAM setup printed no access key"
BODY="$("$VENV/bin/python" "$BENCH_DIR/lib/iam.py" send-listusers "127.0.0.1:$RPORT" "$READER_KEY_ID" "$READER_SECRET")"
[[ "$(head -1 <<<"$BODY")" == 200 ]] && grep -q '<UserName>bench-reader</UserName>' <<<"$BODY" ||
    die "the policy-holding user's ListUsers was not answered 200 with its user: $BODY"
LIST_LUA="$WORK/listusers.lua"
{
    "$VENV/bin/python" "$BENCH_DIR/lib/iam.py" listusers "127.0.0.1:$RPORT" "$READER_KEY_ID" "$READER_SECRET"
    cat "$BENCH_DIR/lib/report.lua"
} >"$LIST_LUA"
wait_quiet
BUSY_LIST="$BUSY"
log "rampart: IAM ListUsers by a user with $IAM_POLICIES policies (machine busy ${BUSY_LIST}% before)"
warmup "http://127.0.0.1:$RPORT/" "$LIST_LUA"
LIST_LINE="$(measure rampart-iam-listusers "http://127.0.0.1:$RPORT/" "$LIST_LUA")"
log "rampart ListUsers: $LIST_LINE"

# CreateUser: each request creates a new user, so each is sent once. The requests are signed
# just before the run (a header signature is valid for 15 minutes), dealt to one file per wrk
# thread; warm-up and measurement have their own user names.
create_requests() { # PREFIX COUNT -> prints the wrk script replaying them
    local files=() t
    for t in $(seq 1 "$THREADS"); do files+=("$WORK/$1-$t.txt"); done
    "$VENV/bin/python" "$BENCH_DIR/lib/iam.py" createuser "127.0.0.1:$RPORT" \
        "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$2" "${files[@]}" "bench-$1"
    {
        echo "REPLAY_PREFIX = \"$WORK/$1-\""
        cat "$BENCH_DIR/lib/replay.lua" "$BENCH_DIR/lib/report.lua"
    } >"$WORK/$1.lua"
    echo "$WORK/$1.lua"
}
log "rampart: signing CreateUser requests"
WARM_LUA="$(create_requests warm $((IAM_REQUESTS * WARMUP / DURATION + 1000)))"
wait_quiet
BUSY_CREATE="$BUSY"
CREATE_LUA="$(create_requests user "$IAM_REQUESTS")"
log "rampart: IAM CreateUser (machine busy ${BUSY_CREATE}% before)"
warmup "http://127.0.0.1:$RPORT/" "$WARM_LUA"
sleep 1
SEQ_C_BEFORE="$(journal_seq "$RPORT")"
CREATE_LINE="$(measure rampart-iam-createuser "http://127.0.0.1:$RPORT/" "$CREATE_LUA")"
sleep 1
SEQ_C_AFTER="$(journal_seq "$RPORT")"
log "rampart CreateUser: $CREATE_LINE"
(($(field "$CREATE_LINE" requests) < IAM_REQUESTS)) ||
    die "CreateUser used every pre-signed request: raise BENCH_IAM_REQUESTS"
stop "$RPID"

# ---------------------------------------------------------------------------------------------
log "hello (hyper 1.x): serving"
HPORT="$(free_port)"
"$HELLO" "$HPORT" >"$WORK/hello.out" 2>&1 &
HPID=$!
PIDS+=("$HPID")
wait_http_ok "http://127.0.0.1:$HPORT/" 10 "$HPID" || die "hello did not start"
[[ "$(curl -s "http://127.0.0.1:$HPORT/")" == "hello" ]] || die "hello answered something else"
wait_quiet
BUSY_HELLO="$BUSY"
log "hello: wrk (machine busy ${BUSY_HELLO}% before)"
warmup "http://127.0.0.1:$HPORT/"
HELLO_LINE="$(measure hello "http://127.0.0.1:$HPORT/")"
log "hello: $HELLO_LINE"
stop "$HPID"

# ---------------------------------------------------------------------------------------------
MOTO_LINE=""
MOTO_VERSION="skipped"
BUSY_MOTO="-"
if [[ "$SKIP_MOTO" != 1 ]]; then
    MOTO_VERSION="$("$VENV/bin/python" -c 'import moto; print(moto.__version__)')"
    log "moto $MOTO_VERSION: serving"
    MPORT="$(free_port)"
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MPORT" >"$WORK/moto.out" 2>&1 &
    MPID=$!
    PIDS+=("$MPID")
    wait_http_any "http://127.0.0.1:$MPORT/" 60 "$MPID" || die "moto did not start: $(cat "$WORK/moto.out")"
    # moto verifies no signature but picks the service from the Authorization header's
    # credential scope (a presigned GET reaches its S3 backend): it gets line 2's POST.
    MBODY="$("$VENV/bin/python" "$BENCH_DIR/lib/sign.py" send "127.0.0.1:$MPORT" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$REGION")"
    grep -q '<Arn>' <<<"$MBODY" || die "moto's GetCallerIdentity answer has no <Arn>: $MBODY"
    MPOST_LUA="$(post_script "127.0.0.1:$MPORT")"
    wait_quiet
    BUSY_MOTO="$BUSY"
    log "moto: wrk (machine busy ${BUSY_MOTO}% before)"
    warmup "http://127.0.0.1:$MPORT/" "$MPOST_LUA"
    MOTO_LINE="$(measure moto "http://127.0.0.1:$MPORT/" "$MPOST_LUA")"
    log "moto: $MOTO_LINE"
    stop "$MPID"
fi

# ---------------------------------------------------------------------------------------------
STS_RPS="$(rps "$STS_LINE")"
HEALTH_RPS="$(rps "$HEALTH_LINE")"
HELLO_RPS="$(rps "$HELLO_LINE")"
POST_RPS="$(rps "$POST_LINE")"
STS_REQUESTS="$(field "$STS_LINE" requests)"
POST_REQUESTS="$(field "$POST_LINE" requests)"
CREATE_REQUESTS="$(field "$CREATE_LINE" requests)"
CREATE_JOURNAL_GROWTH=$((SEQ_C_AFTER - SEQ_C_BEFORE))
JOURNAL_GROWTH=$((SEQ_AFTER - SEQ_BEFORE))
POST_JOURNAL_GROWTH=$((SEQ_P_AFTER - SEQ_P_BEFORE))
HEALTH_JOURNAL_GROWTH=$((SEQ_H_AFTER - SEQ_H_BEFORE))
STARTUP_MEDIAN="$(field "$STARTUP_LINE" median_ms)"
ratio() { awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN { if (b > 0) printf "%.*f", s, a / b; else printf "-" }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
verdict() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; then echo met; else echo MISSED; fi; }

row() { # name line busy
    printf '| %s | %s | %s | %s ms | %s ms | %s%% |\n' "$1" "$(rps "$2")" "$(field "$2" requests)" \
        "$(ms "$2" p50_us)" "$(ms "$2" p99_us)" "$3"
}

CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
MEM_GIB="$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
# BENCH_REVISION names the source when it is not a git checkout (e.g. an exported snapshot).
COMMIT="${BENCH_REVISION:-$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
DIRTY="$( (git -C "$REPO" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null || true) | wc -l)"
[[ "$DIRTY" == 0 ]] && DIRTY="" || DIRTY=" (with uncommitted changes under crates/ or Cargo.*)"

{
    echo "# Server benchmark, $STAMP"
    echo
    echo "- machine: $(nproc) cores, $CPU_MODEL, $MEM_GIB GiB; $(uname -sr)"
    echo "- rampart: commit $COMMIT$DIRTY, release build; $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "- load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --timeout 10s\` after a ${WARMUP}s warm-up, wrk sharing the $(nproc) cores with the server"
    echo "- requests: STS GetCallerIdentity, SigV4-signed: a presigned URL replayed as GET, and the SDKs' shape (POST, form body, Authorization header), which moto gets too; IAM ListUsers and CreateUser in the SDKs' shape"
    echo
    echo "| target | req/s | requests | p50 | p99 | machine busy before |"
    echo "|---|---:|---:|---:|---:|---:|"
    row "Rampart GetCallerIdentity, presigned GET (SigV4 + audit journal)" "$STS_LINE" "$BUSY_RAMPART"
    row "Rampart GetCallerIdentity, header-signed POST" "$POST_LINE" "$BUSY_POST"
    row "Rampart GET /_rampart/health (no SigV4, no journal)" "$HEALTH_LINE" "$BUSY_HEALTH"
    row "Rampart IAM ListUsers, non-root user with $IAM_POLICIES managed policies (authorized)" "$LIST_LINE" "$BUSY_LIST"
    row "Rampart IAM CreateUser, a new user per request (durable write)" "$CREATE_LINE" "$BUSY_CREATE"
    row "hyper 1.x hello world (bench/hello)" "$HELLO_LINE" "$BUSY_HELLO"
    if [[ -n "$MOTO_LINE" ]]; then
        row "moto $MOTO_VERSION server, GetCallerIdentity header-signed POST" "$MOTO_LINE" "$BUSY_MOTO"
    fi
    echo
    echo "| measure | value | target |"
    echo "|---|---:|---|"
    echo "| Rampart presigned GET / hello | $(pct "$STS_RPS" "$HELLO_RPS") | ≥ 50%: $(verdict "$(ratio "$STS_RPS" "$HELLO_RPS" 4)" 0.5) |"
    echo "| Rampart header-signed POST / hello | $(pct "$POST_RPS" "$HELLO_RPS") | ≥ 50%: $(verdict "$(ratio "$POST_RPS" "$HELLO_RPS" 4)" 0.5) |"
    if [[ -n "$MOTO_LINE" ]]; then
        MOTO_RPS="$(rps "$MOTO_LINE")"
        echo "| Rampart / moto, same header-signed POST | $(ratio "$POST_RPS" "$MOTO_RPS" 0)× | ≥ 50×: $(verdict "$(ratio "$POST_RPS" "$MOTO_RPS" 2)" 50) |"
    fi
    echo "| Rampart GetCallerIdentity / health | $(pct "$STS_RPS" "$HEALTH_RPS") | (explains the cost) |"
    echo "| start-up to first answered request, median of $STARTS | $STARTUP_MEDIAN ms (min $(field "$STARTUP_LINE" min_ms), max $(field "$STARTUP_LINE" max_ms)) | < 100 ms: $(verdict 100 "$STARTUP_MEDIAN") (machine ${BUSY_STARTUP}% busy before) |"
    echo "| RSS idle after start | $(mib "$RSS_IDLE_START") | < 50 MB: $(verdict 48828 "$RSS_IDLE_START") |"
    echo "| RSS idle after the load | $(mib "$RSS_IDLE_AFTER") (peak $(mib "$RSS_PEAK")) | < 50 MB: $(verdict 48828 "$RSS_IDLE_AFTER") |"
    echo "| audit journal growth during the presigned GET run | $JOURNAL_GROWTH events for $STS_REQUESTS completed requests | ≥ requests (in-flight ones at the end also land) |"
    echo "| audit journal growth during the header-signed POST run | $POST_JOURNAL_GROWTH events for $POST_REQUESTS completed requests | ≥ requests |"
    echo "| audit journal growth during the health run | $HEALTH_JOURNAL_GROWTH events | 0 (health is not audited) |"
    echo "| audit journal growth during the CreateUser run | $CREATE_JOURNAL_GROWTH events for $CREATE_REQUESTS completed requests | ≥ requests |"
} >"$RESULTS_MD"

echo
cat "$RESULTS_MD"
echo
echo "written to ${RESULTS_MD#"$REPO"/} (raw wrk output in ${RESULTS_RAW#"$REPO"/}/)"

if (( JOURNAL_GROWTH < STS_REQUESTS || POST_JOURNAL_GROWTH < POST_REQUESTS ||
    CREATE_JOURNAL_GROWTH < CREATE_REQUESTS )); then
    die "the audit journal grew by fewer events than requests were answered: events are missing"
fi
