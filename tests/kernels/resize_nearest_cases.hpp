#pragma once
// Source indices of ONNX nearest resize along one axis, worked out by hand from the ONNX Resize
// formulas for every coordinate mode × rounding mode (each row's comment gives the input
// coordinates x_original the formula yields). Shared by the kernel test and the graph-level
// tests that run Resize through a Session.
#include <cstdint>
#include <vector>

#include "kernels/ref/resize_nearest_ref.hpp"

namespace octet::test {

struct NearestRow {
  kernels::CoordinateTransform transform;
  const char* transform_name;
  // Source indices for round_prefer_floor, round_prefer_ceil, floor, ceil.
  std::vector<int64_t> by_rounding[4];
};

struct NearestAxisCase {
  int64_t in_length, out_length;  // the scale is out_length / in_length
  std::vector<NearestRow> rows;
};

constexpr kernels::NearestRounding kRoundings[4] = {
    kernels::NearestRounding::round_prefer_floor, kernels::NearestRounding::round_prefer_ceil,
    kernels::NearestRounding::floor, kernels::NearestRounding::ceil};
constexpr const char* kRoundingNames[4] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

inline const std::vector<NearestAxisCase>& nearest_axis_cases() {
  using T = kernels::CoordinateTransform;
  static const std::vector<NearestAxisCase> cases = {
      // Upsampling 4 → 8, scale 2.
      {4, 8, {
          // x/2 - 1/4: -.25 .25 .75 1.25 1.75 2.25 2.75 3.25 (no ties; below 0 and above 3 clamp)
          {T::half_pixel, "half_pixel",
           {{0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 0, 1, 1, 2, 2, 3}, {0, 1, 1, 2, 2, 3, 3, 3}}},
          // Output longer than 1: as half_pixel.
          {T::pytorch_half_pixel, "pytorch_half_pixel",
           {{0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 0, 1, 1, 2, 2, 3}, {0, 1, 1, 2, 2, 3, 3, 3}}},
          // x·3/7: 0 .43 .86 1.29 1.71 2.14 2.57 3
          {T::align_corners, "align_corners",
           {{0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 1, 1, 2, 2, 3, 3}, {0, 0, 0, 1, 1, 2, 2, 3}, {0, 1, 1, 2, 2, 3, 3, 3}}},
          // x/2: 0 .5 1 1.5 2 2.5 3 3.5 (a tie at every odd x)
          {T::asymmetric, "asymmetric",
           {{0, 0, 1, 1, 2, 2, 3, 3}, {0, 1, 1, 2, 2, 3, 3, 3}, {0, 0, 1, 1, 2, 2, 3, 3}, {0, 1, 1, 2, 2, 3, 3, 3}}},
          // (x + .5)/2: .25 .75 1.25 1.75 2.25 2.75 3.25 3.75
          {T::tf_half_pixel_for_nn, "tf_half_pixel_for_nn",
           {{0, 1, 1, 2, 2, 3, 3, 3}, {0, 1, 1, 2, 2, 3, 3, 3}, {0, 0, 1, 1, 2, 2, 3, 3}, {1, 1, 2, 2, 3, 3, 3, 3}}},
      }},
      // Downsampling 8 → 3, scale 3/8 = .375.
      {8, 3, {
          // (x + .5)/.375 - .5: .83 3.5 6.17
          {T::half_pixel, "half_pixel", {{1, 3, 6}, {1, 4, 6}, {0, 3, 6}, {1, 4, 7}}},
          {T::pytorch_half_pixel, "pytorch_half_pixel", {{1, 3, 6}, {1, 4, 6}, {0, 3, 6}, {1, 4, 7}}},
          // x·7/2: 0 3.5 7
          {T::align_corners, "align_corners", {{0, 3, 7}, {0, 4, 7}, {0, 3, 7}, {0, 4, 7}}},
          // x/.375: 0 2.67 5.33
          {T::asymmetric, "asymmetric", {{0, 3, 5}, {0, 3, 5}, {0, 2, 5}, {0, 3, 6}}},
          // (x + .5)/.375: 1.33 4 6.67
          {T::tf_half_pixel_for_nn, "tf_half_pixel_for_nn", {{1, 4, 7}, {1, 4, 7}, {1, 4, 6}, {2, 4, 7}}},
      }},
      // One output element, scale 1/8.
      {8, 1, {
          // .5·8 - .5 = 3.5: the rounding decides.
          {T::half_pixel, "half_pixel", {{3}, {4}, {3}, {4}}},
          // PyTorch's variant and align_corners (whose formula would divide by 0) take element 0.
          {T::pytorch_half_pixel, "pytorch_half_pixel", {{0}, {0}, {0}, {0}}},
          {T::align_corners, "align_corners", {{0}, {0}, {0}, {0}}},
          {T::asymmetric, "asymmetric", {{0}, {0}, {0}, {0}}},
          // .5·8 = 4
          {T::tf_half_pixel_for_nn, "tf_half_pixel_for_nn", {{4}, {4}, {4}, {4}}},
      }},
  };
  return cases;
}

}  // namespace octet::test
