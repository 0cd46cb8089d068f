#!/usr/bin/env bash
# A sample grid of real photographs for a model: one row per photograph, the photo then the
# model's output, at the size `ganstyle eval` measures at (256 px on the short side, centre
# cropped to 384×256 so rows line up). STYLE "all" gives one column per style of a multi-style
# model, under a top row of the style images. The photographs default to the held-out ones
# scripts/fetch-assets.sh puts in the cache. The top row shows STYLE_DIR/NAME.png when the
# environment names such a folder, else the built-in pattern NAME.
#
#   scripts/photo-grid.sh MODEL OUT.png [STYLE|all] [PHOTO_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
usage="usage: scripts/photo-grid.sh MODEL OUT.png [STYLE|all] [PHOTO_DIR]"
model=${1:?$usage}
out=${2:?$usage}
style=${3-}
photos=${4:-$HOME/.cache/ganstyle/photos/eval}
bin="$CARGO_TARGET_DIR/debug/ganstyle"
[[ -x "$bin" ]] || cargo build --quiet --bin ganstyle
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

styles=("$style")
if [[ "$style" == all ]]; then
    IFS=', ' read -r -a styles <<<"$("$bin" info --model "$model" | sed -n 's/^styles: *//p')"
fi
inputs=() filter="" rows=0 n=0
add() { inputs+=(-i "$1"); n=$((n + 1)); }
if [[ "$style" == all ]]; then
    # The top row: a blank cell, then each style's own picture (the pattern of that name).
    ffmpeg -loglevel error -y -f lavfi -i color=white:s=384x256 -frames:v 1 "$work/blank.png"
    add "$work/blank.png"
    cells="[0]"
    for s in "${styles[@]}"; do
        if [[ -f "${STYLE_DIR:-/nonexistent}/$s.png" ]]; then
            ffmpeg -loglevel error -y -i "$STYLE_DIR/$s.png" -vf "scale=256:256" "$work/style-$s.png"
        else
            "$bin" pattern "$s" -o "$work/style-$s.png" --size 256 >/dev/null
        fi
        ffmpeg -loglevel error -y -i "$work/style-$s.png" -vf "pad=384:256:64:0:white" \
            "$work/style-$s.cell.png"
        cells+="[$n]"
        add "$work/style-$s.cell.png"
    done
    filter+="${cells}hstack=inputs=$((${#styles[@]} + 1))[r$rows];"
    rows=$((rows + 1))
fi
for photo in "$photos"/*.jpg "$photos"/*.png; do
    [[ -f "$photo" ]] || continue
    name=$(basename "${photo%.*}")
    ffmpeg -loglevel error -y -i "$photo" -vf "scale=-2:256,crop=384:256" -frames:v 1 \
        "$work/$name.png"
    cells="[$n]"
    add "$work/$name.png"
    for s in "${styles[@]}"; do
        args=(image "$work/$name.png" -o "$work/$name.styled-$s.png" --model "$model" --device cpu)
        [[ -n "$s" ]] && args+=(--style "$s")
        "$bin" "${args[@]}" >/dev/null
        cells+="[$n]"
        add "$work/$name.styled-$s.png"
    done
    filter+="${cells}hstack=inputs=$((${#styles[@]} + 1))[r$rows];"
    rows=$((rows + 1))
done
((rows > 0)) || { echo "no .jpg or .png photographs in $photos" >&2; exit 1; }
stack=""
for ((k = 0; k < rows; k++)); do stack+="[r$k]"; done
if ((rows == 1)); then
    filter="${filter%;}"
    filter="${filter%\[r0\]}"
else
    filter+="${stack}vstack=inputs=$rows"
fi
ffmpeg -loglevel error -y "${inputs[@]}" -filter_complex "$filter" -frames:v 1 "$work/grid.png"
mv "$work/grid.png" "$out"
echo "$out: $rows rows, photo | $model${style:+ ($style)}"
