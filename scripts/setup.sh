#!/usr/bin/env bash
# Fresh machine → result: install system packages, build ganstyle, restyle a test frame with a
# shipped model, and print where the result is.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
cargo build --bin ganstyle
bin="$CARGO_TARGET_DIR/debug/ganstyle"
mkdir -p out
gst-launch-1.0 -q videotestsrc pattern=smpte num-buffers=1 ! video/x-raw,width=640,height=480 \
  ! videoconvert ! pngenc ! filesink location=out/input.png
"$bin" image out/input.png -o out/styled.png --force --model "${1:-default}"
echo "ganstyle is at $bin"
echo "result: $(pwd)/out/styled.png (input: $(pwd)/out/input.png)"
