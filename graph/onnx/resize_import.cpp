#include "graph/onnx/resize_import.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "graph/error.hpp"

namespace octet {
namespace {

// The constant tensor at input `index`, nullptr when the input is omitted or an empty tensor
// (opset 11–12 Resize passes an empty `scales` next to `sizes`).
const Tensor* constant_input(const onnx::NodeProto& proto, int index, const Node& node, const Graph& graph,
                             const char* what) {
  if (index >= proto.input_size() || proto.input(index).empty()) return nullptr;
  const std::string& name = proto.input(index);
  const Tensor* tensor = graph.initializer(name);
  if (!tensor)
    throw Error(node.label() + ": " + what + " input '" + name +
                "' is not a constant (initializer or Constant node); Octet needs a fixed output size");
  return tensor->elements() == 0 ? nullptr : tensor;
}

std::vector<float> scale_values(const Tensor& tensor, const Node& node) {
  if (tensor.dtype() != DType::f32)
    throw Error(node.label() + ": scales must be float, is " + dtype_name(tensor.dtype()));
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.elements());
}

std::vector<int64_t> size_values(const Tensor& tensor, const Node& node) {
  if (tensor.dtype() != DType::i64)
    throw Error(node.label() + ": sizes must be int64, is " + dtype_name(tensor.dtype()));
  return std::vector<int64_t>(tensor.data<int64_t>(), tensor.data<int64_t>() + tensor.elements());
}

std::string string_attribute(const onnx::AttributeProto& attr, const Node& node) {
  if (attr.type() != onnx::AttributeProto::STRING)
    throw Error("attribute '" + attr.name() + "' of " + node.label() + " must be a string");
  return attr.s();
}

}  // namespace

Node resize_from_onnx(const onnx::NodeProto& proto, Node node, int opset, const Graph& graph) {
  const bool upsample = node.op == "Upsample";
  if (upsample && opset < 7)
    throw Error(node.label() + ": Upsample-1 (opset < 7, height_scale/width_scale) is not supported");
  if (proto.input_size() < 1 || proto.input(0).empty()) throw Error(node.label() + ": input X is missing");
  if (proto.output_size() != 1) throw Error(node.label() + " must have one output");
  // Upsample and Resize-10 predate the coordinate modes: they divide by the scale and round down.
  const bool implied_modes = upsample || opset < 11;

  // Attributes that only shape linear/cubic weights or tf_crop_and_resize's fill: they cannot
  // change a nearest resize, and mode/coordinate checks refuse the cases where they would.
  const std::set<std::string> ignored = {"cubic_coeff_a", "exclude_outside", "extrapolation_value"};
  std::set<std::string> accepted = {"mode"};
  if (upsample) accepted.insert("scales");
  if (!implied_modes) accepted.insert({"coordinate_transformation_mode", "nearest_mode"});
  std::vector<float> scales_attribute;
  for (const auto& attr : proto.attribute()) {
    if (!implied_modes && ignored.count(attr.name())) continue;
    if (!accepted.count(attr.name()))
      throw Error("unsupported attribute '" + attr.name() + "' on " + node.label());
    if (attr.name() == "scales") {
      if (attr.type() != onnx::AttributeProto::FLOATS)
        throw Error("attribute 'scales' of " + node.label() + " must be a list of floats");
      scales_attribute.assign(attr.floats().begin(), attr.floats().end());
    } else {
      node.attrs.set(attr.name(), string_attribute(attr, node));
    }
  }

  const Tensor* scales = nullptr;
  const Tensor* sizes = nullptr;
  if (upsample) {
    if (scales_attribute.empty()) scales = constant_input(proto, 1, node, graph, "scales");  // Upsample-9
  } else if (opset < 11) {
    scales = constant_input(proto, 1, node, graph, "scales");  // Resize-10: X, scales
  } else {
    scales = constant_input(proto, 2, node, graph, "scales");  // Resize-11+: X, roi, scales, sizes
    sizes = constant_input(proto, 3, node, graph, "sizes");
  }
  if (scales) scales_attribute = scale_values(*scales, node);
  if (!scales_attribute.empty() && sizes)
    throw Error(node.label() + ": scales and sizes are both given (ONNX allows one)");
  if (scales_attribute.empty() && !sizes) throw Error(node.label() + ": needs scales or sizes");

  if (implied_modes) {
    // Upsample's spec requires scales >= 1; Resize-10 leaves the rounding of a downsample
    // undefined (ONNX Runtime rounds it up, PyTorch down), so Octet does not guess.
    if (std::any_of(scales_attribute.begin(), scales_attribute.end(), [](float s) { return s < 1.0f; }))
      throw Error(node.label() + ": opset " + std::to_string(opset) + " " + node.op +
                  " with a scale below 1 is not supported (export with opset 11 or later)");
    node.attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
    node.attrs.set("nearest_mode", std::string("floor"));
  }
  if (!scales_attribute.empty()) node.attrs.set("scales", scales_attribute);
  else node.attrs.set("sizes", size_values(*sizes, node));
  node.op = "Resize";
  node.inputs = {proto.input(0)};
  node.outputs = {proto.output(0)};
  return node;
}

}  // namespace octet
