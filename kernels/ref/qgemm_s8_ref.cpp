#include "kernels/ref/qgemm_s8_ref.hpp"

#include <cstddef>
#include <vector>

namespace octet::kernels {

void gemm_s8_accumulate_ref(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
                            const int8_t* weight, int32_t* accumulators) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += (static_cast<int32_t>(a[i * k + p]) - a_zero_point) * static_cast<int32_t>(weight[j * k + p]);
      accumulators[i * n + j] = acc;
    }
}

void qgemm_s8_ref(int64_t m, int64_t n, int64_t k, const int8_t* a, int32_t a_zero_point,
                  const int8_t* weight, const QuantizedOutputStage& stage, int8_t* output) {
  std::vector<int32_t> acc(static_cast<size_t>(m * n));
  gemm_s8_accumulate_ref(m, n, k, a, a_zero_point, weight, acc.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      output[i * n + j] = requantize_to_s8(acc[static_cast<size_t>(i * n + j)] + (stage.bias ? stage.bias[j] : 0),
                                           stage.multiplier(j), stage.output_zero_point, stage.low, stage.high);
}

}  // namespace octet::kernels
