#!/usr/bin/env bash
# Installs the Debian packages Octet needs that are missing; silent when nothing is missing.
# Usage: tools/setup/install_deps.sh [--models]   (--models adds PyTorch for the model scripts)
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  libflatbuffers-dev flatbuffers-compiler
  libcli11-dev nlohmann-json3-dev zlib1g-dev
  libdnnl-dev ocl-icd-opencl-dev libxsimd-dev libgemmlowp-dev  # dnnl-config.cmake finds OpenCL (a Recommends of libdnnl-dev)
  dataset-fashion-mnist
  g++-aarch64-linux-gnu qemu-user
  chromium  # headless, for the test of octet profile's HTML report
)
if [[ "${1:-}" == "--models" ]]; then
  packages+=(python3 python3-numpy python3-torch python3-torchvision python3-onnx)
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
