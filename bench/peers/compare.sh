#!/usr/bin/env bash
# Octet against ONNX Runtime (CPU) on one model, measured in the same run:
#   bench/peers/compare.sh MODEL.onnx [--calib SPEC] [--calib-count N] [--iters N] [--warmup N]
#                          [--threads "1 2"] [--rounds N] [--activations u8|s8] [--eval-limit N] [--out-dir DIR]
# 1. installs the node dependencies (onnxruntime-node, pinned in package.json) if missing;
# 2. quantizes MODEL with `octet quantize` and exports the int8 model as QDQ ONNX with
#    `octet export` (so both runtimes run the same int8 model: same scales, same weights);
# 3. for each thread count, times `octet bench --backend cpu` on the fp32 ONNX and the int8 .oct
#    and ort_bench.mjs on the fp32 ONNX and the QDQ ONNX;
#    With --rounds N the two int8 runs alternate N times (a shared host's load swings within
#    minutes): the int8 columns are medians over the rounds and Octet/ORT int8 is the median of
#    the N per-round ratios, with their range (each round in rounds.tsv);
# 4. prints the medians and the ratios Octet-int8/ORT-int8 and Octet-int8/ORT-fp32;
# 5. for a 1x1x28x28 model, top-1 on the Fashion-MNIST test set: ORT on the QDQ export next to
#    `octet eval` of the .oct (and ORT on the fp32 model).
# Calibration: --calib fashion-mnist:train (default for 1x1x28x28 inputs), --calib X.npy, or
# --calib random:N (N synthetic uniform [0,1) samples, default for other inputs, e.g. the
# 1x3x224x224 torchvision models). The octet binary is $OCTET_BIN (default build/bin/octet).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
octet="${OCTET_BIN:-$root/build/bin/octet}"

usage() {  # usage [STATUS]: to stdout for --help, to stderr after a mistake
  if [ "${1:-2}" = 0 ]; then sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; else sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; fi
  exit "${1:-2}"
}
die() {
  echo "compare.sh: error: $*" >&2
  exit 1
}

model="" calib="" calib_count="" iters=50 warmup=5 threads="1 2" rounds=1 activations=u8 eval_limit=0 out_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage 0 ;;
    --calib) calib="${2:?--calib needs a value}"; shift 2 ;;
    --calib-count) calib_count="${2:?--calib-count needs a value}"; shift 2 ;;
    --iters) iters="${2:?--iters needs a value}"; shift 2 ;;
    --warmup) warmup="${2:?--warmup needs a value}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --activations) activations="${2:?--activations needs a value}"; shift 2 ;;
    --eval-limit) eval_limit="${2:?--eval-limit needs a value}"; shift 2 ;;
    --out-dir) out_dir="${2:?--out-dir needs a value}"; shift 2 ;;
    -*) echo "compare.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$model" ] || usage; model="$1"; shift ;;
  esac
done
[ -n "$model" ] || usage
[ -f "$model" ] || die "model '$model' does not exist"
[ -x "$octet" ] || die "no octet binary at '$octet' (build it: cmake --build build --target octet, or set OCTET_BIN)"
command -v node > /dev/null || die "node is not installed (apt-get install nodejs npm)"
for n in "$iters" "$warmup" "$eval_limit" ${calib_count:+"$calib_count"}; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "expected a number, got '$n'"
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds: expected a positive number, got '$rounds'"

# 1. Node dependencies: no install scripts (nothing is downloaded beyond the npm packages; the
#    CPU library ships inside onnxruntime-node).
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
  echo "installing onnxruntime-node in $here/node_modules ..." >&2
  (cd "$here" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error > /dev/null) ||
    die "npm install failed in $here"
fi

if [ -z "$out_dir" ]; then out_dir="$(mktemp -d "${TMPDIR:-/tmp}/octet-peers.XXXXXX")"; fi
mkdir -p "$out_dir"
name="$(basename "$model" .onnx)"
int8="$out_dir/$name.int8.oct"
qdq="$out_dir/$name.qdq.onnx"
log="$out_dir/compare.log"
: > "$log"

# Runs a command, its stderr to the log; on failure shows the log's tail and stops.
run() {
  if ! "$@" 2>> "$log"; then
    echo "compare.sh: error: failed: $*" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
}
json_get() {  # json_get EXPR < json   (EXPR over `j`, e.g. j.latency_ms.p50)
  node -e "const j = JSON.parse(require('fs').readFileSync(0, 'utf8')); console.log($1)"
}

input_json="$(run node "$here/model_input.mjs" "$model")"
shape="$(json_get "j.shape.join('x')" <<< "$input_json")"
mnist=0
[ "$shape" = "1x1x28x28" ] && mnist=1
if [ -z "$calib" ]; then
  if [ "$mnist" = 1 ]; then calib="fashion-mnist:train"; else calib="random:${calib_count:-32}"; fi
fi
if [[ "$calib" == random:* ]]; then
  count="${calib#random:}"
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || die "--calib random:N needs a positive N, got '$calib'"
  run node "$here/model_input.mjs" "$model" --random "$count" --out "$out_dir/calib_random.npy" > /dev/null
  calib_arg="$out_dir/calib_random.npy"
  calib_count="${calib_count:-$count}"
else
  calib_arg="$calib"
fi

# 2. Quantize and export.
echo "model      $model (input ${shape})" >&2
echo "quantize   --calib $calib${calib_count:+ --calib-count $calib_count} -> $int8" >&2
run "$octet" quantize "$model" --calib "$calib_arg" ${calib_count:+--calib-count "$calib_count"} -o "$int8" --json \
  > "$out_dir/quantize.json"
echo "export     onnx-qdq ($activations activations) -> $qdq" >&2
run "$octet" export "$int8" --format onnx-qdq --activations "$activations" -o "$qdq" > /dev/null

# 3. Latency medians, one thread count at a time, all four in the same run.
# Each run's JSON is read only after the run has ended: a parser in a pipe starts alongside it,
# and node's start-up then took one of a 2-core machine's cores during the timed runs (Octet's
# two-thread resnet50 medians read 7.8 ms that way against 6.4 without; ORT loads its model for
# longer than node takes to start, so it was not hit).
octet_p50() {
  local json
  json="$(run "$octet" bench "$1" --backend cpu --threads "$2" --iters "$iters" --warmup "$warmup" --json)" || exit 1
  json_get "j.latency_ms.p50.toFixed(4)" <<< "$json"
}
ort_p50() {
  local json
  json="$(run node "$here/ort_bench.mjs" "$1" --threads "$2" --iters "$iters" --warmup "$warmup")" || exit 1
  json_get "j.latency_ms.p50.toFixed(4)" <<< "$json"
}
ratio() { node -e "console.log(($1 / $2).toFixed(2))"; }
median() { node -e "const v = process.argv.slice(1).map(Number).sort((a, b) => a - b); const h = v.length >> 1;
  console.log((v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2).toFixed(4))" "$@"; }

results="$out_dir/results.tsv"
per_round="$out_dir/rounds.tsv"
printf 'threads\toctet_fp32_ms\toctet_int8_ms\tort_fp32_ms\tort_int8_ms\tint8_ratio\tint8_ratio_min\tint8_ratio_max\n' > "$results"
printf 'threads\tround\toctet_int8_ms\tort_int8_ms\tratio\n' > "$per_round"
for t in $threads; do
  [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "--threads: '$t' is not a thread count"
  echo "bench      $t thread(s), $iters iterations after $warmup warm-up, $rounds round(s) ..." >&2
  of="$(octet_p50 "$model" "$t")"
  rf="$(ort_p50 "$model" "$t")"
  ois=() ris=() ratios=()
  for ((r = 1; r <= rounds; r++)); do
    oi="$(octet_p50 "$int8" "$t")"
    ri="$(ort_p50 "$qdq" "$t")"
    ois+=("$oi") ris+=("$ri") ratios+=("$(node -e "console.log(($oi / $ri).toFixed(4))")")
    printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$r" "$oi" "$ri" "${ratios[-1]}" >> "$per_round"
  done
  read -r low high < <(node -e "const v = process.argv.slice(1).map(Number); console.log(Math.min(...v).toFixed(2), Math.max(...v).toFixed(2))" "${ratios[@]}")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$of" "$(median "${ois[@]}")" "$rf" "$(median "${ris[@]}")" \
    "$(median "${ratios[@]}")" "$low" "$high" >> "$results"
done

ort_version="$(node -e "console.log(require('$here/node_modules/onnxruntime-node/package.json').version)")"
echo
echo "$name: latency per inference, median of $iters runs (ms); ORT = onnxruntime-node $ort_version CPU EP"
[ "$rounds" -gt 1 ] && echo "int8: medians of $rounds alternating rounds; Octet/ORT int8: median (range) of the per-round ratios"
printf '%-8s %12s %12s %12s %12s %18s %18s\n' threads "Octet fp32" "Octet int8" "ORT fp32" "ORT int8" \
  "Octet/ORT int8" "Octet int8/ORT fp32"
tail -n +2 "$results" | while IFS=$'\t' read -r t of oi rf ri q low high; do
  shown="$(node -e "console.log(Number($q).toFixed(2))")"
  [ "$rounds" -gt 1 ] && shown="$shown ($low-$high)"
  printf '%-8s %12.3f %12.3f %12.3f %12.3f %18s %18s\n' "$t" "$of" "$oi" "$rf" "$ri" "$shown" "$(ratio "$oi" "$rf")"
done
echo "(ratio < 1: Octet faster)"

# 5. Accuracy of the same int8 model in both runtimes.
if [ "$mnist" = 1 ]; then
  limit_args=()
  [ "$eval_limit" -gt 0 ] && limit_args=(--limit "$eval_limit")
  echo "eval       fashion-mnist:test ..." >&2
  octet_top1="$(run "$octet" eval "$int8" --data fashion-mnist:test --backend cpu ${limit_args[@]+"${limit_args[@]}"} --json |
    json_get "j.top1.toFixed(4) + ' (' + j.samples + ' samples)'")"
  ort_int8_top1="$(run node "$here/ort_eval.mjs" "$qdq" ${limit_args[@]+"${limit_args[@]}"} | json_get "j.top1.toFixed(4)")"
  ort_fp32_top1="$(run node "$here/ort_eval.mjs" "$model" ${limit_args[@]+"${limit_args[@]}"} | json_get "j.top1.toFixed(4)")"
  echo
  echo "top-1 on fashion-mnist test: Octet int8 (.oct) $octet_top1, ORT int8 (QDQ export) $ort_int8_top1," \
    "ORT fp32 $ort_fp32_top1"
fi
echo "artifacts in $out_dir"
