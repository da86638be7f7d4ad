// The ref backend's int8 kernels: thin wrappers that read qparams once and call kernels/ref.
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/ref/quantized_params.hpp"
#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/ref/qadd_s8_ref.hpp"
#include "kernels/ref/qconv2d_s8_ref.hpp"
#include "kernels/ref/qgemm_s8_ref.hpp"
#include "kernels/ref/qpool2d_s8_ref.hpp"
#include "kernels/ref/quantize_ref.hpp"

namespace octet::ref {
namespace {

kernels::Conv2dShape conv_shape(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  return {x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[2], w[3], g.strides[0], g.strides[1],
          g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1], node.attrs.get_int("group", 1)};
}

class Quantize final : public Kernel {
 public:
  explicit Quantize(quant::AffineParams params) : params_(params) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::quantize_f32_to_s8_ref(in[0].elements(), in[0].as<const float>(), params_.scale,
                                    params_.zero_point, out[0].as<int8_t>());
  }

 private:
  quant::AffineParams params_;
};

class Dequantize final : public Kernel {
 public:
  explicit Dequantize(quant::AffineParams params) : params_(params) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::dequantize_s8_to_f32_ref(in[0].elements(), in[0].as<const int8_t>(), params_.scale,
                                      params_.zero_point, out[0].as<float>());
  }

 private:
  quant::AffineParams params_;
};

class QConv final : public Kernel {
 public:
  QConv(kernels::Conv2dShape shape, int32_t input_zero_point, Tensor weight, OutputStageStorage stage)
      : shape_(shape), input_zero_point_(input_zero_point), weight_(std::move(weight)), stage_(std::move(stage)) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::qconv2d_s8_ref(shape_, in[0].as<const int8_t>(), input_zero_point_, weight_.data<int8_t>(),
                            stage_.stage(), out[0].as<int8_t>());
  }

 private:
  kernels::Conv2dShape shape_;
  int32_t input_zero_point_;
  Tensor weight_;
  OutputStageStorage stage_;
};

class QGemm final : public Kernel {
 public:
  QGemm(int64_t m, int64_t n, int64_t k, int32_t input_zero_point, Tensor weight, OutputStageStorage stage)
      : m_(m), n_(n), k_(k), input_zero_point_(input_zero_point), weight_(std::move(weight)), stage_(std::move(stage)) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::qgemm_s8_ref(m_, n_, k_, in[0].as<const int8_t>(), input_zero_point_, weight_.data<int8_t>(),
                          stage_.stage(), out[0].as<int8_t>());
  }

 private:
  int64_t m_, n_, k_;
  int32_t input_zero_point_;
  Tensor weight_;
  OutputStageStorage stage_;
};

class QAdd final : public Kernel {
 public:
  QAdd(kernels::QAddParams params, int64_t b_count) : params_(params), b_count_(b_count) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::qadd_s8_ref(out[0].elements(), in[0].as<const int8_t>(), in[1].as<const int8_t>(), b_count_,
                         params_, out[0].as<int8_t>());
  }

 private:
  kernels::QAddParams params_;
  int64_t b_count_;
};

class QAveragePool final : public Kernel {
 public:
  QAveragePool(kernels::Pool2dShape shape, bool count_include_pad, int32_t zero_point, bool global)
      : shape_(shape), count_include_pad_(count_include_pad), zero_point_(zero_point), global_(global) {}
  void run(const TensorView* in, TensorView* out) const override {
    if (global_)
      kernels::global_average_pool_s8_ref(shape_.batch * shape_.channels, shape_.in_h * shape_.in_w,
                                          in[0].as<const int8_t>(), out[0].as<int8_t>());
    else
      kernels::average_pool2d_s8_ref(shape_, count_include_pad_, zero_point_, in[0].as<const int8_t>(),
                                     out[0].as<int8_t>());
  }

 private:
  kernels::Pool2dShape shape_;
  bool count_include_pad_;
  int32_t zero_point_;
  bool global_;
};

// Dynamic quantization (PyTorch-style): int8 weights; the activation's scale is computed from
// each input at run time, the product dequantized back to float.
class DynamicQuantized final : public Kernel {
 public:
  DynamicQuantized(bool conv, kernels::Conv2dShape shape, int64_t m, int64_t n, int64_t k, Tensor weight,
                   std::vector<float> weight_scales, Tensor bias, FusedClamp clamp)
      : conv_(conv), shape_(shape), m_(m), n_(n), k_(k), weight_(std::move(weight)),
        weight_scales_(std::move(weight_scales)), bias_(std::move(bias)), clamp_(clamp) {}

  void run(const TensorView* in, TensorView* out) const override {
    const int64_t count = in[0].elements();
    const float* x = in[0].as<const float>();
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < count; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    const quant::AffineParams input = quant::choose_activation_qparams(lo, hi, false);
    std::vector<int8_t> xq(static_cast<size_t>(count));
    kernels::quantize_f32_to_s8_ref(count, x, input.scale, input.zero_point, xq.data());
    const int64_t outputs = out[0].elements();
    std::vector<int32_t> acc(static_cast<size_t>(outputs));
    if (conv_)
      kernels::conv2d_s8_accumulate_ref(shape_, xq.data(), input.zero_point, weight_.data<int8_t>(), acc.data());
    else
      kernels::gemm_s8_accumulate_ref(m_, n_, k_, xq.data(), input.zero_point, weight_.data<int8_t>(), acc.data());
    // Each exact int32 sum back to real with its channel's scale s_x * s_w[c], plus the fp32 bias.
    const int64_t channels = conv_ ? shape_.out_channels : n_;
    const int64_t plane = conv_ ? shape_.out_h * shape_.out_w : 1;
    float* y = out[0].as<float>();
    for (int64_t i = 0; i < outputs; ++i) {
      const int64_t c = conv_ ? (i / plane) % channels : i % channels;
      const float scale = input.scale * weight_scales_[weight_scales_.size() == 1 ? 0 : static_cast<size_t>(c)];
      const float value = static_cast<float>(acc[static_cast<size_t>(i)]) * scale + (bias_.empty() ? 0.0f : bias_.data<float>()[c]);
      y[i] = std::min(std::max(value, clamp_.low), clamp_.high);
    }
  }

 private:
  bool conv_;
  kernels::Conv2dShape shape_;
  int64_t m_, n_, k_;
  Tensor weight_;
  std::vector<float> weight_scales_;
  Tensor bias_;
  FusedClamp clamp_;
};

const Tensor& constant(const Graph& graph, const Node& node, size_t input) {
  const Tensor* tensor = graph.initializer(node.inputs[input]);
  if (!tensor) throw Error(node.label() + ": input '" + node.inputs[input] + "' must be a constant");
  return *tensor;
}

}  // namespace

std::unique_ptr<Kernel> make_quantize(const Graph& graph, const Node& node) {
  return std::make_unique<Quantize>(affine_params(graph, node.outputs[0]));
}

std::unique_ptr<Kernel> make_dequantize(const Graph& graph, const Node& node) {
  return std::make_unique<Dequantize>(affine_params(graph, node.inputs[0]));
}

std::unique_ptr<Kernel> make_qconv(const Graph& graph, const Node& node) {
  const Tensor& weight = constant(graph, node, 1);
  return std::make_unique<QConv>(conv_shape(graph, node), affine_params(graph, node.inputs[0]).zero_point,
                                 weight, make_output_stage(graph, node, weight.shape()[0]));
}

std::unique_ptr<Kernel> make_qgemm(const Graph& graph, const Node& node) {
  const Tensor& weight = constant(graph, node, 1);
  const Shape& a = graph.value_info(node.inputs[0]).shape;
  return std::make_unique<QGemm>(a[0], weight.shape()[0], a[1], affine_params(graph, node.inputs[0]).zero_point,
                                 weight, make_output_stage(graph, node, weight.shape()[0]));
}

std::unique_ptr<Kernel> make_qadd(const Graph& graph, const Node& node) {
  const float inf = std::numeric_limits<float>::infinity();
  const quant::AffineParams output = affine_params(graph, node.outputs[0]);
  const quant::QuantizedRange range =
      node.attrs.has("activation") ? quant::quantized_clamp(output, node.attrs.get_float("activation_min", -inf),
                                                            node.attrs.get_float("activation_max", inf))
                                   : quant::QuantizedRange{};
  return std::make_unique<QAdd>(quant::make_qadd_params(affine_params(graph, node.inputs[0]),
                                                        affine_params(graph, node.inputs[1]), output,
                                                        range.low, range.high),
                                shape_elements(graph.value_info(node.inputs[1]).shape));
}

std::unique_ptr<Kernel> make_qaverage_pool(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  const bool global = node.op == "QGlobalAveragePool";
  kernels::Pool2dShape shape{x[0], x[1], x[2], x[3], y[2], y[3], 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
  if (!global) {
    WindowGeometry g = resolve_window_geometry(node, x, node.attrs.get_ints("kernel_shape"),
                                               node.attrs.get_int("ceil_mode", 0) != 0);
    shape = {x[0], x[1], x[2], x[3], y[2], y[3], g.kernel[0], g.kernel[1], g.strides[0], g.strides[1],
             g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1], g.pad_end[0], g.pad_end[1]};
  }
  return std::make_unique<QAveragePool>(shape, node.attrs.get_int("count_include_pad", 0) != 0,
                                        affine_params(graph, node.inputs[0]).zero_point, global);
}

std::unique_ptr<Kernel> make_dynamic_quantized(const Graph& graph, const Node& node) {
  const bool conv = node.op == "DynQConv";
  const Tensor& weight = constant(graph, node, 1);
  const Tensor* bias = node.has_input(2) ? &constant(graph, node, 2) : nullptr;
  const Shape& a = graph.value_info(node.inputs[0]).shape;
  kernels::Conv2dShape shape{};
  if (conv) shape = conv_shape(graph, node);
  return std::make_unique<DynamicQuantized>(conv, shape, conv ? 0 : a[0], weight.shape()[0], conv ? 0 : a[1],
                                            weight, graph.quant.at(node.inputs[1]).scales,
                                            bias ? *bias : Tensor(), fused_clamp(node));
}

}  // namespace octet::ref
