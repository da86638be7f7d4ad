#pragma once
// ONNX Resize (opset 10–17) and Upsample (opset 7–9) → Octet's Resize node (see
// graph/resize_geometry.hpp): the constant scales/sizes inputs become attributes, and the older
// ops get the modes they implied (asymmetric coordinates, floor rounding).
#include <onnx/onnx_pb.h>

#include "graph/graph.hpp"

namespace octet {

// `node` already carries the name and op of `proto`. Reads constants from `graph` (initializers
// and the outputs of Constant nodes imported so far). Throws octet::Error naming the node when
// scales/sizes are not constant or the node uses something Octet's Resize does not have; the
// mode and shape checks happen at shape inference.
Node resize_from_onnx(const onnx::NodeProto& proto, Node node, int opset, const Graph& graph);

}  // namespace octet
