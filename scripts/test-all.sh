#!/usr/bin/env bash
# Runs every test suite of the workspace. Idempotent: the interop tools (Tencent's official
# Python and Node SDKs) are installed on first use into .venv and tests/interop/node.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# System packages the interop suites need, installed only when missing (Debian/Ubuntu):
# venv support for Python, and Node.js 18+ with npm for cos-nodejs-sdk-v5.
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

# Tencent's Python SDK and coscmd, in a virtualenv.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import qcloud_cos, coscmd' 2>/dev/null; then
    echo "== installing cos-python-sdk-v5 and coscmd into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/interop/python/requirements.txt
fi
export COS_INTEROP_PYTHON="$root/.venv/bin/python"
export COS_INTEROP_COSCMD="$root/.venv/bin/coscmd"

# Tencent's Node SDK, pinned by package-lock.json.
if [ ! -d tests/interop/node/node_modules/cos-nodejs-sdk-v5 ]; then
    echo "== installing cos-nodejs-sdk-v5"
    (cd tests/interop/node && npm ci --no-audit --no-fund --silent)
fi
export COS_INTEROP_NODE_DIR="$root/tests/interop/node"

echo "== crate suites: cargo test --workspace --exclude system-tests"
cargo test --workspace --locked --exclude system-tests

echo "== workspace suites (tests/): each prints what it proved"
cargo test -p system-tests --locked -- --nocapture
