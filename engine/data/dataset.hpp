#pragma once
// An in-memory set of samples (images or feature vectors) that hands out float32 inputs one
// sample at a time, with optional class labels and optional float regression targets. Pixels
// stay in their source type, so the 60000 Fashion-MNIST training images cost 47 MB as bytes
// instead of 188 MB as floats; noise is drawn on the fly from the sample's stream position.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/gaussian_noise.hpp"

namespace octet::data {

enum class PixelType { u8, f32 };

class Dataset {
 public:
  Dataset() = default;

  // `pixels` holds `count` samples of product(sample_shape) values of `type` back to back (f32
  // in host byte order). `labels` is empty (unlabelled) or has `count` entries. Inconsistent
  // sizes throw DataError.
  Dataset(std::string name, size_t count, std::vector<int64_t> sample_shape, PixelType type,
          std::vector<uint8_t> pixels, std::vector<int64_t> labels = {});

  // Convenience for callers holding floats (copies them into byte storage).
  static Dataset from_floats(std::string name, size_t count, std::vector<int64_t> sample_shape,
                             const std::vector<float>& values, std::vector<int64_t> labels = {});

  size_t size() const { return count_; }
  const std::vector<int64_t>& sample_shape() const { return sample_shape_; }
  size_t sample_elements() const { return sample_elements_; }
  PixelType pixel_type() const { return type_; }
  const std::string& name() const { return name_; }

  // Writes sample_elements() floats: u8 sources scaled by 1/255, f32 sources as stored, then
  // noise if set, then (x - mean[c]) / std[c] if normalization is set. i >= size() throws
  // DataError.
  void sample(size_t i, float* out) const;

  // Every input value v (u8 sources as byte / 255 in double) becomes noisy_pixel(v, sigma, rng)
  // (gaussian_noise.hpp), with one SplitMix64 stream seeded once for the whole dataset and
  // consumed in sample order, two draws per value: sample i starts at draw
  // 2 * sample_elements() * i, so any sample is drawn alone and limit() keeps its noise. Meant
  // for pixels in [0, 1] (the result is clamped there). A negative or non-finite sigma throws
  // DataError; nullopt removes the noise.
  void set_noise(std::optional<GaussianNoise> noise);
  const std::optional<GaussianNoise>& noise() const { return noise_; }

  bool has_labels() const { return labelled_; }
  // Throws DataError when unlabelled or i >= size().
  int64_t label(size_t i) const;
  const std::vector<int64_t>& labels() const { return labels_; }

  // Channels for normalization: sample_shape()[0] for rank-3 (C,H,W) samples, else 1.
  size_t channels() const;

  // Each list holds one value (applied to all channels) or one per channel. An empty mean means
  // 0 and an empty std means 1, so both empty removes normalization. A count mismatch, a std
  // <= 0 or a non-finite value throws DataError and leaves the previous setting in place.
  void set_normalization(std::vector<float> mean, std::vector<float> std);

  // Regression targets: target_elements() floats per sample, of shape target_shape().
  bool has_targets() const { return targets_ != TargetSource::none; }
  const std::vector<int64_t>& target_shape() const { return target_shape_; }
  size_t target_elements() const { return target_elements_; }
  // Throws DataError when there are no targets or i >= size().
  void target(size_t i, float* out) const;
  // Stored targets: size() samples of product(target_shape) values back to back. A count that
  // does not fit throws DataError and keeps the previous targets.
  void set_targets(std::vector<int64_t> target_shape, std::vector<float> values);
  // The target of each sample is its clean input: float(v) for the v that set_noise() perturbs,
  // before noise and normalization. This makes a denoising set out of a set of images.
  void set_clean_targets();

  // Keeps the first n samples (all of them if n >= size()) and frees the rest.
  void limit(size_t n);

 private:
  enum class TargetSource { none, stored, clean_input };

  [[noreturn]] void fail(const std::string& problem) const;
  void check_index(size_t i, const char* what) const;
  // Sample i's input value j before noise and normalization, in double.
  double clean_value(size_t i, size_t j) const;

  std::string name_;
  size_t count_ = 0;
  std::vector<int64_t> sample_shape_;
  size_t sample_elements_ = 0;
  PixelType type_ = PixelType::u8;
  std::vector<uint8_t> pixels_;
  std::vector<int64_t> labels_;
  bool labelled_ = false;    // kept separately so limit(0) does not forget the dataset had labels
  std::vector<float> mean_;  // one per channel, empty when not normalizing
  std::vector<float> std_;
  std::optional<GaussianNoise> noise_;
  TargetSource targets_ = TargetSource::none;
  std::vector<int64_t> target_shape_;
  size_t target_elements_ = 0;
  std::vector<float> target_values_;  // only for TargetSource::stored
};

}  // namespace octet::data
