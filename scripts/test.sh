#!/usr/bin/env bash
# The test command (README, .ci/run): unit + integration tests, then the seed report rendered in
# headless Chromium. Installs what it needs: crates via cargo, ONNX Runtime 1.31.1 via pip (slant
# fetches it on first use), pyarrow in .venv-test (a Parquet reader other than slant's own, for
# tests/scale.rs), Ray in .venv-deploy (deploy/check.sh), Debian's chromium via apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${SLANT_TEST_VENV:-$PWD/.venv-test}
if ! "$venv/bin/python" -c "import pyarrow" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "pyarrow==18.1.0"
fi
export SLANT_TEST_PYTHON="$venv/bin/python"
cargo test --release
cargo run --release --quiet -- report datasets/seeds -o target/check-report
scripts/check-report-html.sh target/check-report/report.html target/check-report/report.png
# the engine example: Ray with 2 workers on 100 corpus articles, merged report == single run
deploy/check.sh 100
