#!/usr/bin/env bash
# Load benchmark of the signature endpoint (GET /v1/qc_cos/config) with a valid token.
#
# Builds the release binary, starts the server (embedded mode, rate limits
# effectively off, logs at warn) on a free port with a throw-away data dir, logs
# in with dev login, then runs wrk against the v4 signing endpoint and prints
# requests/s and p99.
#
#   scripts/bench-auth.sh                 # -t2 -c64 -d15s
#   THREADS=2 CONNS=128 DURATION=30s scripts/bench-auth.sh
#   WORKERS=2 scripts/bench-auth.sh       # server worker threads (default: cores)
#   AUDIT_QUEUE=1000000 scripts/bench-auth.sh  # audit queue capacity (default 65536)
#
# Needs wrk (Debian: apt-get update && apt-get install -y wrk), curl, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-15s}
WORKERS=${WORKERS:-0}
AUDIT_QUEUE=${AUDIT_QUEUE:-65536}   # the server default; records beyond it are dropped and counted

if ! command -v wrk >/dev/null; then
    echo "wrk not found; installing it (apt-get)..." >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -p auth-server >&2
BIN=target/release/auth-server

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
cleanup() {
    if [[ -n "${PID:-}" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT

RUST_LOG=warn \
AUTH_BIND="127.0.0.1:$PORT" \
AUTH_DATA_DIR="$DATA" \
AUTH_WORKERS="$WORKERS" \
AUTH_PRINT_BANNER=false \
AUTH_SIGN_PER_SECOND=100000000 \
AUTH_SIGN_BURST=100000000 \
AUTH_LOGIN_PER_MINUTE=100000 \
AUTH_AUDIT_QUEUE="$AUDIT_QUEUE" \
    "$BIN" >"$DATA/server.log" 2>&1 &
PID=$!

for _ in $(seq 1 100); do
    curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$BASE/healthz" >/dev/null || { echo "server did not start" >&2; cat "$DATA/server.log" >&2; exit 1; }

LOGIN=$(curl -fs -X POST "$BASE/v1/auth/dev-login" -H 'content-type: application/json' -d '{"user":"bench"}')
TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["access_token"])' "$LOGIN")
USER_ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["user_id"])' "$LOGIN")
URL="$BASE/v1/qc_cos/config?cos_path=/u/$USER_ID/bench"

# One request by hand first: the endpoint must answer 200 with a sign.
curl -fs -H "Authorization: JWT $TOKEN" "$URL" | grep -q '"sign"' || { echo "sign request failed" >&2; exit 1; }

echo "== wrk -t$THREADS -c$CONNS -d$DURATION --latency (server workers: ${WORKERS/#0/cores}, cores: $(nproc))"
OUT=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Authorization: JWT $TOKEN" "$URL")
echo "$OUT"

RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$OUT")
P99=$(awk '$1 == "99%" {print $2}' <<<"$OUT")
NON2XX=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$OUT")
sleep 2  # let the audit writer drain its queue
METRICS=$(curl -fs "$BASE/metrics")
ISSUED=$(awk '/^auth_signatures_issued_total\{kind="v4"\}/ {print $2}' <<<"$METRICS")
DROPPED=$(awk '/^auth_audit_records_total\{fate="dropped"\}/ {print $2}' <<<"$METRICS")
WRITTEN=$(awk '/^auth_audit_records_total\{fate="written"\}/ {print $2}' <<<"$METRICS")
echo
echo "RESULT requests/s=$RPS p99=$P99 non2xx=${NON2XX:-0} signatures_issued=$ISSUED audit_written=$WRITTEN audit_dropped=$DROPPED target=60000"
if [[ "${NON2XX:-0}" != 0 ]]; then
    echo "bench-auth: ${NON2XX} requests were not answered 2xx" >&2
    exit 1
fi
