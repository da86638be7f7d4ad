#include "graph/window_geometry.hpp"

#include "graph/error.hpp"

namespace octet {

WindowGeometry resolve_window_geometry(const Node& node, const Shape& input,
                                       const std::vector<int64_t>& kernel, bool ceil_mode) {
  if (input.size() < 3) throw Error(node.label() + ": input must have a batch, channel and spatial axes");
  const size_t rank = input.size() - 2;
  if (kernel.size() != rank)
    throw Error(node.label() + ": kernel has " + std::to_string(kernel.size()) + " axes, input has " +
                std::to_string(rank) + " spatial axes");
  WindowGeometry g;
  g.kernel = kernel;
  g.strides = node.attrs.get_ints("strides", std::vector<int64_t>(rank, 1));
  g.dilations = node.attrs.get_ints("dilations", std::vector<int64_t>(rank, 1));
  std::vector<int64_t> pads = node.attrs.get_ints("pads", std::vector<int64_t>(2 * rank, 0));
  if (g.strides.size() != rank || g.dilations.size() != rank || pads.size() != 2 * rank)
    throw Error(node.label() + ": strides/dilations/pads do not match the " + std::to_string(rank) +
                " spatial axes");
  for (size_t i = 0; i < rank; ++i) {
    if (g.kernel[i] < 1 || g.strides[i] < 1 || g.dilations[i] < 1 || pads[i] < 0 || pads[i + rank] < 0)
      throw Error(node.label() + ": kernel, strides and dilations must be positive and pads non-negative");
  }
  const std::string auto_pad = node.attrs.get_string("auto_pad", "NOTSET");
  g.pad_begin.resize(rank);
  g.pad_end.resize(rank);
  g.output.resize(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t size = input[i + 2];
    const int64_t extent = (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t out = (size + g.strides[i] - 1) / g.strides[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[i] + extent - size);
      const int64_t small = total / 2, large = total - total / 2;
      g.pad_begin[i] = auto_pad == "SAME_UPPER" ? small : large;
      g.pad_end[i] = auto_pad == "SAME_UPPER" ? large : small;
      g.output[i] = out;
      continue;
    }
    if (auto_pad == "VALID") {
      g.pad_begin[i] = g.pad_end[i] = 0;
    } else if (auto_pad == "NOTSET") {
      g.pad_begin[i] = pads[i];
      g.pad_end[i] = pads[i + rank];
    } else {
      throw Error(node.label() + ": unsupported auto_pad '" + auto_pad + "'");
    }
    const int64_t span = size + g.pad_begin[i] + g.pad_end[i] - extent;
    if (span < 0) throw Error(node.label() + ": window of " + std::to_string(extent) +
                              " is larger than the padded input " + shape_str(input));
    int64_t out = (ceil_mode ? (span + g.strides[i] - 1) / g.strides[i] : span / g.strides[i]) + 1;
    // The last window must start inside the input or the begin padding.
    if (ceil_mode && (out - 1) * g.strides[i] >= size + g.pad_begin[i]) --out;
    g.output[i] = out;
  }
  return g;
}

}  // namespace octet
