// Pooling kernels against naive versions: max (f32/u8/s8) and average (with and without
// count_include_pad), with dilation, asymmetric padding and ceil_mode output sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "kernels/ref/pool2d_ref.hpp"

namespace octet::kernels {
namespace {

constexpr int64_t kGuard = 8;

// Output size along one axis as ONNX/PyTorch define it, including ceil_mode's rule that the
// last window must start inside the input or the begin padding.
int64_t pool_out(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end,
                 bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - ((kernel - 1) * dilation + 1);
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

// Visits every tap of window (n_plane, oy, ox): f(iy, ix) with the raw (possibly padded) position.
template <class F>
void for_each_tap(const Pool2dShape& s, int64_t oy, int64_t ox, F&& f) {
  for (int64_t ky = 0; ky < s.kernel_h; ++ky)
    for (int64_t kx = 0; kx < s.kernel_w; ++kx)
      f(oy * s.stride_h + ky * s.dilation_h - s.pad_top, ox * s.stride_w + kx * s.dilation_w - s.pad_left);
}

template <class T>
std::vector<T> naive_max(const Pool2dShape& s, const std::vector<T>& in) {
  std::vector<T> out;
  for (int64_t p = 0; p < s.batch * s.channels; ++p)
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        T best = std::numeric_limits<T>::lowest();  // a window entirely in padding
        for_each_tap(s, oy, ox, [&](int64_t iy, int64_t ix) {
          if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w)
            best = std::max(best, in[static_cast<size_t>((p * s.in_h + iy) * s.in_w + ix)]);
        });
        out.push_back(best);
      }
  return out;
}

std::vector<double> naive_average(const Pool2dShape& s, bool count_include_pad, const std::vector<float>& in) {
  std::vector<double> out;
  for (int64_t p = 0; p < s.batch * s.channels; ++p)
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        double sum = 0.0;
        int64_t inside = 0, in_padded = 0;
        for_each_tap(s, oy, ox, [&](int64_t iy, int64_t ix) {
          if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w) {
            sum += in[static_cast<size_t>((p * s.in_h + iy) * s.in_w + ix)];
            ++inside;
          }
          // Taps on the explicit padding count; taps beyond it (ceil_mode overhang) do not.
          if (iy >= -s.pad_top && iy < s.in_h + s.pad_bottom && ix >= -s.pad_left && ix < s.in_w + s.pad_right)
            ++in_padded;
        });
        const int64_t divisor = count_include_pad ? in_padded : inside;
        out.push_back(divisor ? sum / static_cast<double>(divisor) : 0.0);
      }
  return out;
}

struct Case {
  Pool2dShape shape;
  std::string what;
};

std::vector<Case> random_cases(uint32_t seed, int count, bool allow_dilation) {
  std::mt19937 rng(seed);
  auto pick = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(rng); };
  std::vector<Case> cases;
  while (static_cast<int>(cases.size()) < count) {
    Pool2dShape s{};
    s.batch = pick(1, 2);
    s.channels = pick(1, 3);
    s.in_h = pick(1, 12);
    s.in_w = pick(1, 12);
    s.kernel_h = pick(1, 4);
    s.kernel_w = pick(1, 4);
    s.stride_h = pick(1, 3);
    s.stride_w = pick(1, 3);
    s.dilation_h = allow_dilation ? pick(1, 2) : 1;
    s.dilation_w = allow_dilation ? pick(1, 2) : 1;
    s.pad_top = pick(0, s.kernel_h - 1);
    s.pad_bottom = pick(0, s.kernel_h - 1);
    s.pad_left = pick(0, s.kernel_w - 1);
    s.pad_right = pick(0, s.kernel_w - 1);
    const bool ceil_mode = pick(0, 1) == 1;
    if (s.in_h + s.pad_top + s.pad_bottom < (s.kernel_h - 1) * s.dilation_h + 1) continue;
    if (s.in_w + s.pad_left + s.pad_right < (s.kernel_w - 1) * s.dilation_w + 1) continue;
    s.out_h = pool_out(s.in_h, s.kernel_h, s.stride_h, s.dilation_h, s.pad_top, s.pad_bottom, ceil_mode);
    s.out_w = pool_out(s.in_w, s.kernel_w, s.stride_w, s.dilation_w, s.pad_left, s.pad_right, ceil_mode);
    const std::string what = std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + " k" + std::to_string(s.kernel_h) +
                             "x" + std::to_string(s.kernel_w) + " s" + std::to_string(s.stride_h) + "," +
                             std::to_string(s.stride_w) + " d" + std::to_string(s.dilation_h) + "," +
                             std::to_string(s.dilation_w) + " pads " + std::to_string(s.pad_top) + "," +
                             std::to_string(s.pad_left) + "," + std::to_string(s.pad_bottom) + "," +
                             std::to_string(s.pad_right) + (ceil_mode ? " ceil" : "");
    cases.push_back({s, what});
  }
  return cases;
}

int64_t input_count(const Pool2dShape& s) { return s.batch * s.channels * s.in_h * s.in_w; }
int64_t output_count(const Pool2dShape& s) { return s.batch * s.channels * s.out_h * s.out_w; }

template <class T>
std::vector<T> random_values(int64_t count, std::mt19937& rng) {
  std::vector<T> v(static_cast<size_t>(count));
  if constexpr (std::is_floating_point_v<T>) {
    std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
    for (auto& x : v) x = dist(rng);
  } else {
    std::uniform_int_distribution<int> dist(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
    for (auto& x : v) x = static_cast<T>(dist(rng));
  }
  return v;
}

template <class T, class Kernel>
void check_max(Kernel kernel, uint32_t seed) {
  std::mt19937 rng(seed);
  for (const Case& c : random_cases(seed, 250, true)) {
    const std::vector<T> in = random_values<T>(input_count(c.shape), rng);
    const int64_t outs = output_count(c.shape);
    std::vector<T> out(static_cast<size_t>(outs + kGuard), T(42));
    kernel(c.shape, in.data(), out.data());
    const std::vector<T> expected = naive_max(c.shape, in);
    for (int64_t i = 0; i < outs; ++i)
      ASSERT_EQ(out[static_cast<size_t>(i)], expected[static_cast<size_t>(i)]) << c.what << " output " << i;
    for (int64_t g = 0; g < kGuard; ++g) ASSERT_EQ(out[static_cast<size_t>(outs + g)], T(42)) << c.what;
  }
}

TEST(KernelPool2dRef, MaxF32AgainstNaive) { check_max<float>(max_pool2d_f32_ref, 1); }
TEST(KernelPool2dRef, MaxU8AgainstNaive) { check_max<uint8_t>(max_pool2d_u8_ref, 2); }
TEST(KernelPool2dRef, MaxS8AgainstNaive) { check_max<int8_t>(max_pool2d_s8_ref, 3); }

TEST(KernelPool2dRef, MaxIntegerExtremes) {
  // All -128 (s8) / all 0 (u8): the result is the minimum, not the sentinel "lowest" confused
  // with a real value; and a single 127/255 spreads to every window that covers it.
  Pool2dShape s{1, 1, 4, 4, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0};
  std::vector<int8_t> s8(16, -128);
  std::vector<int8_t> s8_out(4, 0);
  max_pool2d_s8_ref(s, s8.data(), s8_out.data());
  EXPECT_EQ(s8_out, std::vector<int8_t>(4, -128));
  s8[5] = 127;  // (1,1): inside windows (0,0) rows -1..1, (0,1) cols 1..3, (1,0), (1,1)
  max_pool2d_s8_ref(s, s8.data(), s8_out.data());
  EXPECT_EQ(s8_out, std::vector<int8_t>(4, 127));
  std::vector<uint8_t> u8(16, 0), u8_out(4, 9);
  max_pool2d_u8_ref(s, u8.data(), u8_out.data());
  EXPECT_EQ(u8_out, std::vector<uint8_t>(4, 0));
  u8[15] = 255;  // (3,3): only the last window
  max_pool2d_u8_ref(s, u8.data(), u8_out.data());
  EXPECT_EQ(u8_out, (std::vector<uint8_t>{0, 0, 0, 255}));
}

void check_average(bool count_include_pad, uint32_t seed) {
  std::mt19937 rng(seed);
  for (const Case& c : random_cases(seed, 250, true)) {
    const std::vector<float> in = random_values<float>(input_count(c.shape), rng);
    const int64_t outs = output_count(c.shape);
    std::vector<float> out(static_cast<size_t>(outs + kGuard), 42.0f);
    average_pool2d_f32_ref(c.shape, count_include_pad, in.data(), out.data());
    const std::vector<double> expected = naive_average(c.shape, count_include_pad, in);
    for (int64_t i = 0; i < outs; ++i)
      ASSERT_NEAR(out[static_cast<size_t>(i)], expected[static_cast<size_t>(i)],
                  1e-6 * std::max(1.0, std::fabs(expected[static_cast<size_t>(i)])))
          << c.what << (count_include_pad ? " count_include_pad" : "") << " output " << i;
    for (int64_t g = 0; g < kGuard; ++g) ASSERT_EQ(out[static_cast<size_t>(outs + g)], 42.0f) << c.what;
  }
}

TEST(KernelPool2dRef, AverageExcludingPadAgainstNaive) { check_average(false, 4); }
TEST(KernelPool2dRef, AverageIncludingPadAgainstNaive) { check_average(true, 5); }

TEST(KernelPool2dRef, AverageKnownValues) {
  // 3x3 input 1..9, kernel 2x2, stride 2, pad 1 on every side: windows at (-1,-1), (-1,1), (1,-1), (1,1).
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  Pool2dShape s{1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  std::vector<float> out(4);
  average_pool2d_f32_ref(s, false, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{1.0f, 2.5f, 5.5f, 7.0f}));
  average_pool2d_f32_ref(s, true, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{0.25f, 1.25f, 2.75f, 7.0f}));
  // ceil_mode overhang: 4 wide, kernel 3, stride 2, no padding -> out 2 (ceil); the second
  // window covers columns 2..4 where 4 is past the input and past any padding: it never counts.
  const std::vector<float> row = {1, 2, 3, 4};
  Pool2dShape c{1, 1, 1, 4, 1, 2, 1, 3, 1, 2, 1, 1, 0, 0, 0, 0};
  std::vector<float> row_out(2);
  average_pool2d_f32_ref(c, true, row.data(), row_out.data());
  EXPECT_EQ(row_out, (std::vector<float>{2.0f, 3.5f}));
  average_pool2d_f32_ref(c, false, row.data(), row_out.data());
  EXPECT_EQ(row_out, (std::vector<float>{2.0f, 3.5f}));
}

TEST(KernelPool2dRef, DilatedMaxKnownValues) {
  // 1x5 row, kernel 1x2 dilation 2: pairs (0,2), (1,3), (2,4).
  const std::vector<float> row = {5, 1, 2, 9, 3};
  Pool2dShape s{1, 1, 1, 5, 1, 3, 1, 2, 1, 1, 1, 2, 0, 0, 0, 0};
  std::vector<float> out(3);
  max_pool2d_f32_ref(s, row.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{5, 9, 3}));
}

TEST(KernelPool2dRef, GlobalAverage) {
  std::mt19937 rng(6);
  for (int64_t planes : {1, 3, 7})
    for (int64_t size : {1, 5, 49, 64}) {
      const std::vector<float> in = random_values<float>(planes * size, rng);
      std::vector<float> out(static_cast<size_t>(planes + kGuard), 42.0f);
      global_average_pool_f32_ref(planes, size, in.data(), out.data());
      for (int64_t p = 0; p < planes; ++p) {
        double sum = 0.0;
        for (int64_t i = 0; i < size; ++i) sum += in[static_cast<size_t>(p * size + i)];
        EXPECT_NEAR(out[static_cast<size_t>(p)], sum / static_cast<double>(size), 1e-6);
      }
      for (int64_t g = 0; g < kGuard; ++g) EXPECT_EQ(out[static_cast<size_t>(planes + g)], 42.0f);
    }
}

}  // namespace
}  // namespace octet::kernels
