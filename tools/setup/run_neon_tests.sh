#!/usr/bin/env bash
# Cross-builds octet_kernels and its NEON tests for AArch64 (g++-aarch64-linux-gnu, kernels-only
# build) and runs them under qemu-user on two CPU models, forcing each path with OCTET_ISA:
#   qemu -cpu max        (ARMv8.x with dotprod): OCTET_ISA=neon-dot, then OCTET_ISA=neon
#   qemu -cpu cortex-a57 (ARMv8.0, no dotprod):  OCTET_ISA=neon
# Quiet: one summary line on success; the logs and a non-zero status on any failure.
# Exit 77 (ctest: skipped) when the cross compiler or qemu is missing (tools/setup/install_deps.sh).
# Environment: OCTET_AARCH64_BUILD_DIR (default build-aarch64), OCTET_JOBS (default nproc).
set -uo pipefail
cd "$(dirname "$0")/../.."

for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  if ! command -v "$tool" >/dev/null; then
    echo "neon tests skipped: $tool not installed (tools/setup/install_deps.sh)" >&2
    exit 77
  fi
done

build_dir=${OCTET_AARCH64_BUILD_DIR:-build-aarch64}
jobs=${OCTET_JOBS:-$(nproc)}
mkdir -p "$build_dir"
log="$build_dir/run_neon_tests.log"
: >"$log"
start=$(date +%s)

fail() {
  echo "neon tests FAILED: $1 (log: $log)" >&2
  cat "$log" >&2
  exit 1
}

{
  cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake -DOCTET_KERNELS_ONLY=ON \
    -DCMAKE_BUILD_TYPE=Release -DOCTET_WERROR=ON &&
    cmake --build "$build_dir" --target test_neon_kernels -j"$jobs"
} >>"$log" 2>&1 || fail "cross build"

binary="$build_dir/bin/test_neon_kernels"
summary=()
# cpu model, OCTET_ISA, does the model have dotprod
for run in "max neon-dot 1" "max neon 1" "cortex-a57 neon 0"; do
  read -r cpu isa dot <<<"$run"
  echo "=== qemu-aarch64 -cpu $cpu, OCTET_ISA=$isa" >>"$log"
  run_start=$(date +%s)
  OCTET_ISA=$isa OCTET_EXPECT_NEON_DOT=$dot qemu-aarch64 -cpu "$cpu" -L /usr/aarch64-linux-gnu "$binary" \
    --gtest_brief=1 >>"$log" 2>&1 || fail "-cpu $cpu OCTET_ISA=$isa"
  summary+=("$cpu/$isa $(($(date +%s) - run_start))s")
done
tests=$(grep -Eo '\[  PASSED  \] [0-9]+ tests?' "$log" | tail -1 | grep -Eo '[0-9]+')
echo "neon kernels under qemu: passed (${tests:-?} tests x ${#summary[@]} runs: ${summary[*]}; total $(($(date +%s) - start))s)"
