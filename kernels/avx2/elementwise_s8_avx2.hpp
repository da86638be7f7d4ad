#pragma once
// AVX2 element-wise int8 kernels, bit-exact with kernels/ref (quantize_ref). The residual Add
// needs no SIMD: kernels/qadd_table_s8.hpp tabulates it.
// Written with intrinsics rather than xsimd: exactness hinges on the precise NaN/rounding
// semantics of each instruction (maxps returns its second operand for NaN, as fmax does here),
// which a portable wrapper does not pin down.
#include <cstdint>


namespace octet::kernels::avx2 {

// Threads split the elements (large tensors only); the results do not depend on their number.
void quantize_f32_to_s8_avx2(int64_t count, const float* input, float scale, int32_t zero_point, int8_t* output,
                             int threads = 1);
void dequantize_s8_to_f32_avx2(int64_t count, const int8_t* input, float scale, int32_t zero_point, float* output,
                               int threads = 1);

// kernels/qadd_table_s8.hpp's lookup with 32-bit gathers (8 per instruction; each reads the
// entry and the 3 bytes after it, hence the table's slack). Same results, same arguments.
void qadd_table_s8_avx2(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const int8_t* table,
                        int8_t* output, int threads = 1);

}  // namespace octet::kernels::avx2
