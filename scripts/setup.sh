#!/usr/bin/env bash
# Fresh machine → result: install system packages, build the ganstyle CLI and GStreamer plugin,
# install the plugin into the user's GStreamer plugin folder, restyle a test frame and a short
# test clip with a shipped model, and print where the results are.
#
#   scripts/setup.sh [MODEL]     # MODEL: a shipped model name or .gsm file (default: duo)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
cargo build --workspace   # the CLI and libgstganstyle.so
bin="$CARGO_TARGET_DIR/debug/ganstyle"
model="${1:-duo}"

# GStreamer finds plugins in ~/.local/share/gstreamer-1.0/plugins without GST_PLUGIN_PATH.
plugins="${XDG_DATA_HOME:-$HOME/.local/share}/gstreamer-1.0/plugins"
mkdir -p "$plugins"
cp -f "$CARGO_TARGET_DIR/debug/libgstganstyle.so" "$plugins/"
export GANSTYLE_MODELS="$(pwd)/models"   # so model=NAME works from any folder
# Headless (no XDG_RUNTIME_DIR): Mesa's Vulkan device-select layer looks for a Wayland display
# while GPUs are probed and prints "error: XDG_RUNTIME_DIR is invalid or not set"; with no
# display it has nothing to choose, so it is switched off here.
[ -n "${XDG_RUNTIME_DIR:-}" ] || export NODEVICE_SELECT=1

mkdir -p out
gst-launch-1.0 -q videotestsrc pattern=smpte num-buffers=1 ! video/x-raw,width=640,height=480 \
  ! videoconvert ! pngenc ! filesink location=out/input.png
"$bin" image out/input.png -o out/styled.png --force --model "$model"
gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=60 \
  ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert \
  ! ganstyle model="$model" stability=0.5 ! videoconvert ! x264enc ! mp4mux \
  ! filesink location=out/styled.mp4
echo "ganstyle CLI: $bin"
echo "GStreamer plugin: $plugins/libgstganstyle.so (gst-inspect-1.0 ganstyle)"
echo "result: $(pwd)/out/styled.png (input: $(pwd)/out/input.png)"
echo "result: $(pwd)/out/styled.mp4 (videotestsrc through the ganstyle element)"
