#!/usr/bin/env bash
# Set-up command 1: install what is missing, build Release, run the main job on the bundled
# model (fp32 accuracy of the bundled ResNet on the Fashion-MNIST test set).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/bin/octet eval models/fashion_mnist_resnet.onnx --data fashion-mnist:test --threads "$(nproc)"
