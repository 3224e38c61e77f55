#!/usr/bin/env bash
# Render a report.html in headless Chromium as a reader would, and fail on a console error or an
# empty chart. Usage: scripts/check-report-html.sh out/seeds/report.html [screenshot.png]
# Installs Debian's chromium if it is missing (root + apt). Screenshots stay out of git (*.png).
set -euo pipefail
html=$(realpath "$1")
png=${2:-${html%.html}.png}
if ! command -v chromium >/dev/null; then
  echo "check-report-html: installing Debian's chromium (apt-get)…" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile")
# Console messages from the page are logged as "CONSOLE(...)" / ":INFO:CONSOLE" lines at verbosity 0.
log=$(timeout 120 chromium "${flags[@]}" --enable-logging=stderr --v=0 --window-size=1100,4000 \
      --screenshot="$png" "file://$html" 2>&1 >/dev/null || true)
dom=$profile/dom.html
timeout 120 chromium "${flags[@]}" --dump-dom "file://$html" 2>/dev/null >"$dom"
fail=0
if grep -E "CONSOLE|Uncaught|ERROR:.*(console|javascript)" <<<"$log" | grep -v "dbus" ; then
  echo "check-report-html: console errors while rendering $html" >&2; fail=1
fi
[[ -s $png ]] || { echo "check-report-html: no screenshot written" >&2; fail=1; }
# Every chart must hold drawn marks: count the <svg> elements and those with a <rect> bar in them.
python3 - "$dom" <<'PY' || fail=1
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
svgs = re.findall(r"<svg.*?</svg>", dom, flags=re.S)
if not svgs:
    sys.exit("check-report-html: the rendered page has no charts")
empty = [i for i, s in enumerate(svgs) if len(re.findall(r"<(rect|path|polyline|line)\b", s)) < 4 or "<text" not in s]
if empty:
    sys.exit(f"check-report-html: charts {empty} of {len(svgs)} are empty")
print(f"check-report-html: {len(svgs)} charts rendered with marks; screenshot", end="")
PY
echo " $png"
exit $fail
