#pragma once
// Sliding-window geometry shared by Conv and the pooling ops: resolves ONNX's pads / auto_pad /
// strides / dilations / ceil_mode attributes into explicit numbers, once, at shape inference
// and kernel preparation.
#include <cstdint>
#include <vector>

#include "graph/node.hpp"
#include "graph/shape.hpp"

namespace octet {

struct WindowGeometry {
  std::vector<int64_t> kernel;     // per spatial axis
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pad_begin;
  std::vector<int64_t> pad_end;
  std::vector<int64_t> output;     // output spatial size
};

// `input` is the full NC... shape; `kernel` the spatial kernel size. `ceil_mode` rounds the
// output size up (pooling only); a window that would start entirely in the end padding is
// dropped, as ONNX and PyTorch do.
WindowGeometry resolve_window_geometry(const Node& node, const Shape& input,
                                       const std::vector<int64_t>& kernel, bool ceil_mode);

}  // namespace octet
