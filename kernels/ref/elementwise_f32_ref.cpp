#include "kernels/ref/elementwise_f32_ref.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace octet::kernels {

void add_broadcast_f32_ref(int rank, const int64_t* dims, const BroadcastOperand& a,
                           const BroadcastOperand& b, float* out) {
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) total *= dims[i];
  int64_t index[8] = {0};
  int64_t offset_a = 0, offset_b = 0;
  for (int64_t flat = 0; flat < total; ++flat) {
    out[flat] = a.data[offset_a] + b.data[offset_b];
    // Odometer increment of the multi-index, updating both operand offsets incrementally.
    for (int axis = rank - 1; axis >= 0; --axis) {
      offset_a += a.strides[axis];
      offset_b += b.strides[axis];
      if (++index[axis] < dims[axis]) break;
      offset_a -= a.strides[axis] * dims[axis];
      offset_b -= b.strides[axis] * dims[axis];
      index[axis] = 0;
    }
  }
}

void clamp_f32_ref(int64_t count, const float* input, float low, float high, float* output) {
  for (int64_t i = 0; i < count; ++i) output[i] = std::min(std::max(input[i], low), high);
}

void batchnorm_f32_ref(int64_t batch, int64_t channels, int64_t spatial, const float* input,
                       const float* scale, const float* shift, const float* mean, const float* var,
                       float epsilon, float* output) {
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const double factor = scale[c] / std::sqrt(static_cast<double>(var[c]) + epsilon);
      const double offset = shift[c] - mean[c] * factor;
      const int64_t base = (n * channels + c) * spatial;
      for (int64_t i = 0; i < spatial; ++i)
        output[base + i] = static_cast<float>(input[base + i] * factor + offset);
    }
  }
}

void softmax_f32_ref(int64_t rows, int64_t row_size, int64_t inner, const float* input,
                     float* output) {
  // Element (r, j, i) lives at (r * row_size + j) * inner + i; softmax runs over j.
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* in = input + r * row_size * inner + i;
      float* out = output + r * row_size * inner + i;
      float peak = in[0];
      for (int64_t j = 1; j < row_size; ++j) peak = std::max(peak, in[j * inner]);
      double sum = 0.0;
      for (int64_t j = 0; j < row_size; ++j) sum += std::exp(static_cast<double>(in[j * inner] - peak));
      for (int64_t j = 0; j < row_size; ++j)
        out[j * inner] = static_cast<float>(std::exp(static_cast<double>(in[j * inner] - peak)) / sum);
    }
  }
}

void transpose_ref(int rank, const int64_t* in_dims, const int64_t* perm, int64_t element_size,
                   const void* input, void* output) {
  int64_t in_strides[8];
  int64_t stride = 1;
  for (int axis = rank - 1; axis >= 0; --axis) {
    in_strides[axis] = stride;
    stride *= in_dims[axis];
  }
  const int64_t total = stride;
  int64_t out_dims[8], gather[8];
  for (int i = 0; i < rank; ++i) {
    out_dims[i] = in_dims[perm[i]];
    gather[i] = in_strides[perm[i]];
  }
  int64_t index[8] = {0};
  int64_t source = 0;
  const auto* in = static_cast<const unsigned char*>(input);
  auto* out = static_cast<unsigned char*>(output);
  for (int64_t flat = 0; flat < total; ++flat) {
    std::memcpy(out + flat * element_size, in + source * element_size, static_cast<size_t>(element_size));
    for (int axis = rank - 1; axis >= 0; --axis) {
      source += gather[axis];
      if (++index[axis] < out_dims[axis]) break;
      source -= gather[axis] * out_dims[axis];
      index[axis] = 0;
    }
  }
}

}  // namespace octet::kernels
