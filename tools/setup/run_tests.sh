#!/usr/bin/env bash
# Set-up command 2: install what is missing, build, run the whole test suite with ctest:
# the Release build (warnings are errors) runs everything; an AddressSanitizer+UBSan build
# runs everything but the tests labelled "slow" (full-dataset runs) and "neon" (the cross-built
# AArch64 kernels under qemu, already run from the Release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup/install_deps.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DOCTET_WERROR=ON >/dev/null
cmake --build build -j"$jobs" >/dev/null
(cd build && ctest --output-on-failure -j"$jobs")
# ONNX's own operator tests: the pass list (every case also ran above as its own ctest case).
build/bin/test_onnx_conformance --gtest_brief=1 | sed -n '/ONNX conformance pass list/,/^\[/p' | grep -v '^\['

if [[ "${OCTET_SKIP_SANITIZERS:-0}" != "1" ]]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCTET_SANITIZE=ON -DOCTET_WERROR=ON >/dev/null
  cmake --build build-asan -j"$jobs" >/dev/null
  (cd build-asan && ctest --output-on-failure -j"$jobs" -LE "slow|neon")
fi
