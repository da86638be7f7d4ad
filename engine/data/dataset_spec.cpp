#include "engine/data/dataset_spec.hpp"

#include <cstdlib>
#include <filesystem>
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
    "fashion-mnist:test, fashion-mnist:train, mnist:test, mnist:train or path/to/file.npy";

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

Dataset load_npy_dataset(const std::string& path, const std::string& labels_path) {
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
  return dataset;
}

}  // namespace

std::string datasets_root() {
  const char* root = std::getenv("OCTET_DATASETS_DIR");
  return root != nullptr && root[0] != '\0' ? root : kDefaultRoot;
}

Dataset load_dataset(const std::string& spec, const std::string& labels_path) {
  if (spec.empty()) throw DataError(std::string("empty dataset spec; expected ") + kAcceptedForms);

  const size_t colon = spec.find(':');
  const std::string prefix = spec.substr(0, colon);
  const bool builtin = colon != std::string::npos && !ends_with(spec, ".npy") &&
                       (prefix == "fashion-mnist" || prefix == "mnist");
  if (builtin) {
    if (!labels_path.empty()) {
      throw DataError("dataset " + quoted(spec) +
                      ": a labels file is only accepted with .npy datasets; named datasets "
                      "carry their own labels");
    }
    return load_builtin(spec, prefix, spec.substr(colon + 1));
  }
  if (ends_with(spec, ".npy") || is_regular_file(spec)) return load_npy_dataset(spec, labels_path);
  throw DataError("unknown dataset spec " + quoted(spec) + "; expected " + kAcceptedForms);
}

}  // namespace octet::data
