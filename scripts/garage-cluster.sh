#!/usr/bin/env bash
# Runs a throwaway 3-node Garage cluster (S3-compatible, https://garagehq.deuxfleurs.fr/) on
# 127.0.0.1 for tests: replication_factor = 3 over 3 zones (one node each),
# consistency_mode = "consistent" (read and write quorum 2 of 3), lmdb metadata, free ports,
# a random rpc_secret, one bucket and one access key with read/write/owner on it.
#
# Usage:
#   scripts/garage-cluster.sh start <dir>         start the cluster, print <dir>/cluster.env
#   scripts/garage-cluster.sh stop <dir>          stop every node (SIGTERM, SIGKILL after 30 s)
#   scripts/garage-cluster.sh kill-node <dir> <n> SIGKILL node n (1-3)
#   scripts/garage-cluster.sh restart-node <dir> <n>
#                                                 start node n again with its config and data,
#                                                 wait until the cluster sees it and its S3 API serves
#   scripts/garage-cluster.sh status <dir>        print each node's state and `garage status`;
#                                                 exit 0 only when all 3 run and health is HEALTHY
#
# `start` refuses a <dir> whose cluster is running; on a <dir> whose cluster was stopped it
# starts the same nodes again (same data, bucket and key). `start` returns once
# `garage health` reports HEALTHY on every node and an S3 PutObject through node 1 reads
# back byte-equal from all three nodes.
#
# Outputs, under <dir>:
#   cluster.env        KEY=value lines (no quotes): S3_ENDPOINT (node 1's S3 API, for
#                      path-style requests), S3_ENDPOINTS (all three, comma-separated),
#                      S3_REGION (garage), S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
#                      S3_ROOT_DOMAIN (virtual-host style: <bucket>.<S3_ROOT_DOMAIN>:<port>),
#                      GARAGE_CLUSTER_DIR (<dir>, for kill-node and restart-node),
#                      GARAGE_NODE<n>_PID (empty while node n is down). Mode 600.
#   node<n>/garage.toml, node<n>/meta, node<n>/data, node<n>/garage.log, node<n>/pid
#
# Environment: GARAGE_BIN (else scripts/install-garage.sh provides garage 2.5.0),
# GARAGE_BUCKET (default cos-upload-kit), GARAGE_LOG (RUST_LOG for the nodes, default
# garage=info). Needs python3 or bash's /dev/tcp for ports and curl >= 7.75 for the S3 check.
set -euo pipefail

SCRIPT_NAME=garage-cluster
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib/local-services.sh source-path=SCRIPTDIR
. "$here/lib/local-services.sh"

NODES=(1 2 3)
REGION=garage
ROOT_DOMAIN=s3.garage.localhost
BUCKET="${GARAGE_BUCKET:-cos-upload-kit}"
KEY_NAME=cos-upload-kit-tests
# Capacity only weighs nodes against each other in the layout; Garage does not cap data by it.
CAPACITY=10G
START_TIMEOUT=60

usage() {
    sed -n '/^# Usage:/,/^# .start. refuses/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

cfg() { printf '%s/node%s/garage.toml\n' "$dir" "$1"; }
pid_file() { printf '%s/node%s/pid\n' "$dir" "$1"; }
node_pid() { cat "$(pid_file "$1")" 2>/dev/null || true; }
node_running() { pid_alive "$(node_pid "$1")" "$(cfg "$1")"; }
node_stopped() { ! node_running "$1"; }

# Runs the garage CLI against node N's RPC endpoint.
g() {
    local n=$1
    shift
    "$bin" -c "$(cfg "$n")" "$@"
}

# Runs the garage CLI against node N, hiding its chatter unless it fails.
g_quiet() {
    local out
    out=$(g "$@" 2>&1) || die "garage ${*:2} (node $1) failed: $out"
}

s3_endpoint() {
    awk -F'"' '/^\[/ { section = $0 } section == "[s3_api]" && /^api_bind_addr/ { print "http://" $2 }' "$(cfg "$1")"
}

lock_dir() {
    exec 8>"$dir/.lock"
    flock -n 8 || die "another garage-cluster.sh command is working on $dir"
}

check_node_number() {
    case "${1:-}" in
        1 | 2 | 3) ;;
        *) die "node number must be 1, 2 or 3, not '${1:-}'" ;;
    esac
}

write_configs() {
    local secret ports n i
    secret=$(random_hex 32)
    mapfile -t ports < <(free_ports 6)
    for n in "${NODES[@]}"; do
        i=$(((n - 1) * 2))
        mkdir -p "$dir/node$n/meta" "$dir/node$n/data"
        (
            umask 077
            cat >"$(cfg "$n")" <<EOF
# Node $n of the test cluster made by scripts/garage-cluster.sh.
metadata_dir = "$dir/node$n/meta"
data_dir = "$dir/node$n/data"
db_engine = "lmdb"
replication_factor = 3
consistency_mode = "consistent"
rpc_bind_addr = "127.0.0.1:${ports[i]}"
rpc_public_addr = "127.0.0.1:${ports[i]}"
rpc_secret = "$secret"

[s3_api]
s3_region = "$REGION"
api_bind_addr = "127.0.0.1:${ports[i + 1]}"
root_domain = ".$ROOT_DOMAIN"
EOF
        )
    done
}

# Starts node N in the background; it must not inherit the lock on fd 8, or the lock
# would outlive this command.
launch_node() {
    local n=$1
    RUST_LOG="${GARAGE_LOG:-garage=info}" NO_COLOR=1 \
        "$bin" -c "$(cfg "$n")" server </dev/null >>"$dir/node$n/garage.log" 2>&1 8>&- &
    echo "$!" >"$(pid_file "$n")"
}

# Waits until node N answers on RPC; fails at once if its process died.
wait_node_answers() {
    local n=$1 deadline=$((SECONDS + START_TIMEOUT))
    until node_running "$n" && g "$n" node id -q >/dev/null 2>&1; do
        node_running "$n" || die "node $n exited; last lines of $dir/node$n/garage.log:
$(tail -n 20 "$dir/node$n/garage.log")"
        [ "$SECONDS" -lt "$deadline" ] || die "node $n did not answer within ${START_TIMEOUT} s"
        sleep 0.2
    done
}

node_address() { g "$1" node id -q 2>/dev/null; }

# Succeeds when every running node sees all running nodes up, and, with all three running,
# reports the cluster HEALTHY.
cluster_settled() {
    local running=() n out
    for n in "${NODES[@]}"; do
        if node_running "$n"; then running+=("$n"); fi
    done
    [ "${#running[@]}" -gt 0 ] || return 1
    for n in "${running[@]}"; do
        out=$(g "$n" health 2>/dev/null) || return 1
        grep -Eq "Storage nodes up: +${#running[@]}\$" <<<"$out" || return 1
        if [ "${#running[@]}" -eq 3 ]; then
            grep -Eq 'Cluster health: +HEALTHY$' <<<"$out" || return 1
        fi
    done
}

# Connects node N and every other running node in both directions. Garage remembers its
# peers and reconnects by itself, but a node counts a restarted peer as up only once its
# own outgoing connection is back, and its retry backoff can take 30 s or more.
connect_node() {
    local n=$1 m address
    address=$(node_address "$n")
    for m in "${NODES[@]}"; do
        if [ "$m" = "$n" ] || node_stopped "$m"; then continue; fi
        g_quiet "$n" node connect "$(node_address "$m")"
        g_quiet "$m" node connect "$address"
    done
}

assign_layout() {
    local n id
    for n in "${NODES[@]}"; do
        id=$(node_address "$n")
        g_quiet 1 layout assign --zone "z$n" --capacity "$CAPACITY" "${id%@*}"
    done
    g_quiet 1 layout apply --version 1
}

create_bucket_and_key() {
    g_quiet 1 bucket create "$BUCKET"
    g_quiet 1 key create "$KEY_NAME"
    g_quiet 1 bucket allow --read --write --owner "$BUCKET" --key "$KEY_NAME"
}

# curl signing with AWS SigV4; the credentials go through stdin, not the command line.
s3_curl() {
    printf 'user = "%s:%s"\n' "$key_id" "$secret_key" |
        curl --config - --silent --show-error --fail --aws-sigv4 "aws:amz:$REGION:s3" "$@"
}

# PUTs a random object through node PUT_NODE, reads it back from each of GET_NODES...
# and compares bytes, then deletes it.
s3_roundtrip() {
    local put_node=$1 n probe key url hash got
    shift
    probe="$dir/.probe"
    key="garage-cluster-probe/$(random_hex 8)"
    random_hex 512 >"$probe"
    hash=$(sha256sum "$probe" | cut -d' ' -f1)
    url="$(s3_endpoint "$put_node")/$BUCKET/$key"
    s3_curl -H "x-amz-content-sha256: $hash" -T "$probe" "$url" >/dev/null ||
        die "S3 PutObject through node $put_node failed"
    for n in "$@"; do
        got=$(s3_curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$(s3_endpoint "$n")/$BUCKET/$key") ||
            die "S3 GetObject through node $n failed"
        [ "$got" = "$(cat "$probe")" ] || die "S3 GetObject through node $n returned other bytes"
    done
    s3_curl -X DELETE -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$url" >/dev/null ||
        die "S3 DeleteObject through node $put_node failed"
    rm -f "$probe"
}

load_key() {
    key_id=$(g 1 key info --key-id "$KEY_NAME" 2>/dev/null) || die "cannot read key $KEY_NAME from node 1"
    secret_key=$(g 1 key info --secret-key "$KEY_NAME" 2>/dev/null) || die "cannot read key $KEY_NAME from node 1"
}

pid_lines() {
    local n pid
    for n in "${NODES[@]}"; do
        pid=""
        if node_running "$n"; then pid=$(node_pid "$n"); fi
        printf 'GARAGE_NODE%s_PID=%s\n' "$n" "$pid"
    done
}

write_env() {
    local endpoints=() n
    for n in "${NODES[@]}"; do
        endpoints+=("$(s3_endpoint "$n")")
    done
    (
        umask 077
        {
            echo "# Written by scripts/garage-cluster.sh for the cluster in $dir."
            echo "S3_ENDPOINT=${endpoints[0]}"
            echo "S3_ENDPOINTS=$(
                IFS=,
                echo "${endpoints[*]}"
            )"
            echo "S3_REGION=$REGION"
            echo "S3_BUCKET=$BUCKET"
            echo "S3_ACCESS_KEY_ID=$key_id"
            echo "S3_SECRET_ACCESS_KEY=$secret_key"
            echo "S3_ROOT_DOMAIN=$ROOT_DOMAIN"
            echo "GARAGE_CLUSTER_DIR=$dir"
            pid_lines
        } >"$dir/cluster.env.tmp"
        mv "$dir/cluster.env.tmp" "$dir/cluster.env"
    )
}

# Rewrites the GARAGE_NODE<n>_PID lines of cluster.env after a node stopped or started.
update_env_pids() {
    [ -f "$dir/cluster.env" ] || return 0
    (
        umask 077
        {
            grep -v '^GARAGE_NODE[0-9]*_PID=' "$dir/cluster.env"
            pid_lines
        } >"$dir/cluster.env.tmp"
        mv "$dir/cluster.env.tmp" "$dir/cluster.env"
    )
}

# On a failed start, stops the nodes it launched so the next start is not refused.
abort_start() {
    local status=$? n
    [ "$status" -ne 0 ] || return 0
    for n in "${NODES[@]}"; do
        if node_running "$n"; then kill -KILL "$(node_pid "$n")" 2>/dev/null || true; fi
        rm -f "$(pid_file "$n")"
    done
    log "start failed; the nodes' logs are in $dir/node<n>/garage.log"
}

find_bin() {
    bin=$("$here/install-garage.sh") || die "no garage binary (scripts/install-garage.sh failed)"
}

cmd_start() {
    local n fresh=1 started=$SECONDS
    lock_dir
    for n in "${NODES[@]}"; do
        if node_running "$n"; then
            die "a cluster is already running in $dir (node $n has pid $(node_pid "$n")); stop it first: $0 stop $dir"
        fi
    done
    if [ -f "$(cfg 1)" ]; then
        [ -f "$dir/cluster.env" ] ||
            die "$dir holds a cluster that never finished starting; remove it or use another dir"
        fresh=0
    fi
    curl --help all 2>/dev/null | grep -q -- --aws-sigv4 ||
        die "curl >= 7.75 (with --aws-sigv4) is needed for the S3 check: apt-get install curl"
    find_bin
    trap abort_start EXIT
    if [ "$fresh" -eq 1 ]; then
        log "creating a 3-node cluster in $dir"
        write_configs
    else
        log "starting the stopped cluster in $dir again"
    fi
    for n in "${NODES[@]}"; do
        launch_node "$n"
    done
    for n in "${NODES[@]}"; do
        wait_node_answers "$n"
    done
    connect_node 1
    [ "$fresh" -eq 0 ] || assign_layout
    wait_for "$START_TIMEOUT" cluster_settled ||
        die "cluster not HEALTHY after ${START_TIMEOUT} s: $(g 1 health 2>&1)"
    [ "$fresh" -eq 0 ] || create_bucket_and_key
    load_key
    s3_roundtrip 1 "${NODES[@]}"
    write_env
    trap - EXIT
    log "cluster up in $((SECONDS - started)) s; S3 at $(s3_endpoint 1), bucket $BUCKET"
    printf '%s\n' "$dir/cluster.env"
}

cmd_stop() {
    local n
    lock_dir
    for n in "${NODES[@]}"; do
        if node_running "$n"; then kill -TERM "$(node_pid "$n")"; fi
    done
    for n in "${NODES[@]}"; do
        if ! wait_for 30 node_stopped "$n"; then
            log "node $n did not stop within 30 s; sending SIGKILL"
            kill -KILL "$(node_pid "$n")" 2>/dev/null || true
            wait_for 10 node_stopped "$n" || die "node $n (pid $(node_pid "$n")) survives SIGKILL"
        fi
        rm -f "$(pid_file "$n")"
    done
    update_env_pids
    log "stopped the cluster in $dir"
}

cmd_kill_node() {
    local n=$1 pid
    check_node_number "$n"
    lock_dir
    node_running "$n" || die "node $n of $dir is not running"
    pid=$(node_pid "$n")
    kill -KILL "$pid"
    wait_for 10 node_stopped "$n" || die "node $n (pid $pid) survives SIGKILL"
    rm -f "$(pid_file "$n")"
    update_env_pids
    log "killed node $n (pid $pid)"
}

cmd_restart_node() {
    local n=$1 others=() m started=$SECONDS
    check_node_number "$n"
    lock_dir
    [ -f "$(cfg "$n")" ] || die "$dir has no node $n (no $(cfg "$n"))"
    [ -f "$dir/cluster.env" ] || die "$dir has no cluster.env; start the cluster first"
    node_stopped "$n" || die "node $n of $dir is already running (pid $(node_pid "$n"))"
    find_bin
    launch_node "$n"
    wait_node_answers "$n"
    connect_node "$n"
    wait_for "$START_TIMEOUT" cluster_settled ||
        die "node $n is not back in the cluster after ${START_TIMEOUT} s: $(g "$n" health 2>&1)"
    for m in "${NODES[@]}"; do
        if [ "$m" != "$n" ] && node_running "$m"; then others+=("$m"); fi
    done
    load_key
    s3_roundtrip "$n" "$n" "${others[@]}"
    update_env_pids
    log "node $n is back (pid $(node_pid "$n")) in $((SECONDS - started)) s"
}

cmd_status() {
    local n first="" healthy=1 out
    for n in "${NODES[@]}"; do
        if node_running "$n"; then
            echo "node $n: running, pid $(node_pid "$n"), S3 $(s3_endpoint "$n")"
            [ -n "$first" ] || first=$n
        else
            echo "node $n: stopped"
            healthy=0
        fi
    done
    [ -n "$first" ] || return 1
    find_bin
    g "$first" status || healthy=0
    out=$(g "$first" health 2>&1) || healthy=0
    echo "$out"
    grep -Eq 'Cluster health: +HEALTHY$' <<<"$out" || healthy=0
    [ "$healthy" -eq 1 ]
}

case "${1:-}:$#" in
    start:2 | stop:2 | status:2 | kill-node:3 | restart-node:3) ;;
    *) usage ;;
esac
dir=$(service_dir "$1" "$2")
bin=""
key_id=""
secret_key=""
case "$1" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    kill-node) cmd_kill_node "$3" ;;
    restart-node) cmd_restart_node "$3" ;;
    status) cmd_status ;;
esac
