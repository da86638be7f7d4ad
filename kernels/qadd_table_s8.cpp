#include "kernels/qadd_table_s8.hpp"

#include <cstddef>

namespace octet::kernels {

std::vector<int8_t> make_qadd_table_s8(const QAddParams& params) {
  std::vector<int8_t> table(256 * 256 + kQAddTableSlack, 0);
  for (int a = -128; a < 128; ++a)
    for (int b = -128; b < 128; ++b)
      table[static_cast<size_t>((a + 128) * 256 + (b + 128))] =
          qadd_one_s8(static_cast<int8_t>(a), static_cast<int8_t>(b), params);
  return table;
}

void qadd_table_s8(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const int8_t* table,
                   int8_t* output, int threads) {
  if (b_count == 1) {  // one row of the table
    const int8_t* row = table + (static_cast<int32_t>(b[0]) + 128);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count >= (1 << 16))
    for (int64_t i = 0; i < count; ++i) output[i] = row[(static_cast<int32_t>(a[i]) + 128) * 256];
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count >= (1 << 16))
  for (int64_t i = 0; i < count; ++i)
    output[i] = qadd_table_entry(table, a[i], b[i]);
}

}  // namespace octet::kernels
