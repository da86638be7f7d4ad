#include "backends/npu_emu/npu_backend.hpp"

#include <cstring>
#include <limits>

#include "backends/npu_emu/npu_constraints.hpp"
#include "backends/npu_emu/npu_kernels.hpp"
#include "backends/ref/quantized_params.hpp"
#include "graph/error.hpp"
#include "graph/window_geometry.hpp"

namespace octet {
namespace {

using npu::NpuConfig;

// Host-side preparation (this file may use floats: it plays the NPU compiler): scales become
// the integer multipliers the kernels take, derived exactly as the ref backend derives them.
npu::LayerRequant layer_requant(const NpuConfig& config, const ref::OutputStageStorage& stage,
                                const npu::LayerCheck& check) {
  npu::LayerRequant r;
  r.bias = stage.bias.empty() ? nullptr : stage.bias.data();
  r.multiplier = stage.multipliers.at(0);
  r.output_zero_point = stage.output_zero_point;
  r.low = stage.clamp.low;
  r.high = stage.clamp.high;
  r.rounding = config.rounding;
  r.accumulator = npu::AccumulatorRange::of_bits(config.accumulator_bits);
  r.may_saturate = !check.accumulator || check.accumulator->overflow_risk();
  return r;
}

class NpuConv final : public Kernel {
 public:
  NpuConv(npu::ConvGeometry shape, int32_t zero_point, Tensor weight, ref::OutputStageStorage stage,
          npu::LayerRequant requant)
      : shape_(shape),
        zero_point_(zero_point),
        weight_(std::move(weight)),
        stage_(std::move(stage)),
        requant_(requant) {
    requant_.bias = stage_.bias.empty() ? nullptr : stage_.bias.data();  // points into our own copy
  }
  void run(const TensorView* in, TensorView* out) const override {
    npu::npu_conv2d_s8(shape_, in[0].as<const int8_t>(), zero_point_, weight_.data<int8_t>(),
                       requant_, out[0].as<int8_t>());
  }

 private:
  npu::ConvGeometry shape_;
  int32_t zero_point_;
  Tensor weight_;
  ref::OutputStageStorage stage_;
  npu::LayerRequant requant_;
};

class NpuGemm final : public Kernel {
 public:
  NpuGemm(int64_t m, int64_t n, int64_t k, int32_t zero_point, Tensor weight,
          ref::OutputStageStorage stage, npu::LayerRequant requant)
      : m_(m),
        n_(n),
        k_(k),
        zero_point_(zero_point),
        weight_(std::move(weight)),
        stage_(std::move(stage)),
        requant_(requant) {
    requant_.bias = stage_.bias.empty() ? nullptr : stage_.bias.data();
  }
  void run(const TensorView* in, TensorView* out) const override {
    npu::npu_gemm_s8(m_, n_, k_, in[0].as<const int8_t>(), zero_point_, weight_.data<int8_t>(),
                     requant_, out[0].as<int8_t>());
  }

 private:
  int64_t m_, n_, k_;
  int32_t zero_point_;
  Tensor weight_;
  ref::OutputStageStorage stage_;
  npu::LayerRequant requant_;
};

class NpuAdd final : public Kernel {
 public:
  NpuAdd(kernels::QAddParams params, int64_t b_count, npu::Rounding rounding)
      : params_(params), b_count_(b_count), rounding_(rounding) {}
  void run(const TensorView* in, TensorView* out) const override {
    npu::npu_add_s8(out[0].elements(), in[0].as<const int8_t>(), in[1].as<const int8_t>(), b_count_,
                    params_, rounding_, out[0].as<int8_t>());
  }

 private:
  kernels::QAddParams params_;
  int64_t b_count_;
  npu::Rounding rounding_;
};

class NpuPool final : public Kernel {
 public:
  enum class Kind { max, average, global_average };
  NpuPool(Kind kind, npu::WindowShape shape, bool count_include_pad, int32_t zero_point)
      : kind_(kind),
        shape_(shape),
        count_include_pad_(count_include_pad),
        zero_point_(zero_point) {}
  void run(const TensorView* in, TensorView* out) const override {
    const int8_t* x = in[0].as<const int8_t>();
    int8_t* y = out[0].as<int8_t>();
    if (kind_ == Kind::max)
      npu::npu_max_pool_s8(shape_, x, y);
    else if (kind_ == Kind::average)
      npu::npu_average_pool_s8(shape_, count_include_pad_, zero_point_, x, y);
    else
      npu::npu_global_average_pool_s8(shape_.planes, shape_.in_h * shape_.in_w, x, y);
  }

 private:
  Kind kind_;
  npu::WindowShape shape_;
  bool count_include_pad_;
  int32_t zero_point_;
};

// Flatten/Reshape of int8 data: the bytes do not change.
class NpuCopy final : public Kernel {
 public:
  void run(const TensorView* in, TensorView* out) const override {
    std::memcpy(out[0].data, in[0].data, static_cast<size_t>(out[0].elements()));
  }
};

std::unique_ptr<Kernel> make_conv(const NpuConfig& config, const Graph& graph, const Node& node,
                                  const npu::LayerCheck& check) {
  const Tensor* weight = graph.initializer(node.inputs[1]);
  if (!weight) throw Error(node.label() + ": weight must be a constant");
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& w = weight->shape();
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  const WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  const npu::ConvGeometry shape{
      x[0],           x[1],           x[2],           x[3],
      y[1],           y[2],           y[3],           w[2],
      w[3],           g.strides[0],   g.strides[1],   g.dilations[0],
      g.dilations[1], g.pad_begin[0], g.pad_begin[1], node.attrs.get_int("group", 1)};
  ref::OutputStageStorage stage = ref::make_output_stage(graph, node, w[0]);
  const npu::LayerRequant requant = layer_requant(config, stage, check);
  return std::make_unique<NpuConv>(shape, ref::affine_params(graph, node.inputs[0]).zero_point,
                                   *weight, std::move(stage), requant);
}

std::unique_ptr<Kernel> make_gemm(const NpuConfig& config, const Graph& graph, const Node& node,
                                  const npu::LayerCheck& check) {
  const Tensor* weight = graph.initializer(node.inputs[1]);
  if (!weight) throw Error(node.label() + ": weight must be a constant");
  const Shape& a = graph.value_info(node.inputs[0]).shape;
  ref::OutputStageStorage stage = ref::make_output_stage(graph, node, weight->shape()[0]);
  const npu::LayerRequant requant = layer_requant(config, stage, check);
  return std::make_unique<NpuGemm>(a[0], weight->shape()[0], a[1],
                                   ref::affine_params(graph, node.inputs[0]).zero_point, *weight,
                                   std::move(stage), requant);
}

std::unique_ptr<Kernel> make_add(const NpuConfig& config, const Graph& graph, const Node& node) {
  const float inf = std::numeric_limits<float>::infinity();
  const quant::AffineParams output = ref::affine_params(graph, node.outputs[0]);
  const quant::QuantizedRange range =
      node.attrs.has("activation")
          ? quant::quantized_clamp(output, node.attrs.get_float("activation_min", -inf),
                                   node.attrs.get_float("activation_max", inf))
          : quant::QuantizedRange{};
  return std::make_unique<NpuAdd>(quant::make_qadd_params(ref::affine_params(graph, node.inputs[0]),
                                                          ref::affine_params(graph, node.inputs[1]),
                                                          output, range.low, range.high),
                                  shape_elements(graph.value_info(node.inputs[1]).shape),
                                  config.rounding);
}

std::unique_ptr<Kernel> make_pool(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  if (node.op == "QGlobalAveragePool")
    return std::make_unique<NpuPool>(
        NpuPool::Kind::global_average,
        npu::WindowShape{x[0] * x[1], x[2], x[3], 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, false, 0);
  const WindowGeometry g = resolve_window_geometry(node, x, node.attrs.get_ints("kernel_shape"),
                                                   node.attrs.get_int("ceil_mode", 0) != 0);
  const npu::WindowShape shape{x[0] * x[1],    x[2],           x[3],           y[2],
                               y[3],           g.kernel[0],    g.kernel[1],    g.strides[0],
                               g.strides[1],   g.dilations[0], g.dilations[1], g.pad_begin[0],
                               g.pad_begin[1], g.pad_end[0],   g.pad_end[1]};
  const bool max = node.op == "MaxPool";
  return std::make_unique<NpuPool>(max ? NpuPool::Kind::max : NpuPool::Kind::average, shape,
                                   node.attrs.get_int("count_include_pad", 0) != 0,
                                   max ? 0 : ref::affine_params(graph, node.inputs[0]).zero_point);
}

class NpuBackend final : public Backend {
 public:
  explicit NpuBackend(NpuConfig config) : config_(std::move(config)) {}
  const char* name() const override { return "npu"; }

  Support supports(const Graph& graph, const Node& node) const override {
    const npu::LayerCheck check = npu::check_layer(config_, graph, node);
    return check.on_npu() ? Support::yes() : Support::no("npu: " + check.reasons());
  }

  std::unique_ptr<Kernel> prepare(const Graph& graph, const Node& node) const override {
    const npu::LayerCheck check = npu::check_layer(config_, graph, node);
    if (!check.on_npu()) throw Error("npu cannot run " + node.label() + ": " + check.reasons());
    if (node.op == "QConv") return make_conv(config_, graph, node, check);
    if (node.op == "QGemm") return make_gemm(config_, graph, node, check);
    if (node.op == "QAdd") return make_add(config_, graph, node);
    if (node.op == "Flatten" || node.op == "Reshape") return std::make_unique<NpuCopy>();
    return make_pool(graph, node);
  }

 private:
  NpuConfig config_;
};

}  // namespace

std::unique_ptr<Backend> make_npu_backend(npu::NpuConfig config) {
  return std::make_unique<NpuBackend>(std::move(config));
}

}  // namespace octet
