#pragma once
// Quantization parameters of one value: real = scale * (q - zero_point), per tensor (one
// scale) or per channel along `axis` (one scale per index of that axis).
#include <cstdint>
#include <vector>

namespace octet {

struct QuantParams {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;  // same length as scales
  int32_t axis = -1;                 // -1: per tensor

  bool per_channel() const { return axis >= 0; }
  bool operator==(const QuantParams& other) const {
    return scales == other.scales && zero_points == other.zero_points && axis == other.axis;
  }
};

}  // namespace octet
