#pragma once
// The residual Add through kernels/qadd_affine_s8.hpp's float form on 8 lanes (AVX2 + FMA): no
// gathers, ~7 vector instructions per 8 elements (the tie window tested once per 32 lanes).
// Used on Intel's AVX-512 CPUs too: there the 16-lane version (kernels/avx512) made the Adds
// faster but the convolutions around them slower (see backends/cpu). Lanes near a rounding tie
// come from `table` (kernels/qadd_table_s8.hpp).
#include <cstdint>

#include "kernels/qadd_affine_s8.hpp"

namespace octet::kernels::avx2 {

// Same arguments and results as qadd_table_s8_avx2, for a form that passed
// qadd_affine_form_matches with this kernel against this table (a QAddAffineKernel). Returns how
// many lanes came from the table.
int64_t qadd_affine_s8_avx2(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                            const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads = 1);

}  // namespace octet::kernels::avx2
