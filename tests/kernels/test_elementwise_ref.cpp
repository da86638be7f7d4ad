// Element-wise and layout reference kernels: broadcast Add, clamp, BatchNorm, Softmax, Transpose.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <type_traits>
#include <random>
#include <vector>

#include "kernels/ref/elementwise_f32_ref.hpp"

namespace octet::kernels {
namespace {

using Dims = std::vector<int64_t>;

int64_t product(const Dims& dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<int64_t>());
}

std::vector<float> random_floats(int64_t count, std::mt19937& rng, float low = -1.0f, float high = 1.0f) {
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(static_cast<size_t>(count));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Multi-index of flat position `flat` in a row-major array of shape `dims`.
Dims unravel(int64_t flat, const Dims& dims) {
  Dims index(dims.size());
  for (size_t axis = dims.size(); axis-- > 0;) {
    index[axis] = flat % dims[axis];
    flat /= dims[axis];
  }
  return index;
}

int64_t ravel(const Dims& index, const Dims& dims) {
  int64_t flat = 0;
  for (size_t axis = 0; axis < dims.size(); ++axis) flat = flat * dims[axis] + index[axis];
  return flat;
}

// ---------------------------------------------------------------------------------------------
// add_broadcast_f32_ref

// Strides of `operand` (right-aligned against `out`, NumPy rules): 0 along broadcast axes.
BroadcastOperand operand_for(const float* data, const Dims& operand, const Dims& out) {
  BroadcastOperand op{data, {}};
  const size_t offset = out.size() - operand.size();
  int64_t stride = 1;
  for (size_t axis = out.size(); axis-- > 0;) {
    if (axis < offset || operand[axis - offset] == 1) {
      op.strides[axis] = 0;
    } else {
      op.strides[axis] = stride;
      stride *= operand[axis - offset];
    }
  }
  return op;
}

// Naive: for every output index, read each operand at the index with broadcast axes set to 0.
float naive_broadcast_read(const std::vector<float>& data, const Dims& operand, const Dims& out_index) {
  Dims index(operand.size());
  const size_t offset = out_index.size() - operand.size();
  for (size_t axis = 0; axis < operand.size(); ++axis)
    index[axis] = operand[axis] == 1 ? 0 : out_index[axis + offset];
  return data[static_cast<size_t>(ravel(index, operand))];
}

TEST(KernelElementwiseRef, AddBroadcastRandomShapes) {
  std::mt19937 rng(31);
  auto pick = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t rank = pick(0, 6);
    Dims out(static_cast<size_t>(rank));
    for (auto& d : out) d = pick(1, 5);
    // Each operand: a suffix of the output's axes, some of them set to 1.
    auto make_operand = [&]() {
      Dims dims(out.begin() + pick(0, rank), out.end());
      for (auto& d : dims)
        if (pick(0, 2) == 0) d = 1;
      return dims;
    };
    Dims a_dims = make_operand(), b_dims = make_operand();
    // The output is the broadcast of the operands (an output axis nobody spans becomes 1).
    Dims real_out(out.size(), 1);
    for (size_t axis = 0; axis < out.size(); ++axis) {
      const size_t from_end = out.size() - axis;
      if (from_end <= a_dims.size()) real_out[axis] = std::max(real_out[axis], a_dims[a_dims.size() - from_end]);
      if (from_end <= b_dims.size()) real_out[axis] = std::max(real_out[axis], b_dims[b_dims.size() - from_end]);
    }
    const std::vector<float> a = random_floats(product(a_dims), rng);
    const std::vector<float> b = random_floats(product(b_dims), rng);
    const int64_t total = product(real_out);
    std::vector<float> y(static_cast<size_t>(total + 4), 99.0f);
    add_broadcast_f32_ref(static_cast<int>(rank), real_out.data(), operand_for(a.data(), a_dims, real_out),
                          operand_for(b.data(), b_dims, real_out), y.data());
    for (int64_t flat = 0; flat < total; ++flat) {
      const Dims index = unravel(flat, real_out);
      const float expected = naive_broadcast_read(a, a_dims, index) + naive_broadcast_read(b, b_dims, index);
      ASSERT_EQ(y[static_cast<size_t>(flat)], expected) << "trial " << trial << " flat " << flat;
    }
    for (int g = 0; g < 4; ++g) ASSERT_EQ(y[static_cast<size_t>(total + g)], 99.0f) << "trial " << trial;
  }
}

TEST(KernelElementwiseRef, AddBroadcastKnownValues) {
  // [2,3] + [3] and [2,1] + [1,3].
  const std::vector<float> a = {1, 2, 3, 4, 5, 6}, row = {10, 20, 30};
  const Dims out = {2, 3};
  std::vector<float> y(6);
  add_broadcast_f32_ref(2, out.data(), operand_for(a.data(), {2, 3}, out), operand_for(row.data(), {3}, out), y.data());
  EXPECT_EQ(y, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  const std::vector<float> column = {1, 2};
  add_broadcast_f32_ref(2, out.data(), operand_for(column.data(), {2, 1}, out),
                        operand_for(row.data(), {1, 3}, out), y.data());
  EXPECT_EQ(y, (std::vector<float>{11, 21, 31, 12, 22, 32}));
  // Rank 0: scalars.
  const float s1 = 1.5f, s2 = 2.25f;
  float r = 0.0f;
  add_broadcast_f32_ref(0, nullptr, BroadcastOperand{&s1, {}}, BroadcastOperand{&s2, {}}, &r);
  EXPECT_EQ(r, 3.75f);
}

// ---------------------------------------------------------------------------------------------
// clamp_f32_ref

TEST(KernelElementwiseRef, Clamp) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> in = {-inf, -3.0f, -0.0f, 0.0f, 0.5f, 6.0f, 7.0f, inf};
  std::vector<float> out(in.size());
  clamp_f32_ref(static_cast<int64_t>(in.size()), in.data(), 0.0f, 6.0f, out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 0, 0.5f, 6, 6, 6}));
  clamp_f32_ref(static_cast<int64_t>(in.size()), in.data(), -inf, inf, out.data());
  EXPECT_EQ(out, in);
  // In place.
  std::vector<float> data = in;
  clamp_f32_ref(static_cast<int64_t>(data.size()), data.data(), -1.0f, 1.0f, data.data());
  EXPECT_EQ(data, (std::vector<float>{-1, -1, 0, 0, 0.5f, 1, 1, 1}));
}

// ---------------------------------------------------------------------------------------------
// batchnorm_f32_ref

TEST(KernelElementwiseRef, BatchNormAgainstFormula) {
  std::mt19937 rng(41);
  for (int64_t batch : {1, 3})
    for (int64_t channels : {1, 5})
      for (int64_t spatial : {1, 7, 30}) {
        const auto x = random_floats(batch * channels * spatial, rng, -4.0f, 4.0f);
        const auto scale = random_floats(channels, rng, -2.0f, 2.0f);
        const auto shift = random_floats(channels, rng);
        const auto mean = random_floats(channels, rng);
        const auto var = random_floats(channels, rng, 0.0f, 3.0f);
        const float epsilon = 1e-3f;
        std::vector<float> y(x.size() + 4, 99.0f);
        batchnorm_f32_ref(batch, channels, spatial, x.data(), scale.data(), shift.data(), mean.data(), var.data(),
                          epsilon, y.data());
        for (int64_t n = 0; n < batch; ++n)
          for (int64_t c = 0; c < channels; ++c)
            for (int64_t i = 0; i < spatial; ++i) {
              const size_t at = static_cast<size_t>((n * channels + c) * spatial + i);
              const double expected = scale[static_cast<size_t>(c)] * (x[at] - static_cast<double>(mean[static_cast<size_t>(c)])) /
                                          std::sqrt(static_cast<double>(var[static_cast<size_t>(c)]) + epsilon) +
                                      shift[static_cast<size_t>(c)];
              ASSERT_NEAR(y[at], expected, 1e-5 * std::max(1.0, std::fabs(expected)))
                  << "n" << n << " c" << c << " i" << i;
            }
        for (size_t g = x.size(); g < y.size(); ++g) EXPECT_EQ(y[g], 99.0f);
      }
}

// ---------------------------------------------------------------------------------------------
// softmax_f32_ref

void check_softmax(int64_t rows, int64_t row_size, int64_t inner, float low, float high, std::mt19937& rng) {
  const auto x = random_floats(rows * row_size * inner, rng, low, high);
  std::vector<float> y(x.size() + 4, 99.0f);
  softmax_f32_ref(rows, row_size, inner, x.data(), y.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return static_cast<size_t>((r * row_size + j) * inner + i); };
      long double peak = x[at(0)];
      for (int64_t j = 1; j < row_size; ++j) peak = std::max<long double>(peak, x[at(j)]);
      long double denominator = 0.0L;
      for (int64_t j = 0; j < row_size; ++j) denominator += std::exp(static_cast<long double>(x[at(j)]) - peak);
      double sum = 0.0;
      for (int64_t j = 0; j < row_size; ++j) {
        const double expected = static_cast<double>(std::exp(static_cast<long double>(x[at(j)]) - peak) / denominator);
        ASSERT_TRUE(std::isfinite(y[at(j)])) << "row " << r << " inner " << i;
        ASSERT_GE(y[at(j)], 0.0f);
        ASSERT_NEAR(y[at(j)], expected, 3e-6 * std::max(expected, 1e-3) + 1e-9)
            << "rows " << rows << " row_size " << row_size << " inner " << inner << " at " << r << "," << j << "," << i;
        sum += y[at(j)];
      }
      ASSERT_NEAR(sum, 1.0, 1e-5) << "row " << r << " inner " << i;
    }
  for (size_t g = x.size(); g < y.size(); ++g) EXPECT_EQ(y[g], 99.0f);
}

TEST(KernelElementwiseRef, SoftmaxRowsSumToOneAndMatchDouble) {
  std::mt19937 rng(51);
  check_softmax(1, 1, 1, -1.0f, 1.0f, rng);
  check_softmax(4, 10, 1, -5.0f, 5.0f, rng);
  check_softmax(3, 7, 5, -5.0f, 5.0f, rng);   // softmax over a middle axis
  check_softmax(2, 1000, 1, -3.0f, 3.0f, rng);
  check_softmax(2, 17, 3, 500.0f, 520.0f, rng);  // large logits: exp overflows without the max shift
  check_softmax(2, 17, 1, -520.0f, -500.0f, rng);
}

TEST(KernelElementwiseRef, SoftmaxKnownValues) {
  const std::vector<float> x = {0.0f, std::log(3.0f), 1000.0f, 1000.0f};
  std::vector<float> y(4);
  softmax_f32_ref(2, 2, 1, x.data(), y.data());
  EXPECT_NEAR(y[0], 0.25f, 1e-7);
  EXPECT_NEAR(y[1], 0.75f, 1e-7);
  EXPECT_EQ(y[2], 0.5f);
  EXPECT_EQ(y[3], 0.5f);
}

// ---------------------------------------------------------------------------------------------
// transpose_ref

template <class T>
void check_transpose(const Dims& in_dims, const Dims& perm) {
  const int64_t total = product(in_dims);
  std::vector<T> in(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) in[static_cast<size_t>(i)] = static_cast<T>(i * 7 + 3);
  std::vector<T> out(static_cast<size_t>(total + 3), T(1));
  transpose_ref(static_cast<int>(in_dims.size()), in_dims.data(), perm.data(), sizeof(T), in.data(), out.data());
  Dims out_dims(in_dims.size());
  for (size_t i = 0; i < perm.size(); ++i) out_dims[i] = in_dims[static_cast<size_t>(perm[i])];
  // out[o_0, ..., o_r] = in[i] with i[perm[k]] = o_k.
  for (int64_t flat = 0; flat < total; ++flat) {
    const Dims o = unravel(flat, out_dims);
    Dims i(in_dims.size());
    for (size_t k = 0; k < perm.size(); ++k) i[static_cast<size_t>(perm[k])] = o[k];
    ASSERT_EQ(out[static_cast<size_t>(flat)], in[static_cast<size_t>(ravel(i, in_dims))]) << "flat " << flat;
  }
  for (int g = 0; g < 3; ++g) ASSERT_EQ(out[static_cast<size_t>(total + g)], T(1));
}

TEST(KernelElementwiseRef, TransposeRandomPermutations) {
  std::mt19937 rng(61);
  auto pick = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(rng); };
  for (int trial = 0; trial < 200 && !HasFailure(); ++trial) {
    const int64_t rank = pick(1, 6);
    Dims dims(static_cast<size_t>(rank));
    for (auto& d : dims) d = pick(1, 5);
    Dims perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    switch (trial % 4) {
      case 0: check_transpose<uint8_t>(dims, perm); break;
      case 1: check_transpose<uint16_t>(dims, perm); break;
      case 2: check_transpose<float>(dims, perm); break;
      default: check_transpose<int64_t>(dims, perm); break;
    }
  }
}

TEST(KernelElementwiseRef, TransposeKnownValues) {
  // 2x3 matrix transpose.
  const std::vector<float> in = {1, 2, 3, 4, 5, 6};
  std::vector<float> out(6);
  const Dims dims = {2, 3}, perm = {1, 0};
  transpose_ref(2, dims.data(), perm.data(), 4, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // NCHW -> NHWC on 1x2x2x2.
  const std::vector<int8_t> nchw = {0, 1, 2, 3, 10, 11, 12, 13};
  std::vector<int8_t> nhwc(8);
  const Dims d4 = {1, 2, 2, 2}, p4 = {0, 2, 3, 1};
  transpose_ref(4, d4.data(), p4.data(), 1, nchw.data(), nhwc.data());
  EXPECT_EQ(nhwc, (std::vector<int8_t>{0, 10, 1, 11, 2, 12, 3, 13}));
  // Identity permutation is a copy.
  const Dims id = {0, 1, 2, 3};
  transpose_ref(4, d4.data(), id.data(), 1, nchw.data(), nhwc.data());
  EXPECT_EQ(nhwc, nchw);
}

}  // namespace
}  // namespace octet::kernels
