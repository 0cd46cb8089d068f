#!/usr/bin/env bash
# The figures tables of models/README.md ("Distilled models", "four-lite"): `ganstyle eval` on
# the held-out photographs for every distilled model, its run with the temporal loss off where
# scripts/train-models.sh made one (out/ablation/), its teacher (magenta-six, the same style),
# the models it replaced (from git history) and four-lite's styles, one row each. The README's
# element-speed column comes from `ganstyle bench`.
#
#   scripts/model-figures.sh                # the debug build
#   GANSTYLE_BIN=path/to/ganstyle scripts/model-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [[ -n "${GANSTYLE_BIN:-}" ]]; then
    bin=$GANSTYLE_BIN
    [[ -x "$bin" ]] || { echo "GANSTYLE_BIN: no program at $bin" >&2; exit 1; }
else
    cargo build --quiet --bin ganstyle
    bin="$CARGO_TARGET_DIR/debug/ganstyle"
fi

row() { # LABEL MODEL [STYLE]
    local label=$1 model=$2 style=${3-}
    [[ -f "$model" ]] || { echo "| $label | (not trained: $model) | | | | | | |"; return; }
    local args=(eval --model "$model" --device cpu)
    [[ -n "$style" ]] && args+=(--style "$style")
    local out
    out=$("$bin" "${args[@]}" 2>&1) || { echo "ganstyle ${args[*]} failed:" >&2; echo "$out" >&2; exit 1; }
    # Figures as models/README.md prints them: content to one decimal, warping as 3.0e-4.
    awk -v label="$label" -v model="$model" '
        /^  stylization ratio/          { ratio = $3; baseline = $4 }
        /^  mean over layers/           { mean = $4 }
        /^    ratio at relu/            { layers = layers (layers == "" ? "" : " / ") sprintf("%.2f", $4) }
        /^  content loss \(relu3_3\)/   { content = sprintf("%.1f", $4) }
        /mean of moving-photo clips/    { warp = sprintf("%.1e", $NF); sub(/e-0/, "e-", warp) }
        END {
            if (baseline == "") { print "no stylization figures for " model " (VGG16 and photos: scripts/fetch-assets.sh)" > "/dev/stderr"; exit 1 }
            printf "| %s | %s | %s | %.2f | %s | %s | %s | %s |\n", label, ratio, baseline,
                   ratio / baseline, mean, layers, content, warp
        }' <<<"$out"
}

echo "| model | ratio | colour transfer | ratio / colour transfer | mean over layers | relu1_2 / 2_2 / 3_3 / 4_3 | content (relu3_3) | warping, moving photos |"
echo "|---|---|---|---|---|---|---|---|"
# Models these replaced, from git history: out/old/LABEL.gsm.
mkdir -p out/old
old() { # LABEL COMMIT NAME: models/NAME.gsm as it was at COMMIT
    [[ -f "out/old/$1.gsm" ]] || git show "$2:models/$3.gsm" >"out/old/$1.gsm"
    echo "out/old/$1.gsm"
}
distilled=(swirls impasto mosaic watercolour)
for style in "${distilled[@]}"; do
    row "$style" "models/$style.gsm"
    [[ -f "out/ablation/$style-t0.gsm" ]] && row "$style, temporal weight 0" "out/ablation/$style-t0.gsm"
    row "teacher: $style" models/magenta-six.gsm "$style"
    case $style in
        swirls)
            row "swirls at style weight 200" "$(old swirls-200 35b615e swirls)"
            row "before: duo, swirls" "$(old duo 35b615e duo)" swirls ;;
        mosaic)
            row "mosaic at style weight 200" "$(old mosaic-200 35b615e mosaic)"
            row "before: mosaic (the first)" "$(old mosaic-first f8bd727 mosaic)" ;;
    esac
done
# The four in one model, a row per style.
for style in "${distilled[@]}"; do
    row "four-lite: $style" models/four-lite.gsm "$style"
done
