// Nearest resize: the source index of every coordinate mode × rounding mode against values
// worked out by hand from the ONNX Resize formulas (resize_nearest_cases.hpp), the clamping at
// both edges, and the copy kernel for 1-, 2-, 3-, 4- and 8-byte elements with guard bytes
// around the output.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/ref/resize_nearest_ref.hpp"
#include "tests/kernels/resize_nearest_cases.hpp"

namespace octet::kernels {
namespace {

using T = CoordinateTransform;
using R = NearestRounding;

std::vector<int64_t> source_indices(int64_t in_length, int64_t out_length, double scale, T transform, R rounding) {
  std::vector<int64_t> indices;
  for (int64_t x = 0; x < out_length; ++x)
    indices.push_back(nearest_source_index(x, in_length, out_length, scale, transform, rounding));
  return indices;
}

TEST(ResizeNearestIndex, EveryCoordinateModeAndRoundingByHand) {
  for (const test::NearestAxisCase& axis : test::nearest_axis_cases()) {
    const double scale = static_cast<double>(axis.out_length) / static_cast<double>(axis.in_length);
    for (const test::NearestRow& row : axis.rows)
      for (int r = 0; r < 4; ++r)
        EXPECT_EQ(source_indices(axis.in_length, axis.out_length, scale, row.transform, test::kRoundings[r]),
                  row.by_rounding[r])
            << axis.in_length << " -> " << axis.out_length << ", " << row.transform_name << ", "
            << test::kRoundingNames[r];
  }
}

TEST(ResizeNearestIndex, UsesTheGivenScaleNotTheLengthRatio) {
  // ONNX scales 0.6 on 4 elements give floor(2.4) = 2 outputs, mapped by 0.6 (as ONNX's
  // reference implementation and ONNX Runtime do), not by 2/4: (x + .5)/.6 - .5 = .33, 2.0.
  const double scale = static_cast<double>(0.6f);
  EXPECT_EQ(source_indices(4, 2, scale, T::half_pixel, R::round_prefer_ceil), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(source_indices(4, 2, 0.5, T::half_pixel, R::round_prefer_ceil), (std::vector<int64_t>{1, 3}));
}

TEST(ResizeNearestIndex, ClampsFarOutsideTheInput) {
  // A tiny scale sends coordinates far beyond the input; a huge one keeps them at 0.
  EXPECT_EQ(nearest_source_index(5, 3, 6, 1e-30, T::asymmetric, R::ceil), 2);
  EXPECT_EQ(nearest_source_index(5, 3, 6, 1e-30, T::half_pixel, R::floor), 2);
  EXPECT_EQ(nearest_source_index(0, 3, 6, 1e30, T::half_pixel, R::floor), 0);
  EXPECT_EQ(nearest_source_index(0, 1, 4, 4.0, T::half_pixel, R::floor), 0);
}

template <class Element>
void check_copy_kernel(uint32_t seed) {
  std::mt19937 rng(seed);
  const ResizeNearestShape shape{3, 5, 4, 7, 9};
  const std::vector<int64_t> rows = {0, 1, 1, 2, 4, 4, 3};
  const std::vector<int64_t> cols = {3, 0, 0, 1, 2, 2, 3, 1, 0};
  std::vector<Element> input(static_cast<size_t>(shape.planes * shape.in_h * shape.in_w));
  for (auto& v : input) v = static_cast<Element>(rng());
  constexpr size_t kGuard = 16;
  const size_t count = static_cast<size_t>(shape.planes * shape.out_h * shape.out_w);
  std::vector<Element> output(count + 2 * kGuard, static_cast<Element>(0x5a));
  resize_nearest_ref(shape, rows.data(), cols.data(), sizeof(Element), input.data(), output.data() + kGuard);
  for (size_t i = 0; i < kGuard; ++i) {
    EXPECT_EQ(output[i], static_cast<Element>(0x5a)) << "guard before the output";
    EXPECT_EQ(output[kGuard + count + i], static_cast<Element>(0x5a)) << "guard after the output";
  }
  for (int64_t p = 0; p < shape.planes; ++p)
    for (int64_t y = 0; y < shape.out_h; ++y)
      for (int64_t x = 0; x < shape.out_w; ++x) {
        const Element expected = input[static_cast<size_t>((p * shape.in_h + rows[y]) * shape.in_w + cols[x])];
        ASSERT_EQ(output[kGuard + static_cast<size_t>((p * shape.out_h + y) * shape.out_w + x)], expected)
            << "plane " << p << " at " << y << "," << x;
      }
}

TEST(ResizeNearestKernel, CopiesTheIndexedElementOfAnySize) {
  check_copy_kernel<int8_t>(1);
  check_copy_kernel<uint16_t>(2);
  check_copy_kernel<uint32_t>(3);  // the bytes of a float
  check_copy_kernel<uint64_t>(4);
}

TEST(ResizeNearestKernel, CopiesElementsOfAnOddByteSize) {
  // 3-byte elements take the generic byte-copy path.
  const ResizeNearestShape shape{2, 2, 3, 3, 2};
  const std::vector<int64_t> rows = {1, 1, 0}, cols = {2, 0};
  std::vector<uint8_t> input(2 * 2 * 3 * 3);
  std::iota(input.begin(), input.end(), uint8_t{1});
  std::vector<uint8_t> output(2 * 3 * 2 * 3 + 3, 0xee);
  resize_nearest_ref(shape, rows.data(), cols.data(), 3, input.data(), output.data());
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 2; ++x)
        for (int64_t b = 0; b < 3; ++b)
          ASSERT_EQ(output[static_cast<size_t>(((p * 3 + y) * 2 + x) * 3 + b)],
                    input[static_cast<size_t>(((p * 2 + rows[y]) * 3 + cols[x]) * 3 + b)]);
  EXPECT_EQ(output[36], 0xee);  // nothing written past the end
}

TEST(ResizeNearestKernel, IdentityTablesCopyThePlane) {
  const ResizeNearestShape shape{2, 3, 4, 3, 4};
  std::vector<float> input(24);
  std::iota(input.begin(), input.end(), -5.5f);
  std::vector<int64_t> rows = {0, 1, 2}, cols = {0, 1, 2, 3};
  std::vector<float> output(24, 0.0f);
  resize_nearest_ref(shape, rows.data(), cols.data(), sizeof(float), input.data(), output.data());
  EXPECT_EQ(output, input);
}

}  // namespace
}  // namespace octet::kernels
