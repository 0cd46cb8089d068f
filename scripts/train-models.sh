#!/usr/bin/env bash
# Train (or continue training) the shipped models in models/, and the same runs with the
# temporal loss switched off (out/ablation/, for the warping-error comparison in
# models/README.md). Each run resumes from its checkpoint when one exists, so this script can
# be killed and started again at any time; finished models are skipped.
#
#   scripts/train-models.sh            # everything, in order
#   scripts/train-models.sh mosaic     # only runs whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --quiet --bin ganstyle
bin="$CARGO_TARGET_DIR/debug/ganstyle"
mkdir -p out/ablation out/train-logs

# Settings shared by every shipped model (CPU; the fast architecture unless ARCH says otherwise).
common=(--size 96 --batch 2 --device cpu --checkpoint-every 100 --sample-every 300)

run() { # NAME OUT_FILE ARGS...
    local name=$1 out=$2; shift 2
    if [[ -n "$only" && "$name" != *"$only"* ]]; then return; fi
    local ckpt="${out%.gsm}.ckpt" log="out/train-logs/$name.log"
    if [[ -f "$out" && ! -f "$ckpt" ]]; then echo "$name: done ($out)"; return; fi
    if [[ -f "$ckpt" ]]; then
        echo "$name: resuming $ckpt (log: $log)"
        "$bin" train --resume "$ckpt" --device cpu >>"$log" 2>&1
    else
        echo "$name: training (log: $log)"
        "$bin" train --out "$out" "$@" --arch "${ARCH:-fast}" "${common[@]}" >"$log" 2>&1
    fi
    rm -f "$ckpt"   # finished: the model file holds everything the checkpoint did
    tail -n 1 "$log"
}
only=${1-}

wait_for_other_runs() { # a run started by an earlier copy of this script
    while pgrep -f "ganstyle train" >/dev/null; do sleep 20; done
}
wait_for_other_runs

# mosaic: the first model, trained at the default style weight (1000).
run mosaic models/mosaic.gsm --style pattern:mosaic --steps 1500
run mosaic-t0 out/ablation/mosaic-t0.gsm --style pattern:mosaic --steps 1500 --temporal-weight 0
# The others at a stronger style weight: mosaic's look came out faint.
strong=(--style-weight 3000)
run ink-hatching models/ink-hatching.gsm --style pattern:ink-hatching --steps 1000 "${strong[@]}"
run ink-hatching-t0 out/ablation/ink-hatching-t0.gsm --style pattern:ink-hatching --steps 1000 "${strong[@]}" --temporal-weight 0
# The multi-style model: two styles in one generator (conditional instance norm). Its temporal
# weight is 5, not 20: at 20, ink-hatching's temporal term suppressed the stroke texture.
duo=(--style pattern:pointillism --style pattern:swirls --steps 1600 "${strong[@]}")
run duo models/duo.gsm "${duo[@]}" --temporal-weight 5
run duo-t0 out/ablation/duo-t0.gsm "${duo[@]}" --temporal-weight 0
# mosaic at the stronger style weight: also the fast side of the fast-against-johnson
# comparison below (at weight 1000 the two architectures settle at different points between
# content and style).
run mosaic-strong models/mosaic-strong.gsm --style pattern:mosaic --steps 1500 "${strong[@]}"
# The johnson architecture on mosaic's exact settings: the quality reference for the fast
# architecture (models/README.md, "fast against johnson").
ARCH=johnson run mosaic-johnson models/mosaic-johnson.gsm --style pattern:mosaic --steps 1500

# magenta-six is not trained: the six patterns baked into Magenta's imported transformer
# (models/README.md, "magenta-six"; scripts/setup.sh imports arbitrary-original.gsm).
# magenta-six-video: the same six baked into the transformer after its temporal fine-tune
# across 12 pattern pictures (scripts/tune-arbitrary.sh, about 20 minutes with RELEASE=1).
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
six=()
for pattern in mosaic ink-hatching pointillism swirls impasto watercolour; do
    six+=(--style "pattern:$pattern")
done
wanted() { [[ -z "$only" || "$1" == *"$only"* ]]; }
if wanted magenta-six; then
    "$bin" import "$cache/models/arbitrary-original.gsm" "${six[@]}" -o models/magenta-six.gsm --force
fi
if wanted magenta-six-video; then
    # Its own folder, so a tune left in out/tune by other settings is not baked instead.
    TUNE_DIR=out/tune-video RELEASE=1 scripts/tune-arbitrary.sh 900
    "$bin" import out/tune-video/tuned.gsm "${six[@]}" -o models/magenta-six-video.gsm --force
fi
