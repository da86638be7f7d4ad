// Every AVX2 int8 path against the scalar reference, bit for bit: random shapes that fit no
// tile, strides, padding, dilation, groups, 7-bit and full-range weights, extreme activations
// and zero points, 1/2/3 threads.
#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/avx2/qconv2d_s8_avx2.hpp"
#include "kernels/avx512/pool2d_s8_avx512.hpp"
#include "kernels/avx512/qgemm_channel_lanes_vnni.hpp"
#include "kernels/avx512/qadd_table_s8_avx512.hpp"
#include "kernels/isa.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"
#include "kernels/ref/qgemm_s8_ref.hpp"
#include "kernels/requantize.hpp"
#include "tests/scoped_env.hpp"

using namespace octet::kernels;

namespace {

bool have_avx2() { return (available_isas() & static_cast<uint32_t>(Isa::avx2)) != 0; }

enum class Values { random, all_min, all_max, alternating };

struct Problem {
  Conv2dShape shape;
  int weight_limit;  // |w| <= limit (64: the vpmaddubsw-exact range; 127: split path)
  Values values;
  int32_t input_zero_point, output_zero_point;
  int threads;
  int32_t low = -128, high = 127;  // the fused activation's clamp
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

void check(const Problem& p, std::mt19937& rng) {
  const Conv2dShape& s = p.shape;
  const int64_t per_group = s.in_channels / s.groups, out_per_group = s.out_channels / s.groups;
  const int64_t depth = per_group * s.kernel_h * s.kernel_w;
  std::vector<int8_t> x = make_values(static_cast<size_t>(s.batch * s.in_channels * s.in_h * s.in_w), p.values, -128, 127, rng);
  std::vector<int8_t> w = make_values(static_cast<size_t>(s.out_channels * depth), p.values, -p.weight_limit, p.weight_limit, rng);
  std::vector<int32_t> bias(static_cast<size_t>(s.out_channels));
  std::uniform_int_distribution<int32_t> bias_dist(-50000, 50000);
  for (auto& b : bias) b = bias_dist(rng);
  std::vector<QuantizedMultiplier> multipliers(static_cast<size_t>(s.out_channels));
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> shift(-14, 1);
  for (auto& m : multipliers) m = {mantissa(rng), shift(rng)};
  const QuantizedOutputStage stage{bias.data(), multipliers.data(), true, p.output_zero_point, p.low, p.high};

  const size_t out_count = static_cast<size_t>(s.batch * s.out_channels * s.out_h * s.out_w);
  std::vector<int8_t> expected(out_count), got(out_count, 0x55);
  qconv2d_s8_ref(s, x.data(), p.input_zero_point, w.data(), stage, expected.data());

  // Every GEMM path this CPU has: vpmaddubsw (AVX2) and, where present, vpdpbusd (VNNI) on an
  // im2col panel (pack_weights) and on channel-quad planes (pack_conv_weights, the backend's),
  // each with its column tiles and its channel-lane tiles (forced: by shape, only small maps
  // would take them).
  enum class Mode { avx2, vnni_panel, vnni_channel_quads, vnni_panel_lanes, vnni_channel_quads_lanes };
  std::vector<Mode> modes{Mode::avx2};
  if (available_isas() & static_cast<uint32_t>(Isa::avx512_vnni))
    modes.insert(modes.end(), {Mode::vnni_panel, Mode::vnni_channel_quads, Mode::vnni_panel_lanes,
                               Mode::vnni_channel_quads_lanes});
  for (Mode mode : modes) {
    const bool vnni = mode != Mode::avx2;
    const bool lanes = mode == Mode::vnni_panel_lanes || mode == Mode::vnni_channel_quads_lanes;
    const bool planes = mode == Mode::vnni_channel_quads || mode == Mode::vnni_channel_quads_lanes;
    std::vector<avx2::PackedWeights> packed;
    std::vector<avx2::RowOutputStage> stages;
    for (int64_t g = 0; g < s.groups; ++g) {
      const int8_t* group_weights = w.data() + g * out_per_group * depth;
      packed.push_back(planes ? avx2::pack_conv_weights(s, group_weights, out_per_group, true,
                                                        lanes ? avx2::VnniTiles::channel_lanes : avx2::VnniTiles::columns)
                              : avx2::pack_weights(group_weights, out_per_group, depth, vnni, lanes));
      EXPECT_EQ(packed.back().channel_lanes, lanes);
      const QuantizedOutputStage group_stage{bias.data() + g * out_per_group, multipliers.data() + g * out_per_group,
                                             true, p.output_zero_point, p.low, p.high};
      stages.push_back(avx2::make_row_output_stage(packed.back(), p.input_zero_point, group_stage));
    }
    EXPECT_EQ(packed[0].split, !vnni && p.weight_limit > 64);
    std::fill(got.begin(), got.end(), int8_t{0x55});
    avx2::qconv2d_s8_avx2(s, x.data(), p.input_zero_point, packed, stages, got.data(), p.threads);
    size_t differences = 0;
    for (size_t i = 0; i < out_count; ++i) differences += got[i] != expected[i];
    const char* names[] = {" (avx2)", " (vnni, panel)", " (vnni, channel quads)", " (vnni, panel, channel lanes)",
                           " (vnni, channel quads, channel lanes)"};
    EXPECT_EQ(differences, 0u) << "of " << out_count << " outputs" << names[static_cast<int>(mode)];
  }
}
TEST(QConvAvx2, BitExactOnRandomShapes) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> small(1, 9), channels(1, 21), kernel(1, 5), stride(1, 3), dilation(1, 2),
      pad(0, 2), zp(-128, 127);
  for (int trial = 0; trial < 150; ++trial) {
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
    SCOPED_TRACE("trial " + std::to_string(trial) + " c" + std::to_string(s.in_channels) + " o" + std::to_string(s.out_channels) + " g" + std::to_string(s.groups) + " k" + std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) + " in" + std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + " out" + std::to_string(s.out_h) + "x" + std::to_string(s.out_w) + " s" + std::to_string(s.stride_h) + std::to_string(s.stride_w) + " d" + std::to_string(s.dilation_h) + std::to_string(s.dilation_w) + " p" + std::to_string(s.pad_top) + std::to_string(s.pad_left));
    check({s, trial % 2 ? 64 : 127, Values::random, zp(rng), zp(rng), 1 + trial % 3}, rng);
  }
}

TEST(QConvAvx2, BitExactOnExtremeValuesAndZeroPoints) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(7);
  const Conv2dShape s{1, 37, 9, 11, 19, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  for (Values values : {Values::all_min, Values::all_max, Values::alternating, Values::random})
    for (int limit : {63, 64, 127})
      for (int32_t zp : {-128, 127, 0})
        for (int threads : {1, 2, 3}) {
          SCOPED_TRACE("values " + std::to_string(static_cast<int>(values)) + " limit " + std::to_string(limit) +
                       " zp " + std::to_string(zp) + " threads " + std::to_string(threads));
          check({s, limit, values, zp, -zp / 2, threads}, rng);
        }
}

TEST(QConvAvx2, PointwiseAndLargeDepth) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(11);
  check({{1, 70, 7, 7, 33, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, -3, 9, 2}, rng);
  check({{1, 256, 5, 5, 20, 3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 1}, 64, Values::random, 12, -7, 1}, rng);
  // Largest accumulators: all extreme values over a deep reduction.
  check({{1, 512, 3, 3, 8, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 1}, 127, Values::all_min, 127, 0, 1}, rng);
  // ResNet's 7x7 stage (by shape: channel-lane tiles), 3x3 and 1x1 stride 2, rows not a multiple of 32.
  for (int threads : {1, 2, 3}) {
    check({{1, 96, 7, 7, 72, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1}, 127, Values::random, 4, -2, threads}, rng);
    check({{1, 64, 14, 14, 40, 7, 7, 1, 1, 2, 2, 1, 1, 0, 0, 1}, 127, Values::random, -9, 3, threads}, rng);
  }
}

// Pointwise convolutions on more than one thread: the VNNI column tiles pack each run of column
// tiles themselves. Depths that are not a multiple of 4, column counts that end mid-block and
// mid-tile (and 10 blocks: the 2 + 2 remainder), runs shorter than 4 tiles, and products large
// enough that the threads really split them; more weight rows than columns too.
TEST(QConvAvx2, PointwiseColumnRunsOnSeveralThreads) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(29);
  for (int threads : {2, 3}) {
    check({{1, 70, 29, 31, 40, 29, 31, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, -3, 9, threads}, rng);
    check({{1, 64, 10, 16, 64, 10, 16, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, 5, -1, threads}, rng);
    check({{1, 256, 56, 56, 64, 56, 56, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, 0, -128, threads}, rng);
    check({{1, 33, 7, 9, 24, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::all_max, 127, 3, threads}, rng);
    // More weight rows than columns: each thread packs the whole panel.
    check({{1, 94, 7, 9, 80, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, -17, 2, threads}, rng);
    check({{1, 1024, 14, 14, 256, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, -128, 5, threads}, rng);
  }
}

// One thread packs a pointwise convolution's panel by runs of column tiles too once the panel
// reaches 512 KB: depths not a multiple of 4, columns ending mid-block (45 x 47 = 2115).
TEST(QConvAvx2, PointwiseLargePanelPackedByRunsOnOneThread) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(37);
  check({{1, 258, 45, 47, 40, 45, 47, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, 7, -5, 1}, rng);
  check({{1, 256, 56, 56, 64, 56, 56, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::all_min, -128, 127, 1}, rng);
}

// Maps whose extended rows are 16 columns or wider: the VNNI column tiles store only the kept
// columns, straight into the output rows (a tile's 48 columns then touch up to 4 rows), so
// every row width from 16 to past a tile's width, row starts at every offset, partial tiles.
TEST(QConvAvx2, ExtendedColumnsStoredStraightIntoOutputRows) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(31);
  int trial = 0;
  for (int64_t out_w : {14, 15, 16, 17, 23, 28, 31, 47, 50}) {
    for (int64_t stride : {1, 2}) {
      for (int64_t out_h : {4, 10}) {
        Conv2dShape s{};
        s.batch = 1;
        s.groups = 1;
        s.in_channels = 8;
        s.out_channels = 12;
        s.kernel_h = s.kernel_w = 3;
        s.stride_h = s.stride_w = stride;
        s.dilation_h = s.dilation_w = 1;
        s.pad_top = s.pad_left = 1;
        s.out_h = out_h;
        s.out_w = out_w;
        s.in_h = (s.out_h - 1) * stride + 1;
        s.in_w = (s.out_w - 1) * stride + 1;
        SCOPED_TRACE("out " + std::to_string(s.out_h) + "x" + std::to_string(out_w) + " stride " + std::to_string(stride));
        check({s, 127, Values::random, -3, 7, 1 + trial++ % 2, -128, 127}, rng);
        check({s, 127, Values::random, 5, -20, 2, -20, 127}, rng);
      }
    }
  }
}

TEST(QConvAvx2, FusedClampsBitExact) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(31);
  // ReLU (low = the output zero point, high = 127), ReLU6-like (high < 127), and a clamp below zero.
  for (const auto& [low, high] : {std::pair<int32_t, int32_t>{-5, 127}, {-5, 60}, {-128, -20}}) {
    check({{1, 24, 9, 9, 40, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1}, 127, Values::random, 3, -5, 2, low, high}, rng);
    check({{1, 40, 7, 7, 36, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 127, Values::random, -7, -5, 1, low, high}, rng);
  }
}

TEST(QGemmAvx2, MatchesReferenceForSeveralRowCounts) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(5);
  for (int64_t m : {1, 2, 5, 16, 17, 29, 64}) {
    for (int limit : {64, 127}) {
      const int64_t n = 37, k = 75;
      std::vector<int8_t> a = make_values(static_cast<size_t>(m * k), Values::random, -128, 127, rng);
      std::vector<int8_t> w = make_values(static_cast<size_t>(n * k), Values::random, -limit, limit, rng);
      std::vector<int32_t> bias(n, 1234);
      std::vector<QuantizedMultiplier> multipliers(n, QuantizedMultiplier{1518500250, -8});
      const QuantizedOutputStage stage{bias.data(), multipliers.data(), true, -5, -128, 127};
      std::vector<int8_t> expected(static_cast<size_t>(m * n)), got(static_cast<size_t>(m * n));
      qgemm_s8_ref(m, n, k, a.data(), 17, w.data(), stage, expected.data());
      // AVX2, VNNI column tiles, VNNI channel-lane tiles.
      for (int path = 0; path < 3; ++path) {
        const bool vnni = path > 0, lanes = path == 2;
        if (vnni && !(available_isas() & static_cast<uint32_t>(Isa::avx512_vnni))) continue;
        const avx2::PackedWeights packed = avx2::pack_weights(w.data(), n, k, vnni, lanes);
        std::fill(got.begin(), got.end(), int8_t{0});
        avx2::qgemm_s8_avx2(m, a.data(), 17, packed, avx2::make_row_output_stage(packed, 17, stage), got.data(), 2);
        EXPECT_EQ(got, expected) << "m=" << m << " limit=" << limit << (vnni ? " vnni" : "") << (lanes ? " lanes" : "");
      }
    }
  }
}

// The epilogue on its own: every right shift 0..31 and left shifts, multipliers at their ends
// (2^30 makes every odd accumulator an exact tie of the first rounding), accumulators across the
// int32 range (left shifts saturate), zero points at their ends (folded into the rounding or not,
// by shift) and fused clamps; through the column tiles, the channel-lane tiles and the GEMV.
TEST(QGemmAvx2, OutputStageBitExactForEveryShiftMultiplierAndZeroPoint) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(77);
  const int64_t n = 35 * 12, k = 8;
  std::vector<int32_t> bias(static_cast<size_t>(n));
  std::vector<QuantizedMultiplier> multipliers(static_cast<size_t>(n));
  std::uniform_int_distribution<int32_t> mantissa(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> large(-(1 << 30) - (1 << 29), (1 << 30) + (1 << 29)), small(-5000, 5000);
  const int32_t edge_mantissas[] = {1 << 30, (1 << 30) + 1, INT32_MAX};
  for (int64_t r = 0; r < n; ++r) {
    const int32_t shift = static_cast<int32_t>(r % 35) - 31;  // -31 .. 3
    multipliers[static_cast<size_t>(r)] = {r / 35 < 3 ? edge_mantissas[r / 35] : mantissa(rng), shift};
  }
  for (int32_t zero_point : {-128, -3, 0, 9, 127}) {
    // Large accumulators everywhere the output stage is defined: a left shift saturates them
    // near INT32_MAX, and adding a nonzero zero point to that overflows int32, which the spec
    // (kernels/requantize.hpp, as TFLite) leaves undefined; so those rows saturate with zero
    // point 0 only.
    for (int64_t r = 0; r < n; ++r) {
      const bool defined = multipliers[static_cast<size_t>(r)].shift <= 0 || zero_point == 0;
      bias[static_cast<size_t>(r)] = r % 2 && defined ? large(rng) : small(rng);
    }
    // A ReLU's floor at the zero point (negative products skip their drop), one step below it
    // (they may not), and a clamp on both sides.
    for (const auto& [low, high] : {std::pair{-128, 127}, std::pair{zero_point, 127},
                                    std::pair{std::max(zero_point - 1, -128), 127}, std::pair{-100, 6}}) {
      const QuantizedOutputStage stage{bias.data(), multipliers.data(), true, zero_point, low, high};
      for (int64_t m : {1, 5, 16, 48, 61, 100}) {
        std::vector<int8_t> a = make_values(static_cast<size_t>(m * k), Values::random, -128, 127, rng);
        std::vector<int8_t> w = make_values(static_cast<size_t>(n * k), Values::random, -127, 127, rng);
        std::vector<int8_t> expected(static_cast<size_t>(m * n)), got(static_cast<size_t>(m * n));
        qgemm_s8_ref(m, n, k, a.data(), -7, w.data(), stage, expected.data());
        for (int path = 0; path < 3; ++path) {
          const bool vnni = path > 0, lanes = path == 2;
          if (vnni && !(available_isas() & static_cast<uint32_t>(Isa::avx512_vnni))) continue;
          const avx2::PackedWeights packed = avx2::pack_weights(w.data(), n, k, vnni, lanes);
          std::fill(got.begin(), got.end(), int8_t{0x55});
          avx2::qgemm_s8_avx2(m, a.data(), -7, packed, avx2::make_row_output_stage(packed, -7, stage), got.data(), 1);
          size_t differences = 0;
          for (size_t i = 0; i < got.size(); ++i) differences += got[i] != expected[i];
          EXPECT_EQ(differences, 0u) << "m=" << m << " zp=" << zero_point << " clamp [" << low << ", " << high << "]"
                                     << (vnni ? " vnni" : "") << (lanes ? " lanes" : "");
        }
      }
    }
  }
}

}  // namespace

#include "kernels/avx2/elementwise_s8_avx2.hpp"
#include "kernels/ref/quantize_ref.hpp"

namespace {

TEST(ElementwiseAvx2, QuantizeAndDequantizeBitExactIncludingSpecialValues) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> x(1003);
  for (auto& v : x) v = dist(rng);
  // Exact ties, huge values, infinities, NaN, signed zeros.
  const float specials[] = {0.5f * 0.02f, 1.5f * 0.02f, -2.5f * 0.02f, 1e30f, -1e30f, INFINITY, -INFINITY,
                            NAN, 0.0f, -0.0f};
  std::copy(std::begin(specials), std::end(specials), x.begin());
  for (int32_t zp : {-128, -5, 0, 77, 127}) {
    std::vector<int8_t> expected(x.size()), got(x.size());
    quantize_f32_to_s8_ref(static_cast<int64_t>(x.size()), x.data(), 0.02f, zp, expected.data());
    avx2::quantize_f32_to_s8_avx2(static_cast<int64_t>(x.size()), x.data(), 0.02f, zp, got.data());
    EXPECT_EQ(got, expected) << "zp " << zp;
    std::vector<float> back_expected(x.size()), back(x.size());
    dequantize_s8_to_f32_ref(static_cast<int64_t>(x.size()), expected.data(), 0.02f, zp, back_expected.data());
    avx2::dequantize_s8_to_f32_avx2(static_cast<int64_t>(x.size()), expected.data(), 0.02f, zp, back.data());
    EXPECT_EQ(0, std::memcmp(back.data(), back_expected.data(), back.size() * sizeof(float)));
  }
  // Large enough for the threads to split it (an odd count: a scalar tail), specials throughout.
  std::vector<float> large(150531);
  for (size_t i = 0; i < large.size(); ++i) large[i] = i % 97 < 10 ? specials[i % 97] : dist(rng);
  std::vector<int8_t> expected(large.size()), got(large.size());
  quantize_f32_to_s8_ref(static_cast<int64_t>(large.size()), large.data(), 0.02f, 3, expected.data());
  std::vector<float> back_expected(large.size()), back(large.size());
  dequantize_s8_to_f32_ref(static_cast<int64_t>(large.size()), expected.data(), 0.02f, 3, back_expected.data());
  for (int threads : {1, 2, 3}) {
    std::fill(got.begin(), got.end(), int8_t{0x55});
    avx2::quantize_f32_to_s8_avx2(static_cast<int64_t>(large.size()), large.data(), 0.02f, 3, got.data(), threads);
    EXPECT_EQ(got, expected) << threads << " threads";
    std::fill(back.begin(), back.end(), -1.0f);
    avx2::dequantize_s8_to_f32_avx2(static_cast<int64_t>(large.size()), expected.data(), 0.02f, 3, back.data(), threads);
    EXPECT_EQ(0, std::memcmp(back.data(), back_expected.data(), back.size() * sizeof(float))) << threads << " threads";
  }
}

}  // namespace

#include "kernels/avx2/dwconv2d_s8_avx2.hpp"

namespace {

TEST(DepthwiseAvx2, BitExactAgainstReference) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> code(-128, 127), zp(-128, 127), size(1, 20), stride(1, 2), kernel(1, 5),
      dilation(1, 2), pad(0, 2), channels(1, 13);
  for (int trial = 0; trial < 120; ++trial) {
    Conv2dShape s{};
    s.batch = 1 + trial % 2;
    s.in_channels = s.out_channels = s.groups = channels(rng);
    s.kernel_h = trial % 4 == 0 ? 3 : kernel(rng);
    s.kernel_w = trial % 4 == 0 ? 3 : kernel(rng);
    s.stride_h = stride(rng);
    s.stride_w = stride(rng);
    s.dilation_h = dilation(rng);
    s.dilation_w = dilation(rng);
    s.pad_top = pad(rng);
    s.pad_left = pad(rng);
    s.in_h = size(rng) + (s.kernel_h - 1) * s.dilation_h;
    s.in_w = size(rng) + (s.kernel_w - 1) * s.dilation_w;
    s.out_h = (s.in_h + s.pad_top + pad(rng) - (s.kernel_h - 1) * s.dilation_h - 1) / s.stride_h + 1;
    s.out_w = (s.in_w + s.pad_left + pad(rng) - (s.kernel_w - 1) * s.dilation_w - 1) / s.stride_w + 1;
    std::vector<int8_t> x = make_values(static_cast<size_t>(s.batch * s.in_channels * s.in_h * s.in_w),
                                        trial % 5 == 0 ? Values::all_min : Values::random, -128, 127, rng);
    std::vector<int8_t> w = make_values(static_cast<size_t>(s.out_channels * s.kernel_h * s.kernel_w),
                                        trial % 5 == 0 ? Values::all_max : Values::random, -127, 127, rng);
    std::vector<int32_t> bias(static_cast<size_t>(s.out_channels));
    for (auto& b : bias) b = code(rng) * 100;
    std::vector<QuantizedMultiplier> multipliers(static_cast<size_t>(s.out_channels), QuantizedMultiplier{1300000000, -7});
    const QuantizedOutputStage stage{bias.data(), multipliers.data(), true, zp(rng), -128, 127};
    const int32_t input_zp = trial % 5 == 0 ? 127 : zp(rng);
    const size_t count = static_cast<size_t>(s.batch * s.out_channels * s.out_h * s.out_w);
    std::vector<int8_t> expected(count), got(count);
    qconv2d_s8_ref(s, x.data(), input_zp, w.data(), stage, expected.data());
    avx2::dwconv2d_s8_avx2(s, x.data(), input_zp, w.data(), stage, got.data(), 1 + trial % 3);
    ASSERT_EQ(got, expected) << "trial " << trial;
  }
}

}  // namespace

#include "kernels/avx2/pool2d_s8_avx2.hpp"
#include "kernels/ref/pool2d_ref.hpp"
#include "kernels/ref/qpool2d_s8_ref.hpp"

namespace {

TEST(PoolAvx2, MaxPoolBitExactAgainstReference) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> size(1, 70), kernel(1, 4), stride(1, 3), dilation(1, 2), pad(0, 1);
  for (int trial = 0; trial < 150; ++trial) {
    Pool2dShape s{};
    s.batch = 1;
    s.channels = 1 + trial % 4;
    s.kernel_h = kernel(rng);
    s.kernel_w = kernel(rng);
    s.stride_h = stride(rng);
    s.stride_w = stride(rng);
    s.dilation_h = dilation(rng);
    s.dilation_w = dilation(rng);
    s.pad_top = std::min<int64_t>(pad(rng), s.kernel_h / 2);
    s.pad_left = std::min<int64_t>(pad(rng), s.kernel_w / 2);
    s.pad_bottom = std::min<int64_t>(pad(rng), s.kernel_h / 2);
    s.pad_right = std::min<int64_t>(pad(rng), s.kernel_w / 2);
    s.in_h = size(rng) + (s.kernel_h - 1) * s.dilation_h;
    s.in_w = size(rng) + (s.kernel_w - 1) * s.dilation_w;
    s.out_h = (s.in_h + s.pad_top + s.pad_bottom - (s.kernel_h - 1) * s.dilation_h - 1) / s.stride_h + 1;
    s.out_w = (s.in_w + s.pad_left + s.pad_right - (s.kernel_w - 1) * s.dilation_w - 1) / s.stride_w + 1;
    std::vector<int8_t> x = make_values(static_cast<size_t>(s.channels * s.in_h * s.in_w),
                                        trial % 7 == 0 ? Values::all_min : Values::random, -128, 127, rng);
    const size_t count = static_cast<size_t>(s.channels * s.out_h * s.out_w);
    std::vector<int8_t> expected(count), got(count);
    max_pool2d_s8_ref(s, x.data(), expected.data());
    avx2::max_pool2d_s8_avx2(s, x.data(), got.data(), 1 + trial % 2);
    ASSERT_EQ(got, expected) << "trial " << trial;
    if (available_isas() & static_cast<uint32_t>(Isa::avx512_vnni)) {  // strides 1 and 2 only
      std::fill(got.begin(), got.end(), int8_t{0x55});
      const bool ran = octet::kernels::avx512::max_pool2d_s8_avx512(s, x.data(), got.data(), 1 + trial % 2);
      EXPECT_EQ(ran, s.stride_w <= 2);
      if (ran) {
        ASSERT_EQ(got, expected) << "trial " << trial << " avx512";
      }
    }
  }
}

// Large enough for the kernels' thread teams (a ResNet stem pool): the planes are shared out
// dynamically, so every thread count must give the reference's bytes.
TEST(PoolAvx2, MaxPoolOnThreadsBitExactAgainstReference) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(29);
  Pool2dShape s{};
  s.batch = 1;
  s.channels = 37;
  s.in_h = s.in_w = 112;
  s.kernel_h = s.kernel_w = 3;
  s.stride_h = s.stride_w = 2;
  s.dilation_h = s.dilation_w = 1;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
  s.out_h = s.out_w = 56;
  std::vector<int8_t> x = make_values(static_cast<size_t>(s.channels * s.in_h * s.in_w), Values::random, -128, 127, rng);
  const size_t count = static_cast<size_t>(s.channels * s.out_h * s.out_w);
  std::vector<int8_t> expected(count), got(count);
  max_pool2d_s8_ref(s, x.data(), expected.data());
  for (int threads : {1, 2, 3}) {
    std::fill(got.begin(), got.end(), int8_t{0x55});
    avx2::max_pool2d_s8_avx2(s, x.data(), got.data(), threads);
    ASSERT_EQ(got, expected) << threads << " thread(s)";
    if (available_isas() & static_cast<uint32_t>(Isa::avx512_vnni)) {
      std::fill(got.begin(), got.end(), int8_t{0x55});
      ASSERT_TRUE(octet::kernels::avx512::max_pool2d_s8_avx512(s, x.data(), got.data(), threads));
      ASSERT_EQ(got, expected) << threads << " thread(s), avx512";
    }
  }
}

TEST(PoolAvx2, GlobalAveragePoolBitExact) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(29);
  for (int64_t plane : {1, 7, 32, 49, 100, 3136}) {
    for (Values values : {Values::random, Values::all_min, Values::all_max}) {
      std::vector<int8_t> x = make_values(static_cast<size_t>(5 * plane), values, -128, 127, rng);
      std::vector<int8_t> expected(5), got(5);
      global_average_pool_s8_ref(5, plane, x.data(), expected.data());
      avx2::global_average_pool_s8_avx2(5, plane, x.data(), got.data());
      EXPECT_EQ(got, expected) << "plane " << plane;
    }
  }
}

}  // namespace

#include "kernels/qadd_table_s8.hpp"

namespace {

TEST(ElementwiseAvx2, QAddTableGatherMatchesTheScalarLookup) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  // Every pair of codes in a shuffled order, an odd count (scalar tail), broadcast b, threads.
  const QAddParams p{20, 7, -3, -128, {1073741824, 0}, {1149096268, -6}, {1717986918, -12}, -128, 127};
  const std::vector<int8_t> table = octet::kernels::make_qadd_table_s8(p);
  std::vector<int> order(65536);
  for (int i = 0; i < 65536; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(9));
  std::vector<int8_t> a, b;
  for (int i = 0; i < 2 * 65536 + 5; ++i) {
    a.push_back(static_cast<int8_t>(order[static_cast<size_t>(i % 65536)] / 256 - 128));
    b.push_back(static_cast<int8_t>(order[static_cast<size_t>(i % 65536)] % 256 - 128));
  }
  const int64_t count = static_cast<int64_t>(a.size());
  std::vector<int8_t> expected(a.size()), got(a.size());
  octet::kernels::qadd_table_s8(count, a.data(), b.data(), count, table.data(), expected.data());
  // The AVX2 gathers and, where the CPU has them, the AVX-512 ones.
  const bool avx512 = (available_isas() & static_cast<uint32_t>(Isa::avx512_vnni)) != 0;
  using QAddFn = void (*)(int64_t, const int8_t*, const int8_t*, int64_t, const int8_t*, int8_t*, int);
  std::vector<QAddFn> paths{avx2::qadd_table_s8_avx2};
  if (avx512) paths.push_back(octet::kernels::avx512::qadd_table_s8_avx512);
  for (QAddFn qadd : paths) {
    for (int threads : {1, 2}) {
      qadd(count, a.data(), b.data(), count, table.data(), got.data(), threads);
      EXPECT_EQ(got, expected) << threads << " thread(s)" << (qadd == paths[0] ? " avx2" : " avx512");
    }
    for (int8_t scalar : {int8_t{-128}, int8_t{127}}) {
      std::vector<int8_t> expected_broadcast(101);
      octet::kernels::qadd_table_s8(101, a.data(), &scalar, 1, table.data(), expected_broadcast.data());
      qadd(101, a.data(), &scalar, 1, table.data(), got.data(), 1);
      EXPECT_TRUE(std::equal(expected_broadcast.begin(), expected_broadcast.end(), got.begin()));
    }
  }
}

}  // namespace

// The tile choice by shape: the channel-lane tiles for narrow outputs; for small maps whose
// column tiles would waste over a tenth of their work on a core that issues three loads per
// cycle; for every map up to 256 pixels on one that issues four narrow loads.
TEST(QConvAvx2, ChannelLaneTilesChosenByShapeAndLoadPorts) {
  using octet::kernels::CoreLoads;
  // ResNet's 7x7 maps (49 columns, 63 extended): on every core.
  for (CoreLoads loads : {CoreLoads::two, CoreLoads::three, CoreLoads::four_narrow})
    EXPECT_TRUE(avx2::vnni_channel_lanes_suit(49, 63, loads));
  // A 3x3 on 14x14 (196 columns, 224 extended): not with two loads per cycle.
  EXPECT_TRUE(avx2::vnni_channel_lanes_suit(196, 224, CoreLoads::three));
  EXPECT_TRUE(avx2::vnni_channel_lanes_suit(196, 224, CoreLoads::four_narrow));
  EXPECT_FALSE(avx2::vnni_channel_lanes_suit(196, 224, CoreLoads::two));
  // A 1x1 on 14x14 (208 computed for 196: under a tenth wasted): only with four narrow loads.
  EXPECT_TRUE(avx2::vnni_channel_lanes_suit(196, 196, CoreLoads::four_narrow));
  EXPECT_FALSE(avx2::vnni_channel_lanes_suit(196, 196, CoreLoads::three));
  EXPECT_FALSE(avx2::vnni_channel_lanes_suit(196, 196, CoreLoads::two));
  // A 28x28 map and a large one: never.
  for (CoreLoads loads : {CoreLoads::two, CoreLoads::three, CoreLoads::four_narrow}) {
    EXPECT_FALSE(avx2::vnni_channel_lanes_suit(784, 784, loads));
    EXPECT_FALSE(avx2::vnni_channel_lanes_suit(3136, 3248, loads));
  }
}

// The channel-lane tile height: 64 rows (6 columns per tile) from 4 blocks of 16 rows (49 rows)
// on, on more than one thread only with at least two such tiles per thread, and never on a core
// with four narrow loads per cycle; 32 rows (12 columns) otherwise.
TEST(QConvAvx2, ChannelLaneTileRowsByRowsThreadsAndLoads) {
  using octet::kernels::CoreLoads;
  for (CoreLoads loads : {CoreLoads::two, CoreLoads::three}) {
    EXPECT_EQ(avx512::channel_lane_tile_rows(48, 1, loads), 32);
    EXPECT_EQ(avx512::channel_lane_tile_rows(49, 1, loads), 64);  // 4 blocks of 16, the last one partial
    EXPECT_EQ(avx512::channel_lane_tile_rows(512, 1, loads), 64);
    EXPECT_EQ(avx512::channel_lane_tile_rows(240, 2, loads), 32);
    EXPECT_EQ(avx512::channel_lane_tile_rows(256, 2, loads), 64);
    EXPECT_EQ(avx512::channel_lane_tile_rows(368, 3, loads), 32);
    EXPECT_EQ(avx512::channel_lane_tile_rows(384, 3, loads), 64);
  }
  for (int64_t rows : {48, 49, 512, 2048}) EXPECT_EQ(avx512::channel_lane_tile_rows(rows, 1, CoreLoads::four_narrow), 32);
}

// OCTET_CORE_LOADS for the length of a scope. reset_active_isa() only marks the value stale, so
// the kernels' next call reads the variable as it is then: forced inside, restored after.
class ScopedCoreLoads {
 public:
  explicit ScopedCoreLoads(const char* value) : env_("OCTET_CORE_LOADS", std::string(value)) {
    octet::kernels::reset_active_isa();
  }
  ~ScopedCoreLoads() { octet::kernels::reset_active_isa(); }
  ScopedCoreLoads(const ScopedCoreLoads&) = delete;
  ScopedCoreLoads& operator=(const ScopedCoreLoads&) = delete;

 private:
  octet::test::ScopedEnv env_;
};

// The 64-row channel-lane tiles bit-exact: row counts that end mid-block and mid-tile (the last
// row tile then has 1 to 3 blocks), column counts from 1 to past a tile's 6 (every edge tile
// width), depths over several K chunks, and the thread counts that switch between tile heights;
// on a two-load core (forced), which takes them, and on a four-narrow-load one, which does not.
TEST(QConvAvx2, WideChannelLaneTilesBitExact) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  if (!(available_isas() & static_cast<uint32_t>(Isa::avx512_vnni))) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  for (const char* loads : {"two", "four-narrow"}) {
    const ScopedCoreLoads forced(loads);
    SCOPED_TRACE(std::string("OCTET_CORE_LOADS=") + loads);
    std::mt19937 rng(41);
    int trial = 0;
    for (int64_t rows : {64, 72, 100, 136, 256}) {
      for (const auto& [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {1, 2}, {1, 3}, {1, 5}, {2, 3}, {2, 7}, {3, 4}, {7, 7}}) {
        const int threads = 1 + trial % 3;
        // A 3x3 "same" convolution on channel-quad planes and a pointwise one on a panel.
        const int64_t in_channels = trial % 2 ? 40 : 96;
        Conv2dShape three{1, in_channels, h, w, rows, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 1};
        Conv2dShape one{1, in_channels * 3, h, w, rows, h, w, 1, 1, 1, 1, 1, 1, 0, 0, 1};
        SCOPED_TRACE("rows " + std::to_string(rows) + " map " + std::to_string(h) + "x" + std::to_string(w) +
                     " threads " + std::to_string(threads) + " tile rows " +
                     std::to_string(avx512::channel_lane_tile_rows(rows, threads, cpu_core_loads())));
        check({three, 127, Values::random, -7 + trial, 3, threads, trial % 4 == 0 ? -3 : -128, 127}, rng);
        check({one, 127, trial % 5 == 0 ? Values::all_max : Values::random, 100 - trial, -9, threads}, rng);
        ++trial;
      }
    }
  }
}

// The load-port fact the choice reads: Zen 5 by its family, otherwise AVX-VNNI marks the
// three-load cores; the same on every call.
TEST(QConvAvx2, CoreLoadsFollowFamilyAndAvxVnni) {
  using octet::kernels::CoreLoads;
#if defined(__x86_64__)
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  ASSERT_TRUE(__get_cpuid(1, &eax, &ebx, &ecx, &edx));
  const unsigned family = ((eax >> 8) & 0xF) + ((eax >> 20) & 0xFF);
  const CoreLoads expected = __builtin_cpu_is("amd") && family == 0x1A ? CoreLoads::four_narrow
                             : __builtin_cpu_supports("avxvnni")       ? CoreLoads::three
                                                                        : CoreLoads::two;
  EXPECT_EQ(cpu_core_loads(), expected);
#else
  EXPECT_EQ(cpu_core_loads(), CoreLoads::two);
#endif
  EXPECT_EQ(cpu_core_loads(), cpu_core_loads());
  {
    const ScopedCoreLoads forced("three");
    EXPECT_EQ(cpu_core_loads(), CoreLoads::three);
  }
  {
    const ScopedCoreLoads forced("five");
    try {
      cpu_core_loads();
      ADD_FAILURE() << "OCTET_CORE_LOADS=five was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("OCTET_CORE_LOADS=five is unknown (two, three, four-narrow)"), std::string::npos)
          << e.what();
    }
  }
}
