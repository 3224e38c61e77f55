#!/usr/bin/env bash
# Runs the Ray example (deploy/ray_score.py: 2 workers, first 100 corpus articles, fast tier) and a
# single-machine run of the same articles, both with --no-cache, and checks that the merged
# report equals the single run's: report.json and scores.jsonl byte for byte.
#   deploy/check.sh [ARTICLES]       (installs Ray into .venv-deploy on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
venv=${SLANT_DEPLOY_VENV:-$PWD/.venv-deploy}
if ! "$venv/bin/python" -c "import ray" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r deploy/requirements.txt
fi
corpus=${SLANT_CORPUS:-../shared/corpus/allsides-geo.jsonl}
cargo build --release --quiet
slant=${CARGO_TARGET_DIR:-target}/release/slant
out=out/deploy-check
rm -rf "$out" && mkdir -p "$out"
t0=$(date +%s.%N)
"$venv/bin/python" deploy/ray_score.py --slant "$slant" --input "$corpus" --articles "$n" --workers 2 --out "$out/ray" > "$out/ray.log"
t1=$(date +%s.%N)
"$slant" report "$out/ray/input.jsonl" --by source --model fast --no-cache --threads 2 -o "$out/single" 2> "$out/single.log"
t2=$(date +%s.%N)
cmp "$out/ray/report/report.json" "$out/single/report.json"
cmp "$out/ray/report/scores.jsonl" "$out/single/scores.jsonl"
printf 'deploy check: %s articles; Ray (2 workers, incl. start-up and merge) %.1f s, single machine (2 threads) %.1f s; merged report == single report (report.json, scores.jsonl)\n' \
  "$n" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
