#pragma once
// kernels/qadd_table_s8.hpp's lookup with 16-lane gathers (AVX-512F): the residual Add is bound
// by the gathers, and one 16-lane gather costs less than two 8-lane ones (resnet50's layer1 Add,
// 802,816 elements: 0.34 -> 0.27 ms on this machine). Same results, same arguments.
//
// Only call this after kernels/isa.hpp reports Isa::avx512_vnni (which implies AVX-512F/BW).
#include <cstdint>

namespace octet::kernels::avx512 {

void qadd_table_s8_avx512(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const int8_t* table,
                          int8_t* output, int threads = 1);

}  // namespace octet::kernels::avx512
