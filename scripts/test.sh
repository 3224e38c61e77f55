#!/usr/bin/env bash
# The test command (README, .ci/run): unit + integration tests, then the seed report rendered in
# headless Chromium. Installs what it needs: crates via cargo, ONNX Runtime 1.31.1 via pip (slant
# fetches it on first use), Debian's chromium via apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release
cargo run --release --quiet -- report datasets/seeds -o target/check-report
scripts/check-report-html.sh target/check-report/report.html target/check-report/report.png
