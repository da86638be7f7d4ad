#pragma once
// Reference int8 fully connected layer: y[m][n] = requant(bias[n] + sum_k (a[m][k] - zp_a) * w[n][k]).
// Weights are [N, K] (PyTorch Linear layout; the quantization pass transposes Gemm's B into it).
#include <cstdint>

#include "kernels/ref/qconv2d_s8_ref.hpp"

namespace octet::kernels {

// Exact int32 sums of (a - zp_a) * w, [M, N], no bias: shared with dynamic quantization.
void gemm_s8_accumulate_ref(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
                            const int8_t* weight, int32_t* accumulators);

void qgemm_s8_ref(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
                  const int8_t* weight, const QuantizedOutputStage& stage, int8_t* output);

}  // namespace octet::kernels
