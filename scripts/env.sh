# Sourced by the scripts: where cargo builds. A target folder outside the clone keeps a warm
# cache across fresh clones (CI clones anew for every run).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ganstyle/target}"
