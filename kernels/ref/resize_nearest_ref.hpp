#pragma once
// Reference nearest-neighbour resize of NCHW planes (ONNX Resize, mode "nearest"). Every output
// element is a copy of one input element, so the kernel moves bytes and works for any element
// type: fp32, and int8 whose output shares the input's scale and zero point (no requantization).
#include <cstddef>
#include <cstdint>

namespace octet::kernels {

// ONNX's coordinate_transformation_mode: where output coordinate x lands in the input.
enum class CoordinateTransform {
  half_pixel,            // (x + 0.5) / scale - 0.5
  pytorch_half_pixel,    // as half_pixel, but 0 when the output length is 1
  align_corners,         // x * (in_length - 1) / (out_length - 1)
  asymmetric,            // x / scale
  tf_half_pixel_for_nn,  // (x + 0.5) / scale
};

// ONNX's nearest_mode: how that (fractional) input coordinate becomes an index.
enum class NearestRounding { round_prefer_floor, round_prefer_ceil, floor, ceil };

// The input index whose value output index `out_index` takes along one axis, by the ONNX
// formulas: transform the coordinate, round it, clamp it into [0, in_length - 1] (ONNX pads the
// input by repeating its edge). `scale` is the axis's scale as the model states it (ONNX's
// `scales` input), or out_length / in_length when the model gives output sizes instead. The
// spec's prose calls the scale length_resized / length_original, which is the same number
// whenever the scale gives a whole output length; when it does not (0.6 × 4 → 2), ONNX's
// reference implementation, ONNX Runtime and PyTorch all divide by the given scale, and so do
// we. Computed in double, as ONNX's reference implementation does.
int64_t nearest_source_index(int64_t out_index, int64_t in_length, int64_t out_length, double scale,
                             CoordinateTransform transform, NearestRounding rounding);

struct ResizeNearestShape {
  int64_t planes;  // batch × channels
  int64_t in_h, in_w, out_h, out_w;
};

// output[p][y][x] = input[p][source_rows[y]][source_cols[x]], elements of `element_bytes` bytes.
// The index tables (out_h and out_w entries, from nearest_source_index) are computed once when
// the kernel is prepared.
void resize_nearest_ref(const ResizeNearestShape& shape, const int64_t* source_rows, const int64_t* source_cols,
                        size_t element_bytes, const void* input, void* output);

}  // namespace octet::kernels
