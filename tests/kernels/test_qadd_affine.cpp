// The residual Add's float form (kernels/qadd_affine_s8.hpp) on AVX2: every form the
// exhaustive check accepts gives the reference's bits on every pair of codes, with broadcasting,
// tails and threads; the check rejects wrong forms; the caller's rounding mode cannot change it.
#include <gtest/gtest.h>

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/avx2/qadd_affine_s8_avx2.hpp"
#include "kernels/avx512/qadd_affine_s8_avx512.hpp"
#include "kernels/isa.hpp"
#include "kernels/qadd_affine_s8.hpp"
#include "kernels/qadd_table_s8.hpp"
#include "kernels/ref/qadd_s8_ref.hpp"

using namespace octet::kernels;

namespace {

struct Path {
  const char* name;
  QAddAffineKernel run;
  bool matches(const QAddAffineForm& form, const int8_t* table, int64_t max_table_lanes) const {
    return qadd_affine_form_matches(form, table, run, max_table_lanes);
  }
};

std::vector<Path> available_paths() {
  std::vector<Path> paths;
  const uint32_t isas = available_isas();
  if (isas & static_cast<uint32_t>(Isa::avx2))
    paths.push_back({"avx2", avx2::qadd_affine_s8_avx2});
  if (isas & static_cast<uint32_t>(Isa::avx512_vnni))
    paths.push_back({"avx512", avx512::qadd_affine_s8_avx512});
  return paths;
}

// A real multiplier as Q31 and a power of two (what the quantizer does, written out here).
QuantizedMultiplier q31(double real) {
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);
  int64_t m = std::llround(mantissa * 2147483648.0);
  if (m == (int64_t{1} << 31)) {
    m /= 2;
    ++exponent;
  }
  return {static_cast<int32_t>(m), exponent};
}

// TFLite's Add parameters for input scales sa, sb and output scale so.
QAddParams add_params(double sa, double sb, double so, int32_t za, int32_t zb, int32_t zo, int32_t low = -128) {
  const double twice_max = 2 * std::max(sa, sb);
  return {20, za, zb, zo, q31(sa / twice_max), q31(sb / twice_max), q31(twice_max / (1048576.0 * so)), low, 127};
}

// Every pair of codes, shuffled, twice, plus a tail no vector step covers.
void every_pair(std::vector<int8_t>& a, std::vector<int8_t>& b) {
  std::vector<int> order(65536);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(11));
  for (int i = 0; i < 2 * 65536 + 37; ++i) {
    a.push_back(static_cast<int8_t>(order[static_cast<size_t>(i % 65536)] / 256 - 128));
    b.push_back(static_cast<int8_t>(order[static_cast<size_t>(i % 65536)] % 256 - 128));
  }
}

void expect_reference_results(const Path& path, const QAddParams& p, const QAddAffineForm& form,
                              const std::vector<int8_t>& table) {
  std::vector<int8_t> a, b;
  every_pair(a, b);
  const int64_t count = static_cast<int64_t>(a.size());
  std::vector<int8_t> expected(a.size()), got(a.size());
  qadd_s8_ref(count, a.data(), b.data(), count, p, expected.data());
  for (int threads : {1, 2, 3}) {
    std::fill(got.begin(), got.end(), int8_t{0});
    path.run(count, a.data(), b.data(), count, form, table.data(), got.data(), threads);
    ASSERT_EQ(got, expected) << path.name << ", " << threads << " thread(s)";
  }
  for (int8_t scalar : {int8_t{-128}, int8_t{-1}, int8_t{0}, int8_t{77}, int8_t{127}}) {
    qadd_s8_ref(1000, a.data(), &scalar, 1, p, expected.data());
    path.run(1000, a.data(), &scalar, 1, form, table.data(), got.data(), 1);
    ASSERT_TRUE(std::equal(expected.begin(), expected.begin() + 1000, got.begin())) << path.name << " b = " << int{scalar};
  }
}

TEST(QAddAffine, EveryAcceptedFormGivesTheReferenceBits) {
  const std::vector<Path> paths = available_paths();
  if (paths.empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  // Residual Adds as calibration makes them: input scales up to 4x apart, the output scale
  // between the larger input's and their sum, any zero points, half of them with a fused ReLU.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> code(-128, 127);
  for (const Path& path : paths) {
    int accepted = 0;
    const int configs = 24;
    for (int k = 0; k < configs; ++k) {
      const double sa = 0.01 + 0.05 * unit(rng), sb = sa * (0.25 + 3.75 * unit(rng));
      const double so = std::max(sa, sb) * (1 + unit(rng)) * (0.9 + 0.3 * unit(rng));
      const int32_t zo = code(rng);
      const QAddParams p = add_params(sa, sb, so, code(rng), code(rng), zo, k % 2 ? zo : -128);
      const std::vector<int8_t> table = make_qadd_table_s8(p);
      const std::optional<QAddAffineForm> form = qadd_affine_form(p);
      ASSERT_TRUE(form.has_value()) << "config " << k;
      if (!path.matches(*form, table.data(), 2048)) continue;
      ++accepted;
      expect_reference_results(path, p, *form, table);
    }
    // Otherwise this test would pass with a check that rejects everything.
    EXPECT_GE(accepted, configs * 3 / 4) << path.name;
  }
}

TEST(QAddAffine, TiesComeFromTheTable) {
  // Equal input scales and an output scale 2/3 of them: y = 1.5 (a + b) + K sits on a tie for
  // every odd a + b. Half the pairs are near a tie, too many for the default limit, and taking
  // all of them from the table still gives the reference's bits.
  for (const Path& path : available_paths()) {
    const QAddParams p = add_params(0.03, 0.03, 0.02, 3, -9, 1);
    const std::vector<int8_t> table = make_qadd_table_s8(p);
    const QAddAffineForm form = *qadd_affine_form(p);
    EXPECT_FALSE(path.matches(form, table.data(), 2048)) << path.name;
    ASSERT_TRUE(path.matches(form, table.data(), 65536)) << path.name;
    std::vector<int8_t> a, b;
    every_pair(a, b);
    std::vector<int8_t> out(a.size());
    EXPECT_GE(path.run(65536, a.data(), b.data(), 65536, form, table.data(), out.data(), 1), 65536 / 4) << path.name;
    expect_reference_results(path, p, form, table);
  }
}

TEST(QAddAffine, TheCheckRejectsWrongForms) {
  for (const Path& path : available_paths()) {
    const QAddParams p = add_params(0.04, 0.0237, 0.05, -5, 20, -128, -128);
    const std::vector<int8_t> table = make_qadd_table_s8(p);
    const QAddAffineForm form = *qadd_affine_form(p);
    ASSERT_TRUE(path.matches(form, table.data(), 2048)) << path.name;
    QAddAffineForm off_by_one_step = form, off_by_a_hair = form, wrong_scale = form, wrong_clamp = form;
    off_by_one_step.offset += 4096;
    off_by_a_hair.offset += 40;  // 1% of a step: a few hundred pairs round the other way
    wrong_scale.b_coefficient *= 1.001f;
    wrong_clamp.low = -127;  // the output zero point is -128: many pairs clamp there
    const QAddAffineForm wrong[] = {off_by_one_step, off_by_a_hair, wrong_scale, wrong_clamp};
    for (int k = 0; k < 4; ++k) EXPECT_FALSE(path.matches(wrong[k], table.data(), 65536)) << path.name << " form " << k;
  }
}

TEST(QAddAffine, NoFormWhereFloatCouldMisbehave) {
  // An output scale 10^4 times finer than the inputs': Y would pass float's 2^24 integers.
  EXPECT_FALSE(qadd_affine_form(add_params(0.05, 0.05, 0.000005, 0, 0, 0)).has_value());
  // Coefficients below 2^-60: a flush-to-zero mode could change the sums.
  EXPECT_FALSE(qadd_affine_form(add_params(1e-25, 1.0, 1.0, 0, 0, 0)).has_value());
  EXPECT_TRUE(qadd_affine_form(add_params(0.05, 0.04, 0.06, 0, 0, 0)).has_value());
}

TEST(QAddAffine, TheCallersRoundingModeChangesNothing) {
  // An embedding application running with round-down and flush-to-zero: the kernels round to
  // nearest regardless (MXCSR set for the call, on every thread of it) and leave the
  // caller's mode as it was.
  for (const Path& path : available_paths()) {
    const QAddParams p = add_params(0.04, 0.0237, 0.05, -5, 20, 3);
    const std::vector<int8_t> table = make_qadd_table_s8(p);
    const QAddAffineForm form = *qadd_affine_form(p);
    ASSERT_TRUE(path.matches(form, table.data(), 2048)) << path.name;
    std::vector<int8_t> a, b;
    every_pair(a, b);
    const int64_t count = static_cast<int64_t>(a.size());
    std::vector<int8_t> expected(a.size()), got(a.size());
    qadd_s8_ref(count, a.data(), b.data(), count, p, expected.data());
    const unsigned saved = _mm_getcsr();
    const unsigned round_down_ftz_daz = (saved & ~0x6000u) | 0x2000u | 0x8040u;
    _mm_setcsr(round_down_ftz_daz);
    path.run(count, a.data(), b.data(), count, form, table.data(), got.data(), 1);
    const unsigned after = _mm_getcsr();
    _mm_setcsr(saved);
    EXPECT_EQ(after & ~0x3Fu, round_down_ftz_daz & ~0x3Fu) << path.name << ": the caller's mode was not restored";
    EXPECT_EQ(got, expected) << path.name;
  }
}

}  // namespace
