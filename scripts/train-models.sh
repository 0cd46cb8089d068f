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

# The first models (fast architecture, procedural content, the random loss network: colour
# grades) are retired; their files and the lines that trained them are in git history
# (`git show 35b615e:scripts/train-models.sh`, models/README.md "The first models").

# Distilled models: magenta-lite students of Magenta's untuned network (the teacher paints each
# training crop once per step; its pixels and its Gram matrices are targets next to the VGG16
# content, style and temporal losses), on the training photographs at 128 px, batch 4. The
# recipe of models/README.md, "Distilled models". Release build: about 2 s a step. The teacher,
# ~/.cache/ganstyle/models/arbitrary-original.gsm, is what scripts/setup.sh imports.
distil() { # NAME STEPS [ARGS...]: NAME is the style (unless ARGS name their own --style),
    # then -t0 for the ablation; TW and TSW replace the teacher's pixel and texture weights (2e4, 500)
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
    local common=(--teacher "$cache/models/arbitrary-original.gsm" --teacher-weight "${TW:-2e4}"
        --teacher-style-weight "${TSW:-500}" --content "$cache/photos/train" --size 128 --batch 4
        --device cpu --checkpoint-every 50 --sample-every 100)
    local styles=(--style "pattern:${name%-t0}")
    [[ " $* " == *" --style "* ]] && styles=()
    run "$name" "$out" "${styles[@]}" --steps "$steps" "$@"
}
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
release="$CARGO_TARGET_DIR/release/ganstyle"
six=()
for pattern in mosaic ink-hatching pointillism swirls impasto watercolour; do
    six+=(--style "pattern:$pattern")
done
# swirls and mosaic at a stronger style weight than the default 200: at 200 they were 0.56x and
# 0.73x of the colour-transfer baseline's ratio (models/README.md, "Distilled models").
distil swirls 600 --style-weight 800        # the embedded default model
distil swirls-t0 600 --style-weight 800 --temporal-weight 0
distil impasto 1200
distil impasto-t0 1200 --temporal-weight 0
distil mosaic 600 --style-weight 1500
distil mosaic-t0 600 --style-weight 1500 --temporal-weight 0
distil watercolour 600
distil watercolour-t0 600 --temporal-weight 0
# The four in one model: each step trains one style (picked at random), at the style weight of
# that style's own model; 2400 steps is about 600 a style, as the single-style runs had.
four=(--style pattern:mosaic --style pattern:swirls --style pattern:impasto --style pattern:watercolour
    --style-weight 1500,800,200,200)
distil four-lite 2400 "${four[@]}"
# Not shipped (models/README.md, "Distilled models"): pointillism 600 gave a turquoise wash with
# embossed edges and no dots, and with TW=0 TSW=1000 --style-weight 800 a green mesh (at
# --temporal-weight 3e5 within every target, but still no dots); ink-hatching 600 with TW=5e3
# and --style-weight 1500 drew hatching in lilac and cream that flickered (warping 1.0e-2), and
# at --style-weight 3000 --temporal-weight 4e5 a green wash (ratio 0.79).

# magenta-six is not trained: the six patterns baked into Magenta's imported transformer
# (models/README.md, "magenta-six"; scripts/setup.sh imports arbitrary-original.gsm).
# magenta-six-video: the same six baked into the transformer after its temporal fine-tune
# across 12 pattern pictures (scripts/tune-arbitrary.sh, about 20 minutes with RELEASE=1).
if wanted magenta-six; then
    "$bin" import "$cache/models/arbitrary-original.gsm" "${six[@]}" -o models/magenta-six.gsm --force
fi
if wanted magenta-six-video; then
    # Its own folder, so a tune left in out/tune by other settings is not baked instead.
    TUNE_DIR=out/tune-video RELEASE=1 scripts/tune-arbitrary.sh 900
    "$bin" import out/tune-video/tuned.gsm "${six[@]}" -o models/magenta-six-video.gsm --force
fi
