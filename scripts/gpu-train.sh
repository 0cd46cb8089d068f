#!/usr/bin/env bash
# On a lent NVIDIA machine: train the shipped fast models (six styles, the six in one model, a
# stronger mosaic) and temporal-weight-0 ablations at once on one GPU, each for the same
# wall-clock budget, from what scripts/gpu-pack.sh put in .carry/. Results land in $OUT (the device tool brings that folder
# back): models.tar.xz.part-* (models, sample grids, loss curves, logs; `cat` the parts into
# `tar -xJ`) and ckpt.tar.part-* (checkpoints of the shipped runs, for resuming anywhere).
#
#   scripts/gpu-train.sh [SECONDS]    # SECONDS: when everything must be finished (default 540)
#   DEVICE=cpu SIZE=32 BATCH=1 scripts/gpu-train.sh 150   # a dry run of the whole script here
#
# The GPU is reached through wgpu on NVIDIA's Vulkan driver (`--device gpu`).
set -uo pipefail
deadline=$(( $(date +%s) + ${1:-540} ))
root=$(pwd)
carry="$root/.carry"
work=/tmp/ganstyle-gpu
out="${OUT:-$root/out/gpu}"
rm -rf "$work" && mkdir -p "$work/lib" "$work/runs" "$out"
log() { echo "[$(date +%T)] $*"; }

xz -dc "$carry/ganstyle.xz" > "$work/ganstyle" && chmod +x "$work/ganstyle"
tar -xJf "$carry/lib.tar.xz" -C "$work/lib"
python3 - "$carry/vgg16-f16.npz" "$work/vgg16.h5" <<'PY'
import sys, h5py, numpy as np
arrays = np.load(sys.argv[1])
with h5py.File(sys.argv[2], "w") as dst:
    for name in arrays.files:
        dst[name] = arrays[name].astype(np.float32)
    for layer in ("conv2d", "conv2d_1", "conv2d_2"):   # block 5: no loss reads it
        dst[f"block5/layers/{layer}/vars/0"] = np.zeros((3, 3, 512, 512), np.float32)
        dst[f"block5/layers/{layer}/vars/1"] = np.zeros(512, np.float32)
PY
bin="$work/ganstyle"

# wgpu on NVIDIA's Vulkan driver: Debian's loader and GL vendor libraries (the README of the
# device tool says the machine may lack them), the driver's files as the machine mounts them.
device=${DEVICE:-gpu}
if [ "$device" = gpu ]; then
  for deb in "$carry"/gl/*.deb; do dpkg -x "$deb" /; done
  ldconfig
fi
export LD_LIBRARY_PATH="$work/lib:/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}"
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export NODEVICE_SELECT=1 GANSTYLE_CACHE="$work/cache" RUST_BACKTRACE=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader
"$bin" --version || { ldd "$bin" | grep 'not found'; exit 3; }
"$bin" devices 2>&1 | tail -8

common=(--content "$carry/photos" --vgg "$work/vgg16.h5" --size "${SIZE:-256}" --batch "${BATCH:-4}"
        --checkpoint-every 50 --sample-every 100)

# CubeCL compiles every kernel (and, at the default level, benchmarks several variants of each
# matrix product and convolution) on first use; on NVIDIA's Vulkan driver that took over 180 s
# before a first 256-px step, so only the cheapest variants are tried.
export CUBECL_AUTOTUNE_LEVEL="${CUBECL_AUTOTUNE_LEVEL:-minimal}"

styles=(mosaic ink-hatching pointillism swirls impasto watercolour)
six=()
for s in "${styles[@]}"; do six+=(--style "pattern:$s"); done
runs=()
add() { runs+=("$*"); }
for s in "${styles[@]}"; do
  add "$s" --style "pattern:$s" --arch fast
done
add six "${six[@]}" --arch fast
# Temporal-weight-0 ablations (the GPU is shared: each one more run slows all the others).
for s in ${ABLATE-mosaic impasto}; do
  add "$s-t0" --style "pattern:$s" --arch fast --temporal-weight 0
done

left=$(( deadline - $(date +%s) - 35 ))   # each run's time, set-up included; then the last step and packing
log "${#runs[@]} runs on --device $device, ${left} s each"
for r in "${runs[@]}"; do
  read -r -a a <<< "$r"
  name=${a[0]}
  RAYON_NUM_THREADS=2 "$bin" train "${a[@]:1}" "${common[@]}" --steps 100000 --time-limit "$left" \
    --device "$device" --out "$work/runs/$name.gsm" > "$work/runs/$name.log" 2>&1 &
done
while [ -n "$(jobs -rp)" ] && [ "$(date +%s)" -lt $(( deadline - 15 )) ]; do
  sleep 10
  log "$(grep -h -o 'step [0-9]*/[0-9]* ([0-9]* s)' "$work"/runs/*.log 2>/dev/null | tail -1) $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader)"
done
kill $(jobs -rp) 2>/dev/null
wait
for f in "$work"/runs/*.log; do
  echo "== $(basename "$f")"; grep -E '^step |^wrote|error|panic' "$f" | tail -3 | cut -c1-300
done

# At most 8 files of 16 MiB, 64 MiB in all, come back: the models, sample grids and logs first,
# then the checkpoints of the shipped runs (not the ablations') while they fit.
cd "$work/runs"
tar -cf - ./*.gsm ./*.png ./*.log | xz -T0 -6 | split -b 15M - "$out/models.tar.xz.part-"
room=$(( 60 * 1024 * 1024 - $(cat "$out"/models.tar.xz.part-* | wc -c) ))
ckpts=()
for name in "${styles[@]}" six; do
  size=$(stat -c %s "$name.ckpt" 2>/dev/null) || continue
  [ "$size" -lt "$room" ] || break
  ckpts+=("$name.ckpt"); room=$(( room - size ))
done
[ ${#ckpts[@]} -eq 0 ] || tar -cf - "${ckpts[@]}" | split -b 15M - "$out/ckpt.tar.part-"
ls -la "$out"
