#pragma once
// Reference int8 average pooling. Input and output share scale and zero point, so the mean of
// the codes is the code of the mean: sum the codes in int32 and divide with rounding to
// nearest, ties away from zero (TFLite's integer average pool).
#include <cstdint>

#include "kernels/ref/pool2d_ref.hpp"

namespace octet::kernels {

int32_t rounded_divide(int32_t sum, int32_t count);

void average_pool2d_s8_ref(const Pool2dShape& shape, bool count_include_pad, int32_t zero_point,
                           const int8_t* input, int8_t* output);
void global_average_pool_s8_ref(int64_t planes, int64_t plane_size, const int8_t* input, int8_t* output);

}  // namespace octet::kernels
