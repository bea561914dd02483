#!/usr/bin/env bash
# Runs every test suite of the workspace. Safe to run again: set-up steps are idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
