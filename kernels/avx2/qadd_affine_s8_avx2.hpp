#pragma once
// The residual Add through kernels/qadd_affine_s8.hpp's float form on 8 lanes (AVX2 + FMA), for
// the CPUs without AVX-512: no gathers. Lanes near a rounding tie come from `table`
// (kernels/qadd_table_s8.hpp). Same contract as kernels/avx512/qadd_affine_s8_avx512.hpp.
#include <cstdint>

#include "kernels/qadd_affine_s8.hpp"

namespace octet::kernels::avx2 {

void qadd_affine_s8_avx2(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const QAddAffineForm& form,
                         const int8_t* table, int8_t* output, int threads = 1);

bool qadd_affine_s8_avx2_matches(const QAddAffineForm& form, const int8_t* table, int max_table_lanes = 2048);

}  // namespace octet::kernels::avx2
