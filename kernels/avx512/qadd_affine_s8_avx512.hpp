#pragma once
// The residual Add through kernels/qadd_affine_s8.hpp's float form on 16 lanes: no gathers, about
// 9 vector instructions per 16 elements where the table path's gather alone costs ~13 cycles.
// Lanes near a rounding tie come from the table (`table`, kernels/qadd_table_s8.hpp).
//
// Only call these after kernels/isa.hpp reports Isa::avx512_vnni (which implies AVX-512F/BW).
#include <cstdint>

#include "kernels/qadd_affine_s8.hpp"

namespace octet::kernels::avx512 {

// Same arguments and results as qadd_table_s8_avx512, for a form that passed
// qadd_affine_s8_avx512_matches against this table.
void qadd_affine_s8_avx512(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                           const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads = 1);

// Runs the form on every pair of codes and compares with the table: true when every lane it does
// not take from the table agrees, and at most `max_table_lanes` pairs need the table (beyond that
// the fix-ups would cost more than the gathers they save).
bool qadd_affine_s8_avx512_matches(const QAddAffineForm& form, const int8_t* table, int max_table_lanes = 2048);

}  // namespace octet::kernels::avx512
