#include "engine/data/dataset.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "engine/data/data_error.hpp"
#include "engine/data/shape_util.hpp"

namespace octet::data {

namespace {

size_t pixel_size(PixelType type) {
  return type == PixelType::u8 ? 1 : sizeof(float);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return "{" + join_dims(shape, ",") + "}";
}

// Expands a normalization list to one value per channel; nullopt if its length does not fit.
std::optional<std::vector<float>> per_channel(const std::vector<float>& values, float fallback,
                                              size_t channels) {
  if (values.empty()) return std::vector<float>(channels, fallback);
  if (values.size() == 1) return std::vector<float>(channels, values[0]);
  if (values.size() == channels) return values;
  return std::nullopt;
}

}  // namespace

Dataset::Dataset(std::string name, size_t count, std::vector<int64_t> sample_shape, PixelType type,
                 std::vector<uint8_t> pixels, std::vector<int64_t> labels)
    : name_(std::move(name)),
      count_(count),
      sample_shape_(std::move(sample_shape)),
      type_(type),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)),
      labelled_(!labels_.empty()) {
  const std::optional<size_t> elements = checked_element_count(sample_shape_);
  if (!elements) fail("invalid sample shape " + shape_text(sample_shape_));
  sample_elements_ = *elements;
  if (count_ > static_cast<size_t>(std::numeric_limits<int64_t>::max())) {
    fail(std::to_string(count_) + " samples are too many");
  }
  std::vector<int64_t> all_dims{static_cast<int64_t>(count_)};
  all_dims.insert(all_dims.end(), sample_shape_.begin(), sample_shape_.end());
  const std::optional<size_t> bytes = checked_byte_count(all_dims, pixel_size(type_));
  if (!bytes)
    fail(std::to_string(count_) + " samples of " + shape_text(sample_shape_) + " are too large");
  if (pixels_.size() != *bytes) {
    fail(std::to_string(count_) + " samples of " + shape_text(sample_shape_) + " need " +
         std::to_string(*bytes) + " bytes of pixels, got " + std::to_string(pixels_.size()));
  }
  if (labelled_ && labels_.size() != count_) {
    fail(std::to_string(count_) + " samples but " + std::to_string(labels_.size()) + " labels");
  }
}

Dataset Dataset::from_floats(std::string name, size_t count, std::vector<int64_t> sample_shape,
                             const std::vector<float>& values, std::vector<int64_t> labels) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Dataset(std::move(name), count, std::move(sample_shape), PixelType::f32, std::move(bytes),
                 std::move(labels));
}

void Dataset::fail(const std::string& problem) const {
  throw DataError("dataset " + quoted(name_) + ": " + problem);
}

size_t Dataset::channels() const {
  return sample_shape_.size() == 3 ? static_cast<size_t>(sample_shape_[0]) : 1;
}

void Dataset::check_index(size_t i, const char* what) const {
  if (i >= count_) {
    fail(std::string(what) + " index " + std::to_string(i) + " out of range (size " +
         std::to_string(count_) + ")");
  }
}

double Dataset::clean_value(size_t i, size_t j) const {
  const size_t index = i * sample_elements_ + j;
  if (type_ == PixelType::u8) return static_cast<double>(pixels_[index]) / 255.0;
  float value;
  std::memcpy(&value, pixels_.data() + index * sizeof(float), sizeof(float));
  return value;
}

void Dataset::sample(size_t i, float* out) const {
  check_index(i, "sample");
  const size_t n = sample_elements_;
  if (noise_) {
    SplitMix64 rng(noise_->seed);
    rng.skip(uint64_t{2} * n * i);  // wraps modulo 2^64 exactly like the generator's state
    for (size_t j = 0; j < n; ++j) out[j] = noisy_pixel(clean_value(i, j), noise_->sigma, rng);
  } else if (type_ == PixelType::u8) {
    const uint8_t* src = pixels_.data() + i * n;
    for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(src[j]) / 255.0f;
  } else if (n != 0) {
    std::memcpy(out, pixels_.data() + i * n * sizeof(float), n * sizeof(float));
  }
  if (mean_.empty()) return;
  const size_t channel_count = mean_.size();
  const size_t plane = channel_count == 0 ? 0 : n / channel_count;
  for (size_t c = 0; c < channel_count; ++c) {
    float* p = out + c * plane;
    for (size_t j = 0; j < plane; ++j) p[j] = (p[j] - mean_[c]) / std_[c];
  }
}

void Dataset::set_noise(std::optional<GaussianNoise> noise) {
  if (noise && (!std::isfinite(noise->sigma) || noise->sigma < 0.0)) {
    fail("noise sigma " + std::to_string(noise->sigma) + " must be a finite number >= 0");
  }
  noise_ = noise;
}

void Dataset::target(size_t i, float* out) const {
  if (targets_ == TargetSource::none) fail("has no regression targets");
  check_index(i, "target");
  const size_t n = target_elements_;
  if (targets_ == TargetSource::stored) {
    if (n != 0) std::memcpy(out, target_values_.data() + i * n, n * sizeof(float));
    return;
  }
  for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(clean_value(i, j));
}

void Dataset::set_targets(std::vector<int64_t> target_shape, std::vector<float> values) {
  const std::optional<size_t> elements = checked_element_count(target_shape);
  if (!elements) fail("invalid target shape " + shape_text(target_shape));
  std::vector<int64_t> all_dims{static_cast<int64_t>(count_)};
  all_dims.insert(all_dims.end(), target_shape.begin(), target_shape.end());
  const std::optional<size_t> expected = checked_element_count(all_dims);
  if (!expected || values.size() != *expected) {
    fail(std::to_string(count_) + " samples of target shape " + shape_text(target_shape) +
         " need " + (expected ? std::to_string(*expected) : std::string("too many")) +
         " target values, got " + std::to_string(values.size()));
  }
  targets_ = TargetSource::stored;
  target_shape_ = std::move(target_shape);
  target_elements_ = *elements;
  target_values_ = std::move(values);
}

void Dataset::set_clean_targets() {
  targets_ = TargetSource::clean_input;
  target_shape_ = sample_shape_;
  target_elements_ = sample_elements_;
  target_values_.clear();
  target_values_.shrink_to_fit();
}

int64_t Dataset::label(size_t i) const {
  if (!labelled_) fail("has no labels");
  check_index(i, "label");
  return labels_[i];
}

void Dataset::set_normalization(std::vector<float> mean, std::vector<float> std) {
  if (mean.empty() && std.empty()) {
    mean_.clear();
    std_.clear();
    return;
  }
  const size_t c = channels();
  const std::string expected = c == 1 ? "1" : "1 or " + std::to_string(c) + " (one per channel)";
  std::optional<std::vector<float>> m = per_channel(mean, 0.0f, c);
  if (!m) {
    fail("normalization mean has " + std::to_string(mean.size()) + " values, expected " + expected +
         " for sample shape " + shape_text(sample_shape_));
  }
  std::optional<std::vector<float>> s = per_channel(std, 1.0f, c);
  if (!s) {
    fail("normalization std has " + std::to_string(std.size()) + " values, expected " + expected +
         " for sample shape " + shape_text(sample_shape_));
  }
  for (float v : *m) {
    if (!std::isfinite(v)) fail("normalization mean " + std::to_string(v) + " is not finite");
  }
  for (float v : *s) {
    // Zero or negative std would divide by zero or silently flip the sign of every input.
    if (!std::isfinite(v) || v <= 0.0f) {
      fail("normalization std " + std::to_string(v) + " must be a positive finite number");
    }
  }
  mean_ = std::move(*m);
  std_ = std::move(*s);
}

void Dataset::limit(size_t n) {
  if (n >= count_) return;
  count_ = n;
  pixels_.resize(n * sample_elements_ * pixel_size(type_));
  pixels_.shrink_to_fit();
  if (labelled_) {
    labels_.resize(n);
    labels_.shrink_to_fit();
  }
  if (targets_ == TargetSource::stored) {
    target_values_.resize(n * target_elements_);
    target_values_.shrink_to_fit();
  }
}

}  // namespace octet::data
