// conv2d_f32_ref against a naive, obviously-correct 7-loop convolution on random shapes:
// groups, depthwise, strides 1-3, dilations 1-2, asymmetric padding, odd sizes, clamps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/conv2d_f32_ref.hpp"

namespace octet::kernels {
namespace {

constexpr int64_t kGuard = 16;
const float kSentinel = 12345.678f;

struct NaiveResult {
  std::vector<double> value;     // exact-ish (double) convolution + bias, clamped
  std::vector<double> magnitude;  // sum of |products| + |bias|: the scale of the rounding error
};

// Straight from the definition: out[n][oc][oy][ox] = bias[oc] +
//   sum_{ic in group} sum_{ky,kx} in[n][g*Cg+ic][oy*sh+ky*dh-pt][ox*sw+kx*dw-pl] * w[oc][ic][ky][kx]
// with out-of-range input positions reading zero.
NaiveResult naive_conv(const Conv2dShape& s, const std::vector<float>& in, const std::vector<float>& w,
                       const float* bias, ClampF32 clamp) {
  const int64_t cin_g = s.in_channels / s.groups, cout_g = s.out_channels / s.groups;
  NaiveResult r;
  r.value.assign(static_cast<size_t>(s.batch * s.out_channels * s.out_h * s.out_w), 0.0);
  r.magnitude = r.value;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t oc = 0; oc < s.out_channels; ++oc)
      for (int64_t oy = 0; oy < s.out_h; ++oy)
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          const int64_t g = oc / cout_g;
          double sum = bias ? bias[oc] : 0.0, mag = bias ? std::fabs(bias[oc]) : 0.0;
          for (int64_t ic = 0; ic < cin_g; ++ic)
            for (int64_t ky = 0; ky < s.kernel_h; ++ky)
              for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
                const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
                const int64_t ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
                if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                const double a = in[static_cast<size_t>(((n * s.in_channels + g * cin_g + ic) * s.in_h + iy) * s.in_w + ix)];
                const double b = w[static_cast<size_t>(((oc * cin_g + ic) * s.kernel_h + ky) * s.kernel_w + kx)];
                sum += a * b;
                mag += std::fabs(a * b);
              }
          const size_t o = static_cast<size_t>(((n * s.out_channels + oc) * s.out_h + oy) * s.out_w + ox);
          r.value[o] = std::min(std::max(sum, static_cast<double>(clamp.low)), static_cast<double>(clamp.high));
          r.magnitude[o] = mag;
        }
  return r;
}

std::vector<float> random_vector(int64_t count, std::mt19937& rng, float low = -1.0f, float high = 1.0f) {
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(static_cast<size_t>(count));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Runs the kernel with guard elements after the output and compares with the naive version.
void check_conv(const Conv2dShape& s, std::mt19937& rng, bool with_bias, ClampF32 clamp, const std::string& what) {
  const int64_t in_count = s.batch * s.in_channels * s.in_h * s.in_w;
  const int64_t w_count = s.out_channels * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w;
  const int64_t out_count = s.batch * s.out_channels * s.out_h * s.out_w;
  const std::vector<float> in = random_vector(in_count, rng);
  const std::vector<float> w = random_vector(w_count, rng);
  const std::vector<float> bias = random_vector(s.out_channels, rng);
  std::vector<float> out(static_cast<size_t>(out_count + kGuard), kSentinel);
  conv2d_f32_ref(s, in.data(), w.data(), with_bias ? bias.data() : nullptr, clamp, out.data());
  const NaiveResult expected = naive_conv(s, in, w, with_bias ? bias.data() : nullptr, clamp);
  int bad = 0;
  for (int64_t i = 0; i < out_count; ++i) {
    const double tolerance = 1e-5 * expected.magnitude[static_cast<size_t>(i)] + 1e-6;
    const double got = out[static_cast<size_t>(i)];
    if (!(std::fabs(got - expected.value[static_cast<size_t>(i)]) <= tolerance) && ++bad <= 3)
      ADD_FAILURE() << what << " output " << i << ": got " << got << ", expected " << expected.value[static_cast<size_t>(i)];
  }
  EXPECT_EQ(bad, 0) << what;
  for (int64_t i = 0; i < kGuard; ++i)
    EXPECT_EQ(out[static_cast<size_t>(out_count + i)], kSentinel) << what << ": wrote past the output";
}

// Output size for the given padding, as ONNX defines it (floor).
int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end) {
  return (in + pad_begin + pad_end - ((kernel - 1) * dilation + 1)) / stride + 1;
}

std::string describe(const Conv2dShape& s) {
  return "N" + std::to_string(s.batch) + " C" + std::to_string(s.in_channels) + " " + std::to_string(s.in_h) + "x" +
         std::to_string(s.in_w) + " -> K" + std::to_string(s.out_channels) + " " + std::to_string(s.out_h) + "x" +
         std::to_string(s.out_w) + " k" + std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) + " s" +
         std::to_string(s.stride_h) + "," + std::to_string(s.stride_w) + " d" + std::to_string(s.dilation_h) + "," +
         std::to_string(s.dilation_w) + " p" + std::to_string(s.pad_top) + "," + std::to_string(s.pad_left) + " g" +
         std::to_string(s.groups);
}

TEST(KernelConv2dRef, RandomShapesAgainstNaive) {
  std::mt19937 rng(2024);
  const int64_t kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {3, 1}, {2, 2}};
  auto pick = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(rng); };
  int cases = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Conv2dShape s{};
    s.batch = pick(1, 2);
    const int64_t kind = pick(0, 3);  // 0: dense, 1: grouped, 2: depthwise, 3: depthwise multiplier
    s.groups = kind == 0 ? 1 : pick(2, 4);
    const int64_t cin_g = kind >= 2 ? 1 : pick(1, 4);
    const int64_t cout_g = kind == 2 ? 1 : pick(1, 3);
    s.in_channels = s.groups * cin_g;
    s.out_channels = s.groups * cout_g;
    const auto& k = kernels[pick(0, 5)];
    s.kernel_h = k[0];
    s.kernel_w = k[1];
    s.stride_h = pick(1, 3);
    s.stride_w = pick(1, 3);
    s.dilation_h = pick(1, 2);
    s.dilation_w = pick(1, 2);
    s.in_h = pick(1, 13);
    s.in_w = pick(1, 13);
    s.pad_top = pick(0, 2);
    s.pad_left = pick(0, 2);
    const int64_t pad_bottom = pick(0, 3), pad_right = pick(0, 3);  // implied by the output size
    s.out_h = out_size(s.in_h, s.kernel_h, s.stride_h, s.dilation_h, s.pad_top, pad_bottom);
    s.out_w = out_size(s.in_w, s.kernel_w, s.stride_w, s.dilation_w, s.pad_left, pad_right);
    if (s.in_h + s.pad_top + pad_bottom < (s.kernel_h - 1) * s.dilation_h + 1 ||
        s.in_w + s.pad_left + pad_right < (s.kernel_w - 1) * s.dilation_w + 1)
      continue;
    ASSERT_GE(s.out_h, 1);
    ASSERT_GE(s.out_w, 1);
    const float inf = std::numeric_limits<float>::infinity();
    ClampF32 clamp{-inf, inf};
    switch (trial % 4) {
      case 1: clamp = {0.0f, inf}; break;        // Relu
      case 2: clamp = {-0.5f, 0.75f}; break;     // Clip
      default: break;
    }
    check_conv(s, rng, trial % 3 != 0, clamp, describe(s));
    ++cases;
    if (HasFailure()) break;
  }
  EXPECT_GT(cases, 200);
}

TEST(KernelConv2dRef, HandPickedShapes) {
  std::mt19937 rng(7);
  const float inf = std::numeric_limits<float>::infinity();
  // ResNet-like 7x7 stride 2 pad 3 stem on an odd size.
  Conv2dShape stem{1, 3, 17, 15, 4, 0, 0, 7, 7, 2, 2, 1, 1, 3, 3, 1};
  stem.out_h = out_size(17, 7, 2, 1, 3, 3);
  stem.out_w = out_size(15, 7, 2, 1, 3, 3);
  check_conv(stem, rng, true, {-inf, inf}, "stem");
  // Depthwise 3x3 stride 2, no top/left padding; bottom 1 / right 2 implied by the output size.
  Conv2dShape dw{2, 6, 8, 9, 6, 4, 5, 3, 3, 2, 2, 1, 1, 0, 0, 6};
  check_conv(dw, rng, true, {0.0f, 6.0f}, "depthwise");
  // Output column range empty for some taps: input narrower than the padding.
  Conv2dShape narrow{1, 2, 1, 1, 3, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 1};
  check_conv(narrow, rng, true, {-inf, inf}, "1x1 input, heavy padding");
  // 1x3 kernel dilated 2 along the width only.
  Conv2dShape dilated{1, 1, 3, 9, 2, 3, 5, 1, 3, 1, 1, 1, 2, 0, 0, 1};
  check_conv(dilated, rng, false, {-inf, inf}, "dilation 2 on width");
}

TEST(KernelConv2dRef, KnownValues) {
  // 1 channel 3x3 input, 2x2 kernel of ones, pad 1 top/left only, stride 2: out 2x2.
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> w = {1, 1, 1, 1};
  const float bias = 0.5f;
  Conv2dShape s{1, 1, 3, 3, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1};
  std::vector<float> out(4, kSentinel);
  const float inf = std::numeric_limits<float>::infinity();
  conv2d_f32_ref(s, in.data(), w.data(), &bias, {-inf, inf}, out.data());
  // Windows start at (-1,-1), (-1,1), (1,-1), (1,1).
  EXPECT_EQ(out, (std::vector<float>{1.5f, 2 + 3 + 0.5f, 4 + 7 + 0.5f, 5 + 6 + 8 + 9 + 0.5f}));
  // Clamp to [2, 10].
  conv2d_f32_ref(s, in.data(), w.data(), &bias, {2.0f, 10.0f}, out.data());
  EXPECT_EQ(out, (std::vector<float>{2.0f, 5.5f, 10.0f, 10.0f}));
}

}  // namespace
}  // namespace octet::kernels
