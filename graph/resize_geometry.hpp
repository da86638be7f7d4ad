#pragma once
// Octet's Resize node, resolved: output size, per-axis scales and the ONNX coordinate and
// rounding modes, checked once for shape inference and kernel preparation.
//
// The node has one input, X (NCHW), and ONNX Resize's attributes plus its constant inputs as
// attributes: "mode" (only "nearest"), "coordinate_transformation_mode" (default half_pixel),
// "nearest_mode" (default round_prefer_floor), and exactly one of "scales" (floats) or "sizes"
// (ints), one value per axis of X. The ONNX importer builds it from Resize and Upsample.
#include <cstdint>

#include "graph/node.hpp"
#include "graph/shape.hpp"
#include "kernels/ref/resize_nearest_ref.hpp"  // the mode enums only (header, no link dependency)

namespace octet {

struct ResizeGeometry {
  int64_t output[2];  // output height and width
  // The scales the coordinate formulas divide by: the model's scales, or output / input when the
  // model gives sizes (so a scale of 0.6 on 4 pixels gives 2 pixels but still maps by 0.6).
  double scale[2];
  kernels::CoordinateTransform transform;
  kernels::NearestRounding rounding;
};

// Throws octet::Error naming the node for anything Octet cannot resize: another mode, a
// coordinate mode it does not implement, resizing N or C, a non-4-D input, an empty output.
ResizeGeometry resolve_resize_geometry(const Node& node, const Shape& input);

}  // namespace octet
