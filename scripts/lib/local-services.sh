# shellcheck shell=bash
# Helpers shared by the scripts that run throwaway local services for tests
# (scripts/garage-cluster.sh, scripts/postgres-local.sh). Sourced, not run.
#
# Usage: . "$(dirname "$0")/lib/local-services.sh" after setting SCRIPT_NAME.
# Outputs: nothing by itself; log and die write to stderr.

# Logs a line to stderr, prefixed with the calling script's name.
log() {
    printf '%s: %s\n' "${SCRIPT_NAME:-script}" "$*" >&2
}

# Logs a line to stderr and exits with status 1.
die() {
    log "error: $*"
    exit 1
}

# Prints COUNT distinct TCP ports on 127.0.0.1 that are free right now, one per line.
# python3 binds them all to port 0 at once, so the kernel hands out distinct free ports;
# without python3 it probes random ports for a refused connection.
free_ports() {
    local count=$1
    if command -v python3 >/dev/null; then
        python3 - "$count" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
        return
    fi
    local found=() port tries=0
    while [ "${#found[@]}" -lt "$count" ]; do
        tries=$((tries + 1))
        [ "$tries" -le 1000 ] || die "no free port found after 1000 probes"
        port=$((20000 + RANDOM % 40000))
        case " ${found[*]} " in *" $port "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            found+=("$port")
        fi
    done
    printf '%s\n' "${found[@]}"
}

# Prints BYTES random bytes from the kernel as lowercase hex (2*BYTES characters).
random_hex() {
    od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# Succeeds when PID is a live (not zombie) process whose command line contains NEEDLE.
# The needle guards against a recycled PID that now belongs to another program.
pid_alive() {
    local pid=$1 needle=$2 state
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle"
}

# Prints the service directory PATH as an absolute path. The start command makes it;
# every other command needs it to exist.
service_dir() {
    local command=$1 path=$2
    [ -n "$path" ] || die "the directory argument is empty"
    if [ "$command" = start ]; then
        mkdir -p "$path"
    else
        [ -d "$path" ] || die "no such directory: $path"
    fi
    (cd "$path" && pwd)
}

# Runs COMMAND... every 0.2 s until it succeeds or SECONDS_MAX seconds have passed.
# Returns 1 when it never succeeded.
wait_for() {
    local seconds_max=$1
    shift
    local deadline=$((SECONDS + seconds_max))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
