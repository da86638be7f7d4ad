#include <limits>

#include "backends/ref/ref_kernels.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/ref/conv2d_f32_ref.hpp"

namespace octet::ref {

FusedClamp fused_clamp(const Node& node) {
  if (!node.attrs.has("activation"))
    return {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
  return {node.attrs.get_float("activation_min", 0.0f),
          node.attrs.get_float("activation_max", std::numeric_limits<float>::infinity())};
}

namespace {

class ConvF32 final : public Kernel {
 public:
  ConvF32(kernels::Conv2dShape shape, Tensor weight, Tensor bias, FusedClamp clamp)
      : shape_(shape), weight_(std::move(weight)), bias_(std::move(bias)), clamp_(clamp) {}

  void run(const TensorView* inputs, TensorView* outputs) const override {
    const float* weight = weight_.empty() ? inputs[1].as<const float>() : weight_.data<float>();
    const float* bias = bias_.empty() ? (bias_input_ ? inputs[2].as<const float>() : nullptr)
                                      : bias_.data<float>();
    kernels::conv2d_f32_ref(shape_, inputs[0].as<const float>(), weight, bias,
                            {clamp_.low, clamp_.high}, outputs[0].as<float>());
  }

  bool bias_input_ = false;  // bias present but not constant: read at run time

 private:
  kernels::Conv2dShape shape_;
  Tensor weight_;  // empty when the weight is a runtime input
  Tensor bias_;
  FusedClamp clamp_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  kernels::Conv2dShape shape{x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[2], w[3],
                             g.strides[0], g.strides[1], g.dilations[0], g.dilations[1],
                             g.pad_begin[0], g.pad_begin[1], node.attrs.get_int("group", 1)};
  const Tensor* weight = graph.initializer(node.inputs[1]);
  const Tensor* bias = node.has_input(2) ? graph.initializer(node.inputs[2]) : nullptr;
  auto kernel = std::make_unique<ConvF32>(shape, weight ? *weight : Tensor(), bias ? *bias : Tensor(),
                                          fused_clamp(node));
  kernel->bias_input_ = node.has_input(2) && !bias;
  return kernel;
}

}  // namespace octet::ref
