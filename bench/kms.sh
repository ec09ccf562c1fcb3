#!/usr/bin/env bash
# KMS figures for docs/PERFORMANCE.md, in one run on this machine:
#   1. KMS Encrypt of 4 KiB end to end (requests/s): wrk replaying a header-signed Encrypt
#      (bench/lib/kms.py) against a release rampart, BENCH_ROUNDS rounds alternating with the
#      header-signed STS GetCallerIdentity POST on the same server (the spine's fixed cost), so
#      that background load falls on both alike. Every request is SigV4-verified, authorized
#      (key policy), encrypted with the key's material and audited durably.
#   2. The AES-256-GCM core KMS uses (crates/kms/benches/aes_gcm.rs: blob::seal and open of
#      4 KiB and 16 KiB, criterion) against `openssl speed -evp aes-256-gcm` (streaming) and
#      `openssl speed -aead -evp aes-256-gcm` (per message: IV, AAD and tag each time, as a
#      blob is made) at 4096 (-bytes 4096), 8192 and 16384 bytes, as ratios. openssl runs before
#      and after criterion; the better of the two runs per column is the baseline.
# Needs: wrk, openssl, and a Python with boto3 (PYTHON, default .venv/bin/python). Builds what it
# runs (release rampart; the criterion bench). Prints the figures.
#
# The KMS request quota is raised for the run (RAMPART_KMS_SYMMETRIC_RPS): AWS's default of
# 5,500 requests/s per account would otherwise answer ThrottlingException, which is not what is
# measured here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rampart-target}"
BIN="${RAMPART_BIN:-$CARGO_TARGET_DIR/release/rampart}"
PYTHON="${PYTHON:-.venv/bin/python}"
ROUNDS="${BENCH_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-10}"
SIZE="${BENCH_SIZE:-4096}"
OPENSSL_SECONDS="${BENCH_OPENSSL_SECONDS:-3}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
source bench/lib/e2e.sh

[[ -n "${RAMPART_BIN:-}" ]] || cargo build --quiet --release -p rampart
cargo bench --quiet -p rampart-kms --bench aes_gcm --no-run 2>/dev/null

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. End to end.
start_rampart RAMPART_KMS_SYMMETRIC_RPS=1000000000
{ "$PYTHON" bench/lib/kms.py encrypt "$HOST" $KEY $SECRET "$SIZE"; cat bench/lib/report.lua; } >"$WORK/encrypt.lua"
{ "$PYTHON" bench/lib/sign.py header "$HOST" $KEY $SECRET; cat bench/lib/report.lua; } >"$WORK/identity.lua"

echo "== end to end, wrk -t2 -c64 -d${DURATION}s, $ROUNDS alternating rounds (each request audited)"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round: Encrypt ${SIZE} B $(rps encrypt) | GetCallerIdentity $(rps identity)"
done

# 2. The AES-GCM core against openssl.
openssl_run() { # -> lines "mode bytes bytes_per_second"
    local mode
    for mode in stream aead; do
        local flag=""
        [[ $mode == aead ]] && flag="-aead"
        # -mr: "+F:<n>:aes-256-gcm:<1000s of bytes/s per size...>"
        openssl speed -mr -seconds "$OPENSSL_SECONDS" $flag -evp aes-256-gcm 2>/dev/null |
            awk -v m=$mode -F: '/^\+H:/ { for (i = 2; i <= NF; i++) size[i] = $i }
                /^\+F:/ { for (i = 4; i <= NF; i++) print m, size[i - 2], $i }'
        openssl speed -mr -seconds "$OPENSSL_SECONDS" $flag -bytes 4096 -evp aes-256-gcm 2>/dev/null |
            awk -v m=$mode -F: '/^\+F:/ { print m, 4096, $4 }'
    done
}
echo "== AES-256-GCM: openssl $(openssl version | cut -d' ' -f2), criterion (aws-lc, via blob::seal/open)"
openssl_run >"$WORK/openssl-1.txt"
cargo bench --quiet -p rampart-kms --bench aes_gcm -- --warm-up-time 2 --measurement-time 8 \
    >"$WORK/criterion.txt" 2>&1 || { cat "$WORK/criterion.txt" >&2; exit 1; }
openssl_run >"$WORK/openssl-2.txt"
"$PYTHON" - "$CARGO_TARGET_DIR/criterion/kms_aes_gcm" "$WORK/openssl-1.txt" "$WORK/openssl-2.txt" <<'PY'
import json, sys
root, runs = sys.argv[1], sys.argv[2:]
best = {}
for run in runs:
    for line in open(run):
        mode, size, rate = line.split()
        # openssl -mr reports bytes/s (the human table divides by 1000).
        key = (mode, int(float(size)))
        best[key] = max(best.get(key, 0.0), float(rate))
def criterion(name):
    with open(f"{root}/{name}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"]  # ns per iteration
print(f"{'criterion':<16} {'size':>6} {'ns/op':>9} {'GB/s':>7}   {'openssl stream':>16} {'ratio':>6}   {'openssl aead':>14} {'ratio':>6}")
for op in ("seal", "open"):
    for size in (4096, 16384):
        ns = criterion(f"{op}_{size}")
        rate = size / (ns * 1e-9)
        cells = []
        for mode in ("stream", "aead"):
            columns = [size] if (mode, size) in best else []
            if size == 4096:
                columns.append(8192)
            for column in columns:
                base = best.get((mode, column))
                if base:
                    cells.append(f"{base / 1e9:>7.2f} GB/s@{column:<5} {rate / base:>5.0%}")
        print(f"{op:<16} {size:>6} {ns:>9.0f} {rate / 1e9:>7.2f}   " + "   ".join(cells))
PY
