#pragma once
// Reference fp32 matrix product with arbitrary element strides, so transposed operands need
// no copy: out[m][n] = alpha * sum_k A(m,k) * B(k,n), A(m,k) = a[m*a_row + k*a_col].
#include <cstdint>

namespace octet::kernels {

struct MatrixF32 {
  const float* data;
  int64_t row_stride;
  int64_t col_stride;
  float at(int64_t row, int64_t col) const { return data[row * row_stride + col * col_stride]; }
};

// Writes (not accumulates) the M x N row-major result. Sums in double: the reference must be
// at least as accurate as anything it judges.
void gemm_f32_ref(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float alpha,
                  float* out);

}  // namespace octet::kernels
