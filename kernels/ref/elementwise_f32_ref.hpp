#pragma once
// Reference element-wise and layout kernels (fp32 unless stated).
#include <cstdint>

namespace octet::kernels {

// Strides of an operand broadcast to the output shape (0 along broadcast axes), rank <= 8.
struct BroadcastOperand {
  const float* data;
  int64_t strides[8];
};

// out = a + b with NumPy broadcasting already resolved into strides; `dims` is the output shape.
void add_broadcast_f32_ref(int rank, const int64_t* dims, const BroadcastOperand& a,
                           const BroadcastOperand& b, float* out);

void clamp_f32_ref(int64_t count, const float* input, float low, float high, float* output);

// Inference BatchNorm over N,C,spatial: y = scale * (x - mean) / sqrt(var + eps) + shift.
void batchnorm_f32_ref(int64_t batch, int64_t channels, int64_t spatial, const float* input,
                       const float* scale, const float* shift, const float* mean, const float* var,
                       float epsilon, float* output);

// Softmax over contiguous rows of `row_size` elements (max-subtracted for stability).
void softmax_f32_ref(int64_t rows, int64_t row_size, int64_t inner, const float* input,
                     float* output);

// General N-D transpose of elements of `element_size` bytes: out axis i = in axis perm[i].
void transpose_ref(int rank, const int64_t* in_dims, const int64_t* perm, int64_t element_size,
                   const void* input, void* output);

}  // namespace octet::kernels
