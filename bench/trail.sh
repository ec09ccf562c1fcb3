#!/usr/bin/env bash
# CloudTrail figures for docs/PERFORMANCE.md:
#   1. IAM CreateUser requests/s (durable writes) with no trail and with a logging trail that
#      delivers every second, alternating the two setups (BENCH_ROUNDS each) so that background
#      load falls on both alike; every call's event is journaled in both (the journal is always on).
#   2. LookupEvents latency (boto3, end to end) over BENCH_EVENTS synthetic events put in the
#      journal by crates/store/examples/journal_fill.rs.
# Needs: a release build (cargo build --release -p rampart; cargo build --release -p
# rampart-store --example journal_fill), wrk, and a Python with boto3 (PYTHON, default
# .venv/bin/python). Prints one line per figure. RAMPART_BIN runs another binary (BENCH_MODES=off
# and BENCH_EVENTS=0 for one without CloudTrail, as a baseline); RAMPART_BINS="A B ..." measures
# CreateUser with each binary in turn within every round (before/after comparisons), and the
# lookups with the last.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/rampart-target}/release"
BINS="${RAMPART_BINS:-${RAMPART_BIN:-$TARGET/rampart}}"
BIN="${BINS##* }"
MODES="${BENCH_MODES:-off on}"
PYTHON="${PYTHON:-.venv/bin/python}"
ROUNDS="${BENCH_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-10}"
EVENTS="${BENCH_EVENTS:-1000000}"
REQUESTS="${BENCH_IAM_REQUESTS:-400000}"
KEY=AKIAIOSFODNN7EXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
ACCOUNT=444455556666
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # DATA_DIR -> sets PORT, PID
    RAMPART_ROOT_ACCESS_KEY_ID=$KEY RAMPART_ROOT_SECRET_ACCESS_KEY=$SECRET RAMPART_LOG=warn \
        RAMPART_TRAIL_DELIVERY_SECONDS=1 \
        "$BIN" serve --listen 127.0.0.1:0 --data-dir "$1" --account-id $ACCOUNT \
        >"$1.out" 2>"$1.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 200); do
        PORT="$(sed -nE 's|rampart listening on http://127.0.0.1:([0-9]+)|\1|p' "$1.out" 2>/dev/null)"
        [[ -n "$PORT" ]] && return
        sleep 0.05
    done
    echo "rampart did not start" >&2
    exit 1
}

client() { # PORT SERVICE -> python expression of a boto3 client
    echo "boto3.client('$2', endpoint_url='http://127.0.0.1:$1', region_name='us-east-1', aws_access_key_id='$KEY', aws_secret_access_key='$SECRET')"
}

createuser_rps() { # MODE(off|on) ROUND [BINARY_INDEX] -> prints requests/s
    local dir="$WORK/$1-$2-${3:-0}"
    mkdir -p "$dir"
    start "$dir"
    if [[ "$1" == on ]]; then
        "$PYTHON" -c "import boto3; c = $(client "$PORT" cloudtrail); c.create_trail(Name='bench', S3BucketName='bench-bucket'); c.start_logging(Name='bench')"
    fi
    local files=("$dir/r-1.txt" "$dir/r-2.txt")
    "$PYTHON" bench/lib/iam.py createuser "127.0.0.1:$PORT" $KEY $SECRET "$REQUESTS" "${files[@]}" "bench-$1-$2"
    { echo "REPLAY_PREFIX = \"$dir/r-\""; cat bench/lib/replay.lua bench/lib/report.lua; } >"$dir/run.lua"
    wrk -t2 -c64 -d"${DURATION}s" --timeout 10s --latency -s "$dir/run.lua" "http://127.0.0.1:$PORT/" >"$dir/wrk.txt"
    local line
    line="$(grep '^BENCH ' "$dir/wrk.txt")"
    grep -qE 'status_errors=0 connect=0 read=0 write=0 timeout=0 ' <<<"$line" || { cat "$dir/wrk.txt" >&2; exit 1; }
    sleep 2 # let the deliverer catch up, so the trail run's files are complete
    if [[ "$1" == on ]]; then
        local delivered
        delivered="$(find "$dir/buckets/bench-bucket" -name '*.json.gz' | wc -l)"
        echo "  (trail files delivered: $delivered)" >&2
    fi
    kill "$PID"; wait "$PID" 2>/dev/null || true
    awk -v r="$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")" \
        -v d="$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")" 'BEGIN { printf "%.0f", r / (d / 1e6) }'
}

echo "== CreateUser requests/s, trail off / on, $ROUNDS alternating rounds of ${DURATION}s"
read -r -a BIN_LIST <<<"$BINS"
for round in $(seq 1 "$ROUNDS"); do
    line="round $round:"
    for i in "${!BIN_LIST[@]}"; do
        BIN="${BIN_LIST[$i]}"
        label=""
        ((${#BIN_LIST[@]} > 1)) && label="@$((i + 1))"
        for mode in $MODES; do line="$line $mode$label $(createuser_rps "$mode" "$round" "$i")"; done
    done
    echo "$line"
done
BIN="${BINS##* }"
[[ "$EVENTS" == 0 ]] && exit 0

echo "== LookupEvents over $EVENTS events"
dir="$WORK/lookup"
mkdir -p "$dir"
"$TARGET/examples/journal_fill" "$dir/rampart.db" $ACCOUNT "$EVENTS"
start "$dir"
"$PYTHON" - "$PORT" "$KEY" "$SECRET" <<'PY'
import statistics, sys, time, datetime
import boto3
port, key, secret = sys.argv[1:4]
c = boto3.client("cloudtrail", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                 aws_access_key_id=key, aws_secret_access_key=secret)
now = datetime.datetime.now(datetime.timezone.utc)
cases = [
    ("newest 50, no filter", {}),
    ("EventName=DeleteUser (1 in 8)", {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DeleteUser"}]}),
    ("Username=user7 (1 in 1,000)", {"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "user7"}]}),
    ("ResourceName=target123 (1 in 50,000)", {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "target123"}]}),
    ("EventId (1 event)", {"LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": "00000000-0000-4000-8000-000000500000"}]}),
    ("ReadOnly=false, 1-day window 10 days ago", {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}],
        "StartTime": now - datetime.timedelta(days=11), "EndTime": now - datetime.timedelta(days=10)}),
    ("AccessKeyId, window with no event", {"LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": "AKIABENCH00000000007"}],
        "StartTime": now - datetime.timedelta(days=80), "EndTime": now - datetime.timedelta(days=70)}),
]
for name, args in cases:
    c.lookup_events(**args)
    samples = []
    for _ in range(100):
        t = time.perf_counter()
        page = c.lookup_events(**args)
        samples.append((time.perf_counter() - t) * 1000)
    token = page.get("NextToken")
    samples.sort()
    line = f"{name}: {len(page['Events'])} events, median {statistics.median(samples):.2f} ms, p99 {samples[98]:.2f} ms"
    if token:
        t = time.perf_counter()
        c.lookup_events(NextToken=token, **args)
        line += f", next page {(time.perf_counter() - t) * 1000:.2f} ms"
    print(line)
sts = boto3.client("sts", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=secret)
samples = []
for _ in range(100):
    t = time.perf_counter()
    sts.get_caller_identity()
    samples.append((time.perf_counter() - t) * 1000)
samples.sort()
print(f"baseline, boto3 GetCallerIdentity on the same server: median {statistics.median(samples):.2f} ms")
PY
