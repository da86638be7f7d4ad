#include "kernels/ref/resize_nearest_ref.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace octet::kernels {
namespace {

double original_coordinate(int64_t out_index, int64_t in_length, int64_t out_length, double scale,
                           CoordinateTransform transform) {
  const double x = static_cast<double>(out_index);
  switch (transform) {
    case CoordinateTransform::half_pixel: return (x + 0.5) / scale - 0.5;
    case CoordinateTransform::pytorch_half_pixel: return out_length > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case CoordinateTransform::align_corners:
      // The spec's formula divides by zero for a single output element; ONNX Runtime takes the
      // first input element there, and so do we.
      if (out_length == 1) return 0.0;
      return x * static_cast<double>(in_length - 1) / static_cast<double>(out_length - 1);
    case CoordinateTransform::asymmetric: return x / scale;
    case CoordinateTransform::tf_half_pixel_for_nn: return (x + 0.5) / scale;
  }
  return 0.0;
}

double rounded(double coordinate, NearestRounding rounding) {
  const double floor = std::floor(coordinate);
  const bool tie = coordinate - floor == 0.5;
  switch (rounding) {
    case NearestRounding::round_prefer_floor: return tie ? floor : std::round(coordinate);
    case NearestRounding::round_prefer_ceil: return tie ? floor + 1.0 : std::round(coordinate);
    case NearestRounding::floor: return floor;
    case NearestRounding::ceil: return std::ceil(coordinate);
  }
  return floor;
}

// The copy for elements that fit an unsigned integer: one typed load and store per element
// (a per-element memcpy of a run-time size costs a call), and an output row whose source row
// is the previous one's (every other row of a 2x upsample) is a copy of that output row.
template <class Element>
void resize_typed(const ResizeNearestShape& shape, const int64_t* source_rows, const int64_t* source_cols,
                  const void* input, void* output) {
  const auto* in = static_cast<const Element*>(input);
  auto* out = static_cast<Element*>(output);
  const size_t out_w = static_cast<size_t>(shape.out_w);
  for (int64_t p = 0; p < shape.planes; ++p) {
    const Element* plane = in + static_cast<size_t>(p * shape.in_h * shape.in_w);
    for (int64_t y = 0; y < shape.out_h; ++y, out += out_w) {
      if (y > 0 && source_rows[y] == source_rows[y - 1]) {
        std::memcpy(out, out - out_w, out_w * sizeof(Element));
        continue;
      }
      const Element* row = plane + static_cast<size_t>(source_rows[y] * shape.in_w);
      for (size_t x = 0; x < out_w; ++x) out[x] = row[source_cols[x]];
    }
  }
}

}  // namespace

int64_t nearest_source_index(int64_t out_index, int64_t in_length, int64_t out_length, double scale,
                             CoordinateTransform transform, NearestRounding rounding) {
  const double coordinate = original_coordinate(out_index, in_length, out_length, scale, transform);
  // Clamp before converting: a coordinate far outside the input must not overflow int64.
  const double index = std::clamp(rounded(coordinate, rounding), 0.0, static_cast<double>(in_length - 1));
  return static_cast<int64_t>(index);
}

void resize_nearest_ref(const ResizeNearestShape& shape, const int64_t* source_rows, const int64_t* source_cols,
                        size_t element_bytes, const void* input, void* output) {
  switch (element_bytes) {
    case 1: return resize_typed<uint8_t>(shape, source_rows, source_cols, input, output);
    case 2: return resize_typed<uint16_t>(shape, source_rows, source_cols, input, output);
    case 4: return resize_typed<uint32_t>(shape, source_rows, source_cols, input, output);
    case 8: return resize_typed<uint64_t>(shape, source_rows, source_cols, input, output);
    default: break;
  }
  const auto* in = static_cast<const unsigned char*>(input);
  auto* out = static_cast<unsigned char*>(output);
  const size_t in_row_bytes = static_cast<size_t>(shape.in_w) * element_bytes;
  const size_t in_plane_bytes = static_cast<size_t>(shape.in_h) * in_row_bytes;
  for (int64_t p = 0; p < shape.planes; ++p) {
    const unsigned char* plane = in + static_cast<size_t>(p) * in_plane_bytes;
    for (int64_t y = 0; y < shape.out_h; ++y) {
      const unsigned char* row = plane + static_cast<size_t>(source_rows[y]) * in_row_bytes;
      for (int64_t x = 0; x < shape.out_w; ++x) {
        std::memcpy(out, row + static_cast<size_t>(source_cols[x]) * element_bytes, element_bytes);
        out += element_bytes;
      }
    }
  }
}

}  // namespace octet::kernels
