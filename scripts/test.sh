#!/usr/bin/env bash
# The whole test suite: system packages, formatting and lints, then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The plugin on its own takes the library without the CLI (and its tests add only training):
# it must build that way, and link none of the CLI's dependencies.
cargo clippy -p gst-plugin-ganstyle --all-targets -- -D warnings
cli_only='^(clap|indicatif|nokhwa|crossterm|ctrlc|plotters) '
if cargo tree -p gst-plugin-ganstyle -e normal --prefix none | grep -E "$cli_only"; then
  echo "the plugin links dependencies of the CLI (above)" >&2
  exit 1
fi
# `cargo test` builds the plugin crate only as an rlib: build libgstganstyle.so (and the CLI)
# first, for the gst-launch tests that load it.
cargo build --workspace
# Benches run once each as smoke tests (criterion in test mode); RUST_TEST_THREADS instead of
# `-- --test-threads` because criterion rejects that flag.
RUST_TEST_THREADS=2 cargo test --workspace --all-targets
