#!/usr/bin/env bash
# Benchmarks cos-upload through the whole flow (dev login -> signature -> upload to the
# embedded local store of the auth server), then the same workload with Tencent's coscmd
# against the same store.
#
#   bash scripts/bench-uploader.sh            # 2,000 x 4 KiB files and one 1 GiB file
#   SMALL_FILES=500 BIG_MIB=256 bash scripts/bench-uploader.sh   # a quicker run
#
# Prints files/s, MB/s (1 MB = 10^6 bytes) and the peak RSS of each client (GNU time -v).
# Targets for cos-upload: >= 1,500 files/s for small files; 1 GiB at >= 200 MB/s with a
# peak RSS <= 64 MiB.
#
# The small files are uploaded twice, under two prefixes: into the freshly created store
# (its first few thousand files cost the file system more: new inodes and directory blocks)
# and again into the store that now holds objects, the usual state of a store in use.
# The big file is uploaded three times: with 1 MiB and 3 MiB slices (3 MiB is cos-upload's
# default; both are sizes real v4 COS accepts) and with 8 MiB slices (the largest the local
# store accepts; fewer requests and fsyncs).
#
# Environment knobs: SMALL_FILES (2000), SMALL_KIB (4), BIG_MIB (1024), JOBS (8),
# PROTOCOL (v4), PARALLEL_PARTS (4), SKIP_COSCMD (unset).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

SMALL_FILES="${SMALL_FILES:-2000}"
SMALL_KIB="${SMALL_KIB:-4}"
BIG_MIB="${BIG_MIB:-1024}"
JOBS="${JOBS:-8}"
PROTOCOL="${PROTOCOL:-v4}"
PARALLEL_PARTS="${PARALLEL_PARTS:-4}"

if [ ! -x /usr/bin/time ]; then
    echo "== installing GNU time (Debian package 'time')"
    sudo apt-get install -y time >/dev/null 2>&1 || apt-get install -y time >/dev/null
fi

echo "== building (release)"
cargo build --release --locked -p auth-server -p uploader --bins 2>&1 | grep -v '^\s*Compiling' || true
bin="$root/target/release"

work="$(mktemp -d /tmp/bench-uploader.XXXXXX)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # $1 = data dir
    local port; port="$(free_port)"
    AUTH_BIND="127.0.0.1:$port" AUTH_DATA_DIR="$1" AUTH_PRINT_BANNER=false \
    AUTH_SIGN_PER_SECOND=1000000 AUTH_SIGN_BURST=1000000 \
    AUTH_LOGIN_PER_MINUTE=100000 AUTH_LOGIN_BURST=10000 \
    RUST_LOG=warn \
        "$bin/auth-server" >"$work/server.log" 2>&1 &
    server_pid=$!
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 200); do
        if curl -fsS "$url/healthz" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    echo "auth-server did not start:"; cat "$work/server.log"; exit 1
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

echo "== generating $SMALL_FILES x $SMALL_KIB KiB files and one $BIG_MIB MiB file in $work"
mkdir -p "$work/small" "$work/big"
python3 - "$work/small" "$SMALL_FILES" "$SMALL_KIB" <<'EOF'
import os, sys
d, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, f"img{i:05d}.jpg"), "wb") as f:
        f.write(os.urandom(kib * 1024))
EOF
head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >"$work/big/big.bin"
sync  # do not let the kernel flush the test data while we measure
small_bytes=$((SMALL_FILES * SMALL_KIB * 1024))
big_bytes=$((BIG_MIB * 1024 * 1024))

# Reads "Elapsed (wall clock)" (seconds) and "Maximum resident set size" (KiB) from time -v.
parse_time() { # $1 = time -v output file -> "seconds rss_kib"
    python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
w = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
parts = [float(p) for p in w.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(f"{secs:.3f} {rss}")
EOF
}

results=()
report() { # name files bytes timefile
    read -r secs rss < <(parse_time "$4")
    local line
    line="$(python3 -c "import sys; n,f,b,s,r=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),float(sys.argv[4]),int(sys.argv[5]); print(f'{n:<34} {f:>6} files {b/1e6:>9.1f} MB in {s:>7.2f} s = {f/s:>8.1f} files/s {b/1e6/s:>8.1f} MB/s, peak RSS {r/1024:>6.1f} MiB')" "$1" "$2" "$3" "$secs" "$rss")"
    echo "$line"
    results+=("$line")
}

run_cos_upload() { # dir prefix slice-size
    local dir="$1" prefix="$2" slice="$3"
    /usr/bin/time -v -o "$work/time.txt" "$bin/cos-upload" --server "$url" --dev-user bench \
        --protocol "$PROTOCOL" -j "$JOBS" --prefix "$prefix" --quiet \
        --slice-size "$slice" --part-size "$slice" --parallel-parts "$PARALLEL_PARTS" \
        --report "$work/report-$prefix.json" "$dir"
    python3 - "$work/report-$prefix.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["failed"] == 0 and s["uploaded"] == s["files"], s
print(f"   (report: {s['uploaded']} uploaded in {s['elapsed_secs']:.2f} s after login)")
EOF
}

echo "== cos-upload ($PROTOCOL, -j $JOBS) against the auth server's embedded store"
start_server "$work/data"
run_cos_upload "$work/small" small 3MiB
report "cos-upload small ($PROTOCOL, -j $JOBS, fresh store)" "$SMALL_FILES" "$small_bytes" "$work/time.txt"
run_cos_upload "$work/small" small2 3MiB
report "cos-upload small ($PROTOCOL, -j $JOBS, 2nd run)" "$SMALL_FILES" "$small_bytes" "$work/time.txt"
for slice in 1 3 8; do
    run_cos_upload "$work/big" "big$slice" "${slice}MiB"
    report "cos-upload 1 file ($PROTOCOL, $slice MiB slices)" 1 "$big_bytes" "$work/time.txt"
done

if [ -z "${SKIP_COSCMD:-}" ]; then
    if [ ! -x .venv/bin/coscmd ]; then
        echo "== installing coscmd into .venv"
        python3 -m venv .venv
        .venv/bin/pip install --quiet --disable-pip-version-check -r tests/interop/python/requirements.txt
    fi
    # coscmd signs with the store's own credentials (the embedded store's generated dev
    # secrets) and addresses the bucket by virtual host; an HTTP proxy setting routes that
    # host name to the local store.
    read -r sid skey < <(python3 - "$work/data/dev-secrets.toml" <<'EOF'
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
print(d["cos_secret_id"], d["cos_secret_key"])
EOF
)
    port="${url##*:}"
    conf="$work/cos.conf"
    .venv/bin/coscmd -c "$conf" config -a "$sid" -s "$skey" -b metis-1250000000 \
        -e cos.local --do-not-use-ssl -m "$JOBS" -p 8 >/dev/null
    coscmd_run() { # name dir prefix
        http_proxy="http://127.0.0.1:$port" HTTP_PROXY="http://127.0.0.1:$port" no_proxy= NO_PROXY= \
        /usr/bin/time -v -o "$work/time.txt" .venv/bin/coscmd -s -c "$conf" -l "$work/coscmd.log" \
            upload -r "$2" "$3/" >"$work/coscmd.out" 2>&1 || { cat "$work/coscmd.out"; exit 1; }
    }
    echo "== coscmd ($(.venv/bin/coscmd --version 2>&1 | tail -1) from PyPI, $JOBS threads, 8 MiB parts) against the same store"
    coscmd_run small "$work/small" coscmd-small
    report "coscmd small (v5 PUT)" "$SMALL_FILES" "$small_bytes" "$work/time.txt"
    coscmd_run big "$work/big" coscmd-big
    report "coscmd 1 file (v5 multipart)" 1 "$big_bytes" "$work/time.txt"
fi
stop_server

echo
echo "== summary ($(nproc) cores, load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
for r in "${results[@]}"; do echo "$r"; done
