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

# Settings shared by the first models (CPU; the fast architecture unless ARCH says otherwise).
common=(--size 96 --batch 2 --device cpu --checkpoint-every 100 --sample-every 300)

run() { # NAME OUT_FILE ARGS...
    local name=$1 out=$2; shift 2
    wanted "$name" || return 0
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
wanted() { [[ -z "$only" || "$1" == *"$only"* ]]; }

wait_for_other_runs() { # a run started by an earlier copy of this script
    while pgrep -f "ganstyle train" >/dev/null; do sleep 20; done
}
wait_for_other_runs

# The first models (procedural content, the random loss network; models/README.md, "The first
# models"). mosaic was one of them, at the default style weight (1000); it is distilled now
# (below). The others at a stronger style weight: mosaic's look came out faint.
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

# Distilled models: magenta-lite students of Magenta's untuned network (the teacher paints each
# training crop once per step; its pixels and its Gram matrices are targets next to the VGG16
# content, style and temporal losses), on the training photographs at 128 px, batch 4. The
# recipe of models/README.md, "Distilled models". Release build: about 2 s a step. The teacher,
# ~/.cache/ganstyle/models/arbitrary-original.gsm, is what scripts/setup.sh imports.
distil() { # NAME STEPS [ARGS...]: NAME is the style, or the style then -t0 for the ablation
    local name=$1 steps=$2; shift 2
    wanted "$name" || return 0
    local out="models/$name.gsm"
    [[ "$name" == *-t0 ]] && out="out/ablation/$name.gsm"
    if [[ ! -f "$out" || -f "${out%.gsm}.ckpt" ]] && [[ -z "${release_built-}" ]]; then
        cargo build --quiet --release --bin ganstyle
        release_built=1
    fi
    # run's program, architecture and shared settings, for this call (bash scopes them dynamically).
    local bin=$release ARCH=magenta-lite
    local common=(--teacher "$cache/models/arbitrary-original.gsm" --teacher-weight 2e4
        --teacher-style-weight 500 --content "$cache/photos/train" --size 128 --batch 4
        --device cpu --checkpoint-every 50 --sample-every 100)
    run "$name" "$out" --style "pattern:${name%-t0}" --steps "$steps" "$@"
}
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
release="$CARGO_TARGET_DIR/release/ganstyle"
distil swirls 600          # the embedded default model
distil impasto 1200
distil impasto-t0 1200 --temporal-weight 0
distil mosaic 600
# Not shipped: pointillism 600 gave a turquoise wash with embossed edges and no dots
# (models/README.md, "Distilled models").

# magenta-six is not trained: the six patterns baked into Magenta's imported transformer
# (models/README.md, "magenta-six"; scripts/setup.sh imports arbitrary-original.gsm).
# magenta-six-video: the same six baked into the transformer after its temporal fine-tune
# across 12 pattern pictures (scripts/tune-arbitrary.sh, about 20 minutes with RELEASE=1).
six=()
for pattern in mosaic ink-hatching pointillism swirls impasto watercolour; do
    six+=(--style "pattern:$pattern")
done
if wanted magenta-six; then
    "$bin" import "$cache/models/arbitrary-original.gsm" "${six[@]}" -o models/magenta-six.gsm --force
fi
if wanted magenta-six-video; then
    # Its own folder, so a tune left in out/tune by other settings is not baked instead.
    TUNE_DIR=out/tune-video RELEASE=1 scripts/tune-arbitrary.sh 900
    "$bin" import out/tune-video/tuned.gsm "${six[@]}" -o models/magenta-six-video.gsm --force
fi
