// Every NEON int8 path against the scalar reference, bit for bit: the baseline path (always on
// AArch64) and the SDOT path (when the CPU has dotprod), restricted to one of them when OCTET_ISA
// names it. Random shapes that fit no tile, strides, padding, dilation, groups, full-range
// weights (-128 too), extreme activations and zero points, 1/2/3 threads, guard bytes after every
// output; and the vector requantization primitives against kernels/requantize.hpp at their
// boundaries. Built only for AArch64 (natively, or cross with tools/setup/run_neon_tests.sh).
#include <gtest/gtest.h>

#if defined(__aarch64__)

#include <climits>
#include <iostream>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/isa.hpp"
#include "kernels/neon/qconv2d_s8_neon.hpp"
#include "kernels/neon/requantize_neon.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"
#include "kernels/ref/qgemm_s8_ref.hpp"
#include "kernels/requantize.hpp"

using namespace octet::kernels;

namespace {

struct Path {
  bool dot;
  const char* name;
};

// The paths to test: every one this CPU has, or only the one OCTET_ISA forces.
std::vector<Path> paths() {
  const uint32_t isas = available_isas();
  const char* forced = std::getenv("OCTET_ISA");
  const bool all = !forced || !*forced;
  const Isa active = active_isa();
  std::vector<Path> result;
  if ((isas & static_cast<uint32_t>(Isa::neon)) && (all || active == Isa::neon)) result.push_back({false, "neon"});
  if ((isas & static_cast<uint32_t>(Isa::neon_dot)) && (all || active == Isa::neon_dot))
    result.push_back({true, "neon-dot"});
  return result;
}

#define FOR_EACH_PATH(path)                                                     \
  const std::vector<Path> all_paths = paths();                                  \
  if (all_paths.empty()) GTEST_SKIP() << "OCTET_ISA selects no NEON path";     \
  for (const Path& path : all_paths)

enum class Values { random, all_min, all_max, alternating };

struct Problem {
  Conv2dShape shape;
  int weight_low, weight_high;
  Values values;
  int32_t input_zero_point, output_zero_point;
  int threads;
};

std::vector<int8_t> make_values(size_t count, Values kind, int low, int high, std::mt19937& rng) {
  std::vector<int8_t> v(count);
  std::uniform_int_distribution<int> dist(low, high);
  for (size_t i = 0; i < count; ++i) {
    switch (kind) {
      case Values::random: v[i] = static_cast<int8_t>(dist(rng)); break;
      case Values::all_min: v[i] = static_cast<int8_t>(low); break;
      case Values::all_max: v[i] = static_cast<int8_t>(high); break;
      case Values::alternating: v[i] = static_cast<int8_t>(i % 2 ? low : high); break;
    }
  }
  return v;
}

constexpr size_t kGuard = 64;
constexpr int8_t kGuardByte = 0x5A;

size_t count_differences(const std::vector<int8_t>& got, const std::vector<int8_t>& expected) {
  size_t differences = 0;
  for (size_t i = 0; i < expected.size(); ++i) differences += got[i] != expected[i];
  for (size_t i = expected.size(); i < got.size(); ++i) differences += got[i] != kGuardByte;  // overrun
  return differences;
}

void check(const Path& path, const Problem& p, std::mt19937& rng, bool with_bias = true, bool per_channel = true) {
  const Conv2dShape& s = p.shape;
  const int64_t per_group = s.in_channels / s.groups, out_per_group = s.out_channels / s.groups;
  const int64_t depth = per_group * s.kernel_h * s.kernel_w;
  std::vector<int8_t> x = make_values(static_cast<size_t>(s.batch * s.in_channels * s.in_h * s.in_w), p.values, -128, 127, rng);
  std::vector<int8_t> w = make_values(static_cast<size_t>(s.out_channels * depth), p.values, p.weight_low, p.weight_high, rng);
  std::vector<int32_t> bias(static_cast<size_t>(s.out_channels));
  std::uniform_int_distribution<int32_t> bias_dist(-50000, 50000);
  for (auto& b : bias) b = bias_dist(rng);
  std::vector<QuantizedMultiplier> multipliers(static_cast<size_t>(s.out_channels));
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> shift(-14, 1);
  for (auto& m : multipliers) m = {mantissa(rng), shift(rng)};
  const int32_t* bias_ptr = with_bias ? bias.data() : nullptr;
  const QuantizedOutputStage stage{bias_ptr, multipliers.data(), per_channel, p.output_zero_point, -128, 127};

  const size_t out_count = static_cast<size_t>(s.batch * s.out_channels * s.out_h * s.out_w);
  std::vector<int8_t> expected(out_count), got(out_count + kGuard, kGuardByte);
  qconv2d_s8_ref(s, x.data(), p.input_zero_point, w.data(), stage, expected.data());

  std::vector<neon::PackedWeights> packed;
  std::vector<neon::RowOutputStage> stages;
  for (int64_t g = 0; g < s.groups; ++g) {
    packed.push_back(neon::pack_weights(w.data() + g * out_per_group * depth, out_per_group, depth, path.dot));
    const QuantizedOutputStage group_stage{with_bias ? bias.data() + g * out_per_group : nullptr,
                                           multipliers.data() + (per_channel ? g * out_per_group : 0), per_channel,
                                           p.output_zero_point, -128, 127};
    stages.push_back(neon::make_row_output_stage(packed.back(), p.input_zero_point, group_stage));
  }
  neon::qconv2d_s8_neon(s, x.data(), p.input_zero_point, packed, stages, got.data(), p.threads, path.dot);
  EXPECT_EQ(count_differences(got, expected), 0u) << "of " << out_count << " outputs, path " << path.name;
}

Conv2dShape random_shape(int trial, std::mt19937& rng) {
  std::uniform_int_distribution<int> small(1, 9), channels(1, 21), kernel(1, 5), stride(1, 3), dilation(1, 2),
      pad(0, 2);
  Conv2dShape s{};
  s.batch = trial % 7 == 0 ? 2 : 1;
  s.groups = trial % 5 == 0 ? 3 : 1;
  s.in_channels = channels(rng) * s.groups;
  s.out_channels = channels(rng) * s.groups;
  s.kernel_h = kernel(rng);
  s.kernel_w = trial % 3 == 0 ? 1 : kernel(rng);
  s.stride_h = stride(rng);
  s.stride_w = stride(rng);
  s.dilation_h = dilation(rng);
  s.dilation_w = dilation(rng);
  s.pad_top = pad(rng);
  s.pad_left = pad(rng);
  s.in_h = small(rng) + (s.kernel_h - 1) * s.dilation_h;
  s.in_w = small(rng) + (s.kernel_w - 1) * s.dilation_w;
  s.out_h = (s.in_h + 2 * s.pad_top - (s.kernel_h - 1) * s.dilation_h - 1) / s.stride_h + 1;
  s.out_w = (s.in_w + s.pad_left + pad(rng) - (s.kernel_w - 1) * s.dilation_w - 1) / s.stride_w + 1;
  return s;
}

std::string describe(const Conv2dShape& s) {
  return "c" + std::to_string(s.in_channels) + " o" + std::to_string(s.out_channels) + " g" +
         std::to_string(s.groups) + " k" + std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) + " in" +
         std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + " out" + std::to_string(s.out_h) + "x" +
         std::to_string(s.out_w) + " s" + std::to_string(s.stride_h) + std::to_string(s.stride_w) + " d" +
         std::to_string(s.dilation_h) + std::to_string(s.dilation_w) + " p" + std::to_string(s.pad_top) +
         std::to_string(s.pad_left);
}

// ---- requantization primitives -------------------------------------------------------------

// Boundary values of int32: extremes, powers of two and their neighbours, ties of every shift.
std::vector<int32_t> boundary_values() {
  std::vector<int32_t> v = {0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
  for (int e = 1; e < 31; ++e) {
    const int64_t p = int64_t{1} << e;
    for (int64_t d : {-1, 0, 1}) {
      v.push_back(static_cast<int32_t>(p + d));
      v.push_back(static_cast<int32_t>(-p + d));
      v.push_back(static_cast<int32_t>(3 * (p >> 1) + d));   // odd multiples of 2^(e-1): ties
      v.push_back(static_cast<int32_t>(-3 * (p >> 1) + d));
    }
  }
  std::mt19937 rng(99);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 200; ++i) v.push_back(any(rng));
  return v;
}

// Runs a 4-lane function on `values` four at a time (the last vector padded with 0).
template <typename F>
std::vector<int32_t> lanes(const std::vector<int32_t>& values, F f) {
  std::vector<int32_t> in(values), out((values.size() + 3) / 4 * 4);
  in.resize(out.size(), 0);
  for (size_t i = 0; i < in.size(); i += 4) vst1q_s32(out.data() + i, f(vld1q_s32(in.data() + i)));
  out.resize(values.size());
  return out;
}

TEST(NeonRequantize, DoublingHighMulMatchesScalarAtBoundaries) {
  const std::vector<int32_t> values = boundary_values();
  size_t mismatches = 0;
  for (int32_t b : values) {
    const std::vector<int32_t> got =
        lanes(values, [&](int32x4_t a) { return neon::saturating_rounding_doubling_high_mul(a, vdupq_n_s32(b)); });
    for (size_t i = 0; i < values.size(); ++i)
      if (got[i] != saturating_rounding_doubling_high_mul(values[i], b) && ++mismatches < 10)
        ADD_FAILURE() << values[i] << " * " << b << ": " << got[i];
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(NeonRequantize, RoundingDivideByPotMatchesScalarForEveryExponent) {
  const std::vector<int32_t> values = boundary_values();
  size_t mismatches = 0;
  for (int e = 0; e <= 31; ++e) {
    const std::vector<int32_t> got =
        lanes(values, [&](int32x4_t x) { return neon::rounding_divide_by_pot(x, vdupq_n_s32(-e)); });
    for (size_t i = 0; i < values.size(); ++i)
      if (got[i] != rounding_divide_by_pot(values[i], e) && ++mismatches < 10)
        ADD_FAILURE() << values[i] << " / 2^" << e << ": " << got[i] << " vs " << rounding_divide_by_pot(values[i], e);
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(NeonRequantize, MultiplyByQuantizedMultiplierMatchesScalar) {
  const std::vector<int32_t> values = boundary_values();
  std::vector<int32_t> mantissas = {1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1518500250, 1859775393};
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, INT32_MAX);
  for (int i = 0; i < 10; ++i) mantissas.push_back(mantissa(rng));
  size_t mismatches = 0, cases = 0;
  for (int32_t m : mantissas)
    for (int shift = -31; shift <= 31; ++shift) {
      const QuantizedMultiplier qm{m, shift};
      const neon::LaneRequant r{vdupq_n_s32(m), vdupq_n_s32(shift > 0 ? shift : 0),
                                vdupq_n_s32(shift > 0 ? 0 : shift)};
      const std::vector<int32_t> got =
          lanes(values, [&](int32x4_t x) { return neon::multiply_by_quantized_multiplier(x, r); });
      for (size_t i = 0; i < values.size(); ++i, ++cases)
        if (got[i] != multiply_by_quantized_multiplier(values[i], qm) && ++mismatches < 10)
          ADD_FAILURE() << values[i] << " * (" << m << ", " << shift << "): " << got[i];
    }
  EXPECT_EQ(mismatches, 0u) << "of " << cases;
}

TEST(NeonRequantize, OutputStageMatchesScalarOnRandomAccumulators) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX), moderate(-(1 << 20), 1 << 20),
      mantissa(1 << 30, INT32_MAX), shift(-20, 8), zp(-128, 127);
  size_t mismatches = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    alignas(16) int32_t acc[4], m[4], left[4], right[4], out[4];
    QuantizedMultiplier qm[4];
    for (int l = 0; l < 4; ++l) {
      acc[l] = trial % 2 ? any(rng) : moderate(rng);
      qm[l] = {mantissa(rng), shift(rng)};
      m[l] = qm[l].multiplier;
      left[l] = qm[l].shift > 0 ? qm[l].shift : 0;
      right[l] = qm[l].shift > 0 ? 0 : qm[l].shift;
    }
    const int32_t out_zp = zp(rng), low = trial % 3 ? -128 : out_zp, high = trial % 5 ? 127 : 100;
    const neon::LaneRequant r{vld1q_s32(m), vld1q_s32(left), vld1q_s32(right)};
    vst1q_s32(out, neon::requantize_lanes(vld1q_s32(acc), r, vdupq_n_s32(out_zp), vdupq_n_s32(low), vdupq_n_s32(high)));
    for (int l = 0; l < 4; ++l)
      if (out[l] != requantize_to_s8(acc[l], qm[l], out_zp, low, high) && ++mismatches < 10)
        ADD_FAILURE() << acc[l] << " (" << qm[l].multiplier << ", " << qm[l].shift << ") -> " << out[l];
  }
  EXPECT_EQ(mismatches, 0u);
}

// ---- ISA detection under qemu --------------------------------------------------------------

// tools/setup/run_neon_tests.sh sets OCTET_EXPECT_NEON_DOT for each qemu CPU model, so a
// detection bug cannot silently skip the dot path.
TEST(NeonIsa, DetectionMatchesTheExpectedCpu) {
  EXPECT_TRUE(available_isas() & static_cast<uint32_t>(Isa::neon));
  const char* expect = std::getenv("OCTET_EXPECT_NEON_DOT");
  if (!expect || !*expect) GTEST_SKIP() << "OCTET_EXPECT_NEON_DOT not set";
  EXPECT_EQ((available_isas() & static_cast<uint32_t>(Isa::neon_dot)) != 0, std::string(expect) == "1");
  std::cout << "[ paths    ] active " << isa_name(active_isa()) << "; testing";
  for (const Path& path : paths()) std::cout << ' ' << path.name;
  std::cout << '\n';
}

// ---- convolution and fully connected -------------------------------------------------------

TEST(QConvNeon, BitExactOnRandomShapes) {
  FOR_EACH_PATH(path) {
    std::mt19937 rng(2024);
    std::uniform_int_distribution<int> zp(-128, 127);
    for (int trial = 0; trial < 150; ++trial) {
      const Conv2dShape s = random_shape(trial, rng);
      SCOPED_TRACE(std::string(path.name) + " trial " + std::to_string(trial) + " " + describe(s));
      // Odd trials: the quantizer's weight range [-127, 127]; even ones: -128 too.
      check(path, {s, trial % 2 ? -127 : -128, 127, Values::random, zp(rng), zp(rng), 1 + trial % 3}, rng);
    }
  }
}

TEST(QConvNeon, BitExactOnExtremeValuesAndZeroPoints) {
  FOR_EACH_PATH(path) {
    std::mt19937 rng(7);
    const Conv2dShape s{1, 37, 9, 11, 19, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    for (Values values : {Values::all_min, Values::all_max, Values::alternating, Values::random})
      for (int weight_low : {-127, -128})
        for (int32_t zp : {-128, 127, 0})
          for (int threads : {1, 2, 3}) {
            SCOPED_TRACE(std::string(path.name) + " values " + std::to_string(static_cast<int>(values)) +
                         " weight_low " + std::to_string(weight_low) + " zp " + std::to_string(zp) + " threads " +
                         std::to_string(threads));
            check(path, {s, weight_low, 127, values, zp, -zp / 2, threads}, rng);
          }
  }
}

TEST(QConvNeon, PointwiseLargeDepthAndOptionalParts) {
  FOR_EACH_PATH(path) {
    SCOPED_TRACE(path.name);
    std::mt19937 rng(11);
    // 1x1 stride 1: packed straight from NCHW, with and without a 16-column tail.
    check(path, {{1, 70, 7, 7, 33, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 1}, -127, 127, Values::random, -3, 9, 2}, rng);
    check(path, {{1, 40, 8, 8, 24, 8, 8, 1, 1, 1, 1, 1, 1, 0, 0, 1}, -127, 127, Values::random, 100, 0, 3}, rng);
    check(path, {{2, 256, 5, 5, 20, 3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 1}, -127, 127, Values::random, 12, -7, 1}, rng);
    // Largest accumulators: all extreme values over a deep reduction (tile-filling and not).
    check(path, {{1, 512, 3, 3, 8, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 1}, -127, 127, Values::all_min, 127, 0, 1}, rng);
    check(path, {{1, 512, 3, 3, 8, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 1}, -128, 127, Values::all_min, -128, 0, 2}, rng);
    // A wide image with few channels (column blocks outermost) and the opposite (rows outermost).
    check(path, {{1, 3, 40, 40, 16, 20, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1}, -127, 127, Values::random, -20, 5, 3}, rng);
    check(path, {{1, 96, 4, 4, 72, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}, -127, 127, Values::random, 31, -2, 2}, rng);
    // Depthwise-like (one channel per group), no bias, per-tensor multiplier.
    const Conv2dShape dw{1, 12, 6, 6, 12, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 12};
    check(path, {dw, -127, 127, Values::random, 5, 3, 2}, rng, /*with_bias=*/false, /*per_channel=*/false);
  }
}

TEST(QConvNeon, ResultsDoNotDependOnTheThreadCount) {
  FOR_EACH_PATH(path) {
    std::mt19937 rng(23);
    const Conv2dShape s{1, 24, 13, 13, 40, 13, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    for (int threads : {1, 2, 4, 7}) {
      SCOPED_TRACE(std::string(path.name) + " threads " + std::to_string(threads));
      check(path, {s, -127, 127, Values::random, -9, 4, threads}, rng);
    }
  }
}

TEST(QConvNeon, RejectsWeightsPackedForTheOtherPath) {
  FOR_EACH_PATH(path) {
    const Conv2dShape s{1, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    const std::vector<int8_t> w(4, 1), x(18, 0);
    std::vector<int8_t> out(18);
    const int32_t bias[2] = {0, 0};
    const QuantizedMultiplier m{1 << 30, 0};
    const QuantizedOutputStage stage{bias, &m, false, 0, -128, 127};
    std::vector<neon::PackedWeights> packed{neon::pack_weights(w.data(), 2, 2, path.dot)};
    std::vector<neon::RowOutputStage> stages{neon::make_row_output_stage(packed[0], 0, stage)};
    EXPECT_THROW(neon::qconv2d_s8_neon(s, x.data(), 0, packed, stages, out.data(), 1, !path.dot), std::exception)
        << path.name;
  }
}

TEST(QGemmNeon, MatchesReferenceForSeveralShapes) {
  FOR_EACH_PATH(path) {
    std::mt19937 rng(5);
    for (int64_t m : {1, 2, 3, 4, 5, 8, 9, 16, 17})
      for (int64_t k : {1, 4, 15, 16, 17, 75})
        for (int weight_low : {-127, -128}) {
          const int64_t n = m % 2 ? 37 : 8;
          std::vector<int8_t> a = make_values(static_cast<size_t>(m * k), Values::random, -128, 127, rng);
          std::vector<int8_t> w = make_values(static_cast<size_t>(n * k), Values::random, weight_low, 127, rng);
          std::vector<int32_t> bias(static_cast<size_t>(n), 1234);
          std::vector<QuantizedMultiplier> multipliers(static_cast<size_t>(n), QuantizedMultiplier{1518500250, -8});
          const QuantizedOutputStage stage{bias.data(), multipliers.data(), true, -5, -128, 127};
          std::vector<int8_t> expected(static_cast<size_t>(m * n)), got(static_cast<size_t>(m * n) + kGuard, kGuardByte);
          qgemm_s8_ref(m, n, k, a.data(), 17, w.data(), stage, expected.data());
          const neon::PackedWeights packed = neon::pack_weights(w.data(), n, k, path.dot);
          neon::qgemm_s8_neon(m, a.data(), 17, packed, neon::make_row_output_stage(packed, 17, stage), got.data(),
                              static_cast<int>(1 + m % 3), path.dot);
          EXPECT_EQ(count_differences(got, expected), 0u)
              << path.name << " m=" << m << " n=" << n << " k=" << k << " weight_low=" << weight_low;
        }
  }
}

TEST(QGemmNeon, ExtremeValuesWithReluClamp) {
  FOR_EACH_PATH(path) {
    std::mt19937 rng(8);
    const int64_t m = 3, n = 19, k = 300;
    for (Values values : {Values::all_min, Values::all_max, Values::alternating}) {
      std::vector<int8_t> a = make_values(static_cast<size_t>(m * k), values, -128, 127, rng);
      std::vector<int8_t> w = make_values(static_cast<size_t>(n * k), values, -127, 127, rng);
      std::vector<QuantizedMultiplier> multipliers(static_cast<size_t>(n), QuantizedMultiplier{1073741824, -13});
      const QuantizedOutputStage stage{nullptr, multipliers.data(), true, -10, -10, 127};  // fused ReLU
      std::vector<int8_t> expected(static_cast<size_t>(m * n)), got(static_cast<size_t>(m * n) + kGuard, kGuardByte);
      qgemm_s8_ref(m, n, k, a.data(), -128, w.data(), stage, expected.data());
      const neon::PackedWeights packed = neon::pack_weights(w.data(), n, k, path.dot);
      neon::qgemm_s8_neon(m, a.data(), -128, packed, neon::make_row_output_stage(packed, -128, stage), got.data(), 2,
                          path.dot);
      EXPECT_EQ(count_differences(got, expected), 0u) << path.name << " values " << static_cast<int>(values);
    }
  }
}

}  // namespace

#else

TEST(QConvNeon, NotAarch64) { GTEST_SKIP() << "the NEON kernels are built and tested on AArch64 only"; }

#endif
