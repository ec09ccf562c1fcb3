# Shared by the end-to-end benchmark scripts (bench/kms.sh, bench/config.sh); source it after
# setting BIN, PYTHON, WORK, DURATION and the array PIDS.
#
#   start_rampart [VAR=VALUE ...]   starts a release rampart on a free port with the fixed root
#                                   key KEY/SECRET and the extra environment given; sets HOST
#   rps NAME                        replays $WORK/NAME.lua with wrk (2 s warm-up, then
#                                   DURATION s) and prints "<req/s> req/s (p99 <ms> ms)"; fails
#                                   on any failed request, or on requests not audited
KEY=AKIAIOSFODNN7EXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

start_rampart() {
    env RAMPART_ROOT_ACCESS_KEY_ID=$KEY RAMPART_ROOT_SECRET_ACCESS_KEY=$SECRET RAMPART_LOG=warn "$@" \
        "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --account-id 444455556666 \
        >"$WORK/out" 2>"$WORK/err" &
    PIDS+=("$!")
    local port=""
    for _ in $(seq 1 200); do
        port="$(sed -nE 's|rampart listening on http://127.0.0.1:([0-9]+)|\1|p' "$WORK/out")"
        [[ -n "$port" ]] && break
        sleep 0.05
    done
    [[ -n "$port" ]] || { echo "rampart did not start" >&2; cat "$WORK/err" >&2; exit 1; }
    HOST="127.0.0.1:$port"
}

seq_now() { curl -sf "http://$HOST/_rampart/health" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["store"]["journal_seq"])'; }

rps() {
    local before after line requests
    wrk -t2 -c64 -d2s --timeout 10s -s "$WORK/$1.lua" "http://$HOST/" >/dev/null
    before="$(seq_now)"
    wrk -t2 -c64 -d"${DURATION}s" --timeout 10s -s "$WORK/$1.lua" "http://$HOST/" >"$WORK/$1.txt"
    after="$(seq_now)"
    line="$(grep '^BENCH ' "$WORK/$1.txt")"
    grep -qE 'status_errors=0 connect=0 read=0 write=0 timeout=0 ' <<<"$line" || { cat "$WORK/$1.txt" >&2; exit 1; }
    requests="$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")"
    (( after - before >= requests )) || { echo "$1: $requests requests, $((after - before)) events" >&2; exit 1; }
    awk -v r="$requests" -v d="$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")" \
        -v p="$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")" \
        'BEGIN { printf "%.0f req/s (p99 %.1f ms)", r / (d / 1e6), p / 1000 }'
}
