#!/usr/bin/env bash
# Runs every test suite of the workspace. Idempotent: what the interop suites need
# (Tencent's official Python and Node SDKs) is installed on first use into a cache outside
# the clone, keyed by the lock files, so a second run (or a second clone) reuses it:
#   ${COS_UPLOAD_KIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cos-upload-kit}
# The clone gets `.venv` and `tests/interop/node/node_modules` as links into that cache.
# The database suites get a throwaway PostgreSQL server (scripts/postgres-local.sh), started
# here and stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cache="${COS_UPLOAD_KIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cos-upload-kit}"
mkdir -p "$cache"

# System packages the suites need, installed only when missing (Debian/Ubuntu): venv
# support for Python, and Node.js 18+ with npm for the Node SDKs.
missing=()
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if ! command -v npm >/dev/null || ! node -e 'process.exit(typeof fetch === "function" ? 0 : 1)' 2>/dev/null; then
    missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing system packages: ${missing[*]}"
    if ! command -v apt-get >/dev/null; then
        echo "test-all: please install ${missing[*]} (no apt-get on this machine)" >&2
        exit 1
    fi
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Links `link` to `target` (replacing an old link or a directory left by an earlier layout).
link_to() {
    local target="$1" link="$2"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
        return
    fi
    rm -rf "$link"
    ln -s "$target" "$link"
}

# Tencent's Python SDKs, coscmd and the TC3 reference signer, in a virtualenv per
# requirements.txt.
py_key=$(sha256sum tests/interop/python/requirements.txt | cut -c1-16)
venv="$cache/venv-$py_key"
if [ ! -x "$venv/bin/python" ] || [ ! -e "$venv/.complete" ]; then
    echo "== installing tests/interop/python/requirements.txt into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/python/requirements.txt
    touch "$venv/.complete"
fi
link_to "$venv" .venv
export COS_INTEROP_PYTHON="$root/.venv/bin/python"
export COS_INTEROP_COSCMD="$root/.venv/bin/coscmd"

# Tencent's Node SDKs, pinned by package-lock.json, installed once per lock file.
node_key=$(sha256sum tests/interop/node/package-lock.json | cut -c1-16)
node_dir="$cache/node-$node_key"
if [ ! -e "$node_dir/.complete" ]; then
    echo "== installing tests/interop/node/package-lock.json into $node_dir"
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp tests/interop/node/package.json tests/interop/node/package-lock.json "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
    touch "$node_dir/.complete"
fi
link_to "$node_dir/node_modules" tests/interop/node/node_modules
export COS_INTEROP_NODE_DIR="$root/tests/interop/node"

# PostgreSQL for the database suites (auth-server's database tests run on SQLite and on it;
# the replicas suite runs two auth servers on it): a throwaway server in a temporary directory,
# stopped and removed on exit. scripts/postgres-local.sh installs Debian's postgresql with
# apt-get when it is missing. COS_REQUIRE_POSTGRES=1 makes those tests fail, never skip,
# should DATABASE_URL go missing.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/cos-upload-kit-postgres.XXXXXX")
# As root the server runs as the postgres user, which must be able to enter the directory.
chmod 755 "$pg_dir"
stop_postgres() {
    bash "$root/scripts/postgres-local.sh" stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap stop_postgres EXIT
echo "== starting PostgreSQL for the database suites"
bash scripts/postgres-local.sh start "$pg_dir" >/dev/null
set -a
# shellcheck source=/dev/null
. "$pg_dir/postgres.env"
set +a
export COS_REQUIRE_POSTGRES=1

echo "== crate suites: cargo test --workspace --exclude system-tests"
cargo test --workspace --locked --exclude system-tests

echo "== workspace suites (tests/): each prints what it proved"
cargo test -p system-tests --locked -- --nocapture
