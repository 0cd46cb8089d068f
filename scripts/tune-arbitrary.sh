#!/usr/bin/env bash
# Temporal fine-tune of the imported arbitrary-style model (issue 13), then the before/after
# figures on style pictures it was not tuned on. Resumes from its checkpoint when one exists, so
# it can be killed and started again at any time.
#
#   scripts/tune-arbitrary.sh [STEPS] [TRAIN FLAGS...]   # default 900 steps
#
# TRAIN FLAGS replace the loss weights below (default: --teacher-style-weight 2000
# --temporal-weight 5e5, the run behind models/magenta-six-video.gsm); TUNE_DIR=folder
# (default out/tune) keeps runs apart; RELEASE=1 builds and runs the release binary (faster
# steps, a longer first build).
#
# Tuning styles: the six built-in patterns rendered with seeds 1 and 2 (out/tune/styles/).
# Unseen styles for the figures: five of them rendered with seed 99 (out/tune/unseen/), so the
# genres are known but no picture is. Writes TUNE_DIR/tuned.gsm, TUNE_DIR/eval.txt and
# TUNE_DIR/grid-{before,after}.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
steps=${1:-900}
shift || true
weights=("$@")
[[ ${#weights[@]} -gt 0 ]] || weights=(--teacher-style-weight 2000 --temporal-weight 5e5)
dir=${TUNE_DIR:-out/tune}
if [[ ${RELEASE:-0} == 1 ]]; then
  cargo build --quiet --release --bin ganstyle
  bin="$CARGO_TARGET_DIR/release/ganstyle"
else
  cargo build --quiet --bin ganstyle
  bin="$CARGO_TARGET_DIR/debug/ganstyle"
fi
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
base="$cache/models/arbitrary-original.gsm"   # as imported (scripts/setup.sh)
[[ -f "$base" ]] || { echo "no $base: run scripts/setup.sh first" >&2; exit 1; }
mkdir -p out/tune/styles out/tune/unseen
patterns=(mosaic ink-hatching pointillism swirls impasto watercolour)
for p in "${patterns[@]}"; do
  for seed in 1 2; do
    [[ -f out/tune/styles/$p-$seed.png ]] || "$bin" pattern "$p" -o "out/tune/styles/$p-$seed.png" --size 512 --seed "$seed" >/dev/null
  done
done
# Five unseen pictures (ink-hatching's ratio is far off the targets even before tuning).
for p in mosaic pointillism swirls impasto watercolour; do
  [[ -f out/tune/unseen/$p-99.png ]] || "$bin" pattern "$p" -o "out/tune/unseen/$p-99.png" --size 512 --seed 99 >/dev/null
done
mkdir -p "$dir"
out=$dir/tuned.gsm ckpt=$dir/tuned.ckpt log=$dir/train.log
if [[ -f "$ckpt" ]]; then
  # A checkpoint carries its run's settings: flags given now would be silently dropped.
  [[ $# -eq 0 ]] || { echo "$ckpt resumes with its own settings: remove it, or give no flags" >&2; exit 1; }
  echo "resuming $ckpt (log: $log)"
  nice "$bin" train --resume "$ckpt" --steps "$steps" --device cpu >>"$log" 2>&1
elif [[ -f "$out" ]]; then
  [[ $# -eq 0 ]] || { echo "$out is already tuned: remove it, or set TUNE_DIR, to tune with these flags" >&2; exit 1; }
  echo "$out is already tuned: the figures again"
else
  echo "tuning (log: $log)"
  # 128 px, content weight 0.05, a low learning rate, and a teacher term holding the original
  # look (models/README.md compares the weights tried).
  nice "$bin" train --init "$base" --style-dir out/tune/styles --content "$cache/photos/train" \
    --size 128 --batch 1 --steps "$steps" --lr 5e-5 --content-weight 0.05 "${weights[@]}" \
    --checkpoint-every 50 --sample-every 100 --device cpu --out "$out" >"$log" 2>&1
fi
rm -f "$ckpt"
tail -n 1 "$log"
nice "$bin" eval --model "$out" --before "$base" --style-image out/tune/unseen --device cpu | tee "$dir/eval.txt"
# Sample grids: the unseen pictures baked into fixed-style models, before and after.
for which in before after; do
  model=$base; [[ $which == after ]] && model=$out
  styles=(); for f in out/tune/unseen/*.png; do styles+=(--style "$f"); done
  "$bin" import "$model" "${styles[@]}" -o "$dir/unseen-$which.gsm" --force >/dev/null
  STYLE_DIR=out/tune/unseen scripts/photo-grid.sh "$dir/unseen-$which.gsm" "$dir/grid-$which.png" all
done
echo "grids: $dir/grid-before.png $dir/grid-after.png"
