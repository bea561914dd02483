#!/usr/bin/env bash
# Benchmarks the local COS store: small-object PUT/s (with concurrency), one
# large streamed PUT (MiB/s) and GET, and the store's peak RSS (VmHWM).
#
# Usage: scripts/bench-store.sh
# Knobs (environment): SMALL_COUNT (5000), SMALL_SIZE (4096), CONCURRENCY (16),
# LARGE_MB (1024), FSYNC (1; 0 runs the store with --no-fsync), WORKERS (store
# worker threads, default: one per core).
set -euo pipefail

cd "$(dirname "$0")/.."
SMALL_COUNT=${SMALL_COUNT:-5000}
SMALL_SIZE=${SMALL_SIZE:-4096}
CONCURRENCY=${CONCURRENCY:-16}
LARGE_MB=${LARGE_MB:-1024}
FSYNC=${FSYNC:-1}

echo "building (release)..." >&2
cargo build --release --quiet -p cos-local --bin cos-local --example loadgen

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-store.XXXXXX")
STORE_PID=""
cleanup() {
    if [[ -n "$STORE_PID" ]] && kill -0 "$STORE_PID" 2>/dev/null; then
        kill "$STORE_PID" 2>/dev/null || true
        wait "$STORE_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export COS_LOCAL_SECRET_ID=AKIDBenchSecretId00000000000000000000
export COS_LOCAL_SECRET_KEY=BenchSecretKey0123456789abcdef0123
EXTRA=()
[[ "$FSYNC" == 0 ]] && EXTRA+=(--no-fsync)
[[ -n "${WORKERS:-}" ]] && EXTRA+=(--workers "$WORKERS")

RUST_LOG=warn target/release/cos-local --data-dir "$WORK/data" --bind 127.0.0.1:0 \
    "${EXTRA[@]}" >"$WORK/store.out" 2>"$WORK/store.err" &
STORE_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/store.out" 2>/dev/null && break
    sleep 0.1
done
ENDPOINT=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/store.out" | head -1)
if [[ -z "$ENDPOINT" ]]; then
    echo "the store did not start:" >&2
    cat "$WORK/store.err" >&2
    exit 1
fi
echo "store pid $STORE_PID on $ENDPOINT (fsync=$FSYNC), data in $WORK/data" >&2

echo "writing a ${LARGE_MB} MiB test file..." >&2
dd if=/dev/urandom of="$WORK/large.bin" bs=1M count="$LARGE_MB" status=none

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$STORE_PID/status"; }
echo "store RSS at start: $(rss_kib) KiB" >&2

target/release/examples/loadgen --endpoint "$ENDPOINT" \
    --small-count "$SMALL_COUNT" --small-size "$SMALL_SIZE" --concurrency "$CONCURRENCY"
echo "store RSS after small PUTs: $(rss_kib) KiB" >&2
target/release/examples/loadgen --endpoint "$ENDPOINT" --small-count 0 --large-file "$WORK/large.bin"

HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$STORE_PID/status")
echo "store_peak_rss: ${HWM} KiB ($((HWM / 1024)) MiB, VmHWM)"
echo "machine: $(nproc) cores; $(uname -sr)"
