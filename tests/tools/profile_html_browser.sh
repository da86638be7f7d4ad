#!/usr/bin/env bash
# The `octet profile --html` report in a real browser: headless Chromium loads it with no
# console message at all (the page has no script, and its Content-Security-Policy turns any
# attempt to fetch something into a console error), and every chart has bars in the DOM it
# built. A screenshot is kept in OUT_DIR as a CI artifact. Exit 77 (ctest: skipped) without
# Chromium.
# Usage: profile_html_browser.sh OCTET_BINARY MODEL.onnx OUT_DIR
set -euo pipefail
octet=$1 model=$2 out=$3

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [[ -z "$browser" ]]; then
  echo "SKIP: no headless browser (install the Debian package 'chromium' to run this test)"
  exit 77
fi

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$octet" quantize "$model" --calib fashion-mnist:train --calib-count 20 -o "$work/model.oct" >/dev/null
"$octet" profile "$work/model.oct" --ref "$model" --data fashion-mnist:test --limit 8 --backend ref,cpu \
  --timing-runs 2 --sensitivity --sensitivity-samples 8 --sensitivity-observers minmax \
  --html "$out/profile.html" >/dev/null

chrome=("$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile"
        --enable-logging=stderr --v=0)
timeout 120 "${chrome[@]}" --dump-dom "file://$out/profile.html" >"$work/dom.html" 2>"$work/console.log"
timeout 120 "${chrome[@]}" --window-size=1280,4000 --screenshot="$out/profile.png" \
  "file://$out/profile.html" >/dev/null 2>>"$work/console.log"

failed=0
if grep -q "CONSOLE" "$work/console.log"; then
  echo "FAIL: the page logged to the console:"
  grep "CONSOLE" "$work/console.log"
  failed=1
fi
# Each chart: its <svg> element in the DOM, with at least one data bar.
for chart in sqnr-chart time-chart sensitivity-chart hist-0 codes-0; do
  bars=$(awk -v id="id=\"$chart\"" 'index($0, id) { inside = 1 } inside { print } inside && /<\/svg>/ { exit }' \
           "$work/dom.html" | grep -o 'class="bar"' | wc -l)
  if [[ "$bars" -eq 0 ]]; then
    echo "FAIL: chart '$chart' is missing or has no bars"
    failed=1
  else
    echo "chart $chart: $bars bars"
  fi
done
size=$(stat -c %s "$out/profile.png" 2>/dev/null || echo 0)
if [[ "$size" -lt 20000 ]]; then
  echo "FAIL: screenshot $out/profile.png is missing or blank ($size bytes)"
  failed=1
fi
[[ $failed -eq 0 ]] && echo "report $out/profile.html renders; screenshot $out/profile.png"
exit $failed
