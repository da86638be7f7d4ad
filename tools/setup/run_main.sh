#!/usr/bin/env bash
# Set-up command 1: install what is missing, build Release, run the main job on the bundled
# model: quantize the bundled ResNet (500 Fashion-MNIST training images for calibration) and
# print fp32 vs int8 static vs int8 dynamic — top-1, top-5, size, latency — on the test set.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/bin/octet compare models/fashion_mnist_resnet.onnx --calib fashion-mnist:train --calib-count 500 \
  --data fashion-mnist:test --threads "$(nproc)"
