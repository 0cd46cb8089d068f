#!/usr/bin/env bash
# Install the system packages ganstyle builds and runs with (Debian 12): GStreamer and its
# plugins, Mesa's lavapipe Vulkan driver (wgpu on the CPU), libclang (nokhwa's bindings), a font
# for plots, FFmpeg (the tests check restyled clips against clips another tool made, with
# ffprobe as an independent decoder). Skips apt entirely when everything is already there.
set -euo pipefail
packages=(
  build-essential pkg-config
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  mesa-vulkan-drivers libvulkan1 libclang1-14 libclang-dev fonts-dejavu-core
  ffmpeg
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
