#!/usr/bin/env bash
# Makes a Garage 2.5.0 binary (the S3-compatible distributed object store the system tests
# run against, https://garagehq.deuxfleurs.fr/) available and prints its path.
#
# Usage: scripts/install-garage.sh
#
# Output: the absolute path of a runnable `garage` on stdout (one line); progress on stderr.
#
# Where the binary comes from, first match wins:
#   1. $GARAGE_BIN, when set (it must be runnable; a version other than 2.5.0 is warned about).
#   2. The cache, when its `garage --version` reports 2.5.0:
#      ${COS_UPLOAD_KIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cos-upload-kit}/garage-2.5.0/bin/garage
#   3. A build from crates.io into that cache with `cargo install --locked` (needs cargo and a
#      C compiler; about 30 minutes on 2 cores). Its target dir lives under the cache and is
#      removed after a successful install; a failed build keeps it, so a retry resumes.
# Concurrent callers share one build: the cache is guarded by flock on <cache>/.lock.
set -euo pipefail

GARAGE_VERSION=2.5.0
GARAGE_FEATURES=bundled-libs,lmdb

SCRIPT_NAME=install-garage
# shellcheck source=lib/local-services.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib/local-services.sh"

# Succeeds when BIN runs and reports the pinned version, e.g. "garage cargo:2.5.0 [...]".
reports_pinned_version() {
    local version_line
    version_line=$("$1" --version 2>/dev/null | head -n 1) || return 1
    [[ "$version_line" =~ (^|[^0-9.])${GARAGE_VERSION//./\\.}([^0-9.]|$) ]]
}

if [ -n "${GARAGE_BIN:-}" ]; then
    "$GARAGE_BIN" --version >/dev/null 2>&1 || die "GARAGE_BIN=$GARAGE_BIN is not a runnable garage"
    reports_pinned_version "$GARAGE_BIN" ||
        log "warning: GARAGE_BIN=$GARAGE_BIN is not garage $GARAGE_VERSION ($("$GARAGE_BIN" --version | head -n 1))"
    command -v "$GARAGE_BIN"
    exit 0
fi

cache_root="${COS_UPLOAD_KIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cos-upload-kit}"
root="$cache_root/garage-$GARAGE_VERSION"
bin="$root/bin/garage"

if reports_pinned_version "$bin"; then
    printf '%s\n' "$bin"
    exit 0
fi

mkdir -p "$root"
exec 9>"$root/.lock"
if ! flock -n 9; then
    log "another install of garage $GARAGE_VERSION holds $root/.lock; waiting for it"
    flock 9
fi
# The caller that held the lock may have just finished the build.
if reports_pinned_version "$bin"; then
    printf '%s\n' "$bin"
    exit 0
fi

command -v cargo >/dev/null || die "cargo is needed to build garage $GARAGE_VERSION (or set GARAGE_BIN)"
log "building garage $GARAGE_VERSION from crates.io into $root (about 30 minutes on 2 cores)"
# --force replaces a cached binary that is broken or of another version; cargo's own
# records in $root would otherwise call it installed.
cargo install garage --version "$GARAGE_VERSION" --locked --force \
    --no-default-features --features "$GARAGE_FEATURES" \
    --root "$root" --target-dir "$root/target" >&2
reports_pinned_version "$bin" || die "cargo install finished but $bin does not report $GARAGE_VERSION"
rm -rf "$root/target"
log "installed $bin"
printf '%s\n' "$bin"
