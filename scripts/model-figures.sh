#!/usr/bin/env bash
# The figures in models/README.md: `ganstyle eval` on every shipped model and on the same run
# with the temporal loss off (out/ablation/, made by scripts/train-models.sh), one table row each;
# then the fast-against-johnson comparison (models/mosaic-johnson.gsm, models/mosaic-strong.gsm).
#
#   scripts/model-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin="$CARGO_TARGET_DIR/debug/ganstyle"

row() { # LABEL MODEL [STYLE]
    local label=$1 model=$2 style=${3-}
    [[ -f "$model" ]] || { echo "| $label | (not trained: $model) | | |"; return; }
    local args=(eval --model "$model" --device cpu)
    [[ -n "$style" ]] && args+=(--style "$style")
    local out; out=$("$bin" "${args[@]}" 2>/dev/null)
    local content style_loss warp
    content=$(awk '/^content loss/ {print $3}' <<<"$out")
    style_loss=$(awk '/^style loss/ {print $3}' <<<"$out")
    warp=$(awk '/mean of synthetic clips/ {print $NF}' <<<"$out")
    echo "| $label | $content | $style_loss | $warp |"
}

echo "| model | content loss | style loss | warping error (mean of 6 synthetic clips) |"
echo "|---|---|---|---|"
row "mosaic" models/mosaic.gsm
row "mosaic, temporal weight 0" out/ablation/mosaic-t0.gsm
row "ink-hatching" models/ink-hatching.gsm
row "ink-hatching, temporal weight 0" out/ablation/ink-hatching-t0.gsm
for style in pointillism swirls; do
    row "duo: $style" models/duo.gsm "$style"
    row "duo: $style, temporal weight 0" out/ablation/duo-t0.gsm "$style"
done

echo
echo "| model | content loss | style loss | warping error (mean of 6 synthetic clips) |"
echo "|---|---|---|---|"
row "mosaic: fast, style weight 1000" models/mosaic.gsm
row "mosaic-johnson: johnson, style weight 1000" models/mosaic-johnson.gsm
row "mosaic-strong: fast, style weight 3000" models/mosaic-strong.gsm
