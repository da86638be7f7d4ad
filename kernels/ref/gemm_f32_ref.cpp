#include "kernels/ref/gemm_f32_ref.hpp"

#include <cstddef>
#include <vector>

namespace octet::kernels {

void gemm_f32_ref(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float alpha,
                  float* out) {
  std::vector<double> row(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    // k outer, n inner: walks B row by row, which is contiguous in the usual layout.
    for (int64_t p = 0; p < k; ++p) {
      const double lhs = a.at(i, p);
      for (int64_t j = 0; j < n; ++j) row[static_cast<std::size_t>(j)] += lhs * b.at(p, j);
    }
    for (int64_t j = 0; j < n; ++j)
      out[i * n + j] = static_cast<float>(alpha * row[static_cast<std::size_t>(j)]);
  }
}

}  // namespace octet::kernels
