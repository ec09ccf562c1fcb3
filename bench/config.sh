#!/usr/bin/env bash
# Parameter Store and Secrets Manager figures for docs/PERFORMANCE.md, in one run on this
# machine, against a release rampart:
#   1. Requests/s of GetParameter (a String parameter), GetSecretValue (decrypted through KMS
#      under aws/secretsmanager; skipped while the server does not serve Secrets Manager) and
#      GetParametersByPath (the first page of 10 of a path holding BENCH_PARAMETERS
#      parameters), each in BENCH_ROUNDS rounds alternating with the header-signed STS
#      GetCallerIdentity POST on the same server, and each as a share of GetCallerIdentity's
#      median. Every request is SigV4-verified, authorized and audited durably (checked: the
#      journal grows by at least the requests answered).
#   2. The time to read that whole path with boto3's GetParametersByPath paginator.
# Needs wrk and a Python with boto3 (PYTHON, default .venv/bin/python); RAMPART_BIN picks the
# binary (default: builds release).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rampart-target}"
BIN="${RAMPART_BIN:-$CARGO_TARGET_DIR/release/rampart}"
PYTHON="${PYTHON:-.venv/bin/python}"
ROUNDS="${BENCH_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-10}"
COUNT="${BENCH_PARAMETERS:-10000}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
source bench/lib/e2e.sh

[[ -n "${RAMPART_BIN:-}" ]] || cargo build --quiet --release -p rampart
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# KMS's request quota raised: GetSecretValue decrypts through KMS on every call.
start_rampart RAMPART_KMS_SYMMETRIC_RPS=1000000000
started=$(date +%s)
secrets="$("$PYTHON" bench/lib/config_setup.py setup "$HOST" $KEY $SECRET "$COUNT")"
echo "== set-up: $COUNT parameters in $(( $(date +%s) - started )) s; $secrets"

lua() { # NAME SERVICE TARGET BODY EXPECT
    { "$PYTHON" bench/lib/json_call.py "$HOST" $KEY $SECRET "$2" "$3" "$4" "$5"; cat bench/lib/report.lua; } >"$WORK/$1.lua"
}
{ "$PYTHON" bench/lib/sign.py header "$HOST" $KEY $SECRET; cat bench/lib/report.lua; } >"$WORK/identity.lua"
lua parameter ssm AmazonSSM.GetParameter '{"Name":"/bench/one"}' '"Value":"a value of thirty-two characters"'
lua by_path ssm AmazonSSM.GetParametersByPath '{"Path":"/bench/many","MaxResults":10}' '"NextToken"'
calls=(parameter by_path)
if [[ "$secrets" == "secrets yes" ]]; then
    lua secret secretsmanager secretsmanager.GetSecretValue '{"SecretId":"bench/secret"}' 's3cr3t-value'
    calls+=(secret)
fi

echo "== wrk -t2 -c64 -d${DURATION}s, $ROUNDS rounds, each call alternating with GetCallerIdentity (each request audited)"
for round in $(seq 1 "$ROUNDS"); do
    for call in "${calls[@]}"; do
        echo "round $round: $call $(rps "$call") | identity $(rps identity)"
    done
done | tee "$WORK/rounds.txt"

"$PYTHON" - "$WORK/rounds.txt" <<'PY'
import statistics, sys
seen = {}
for line in open(sys.argv[1]):
    for part in line.split(": ", 1)[1].split(" | "):
        name, rate = part.split()[:2]
        seen.setdefault(name, []).append(float(rate))
identity = statistics.median(seen.pop("identity"))
print(f"median GetCallerIdentity {identity:.0f} req/s")
for name, rates in seen.items():
    median = statistics.median(rates)
    print(f"median {name} {median:.0f} req/s = {median / identity:.0%} of GetCallerIdentity")
PY

echo "== GetParametersByPath, the whole path with boto3's paginator"
"$PYTHON" bench/lib/config_setup.py walk "$HOST" $KEY $SECRET "$COUNT"
