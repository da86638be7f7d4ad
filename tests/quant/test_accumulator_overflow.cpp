// Overflow counting on hand-made QGemm cases with known answers, and on a strided, padded,
// grouped QConv against an explicit im2col written here.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "graph/error.hpp"
#include "quant/accumulator_overflow.hpp"

using namespace octet;
using quant::OverflowCounter;
using quant::OverflowCounts;

namespace {

Graph gemm_graph(const std::vector<int8_t>& weights, int64_t n, int64_t k, int32_t bias,
                 int32_t zero_point) {
  Graph g;
  g.values["x.q"] = {DType::i8, {1, k}};
  g.values["y.q"] = {DType::i8, {1, n}};
  Tensor w(DType::i8, {n, k});
  std::copy(weights.begin(), weights.end(), w.mutable_data<int8_t>());
  Tensor b(DType::i32, {n});
  for (int64_t i = 0; i < n; ++i) b.mutable_data<int32_t>()[i] = bias;
  g.initializers["w"] = w;
  g.initializers["b"] = b;
  g.values["w"] = {DType::i8, {n, k}};
  g.values["b"] = {DType::i32, {n}};
  g.quant["x.q"] = {{0.1f}, {zero_point}, -1};
  g.nodes.push_back({"fc", "QGemm", {"x.q", "w", "b"}, {"y.q"}, {}});
  return g;
}

TEST(AccumulatorOverflow, PairSaturationAndFinalOverflowOnAHandCase) {
  // u = x + 128 = 255 for x = 127: 255·127 + 255·127 = 64770 leaves int16; 128·1 + 128·1 does not.
  const Graph g = gemm_graph({127, 127, 1, 1}, 1, 4, 1000, 0);
  OverflowCounts counts;
  OverflowCounter(g, g.nodes[0], 16).count(std::vector<int8_t>{127, 127, 0, 0}.data(), counts);
  EXPECT_EQ(counts.pairs, 2u);
  EXPECT_EQ(counts.saturated_pairs, 1u);
  EXPECT_EQ(counts.outputs, 1u);
  // acc = 1000 + 2·127·127 = 33258 >= 2^15.
  EXPECT_EQ(counts.max_abs_accumulator, 33258);
  EXPECT_EQ(counts.final_overflows, 1u);
  EXPECT_EQ(counts.partial_overflows, 1u);
  EXPECT_EQ(counts.bits_needed(), 17);
}

TEST(AccumulatorOverflow, APartialSumCanOverflowWhenTheFinalValueFits) {
  // Partial sum after the first pair: 2·127·127 = 32258 > 2^14; the second pair brings it back to
  // 0.
  const Graph g = gemm_graph({127, 127, -127, -127}, 1, 4, 0, 0);
  OverflowCounts counts;
  OverflowCounter(g, g.nodes[0], 15).count(std::vector<int8_t>{127, 127, 127, 127}.data(), counts);
  EXPECT_EQ(counts.final_overflows, 0u);
  EXPECT_EQ(counts.partial_overflows, 1u);
  EXPECT_EQ(counts.saturated_pairs, 2u);  // 255·127·2 and 255·(-127)·2
}

TEST(AccumulatorOverflow, ZeroPointEntersTheAccumulatorNotThePairs) {
  // x = zp = -128: (x - zp) = 0 so the accumulator stays at the bias, while u = 0 makes no pair
  // saturate.
  const Graph g = gemm_graph({127, 127, 127}, 1, 3, 5, -128);
  OverflowCounts counts;
  OverflowCounter(g, g.nodes[0], 8).count(std::vector<int8_t>{-128, -128, -128}.data(), counts);
  EXPECT_EQ(counts.pairs, 1u);  // odd depth: the last product has no partner
  EXPECT_EQ(counts.saturated_pairs, 0u);
  EXPECT_EQ(counts.max_abs_accumulator, 5);
}

TEST(AccumulatorOverflow, ConvolutionMatchesAnExplicitIm2col) {
  const int64_t c = 4, h = 5, w = 6, oc = 6, groups = 2, kh = 3, kw = 2, stride = 2, pad = 1;
  const int64_t oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
  const int32_t zp = 7;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> code(-128, 127), weight_code(-127, 127);
  Graph g;
  g.values["x.q"] = {DType::i8, {1, c, h, w}};
  g.values["y.q"] = {DType::i8, {1, oc, oh, ow}};
  Tensor weights(DType::i8, {oc, c / groups, kh, kw});
  for (int64_t i = 0; i < weights.elements(); ++i)
    weights.mutable_data<int8_t>()[i] = static_cast<int8_t>(weight_code(rng));
  Tensor bias(DType::i32, {oc});
  for (int64_t i = 0; i < oc; ++i)
    bias.mutable_data<int32_t>()[i] = static_cast<int32_t>(i * 300 - 900);
  g.initializers["w"] = weights;
  g.initializers["b"] = bias;
  g.values["w"] = {DType::i8, weights.shape()};
  g.values["b"] = {DType::i32, {oc}};
  g.quant["x.q"] = {{0.1f}, {zp}, -1};
  Node conv{"conv", "QConv", {"x.q", "w", "b"}, {"y.q"}, {}};
  conv.attrs.set("strides", std::vector<int64_t>{stride, stride});
  conv.attrs.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  conv.attrs.set("group", int64_t{groups});
  g.nodes.push_back(conv);
  std::vector<int8_t> x(static_cast<size_t>(c * h * w));
  for (auto& v : x) v = static_cast<int8_t>(code(rng));

  const int bits = 13;
  OverflowCounts counts;
  OverflowCounter(g, g.nodes[0], bits).count(x.data(), counts);

  // im2col column for output (oy, ox) of group gi: rows k = (ic, ky, kx), padding = zp.
  OverflowCounts expected;
  const int64_t depth = c / groups * kh * kw, limit = int64_t{1} << (bits - 1);
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        std::vector<int32_t> column;
        const int64_t gi = o / (oc / groups);
        for (int64_t ic = 0; ic < c / groups; ++ic)
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              column.push_back(
                  inside ? x[static_cast<size_t>(((gi * (c / groups) + ic) * h + iy) * w + ix)]
                         : zp);
            }
        const int8_t* row = weights.data<int8_t>() + o * depth;
        int64_t acc = bias.data<int32_t>()[o];
        expected.max_abs_accumulator = std::max(expected.max_abs_accumulator, acc < 0 ? -acc : acc);
        bool partial = acc >= limit || acc < -limit;
        for (int64_t k = 0; k + 1 < depth; k += 2) {
          const int32_t pair = (column[k] + 128) * row[k] + (column[k + 1] + 128) * row[k + 1];
          expected.saturated_pairs += pair > 32767 || pair < -32768;
          ++expected.pairs;
          acc += (column[k] - zp) * row[k] + (column[k + 1] - zp) * row[k + 1];
          partial = partial || acc >= limit || acc < -limit;
          expected.max_abs_accumulator =
              std::max(expected.max_abs_accumulator, acc < 0 ? -acc : acc);
        }
        ++expected.outputs;
        expected.final_overflows += acc >= limit || acc < -limit;
        expected.partial_overflows += partial;
      }
  ASSERT_EQ(depth % 2, 0);
  EXPECT_EQ(counts.outputs, expected.outputs);
  EXPECT_EQ(counts.pairs, expected.pairs);
  EXPECT_EQ(counts.saturated_pairs, expected.saturated_pairs);
  EXPECT_EQ(counts.final_overflows, expected.final_overflows);
  EXPECT_EQ(counts.partial_overflows, expected.partial_overflows);
  EXPECT_EQ(counts.max_abs_accumulator, expected.max_abs_accumulator);
  EXPECT_GT(expected.saturated_pairs, 0u);  // the case exercises what it counts
  EXPECT_GT(expected.partial_overflows, 0u);
}

TEST(AccumulatorOverflow, RejectsOtherOpsAndWidths) {
  Graph g = gemm_graph({1}, 1, 1, 0, 0);
  Node relu{"r", "Relu", {"x.q"}, {"y.q"}, {}};
  EXPECT_THROW(OverflowCounter(g, relu), Error);
  EXPECT_THROW(OverflowCounter(g, g.nodes[0], 1), Error);
}

}  // namespace
