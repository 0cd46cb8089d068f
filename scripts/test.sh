#!/usr/bin/env bash
# The whole test suite: system packages, then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
cargo test --workspace --all-targets -- --test-threads 2
