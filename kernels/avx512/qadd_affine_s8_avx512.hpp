#pragma once
// The residual Add through kernels/qadd_affine_s8.hpp's float form on 16 lanes (AVX-512 F/BW):
// kernels/avx2/qadd_affine_s8_avx2's blocks with twice the lanes and the tie window read
// straight into a mask, in the same loop (kernels/qadd_affine_blocks_x86.hpp). For CPUs that keep their clock under 512-bit floating point
// (cpu_keeps_clock_under_512_bit_float, kernels/isa.hpp): on the Intel ones it slowed the
// convolutions around the Adds more than it saved. Lanes near a rounding tie come from `table`.
#include <cstdint>

#include "kernels/qadd_affine_s8.hpp"

namespace octet::kernels::avx512 {

// A QAddAffineKernel: same arguments and results as avx2::qadd_affine_s8_avx2.
int64_t qadd_affine_s8_avx512(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                              const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads = 1);

}  // namespace octet::kernels::avx512
