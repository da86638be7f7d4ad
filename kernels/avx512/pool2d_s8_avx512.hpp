#pragma once
// Int8 max pooling with AVX-512BW masked loads, bit-exact with kernels/ref (max_pool2d_s8_ref).
// Every window tap is one masked load per input row, straight from the input: lanes outside
// the row read -128 (the identity of max, as padding), so nothing goes through a padded row
// buffer. The AVX2 kernel stores such a buffer and reloads it one byte off, and every reload
// then waits for its stores to retire (resnet18's stem pool: 0.28 ms for 0.8 MB).
//
// Only call this after kernels/isa.hpp reports Isa::avx512_vnni (which implies AVX-512F/BW).
#include <cstdint>

#include "kernels/ref/pool2d_ref.hpp"

namespace octet::kernels::avx512 {

// Horizontal strides 1 and 2 and windows up to 16 rows (every ResNet/MobileNet pool); returns
// false, computing nothing, for others (the caller runs the AVX2 kernel).
bool max_pool2d_s8_avx512(const Pool2dShape& shape, const int8_t* input, int8_t* output, int threads);

}  // namespace octet::kernels::avx512
