#include "engine/data/dataset_spec.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "engine/data/data_error.hpp"
#include "engine/data/idx.hpp"
#include "engine/data/npy.hpp"
#include "engine/data/shape_util.hpp"

namespace octet::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultRoot = "/usr/share/datasets";
constexpr const char* kAcceptedForms =
    "fashion-mnist:test, fashion-mnist:train, mnist:test, mnist:train, "
    "fashion-mnist-noisy:test|train[:sigma=S][:seed=N] or path/to/file.npy";
constexpr const char* kNoisyPrefix = "fashion-mnist-noisy";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// The canonical names end in .gz, but people often gunzip the files; accept those too.
std::string idx_file(const fs::path& dir, const std::string& name) {
  const std::string gz = (dir / (name + ".gz")).string();
  const std::string raw = (dir / name).string();
  return !is_regular_file(gz) && is_regular_file(raw) ? raw : gz;
}

Dataset load_builtin(const std::string& spec, const std::string& dataset,
                     const std::string& split) {
  const auto fail = [&](const std::string& problem) {
    return DataError("dataset " + quoted(spec) + ": " + problem);
  };
  if (split != "test" && split != "train") {
    throw fail("unknown split " + quoted(split) + " (expected test or train)");
  }
  const fs::path dir = fs::path(datasets_root()) / dataset;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw fail("directory " + quoted(dir.string()) + " does not exist (install the " + dataset +
               " files there or set OCTET_DATASETS_DIR to the folder that contains " + dataset +
               "/)");
  }

  const std::string prefix = split == "test" ? "t10k" : "train";
  const std::string images_path = idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = idx_file(dir, prefix + "-labels-idx1-ubyte");
  const std::string images_what = dataset + " " + split + " images";
  const std::string labels_what = dataset + " " + split + " labels";

  IdxArray images = read_idx(images_path, images_what);
  if (images.shape.size() != 3) {
    throw file_error(images_what, images_path,
                     "expected 3 dimensions (count×rows×cols), header has " +
                         std::to_string(images.shape.size()));
  }
  const IdxArray labels = read_idx(labels_path, labels_what);
  if (labels.shape.size() != 1) {
    throw file_error(
        labels_what, labels_path,
        "expected 1 dimension (count), header has " + std::to_string(labels.shape.size()));
  }
  if (labels.shape[0] != images.shape[0]) {
    throw fail("images " + quoted(images_path) + " hold " + std::to_string(images.shape[0]) +
               " samples but labels " + quoted(labels_path) + " hold " +
               std::to_string(labels.shape[0]));
  }

  const auto count = static_cast<size_t>(images.shape[0]);
  std::vector<int64_t> label_values(labels.data.begin(), labels.data.end());
  return Dataset(spec, count, {1, images.shape[1], images.shape[2]}, PixelType::u8,
                 std::move(images.data), std::move(label_values));
}

std::vector<std::string> split_on_colons(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(text.substr(start, colon - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::optional<double> parse_sigma(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0.0) {
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> parse_seed(const std::string& text) {
  // Digits only: strtoull would accept "-1" and quietly wrap it to 2^64 - 1.
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return std::nullopt;
  return static_cast<uint64_t>(value);
}

// fashion-mnist-noisy:SPLIT[:sigma=S][:seed=N]: the Fashion-MNIST split with Gaussian noise on
// the inputs and the clean images as regression targets; the class labels are kept.
Dataset load_noisy(const std::string& spec, const std::string& after_prefix) {
  const auto fail = [&](const std::string& problem) {
    return DataError("dataset " + quoted(spec) + ": " + problem);
  };
  const std::vector<std::string> parts = split_on_colons(after_prefix);
  GaussianNoise noise;
  bool have_sigma = false, have_seed = false;
  for (size_t k = 1; k < parts.size(); ++k) {
    const std::string& part = parts[k];
    const size_t equals = part.find('=');
    const std::string key = part.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : part.substr(equals + 1);
    if (key == "sigma" && equals != std::string::npos) {
      if (have_sigma) throw fail("sigma is given twice");
      const std::optional<double> sigma = parse_sigma(value);
      if (!sigma) throw fail("sigma " + quoted(value) + " is not a finite number >= 0");
      noise.sigma = *sigma;
      have_sigma = true;
    } else if (key == "seed" && equals != std::string::npos) {
      if (have_seed) throw fail("seed is given twice");
      const std::optional<uint64_t> seed = parse_seed(value);
      if (!seed) throw fail("seed " + quoted(value) + " is not an integer in [0, 2^64)");
      noise.seed = *seed;
      have_seed = true;
    } else {
      throw fail("unknown parameter " + quoted(part) + " (expected sigma=S or seed=N)");
    }
  }
  Dataset dataset = load_builtin(spec, "fashion-mnist", parts[0]);
  dataset.set_noise(noise);
  dataset.set_clean_targets();
  return dataset;
}

std::vector<int64_t> load_npy_labels(const std::string& path, size_t expected,
                                     const std::string& data_path) {
  const std::string what = "labels";
  const NpyArray array = read_npy(path, what);
  if (array.shape.size() != 1) {
    throw file_error(what, path, "expected shape (N,), got " + python_tuple(array.shape));
  }
  const size_t n = array.count();
  if (n != expected) {
    throw DataError("dataset " + quoted(data_path) + " has " + std::to_string(expected) +
                    " samples but labels " + quoted(path) + " have " + std::to_string(n));
  }
  switch (array.dtype) {
    case NpyType::i64:
      return std::vector<int64_t>(array.i64(), array.i64() + n);
    case NpyType::i32:
      return std::vector<int64_t>(array.i32(), array.i32() + n);
    case NpyType::u8:
      return std::vector<int64_t>(array.u8(), array.u8() + n);
    case NpyType::f32:
      break;
  }
  throw file_error(what, path,
                   std::string("expected integer labels ('<i8', '<i4' or '|u1'), got '") +
                       npy_descr(array.dtype) + "'");
}

void load_npy_targets(Dataset& dataset, const std::string& path, const std::string& data_path) {
  const std::string what = "targets";
  NpyArray array = read_npy(path, what);
  if (array.dtype != NpyType::f32) {
    throw file_error(
        what, path,
        std::string("expected float32 ('<f4') targets, got '") + npy_descr(array.dtype) + "'");
  }
  if (array.shape.empty()) {
    throw file_error(what, path, "expected shape (N, ...) with one target per sample, got ()");
  }
  const auto count = static_cast<size_t>(array.shape[0]);
  if (count != dataset.size()) {
    throw DataError("dataset " + quoted(data_path) + " has " + std::to_string(dataset.size()) +
                    " samples but targets " + quoted(path) + " have " + std::to_string(count));
  }
  const size_t n = array.count();
  std::vector<float> values(n);
  if (n != 0) std::memcpy(values.data(), array.f32(), n * sizeof(float));
  dataset.set_targets(std::vector<int64_t>(array.shape.begin() + 1, array.shape.end()),
                      std::move(values));
}

Dataset load_npy_dataset(const std::string& path, const std::string& labels_path,
                         const std::string& targets_path) {
  const std::string what = "npy dataset";
  NpyArray array = read_npy(path, what);
  if (array.dtype != NpyType::f32 && array.dtype != NpyType::u8) {
    throw file_error(what, path,
                     std::string("expected float32 ('<f4') or uint8 ('|u1') data, got '") +
                         npy_descr(array.dtype) + "'");
  }
  const std::vector<int64_t>& shape = array.shape;
  std::vector<int64_t> sample_shape;
  switch (shape.size()) {
    case 4:
      sample_shape = {shape[1], shape[2], shape[3]};
      break;
    case 3:
      sample_shape = {1, shape[1], shape[2]};
      break;
    case 2:
      sample_shape = {shape[1]};
      break;
    default:
      throw file_error(what, path,
                       "expected shape (N,K), (N,H,W) or (N,C,H,W), got " + python_tuple(shape));
  }
  const auto count = static_cast<size_t>(shape[0]);
  std::vector<int64_t> labels;
  if (!labels_path.empty()) labels = load_npy_labels(labels_path, count, path);
  const PixelType type = array.dtype == NpyType::u8 ? PixelType::u8 : PixelType::f32;
  Dataset dataset(path, count, std::move(sample_shape), type, std::move(array.bytes),
                  std::move(labels));
  if (!targets_path.empty()) load_npy_targets(dataset, targets_path, path);
  return dataset;
}

}  // namespace

std::string datasets_root() {
  const char* root = std::getenv("OCTET_DATASETS_DIR");
  return root != nullptr && root[0] != '\0' ? root : kDefaultRoot;
}

Dataset load_dataset(const std::string& spec, const std::string& labels_path,
                     const std::string& targets_path) {
  if (spec.empty()) throw DataError(std::string("empty dataset spec; expected ") + kAcceptedForms);

  const size_t colon = spec.find(':');
  const std::string prefix = spec.substr(0, colon);
  const bool named = colon != std::string::npos && !ends_with(spec, ".npy") &&
                     (prefix == "fashion-mnist" || prefix == "mnist" || prefix == kNoisyPrefix);
  if (named) {
    if (!labels_path.empty()) {
      throw DataError("dataset " + quoted(spec) +
                      ": a labels file is only accepted with .npy datasets; named datasets "
                      "carry their own labels");
    }
    if (!targets_path.empty()) {
      throw DataError("dataset " + quoted(spec) +
                      ": a targets file is only accepted with .npy datasets; " + kNoisyPrefix +
                      " carries its own targets");
    }
    if (prefix == kNoisyPrefix) return load_noisy(spec, spec.substr(colon + 1));
    return load_builtin(spec, prefix, spec.substr(colon + 1));
  }
  if (ends_with(spec, ".npy") || is_regular_file(spec)) {
    return load_npy_dataset(spec, labels_path, targets_path);
  }
  throw DataError("unknown dataset spec " + quoted(spec) + "; expected " + kAcceptedForms);
}

}  // namespace octet::data
