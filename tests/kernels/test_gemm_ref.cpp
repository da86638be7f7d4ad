// gemm_f32_ref with plain, transposed and padded (leading dimension > width) operands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/ref/gemm_f32_ref.hpp"

namespace octet::kernels {
namespace {

constexpr int64_t kGuard = 8;
const float kSentinel = -777.25f;

// A logical rows x cols matrix stored either row-major or transposed (column-major), with a
// leading dimension padded by `pad` unused elements. Unused elements hold garbage (NaN), so a
// kernel that reads them produces NaN.
struct Stored {
  std::vector<float> storage;
  MatrixF32 view;
  std::vector<float> logical;  // row-major rows x cols
};

Stored make_matrix(int64_t rows, int64_t cols, bool transposed, int64_t pad, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Stored m;
  m.logical.resize(static_cast<size_t>(rows * cols));
  for (auto& x : m.logical) x = dist(rng);
  const int64_t ld = (transposed ? rows : cols) + pad;
  const int64_t outer = transposed ? cols : rows;
  m.storage.assign(static_cast<size_t>(std::max<int64_t>(outer * ld, 1)), std::nanf(""));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      m.storage[static_cast<size_t>(transposed ? c * ld + r : r * ld + c)] = m.logical[static_cast<size_t>(r * cols + c)];
  m.view = transposed ? MatrixF32{m.storage.data(), 1, ld} : MatrixF32{m.storage.data(), ld, 1};
  return m;
}

void check_gemm(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, int64_t pad_a, int64_t pad_b,
                float alpha, std::mt19937& rng) {
  const Stored a = make_matrix(m, k, trans_a, pad_a, rng);
  const Stored b = make_matrix(k, n, trans_b, pad_b, rng);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) ASSERT_EQ(a.view.at(i, p), a.logical[static_cast<size_t>(i * k + p)]);
  std::vector<float> out(static_cast<size_t>(m * n + kGuard), kSentinel);
  gemm_f32_ref(m, n, k, a.view, b.view, alpha, out.data());
  const std::string what = "m" + std::to_string(m) + " n" + std::to_string(n) + " k" + std::to_string(k) +
                           (trans_a ? " A^T" : "") + (trans_b ? " B^T" : "") + " pads " + std::to_string(pad_a) +
                           "," + std::to_string(pad_b);
  int bad = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0, magnitude = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const double product = static_cast<double>(a.logical[static_cast<size_t>(i * k + p)]) *
                               b.logical[static_cast<size_t>(p * n + j)];
        sum += product;
        magnitude += std::fabs(product);
      }
      const double expected = alpha * sum;
      const double got = out[static_cast<size_t>(i * n + j)];
      // Sums in double: only the final rounding to float remains.
      if (!(std::fabs(got - expected) <= 1e-6 * (std::fabs(alpha) * magnitude) + 1e-30) && ++bad <= 3)
        ADD_FAILURE() << what << " (" << i << "," << j << "): got " << got << ", expected " << expected;
    }
  EXPECT_EQ(bad, 0) << what;
  for (int64_t g = 0; g < kGuard; ++g) EXPECT_EQ(out[static_cast<size_t>(m * n + g)], kSentinel) << what;
}

TEST(KernelGemmRef, RandomShapesAllTransposes) {
  std::mt19937 rng(99);
  auto pick = [&](int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(rng); };
  for (int trial = 0; trial < 120 && !HasFailure(); ++trial) {
    const int64_t m = pick(1, 19), n = pick(1, 23), k = pick(1, 37);
    for (int mode = 0; mode < 4; ++mode)
      check_gemm(m, n, k, mode & 1, mode & 2, pick(0, 3), pick(0, 3), trial % 5 == 0 ? -0.5f : 1.0f, rng);
  }
}

TEST(KernelGemmRef, DegenerateShapes) {
  std::mt19937 rng(5);
  check_gemm(1, 1, 1, false, false, 0, 0, 1.0f, rng);
  check_gemm(1, 17, 1, true, true, 0, 0, 2.0f, rng);
  check_gemm(13, 1, 64, false, true, 1, 2, 1.0f, rng);
  // k = 0: the product of empty sums is zero, and the output is still written.
  std::vector<float> out(6, kSentinel);
  float dummy = 0.0f;
  gemm_f32_ref(2, 3, 0, {&dummy, 0, 1}, {&dummy, 3, 1}, 1.0f, out.data());
  EXPECT_EQ(out, std::vector<float>(6, 0.0f));
}

TEST(KernelGemmRef, KnownProduct) {
  // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {7, 8, 9, 10, 11, 12};
  std::vector<float> out(4);
  gemm_f32_ref(2, 2, 3, {a.data(), 3, 1}, {b.data(), 2, 1}, 1.0f, out.data());
  EXPECT_EQ(out, (std::vector<float>{58, 64, 139, 154}));
  // The same bytes read with row stride 1 and column stride 3 (a transposed [2,3] matrix):
  // B'(k, n) = b[n*3 + k] = [7 10; 8 11; 9 12].
  gemm_f32_ref(2, 2, 3, {a.data(), 3, 1}, {b.data(), 1, 3}, 0.5f, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.5f * (7 + 16 + 27), 0.5f * (10 + 22 + 36), 0.5f * (28 + 40 + 54),
                                     0.5f * (40 + 55 + 72)}));
}

}  // namespace
}  // namespace octet::kernels
