// The NPU's integer arithmetic: half_up rounding against gemmlowp's (where and only where they
// differ), saturating narrow accumulators, and the kernels against the ref kernels.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "backends/npu_emu/npu_kernels.hpp"
#include "kernels/ref/qgemm_s8_ref.hpp"
#include "quant/qparams.hpp"

using namespace octet;
using kernels::QuantizedMultiplier;

namespace {

int32_t gemmlowp(int32_t x, QuantizedMultiplier m) {
  return npu::npu_multiply(x, m, npu::Rounding::gemmlowp);
}
int32_t half_up(int32_t x, QuantizedMultiplier m) {
  return npu::npu_multiply(x, m, npu::Rounding::half_up);
}

// gemmlowp rounds twice: the high multiply h = x' * M0 / 2^31 rounds ties toward +infinity
// (as half_up does), the division h / 2^right rounds ties away from zero. Whether that second
// rounding meets an exact half.
bool second_rounding_meets_a_tie(int32_t x, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  if (right == 0) return false;
  int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  shifted = std::min<int64_t>(INT32_MAX, std::max<int64_t>(INT32_MIN, shifted));
  const int32_t high =
      kernels::saturating_rounding_doubling_high_mul(static_cast<int32_t>(shifted), m.multiplier);
  const int64_t magnitude = high < 0 ? -static_cast<int64_t>(high) : high;
  return magnitude % (int64_t{1} << right) == (int64_t{1} << (right - 1));
}

TEST(NpuRounding, WithoutRightShiftTheModesAgreeEvenOnTies) {
  const QuantizedMultiplier half = quant::quantize_multiplier(0.5);  // M0 = 2^30, shift 0
  ASSERT_EQ(half.shift, 0);
  EXPECT_EQ(gemmlowp(5, half), 3);  // 2.5
  EXPECT_EQ(half_up(5, half), 3);
  EXPECT_EQ(gemmlowp(-5, half), -2);  // -2.5: the high multiply rounds ties up too
  EXPECT_EQ(half_up(-5, half), -2);
}

TEST(NpuRounding, ExactTiesBelowZeroDiffer) {
  const QuantizedMultiplier eighth = quant::quantize_multiplier(0.125);  // M0 = 2^30, right shift 2
  ASSERT_EQ(eighth.shift, -2);
  EXPECT_EQ(gemmlowp(-20, eighth), -3);  // -2.5: -10 exactly, then -10 / 4 away from zero
  EXPECT_EQ(half_up(-20, eighth), -2);   // toward +infinity
  EXPECT_EQ(gemmlowp(20, eighth), 3);    // 2.5: both up
  EXPECT_EQ(half_up(20, eighth), 3);
  EXPECT_TRUE(second_rounding_meets_a_tie(-20, eighth));
}

TEST(NpuRounding, DoubleRoundingMakesNearTiesTies) {
  // 163 / 8 = 20.375, not a tie: gemmlowp 81.5 -> 82, 82 / 4 = 20.5 -> 21; half_up 20.
  const QuantizedMultiplier eighth = quant::quantize_multiplier(0.125);
  EXPECT_EQ(gemmlowp(163, eighth), 21);
  EXPECT_EQ(half_up(163, eighth), 20);
  EXPECT_TRUE(second_rounding_meets_a_tie(163, eighth));
  // -109 * 0.1875 = -20.4375: gemmlowp -81.75 -> -82, -82 / 4 = -20.5 -> -21; half_up -20.
  const QuantizedMultiplier m{3 << 29, -2};  // 0.75 * 2^-2
  EXPECT_EQ(gemmlowp(-109, m), -21);
  EXPECT_EQ(half_up(-109, m), -20);
  // -163 / 8 = -20.375: the high multiply's tie -81.5 goes up to -81, -20.25 -> -20: both -20.
  EXPECT_EQ(gemmlowp(-163, eighth), -20);
  EXPECT_EQ(half_up(-163, eighth), -20);
  // Away from halves the two agree.
  EXPECT_EQ(gemmlowp(-170, eighth), half_up(-170, eighth));  // -21.25
  EXPECT_EQ(gemmlowp(174, eighth), half_up(174, eighth));    // 21.75
  EXPECT_FALSE(second_rounding_meets_a_tie(-170, eighth));
  EXPECT_FALSE(second_rounding_meets_a_tie(174, eighth));
}

TEST(NpuRounding, ModesDifferOnlyWhereGemmlowpMeetsATieAndByOne) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_real_distribution<double> real(1e-6, 1.5);
  int64_t differ = 0, ties = 0;
  for (int i = 0; i < 400000; ++i) {
    const QuantizedMultiplier m = quant::quantize_multiplier(real(rng));
    // Crafted values too: multiples of powers of two make exact and near ties frequent.
    const int32_t x = i % 2 ? acc(rng) : (acc(rng) >> 12) * 8 + static_cast<int32_t>(i % 5) - 2;
    const int32_t a = gemmlowp(x, m), b = half_up(x, m);
    const bool tie = second_rounding_meets_a_tie(x, m);
    ties += tie;
    if (a != b) {
      ++differ;
      ASSERT_TRUE(tie) << "x " << x << " M0 " << m.multiplier << " shift " << m.shift << ": " << a
                       << " vs " << b;
      ASSERT_EQ(std::abs(b - a), 1) << "x " << x << " M0 " << m.multiplier << " shift " << m.shift;
    }
  }
  EXPECT_GT(differ, 0) << "the sweep must reach ties";
  EXPECT_GE(ties, differ);
}

TEST(NpuAccumulator, SixteenBitsSaturateAtEveryAdd) {
  const npu::AccumulatorRange range = npu::AccumulatorRange::of_bits(16);
  EXPECT_EQ(range.low, -32768);
  EXPECT_EQ(range.high, 32767);
  EXPECT_EQ(range.add(32000, 32385), 32767);
  EXPECT_EQ(range.add(-32000, -32385), -32768);
  EXPECT_EQ(npu::AccumulatorRange::of_bits(32).add(INT32_MAX, 1), INT32_MAX);

  // One output of a 1x4 Gemm: (x - zp) = 255 everywhere, weights +127 +127 -127 -127, M = 2^-9.
  // Exact sum 0. Saturating at 16 bits: 32385, 32767 (not 64770), 382, -32003;
  // -32003 / 512 = -62.51 -> gemmlowp: -16001.5 -> -16002, then / 256 = -62.51 -> -63.
  const std::vector<int8_t> a = {127, 127, 127, 127};
  const std::vector<int8_t> w = {127, 127, -127, -127};
  npu::LayerRequant r;
  r.multiplier = quant::quantize_multiplier(1.0 / 512);
  r.may_saturate = true;
  int8_t y = 0;
  r.accumulator = npu::AccumulatorRange::of_bits(16);
  npu::npu_gemm_s8(1, 1, 4, a.data(), -128, w.data(), r, &y);
  EXPECT_EQ(y, -63);
  r.accumulator = npu::AccumulatorRange::of_bits(32);
  npu::npu_gemm_s8(1, 1, 4, a.data(), -128, w.data(), r, &y);
  EXPECT_EQ(y, 0);
  // The bias enters first and saturates too: 40000 -> 32767, + 4 * 32385 stays 32767 -> 64.
  const std::vector<int32_t> bias = {40000};
  const std::vector<int8_t> up = {127, 127, 127, 127};
  r.bias = bias.data();
  r.accumulator = npu::AccumulatorRange::of_bits(16);
  npu::npu_gemm_s8(1, 1, 4, a.data(), -128, up.data(), r, &y);
  EXPECT_EQ(y, 64);
}

TEST(NpuKernels, GemmMatchesRefWhenNothingSaturates) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> code(-128, 127), weight(-127, 127);
  const int64_t m = 3, n = 7, k = 53;
  std::vector<int8_t> a(m * k), w(n * k);
  std::vector<int32_t> bias(n);
  for (auto& v : a) v = static_cast<int8_t>(code(rng));
  for (auto& v : w) v = static_cast<int8_t>(weight(rng));
  for (auto& v : bias) v = code(rng) * 100;
  const QuantizedMultiplier multiplier = quant::quantize_multiplier(0.0031);
  const kernels::QuantizedOutputStage stage{bias.data(), &multiplier, false, 5, -128, 127};
  std::vector<int8_t> expected(m * n), saturating(m * n), plain(m * n);
  kernels::qgemm_s8_ref(m, n, k, a.data(), -17, w.data(), stage, expected.data());
  npu::LayerRequant r;
  r.bias = bias.data();
  r.multiplier = multiplier;
  r.output_zero_point = 5;
  r.may_saturate = true;
  npu::npu_gemm_s8(m, n, k, a.data(), -17, w.data(), r, saturating.data());
  r.may_saturate = false;
  npu::npu_gemm_s8(m, n, k, a.data(), -17, w.data(), r, plain.data());
  EXPECT_EQ(saturating, expected);
  EXPECT_EQ(plain, expected);
}

}  // namespace
