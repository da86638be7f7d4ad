#pragma once
// AVX2 int8 pooling, bit-exact with kernels/ref (max_pool2d_s8_ref, global_average_pool_s8_ref).
#include <cstdint>

#include "kernels/ref/pool2d_ref.hpp"

namespace octet::kernels::avx2 {

// Separable: each input row's horizontal window maxima first (the row split into `stride`
// phases so every tap is a contiguous vector load), then the vertical maxima of those rows.
// Padding is -128, the identity of max.
void max_pool2d_s8_avx2(const Pool2dShape& shape, const int8_t* input, int8_t* output, int threads);

// Exact int32 sums through vpsadbw on u = x + 128, then the reference's rounded division.
void global_average_pool_s8_avx2(int64_t planes, int64_t plane_size, const int8_t* input, int8_t* output);

}  // namespace octet::kernels::avx2
