#pragma once
// AVX2 element-wise int8 kernels, bit-exact with kernels/ref (quantize_ref). The residual Add
// needs no SIMD: kernels/qadd_table_s8.hpp tabulates it.
// Written with intrinsics rather than xsimd: exactness hinges on the precise NaN/rounding
// semantics of each instruction (maxps returns its second operand for NaN, as fmax does here),
// which a portable wrapper does not pin down.
#include <cstdint>


namespace octet::kernels::avx2 {

void quantize_f32_to_s8_avx2(int64_t count, const float* input, float scale, int32_t zero_point, int8_t* output);
void dequantize_s8_to_f32_avx2(int64_t count, const int8_t* input, float scale, int32_t zero_point, float* output);

}  // namespace octet::kernels::avx2
