#!/usr/bin/env bash
# A sample grid of real photographs for a model: one row per photograph, the photo then the
# model's output, at the size `ganstyle eval` measures at (256 px on the short side, centre
# cropped to 384×256 so rows line up). The photographs default to the held-out ones
# scripts/fetch-assets.sh puts in the cache.
#
#   scripts/photo-grid.sh MODEL OUT.png [STYLE] [PHOTO_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
model=${1:?usage: scripts/photo-grid.sh MODEL OUT.png [STYLE] [PHOTO_DIR]}
out=${2:?usage: scripts/photo-grid.sh MODEL OUT.png [STYLE] [PHOTO_DIR]}
style=${3-}
photos=${4:-$HOME/.cache/ganstyle/photos/eval}
bin="$CARGO_TARGET_DIR/debug/ganstyle"
[[ -x "$bin" ]] || cargo build --quiet --bin ganstyle
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

inputs=() filter="" rows=0
for photo in "$photos"/*.jpg "$photos"/*.png; do
    [[ -f "$photo" ]] || continue
    name=$(basename "${photo%.*}")
    ffmpeg -loglevel error -y -i "$photo" -vf "scale=-2:256,crop=384:256" -frames:v 1 \
        "$work/$name.png"
    args=(image "$work/$name.png" -o "$work/$name.styled.png" --model "$model" --device cpu)
    [[ -n "$style" ]] && args+=(--style "$style")
    "$bin" "${args[@]}" >/dev/null
    inputs+=(-i "$work/$name.png" -i "$work/$name.styled.png")
    filter+="[$((2 * rows))][$((2 * rows + 1))]hstack[r$rows];"
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
echo "$out: $rows photographs, photo | $model${style:+ ($style)}"
