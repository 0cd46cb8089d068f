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

# Settings shared by every shipped model (CPU, fast architecture).
common=(--arch fast --size 96 --batch 2 --device cpu --checkpoint-every 100 --sample-every 300)

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
        "$bin" train --out "$out" "$@" "${common[@]}" >"$log" 2>&1
    fi
    rm -f "$ckpt"   # finished: the model file holds everything the checkpoint did
    tail -n 1 "$log"
}
only=${1-}

single() { # STYLE STEPS
    run "$1" "models/$1.gsm" --style "pattern:$1" --steps "$2"
}
quartet=(--style pattern:mosaic --style pattern:ink-hatching --style pattern:pointillism
         --style pattern:swirls --steps 2400)

single mosaic 1500
run mosaic-t0 out/ablation/mosaic-t0.gsm --style pattern:mosaic --steps 1500 --temporal-weight 0
single ink-hatching 1500
single pointillism 1500
run quartet models/quartet.gsm "${quartet[@]}"
run ink-hatching-t0 out/ablation/ink-hatching-t0.gsm --style pattern:ink-hatching --steps 1500 --temporal-weight 0
run pointillism-t0 out/ablation/pointillism-t0.gsm --style pattern:pointillism --steps 1500 --temporal-weight 0
run quartet-t0 out/ablation/quartet-t0.gsm "${quartet[@]}" --temporal-weight 0
