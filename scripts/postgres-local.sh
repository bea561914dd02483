#!/usr/bin/env bash
# Runs a throwaway PostgreSQL server for tests: Debian's `postgresql` package (installed with
# apt-get when /usr/lib/postgresql/<version>/bin is missing), listening on 127.0.0.1 only, on
# a free port, TCP only (no Unix socket), fsync off, with one database and one role (random
# password, CREATEDB so tests can make their own databases). As root it runs the server as
# the `postgres` system user, because initdb refuses to run as root.
#
# Usage:
#   scripts/postgres-local.sh start <dir>    start a server with its data in <dir>/data and
#                                            print <dir>/postgres.env; on a <dir> whose server
#                                            was stopped, start that server again
#   scripts/postgres-local.sh stop <dir>     stop it (fast shutdown)
#   scripts/postgres-local.sh status <dir>   exit 0 when it runs, 3 when stopped, 4 when <dir>
#                                            has no server
#
# Outputs, under <dir>:
#   postgres.env   DATABASE_URL=postgres://cos_upload_kit:<password>@127.0.0.1:<port>/cos_upload_kit
#                  and DATABASE_ADMIN_URL (the `postgres` superuser, database postgres). Mode 600.
#   data/          the cluster (as root, <dir> and data/ belong to the postgres user)
#   postgres.log   the server's log
#
# Environment: PG_BIN_DIR overrides where initdb, pg_ctl and psql are looked up.
set -euo pipefail

SCRIPT_NAME=postgres-local
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib/local-services.sh source-path=SCRIPTDIR
. "$here/lib/local-services.sh"

DB_NAME=cos_upload_kit
DB_ROLE=cos_upload_kit

usage() {
    sed -n '/^# Usage:/,/^# Outputs/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# Prints the newest /usr/lib/postgresql/<version>/bin that has initdb.
newest_pg_bin_dir() {
    local d
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$d/initdb" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 1
}

# Sets pg_bin: PG_BIN_DIR, else the binaries of the version that made <dir>/data, else the
# newest installed version, else installs Debian's postgresql package.
find_pg_bin_dir() {
    local made_by
    if [ -n "${PG_BIN_DIR:-}" ]; then
        [ -x "$PG_BIN_DIR/initdb" ] || die "PG_BIN_DIR=$PG_BIN_DIR has no initdb"
        pg_bin=$PG_BIN_DIR
        return
    fi
    made_by=$(cat "$dir/data/PG_VERSION" 2>/dev/null || true)
    if [ -n "$made_by" ] && [ -x "/usr/lib/postgresql/$made_by/bin/pg_ctl" ]; then
        pg_bin=/usr/lib/postgresql/$made_by/bin
        return
    fi
    if pg_bin=$(newest_pg_bin_dir); then
        return
    fi
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get: install it or set PG_BIN_DIR"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    log "installing Debian's postgresql package"
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql >&2
    pg_bin=$(newest_pg_bin_dir) || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb"
}

# Runs a PostgreSQL server program as the user that owns the cluster. The lock on fd 8 is
# closed so that the server started by pg_ctl does not keep it.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@" 8>&-
    else
        "$@" 8>&-
    fi
}

lock_dir() {
    exec 8>>"$dir/.lock"
    flock -n 8 || die "another postgres-local.sh command is working on $dir"
}

server_running() { as_owner "$pg_bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

start_server() {
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
        die "the server did not start; last lines of $dir/postgres.log:
$(tail -n 20 "$dir/postgres.log" 2>/dev/null)"
}

env_value() { sed -n "s/^$1=//p" "$dir/postgres.env"; }

check_connects() {
    local answer
    answer=$("$pg_bin/psql" "$(env_value DATABASE_URL)" -X -tAc 'select 1' 2>&1) ||
        die "cannot connect with DATABASE_URL: $answer"
}

# On a failed start, stops the server it started so the next start is not refused.
abort_start() {
    local status=$?
    [ "$status" -ne 0 ] || return 0
    if server_running; then
        as_owner "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/postgres.log" ]; then
        log "start failed; the server log is $dir/postgres.log"
    fi
}

init_cluster() {
    local port password admin_password
    port=$(free_ports 1)
    password=$(random_hex 16)
    admin_password=$(random_hex 16)
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "there is no postgres system user (Debian's postgresql package makes it)"
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot reach $dir: its parent directories must be searchable by others (chmod o+x), e.g. use a dir under /tmp"
    fi
    (umask 077 && printf '%s\n' "$admin_password" >"$dir/.superuser-password")
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/.superuser-password"
    as_owner "$pg_bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/.superuser-password" \
        --auth=scram-sha-256 -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -n 20 "$dir/initdb.log")"
    rm -f "$dir/.superuser-password"
    cat >>"$dir/data/postgresql.conf" <<EOF

# Added by scripts/postgres-local.sh: a throwaway server for tests.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    start_server
    PGPASSWORD=$admin_password "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$password'" \
        -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE" >&2
    (
        umask 077
        {
            echo "# Written by scripts/postgres-local.sh for the server in $dir."
            echo "DATABASE_URL=postgres://$DB_ROLE:$password@127.0.0.1:$port/$DB_NAME"
            echo "DATABASE_ADMIN_URL=postgres://postgres:$admin_password@127.0.0.1:$port/postgres"
        } >"$dir/postgres.env.tmp"
        mv "$dir/postgres.env.tmp" "$dir/postgres.env"
    )
}

cmd_start() {
    local started=$SECONDS
    lock_dir
    find_pg_bin_dir
    if [ -f "$dir/data/PG_VERSION" ]; then
        if server_running; then
            die "a server is already running in $dir; stop it first: $0 stop $dir"
        fi
        [ -f "$dir/postgres.env" ] || die "$dir holds a server that never finished starting; remove it or use another dir"
        log "starting the stopped server in $dir again"
        trap abort_start EXIT
        start_server
    else
        log "creating a server in $dir ($pg_bin)"
        trap abort_start EXIT
        init_cluster
    fi
    check_connects
    trap - EXIT
    log "server up in $((SECONDS - started)) s on 127.0.0.1:$(sed -n 's/^port = //p' "$dir/data/postgresql.conf" | tail -n 1)"
    printf '%s\n' "$dir/postgres.env"
}

cmd_stop() {
    lock_dir
    [ -f "$dir/data/PG_VERSION" ] || die "$dir has no server"
    find_pg_bin_dir
    if ! server_running; then
        log "the server in $dir is not running"
        return 0
    fi
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    log "stopped the server in $dir"
}

cmd_status() {
    [ -f "$dir/data/PG_VERSION" ] || {
        echo "no server in $dir"
        return 4
    }
    find_pg_bin_dir
    local status=0
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" status || status=$?
    return "$status"
}

case "${1:-}:$#" in
    start:2 | stop:2 | status:2) ;;
    *) usage ;;
esac
dir=$(service_dir "$1" "$2")
# The server's user may not be allowed into the caller's working directory.
cd "$dir"
pg_bin=""
case "$1" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
esac
