#pragma once
// Turns the CLI's --data / --calib argument into a Dataset. Accepted specs:
//   fashion-mnist:test, fashion-mnist:train, mnist:test, mnist:train
//       IDX files in <root>/fashion-mnist/ or <root>/mnist/ (t10k-* for test, train-* for
//       train), where <root> is $OCTET_DATASETS_DIR or /usr/share/datasets. Samples {1,28,28}.
//   fashion-mnist-noisy:test, fashion-mnist-noisy:train, optionally followed by :sigma=S and/or
//       :seed=N (defaults 0.2 and 2026): a denoising set. Inputs are the Fashion-MNIST images with
//       Dataset::set_noise() Gaussian noise, targets the clean images, labels kept.
//   path/to/x.npy
//       float32 or uint8 array, samples along axis 0: (N,C,H,W) -> {C,H,W}, (N,H,W) -> {1,H,W},
//       (N,K) -> {K}. Labels optionally come from a separate (N,) int64/int32/uint8 .npy, float32
//       regression targets from a separate (N, ...) .npy (target shape: the dims after N).
#include <string>

#include "engine/data/dataset.hpp"
#include "engine/data/float_list.hpp"  // parse_float_list, for --mean / --std next to --data

namespace octet::data {

// The folder holding fashion-mnist/ and mnist/: $OCTET_DATASETS_DIR if set and non-empty,
// else /usr/share/datasets.
std::string datasets_root();

// Loads `spec` as described above. `labels_path` and `targets_path` are only allowed with .npy
// specs (the named datasets carry their own). Every problem throws DataError.
Dataset load_dataset(const std::string& spec, const std::string& labels_path = "",
                     const std::string& targets_path = "");

}  // namespace octet::data
