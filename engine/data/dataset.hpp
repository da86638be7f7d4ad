#pragma once
// An in-memory labelled set of samples (images or feature vectors) that hands out float32
// inputs one sample at a time. Pixels stay in their source type, so the 60000 Fashion-MNIST
// training images cost 47 MB as bytes instead of 188 MB as floats.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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
  // (x - mean[c]) / std[c] if normalization is set. i >= size() throws DataError.
  void sample(size_t i, float* out) const;

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

  // Keeps the first n samples (all of them if n >= size()) and frees the rest.
  void limit(size_t n);

 private:
  [[noreturn]] void fail(const std::string& problem) const;

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
};

}  // namespace octet::data
