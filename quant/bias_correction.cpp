#include "quant/bias_correction.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/error.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/ref/conv2d_f32_ref.hpp"

namespace octet::quant {
namespace {

// A Conv's weights (OIHW) or a Gemm's ([N, K] rows) in float, and one bias per output channel.
struct FloatLayer {
  std::vector<float> weight;
  Shape weight_shape;
  std::vector<double> bias;
};

bool is_quantized(const Node& node) { return node.op == "QConv" || node.op == "QGemm"; }

const Tensor& required_initializer(const Graph& graph, const Node& node, size_t index, DType dtype) {
  const Tensor* tensor = node.has_input(index) ? graph.initializer(node.inputs[index]) : nullptr;
  if (!tensor || tensor->dtype() != dtype)
    throw Error(node.label() + ": input " + std::to_string(index) + " must be a constant " + dtype_name(dtype) +
                " tensor for bias correction");
  return *tensor;
}

const QuantParams& required_quant(const Graph& graph, const Node& node, const std::string& value) {
  auto it = graph.quant.find(value);
  if (it == graph.quant.end() || it->second.scales.empty())
    throw Error(node.label() + ": value '" + value + "' has no quantization parameters");
  return it->second;
}

// Accumulator scale of output channel c: s_x * s_w[c] (one weight scale when per-tensor).
double accumulator_scale(const Graph& graph, const Node& node, int64_t c) {
  const QuantParams& input = required_quant(graph, node, node.inputs[0]);
  const QuantParams& weight = required_quant(graph, node, node.inputs[1]);
  const float s_w = weight.scales[weight.scales.size() == 1 ? 0 : static_cast<size_t>(c)];
  return static_cast<double>(input.scales[0]) * s_w;
}

FloatLayer dequantized_layer(const Graph& graph, const Node& node) {
  const Tensor& weight = required_initializer(graph, node, 1, DType::i8);
  const Tensor& bias = required_initializer(graph, node, 2, DType::i32);
  const QuantParams& scales = required_quant(graph, node, node.inputs[1]);
  const int64_t channels = weight.shape()[0], per_channel = weight.elements() / channels;
  if (bias.elements() != channels || (scales.scales.size() != 1 && static_cast<int64_t>(scales.scales.size()) != channels))
    throw Error(node.label() + ": bias or weight scales do not match its " + std::to_string(channels) + " channels");
  FloatLayer layer{std::vector<float>(static_cast<size_t>(weight.elements())), weight.shape(),
                   std::vector<double>(static_cast<size_t>(channels))};
  for (int64_t c = 0; c < channels; ++c) {
    const float s_w = scales.scales[scales.scales.size() == 1 ? 0 : static_cast<size_t>(c)];
    for (int64_t k = 0; k < per_channel; ++k)
      layer.weight[static_cast<size_t>(c * per_channel + k)] = s_w * weight.data<int8_t>()[c * per_channel + k];
    layer.bias[static_cast<size_t>(c)] = accumulator_scale(graph, node, c) * bias.data<int32_t>()[c];
  }
  return layer;
}

FloatLayer float_conv(const Graph& graph, const Node& node) {
  const Tensor& weight = required_initializer(graph, node, 1, DType::f32);
  const int64_t channels = weight.shape()[0];
  FloatLayer layer{std::vector<float>(weight.data<float>(), weight.data<float>() + weight.elements()), weight.shape(),
                   std::vector<double>(static_cast<size_t>(channels), 0.0)};
  if (node.has_input(2)) {
    const Tensor& bias = required_initializer(graph, node, 2, DType::f32);
    if (bias.elements() != channels) throw Error(node.label() + ": bias is not one value per output channel");
    for (int64_t c = 0; c < channels; ++c) layer.bias[static_cast<size_t>(c)] = bias.data<float>()[c];
  }
  return layer;
}

// ONNX Gemm as [N, K] rows with alpha folded in, and beta * C averaged over the rows it
// broadcasts to.
FloatLayer float_gemm(const Graph& graph, const Node& node) {
  const Tensor& b = required_initializer(graph, node, 1, DType::f32);
  const bool trans_b = node.attrs.get_int("transB", 0) != 0;
  const float alpha = node.attrs.get_float("alpha", 1.0f), beta = node.attrs.get_float("beta", 1.0f);
  const int64_t n = trans_b ? b.shape()[0] : b.shape()[1], k = trans_b ? b.shape()[1] : b.shape()[0];
  FloatLayer layer{std::vector<float>(static_cast<size_t>(n * k)), {n, k}, std::vector<double>(static_cast<size_t>(n), 0.0)};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      layer.weight[static_cast<size_t>(i * k + j)] = alpha * b.data<float>()[trans_b ? i * k + j : j * n + i];
  if (node.has_input(2)) {
    const Tensor& c = required_initializer(graph, node, 2, DType::f32);
    const Shape& shape = c.shape();
    const int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape.empty() ? 1 : shape.back();
    if ((cols != 1 && cols != n) || rows * cols != c.elements())
      throw Error(node.label() + ": C of shape " + shape_str(shape) + " does not broadcast to " + std::to_string(n) +
                  " columns");
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0.0;
      for (int64_t r = 0; r < rows; ++r) sum += c.data<float>()[r * cols + (cols == 1 ? 0 : i)];
      layer.bias[static_cast<size_t>(i)] = beta * sum / static_cast<double>(rows);
    }
  }
  return layer;
}

std::vector<double> conv_mean(const Node& node, const FloatLayer& layer, const Tensor& input) {
  const Shape& x = input.shape();
  const Shape& w = layer.weight_shape;
  if (x.size() != 4 || w.size() != 4) throw Error(node.label() + ": bias correction handles 2-D convolutions only");
  const WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  const int64_t groups = node.attrs.get_int("group", 1);
  if (x[1] != w[1] * groups)
    throw Error(node.label() + ": mean input has " + std::to_string(x[1]) + " channels, the weights read " +
                std::to_string(w[1] * groups));
  const kernels::Conv2dShape shape{x[0],          x[1],          x[2],          x[3],          w[0],
                                   g.output[0],   g.output[1],   w[2],          w[3],          g.strides[0],
                                   g.strides[1],  g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1],
                                   groups};
  const int64_t positions = shape.out_h * shape.out_w;
  std::vector<float> out(static_cast<size_t>(shape.batch * shape.out_channels * positions));
  const float inf = std::numeric_limits<float>::infinity();
  kernels::conv2d_f32_ref(shape, input.data<float>(), layer.weight.data(), nullptr, {-inf, inf}, out.data());
  std::vector<double> mean(static_cast<size_t>(shape.out_channels), 0.0);
  for (int64_t n = 0; n < shape.batch; ++n)
    for (int64_t c = 0; c < shape.out_channels; ++c)
      for (int64_t p = 0; p < positions; ++p)
        mean[static_cast<size_t>(c)] += out[static_cast<size_t>((n * shape.out_channels + c) * positions + p)];
  for (int64_t c = 0; c < shape.out_channels; ++c)
    mean[static_cast<size_t>(c)] = mean[static_cast<size_t>(c)] / static_cast<double>(shape.batch * positions) +
                                   layer.bias[static_cast<size_t>(c)];
  return mean;
}

// Gemm is linear in each row of A: the mean output row is the layer applied to the mean row.
std::vector<double> gemm_mean(const Node& node, const FloatLayer& layer, const Tensor& input) {
  const bool trans_a = node.attrs.get_int("transA", 0) != 0;
  const Shape& a = input.shape();
  const int64_t n = layer.weight_shape[0], k = layer.weight_shape[1];
  if (a.size() != 2 || (trans_a ? a[0] : a[1]) != k)
    throw Error(node.label() + ": mean input of shape " + shape_str(a) + " does not have " + std::to_string(k) +
                " features");
  const int64_t rows = trans_a ? a[1] : a[0];
  std::vector<double> mean_row(static_cast<size_t>(k), 0.0);
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t j = 0; j < k; ++j)
      mean_row[static_cast<size_t>(j)] += input.data<float>()[trans_a ? j * rows + m : m * k + j];
  std::vector<double> mean(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j)
      sum += static_cast<double>(layer.weight[static_cast<size_t>(i * k + j)]) * mean_row[static_cast<size_t>(j)];
    mean[static_cast<size_t>(i)] = sum / static_cast<double>(rows) + layer.bias[static_cast<size_t>(i)];
  }
  return mean;
}

}  // namespace

std::vector<double> mean_preactivation(const Graph& graph, const Node& node, const Tensor& mean_input) {
  if (mean_input.dtype() != DType::f32) throw Error(node.label() + ": the mean input must be f32");
  if (node.op == "Conv") return conv_mean(node, float_conv(graph, node), mean_input);
  if (node.op == "QConv") return conv_mean(node, dequantized_layer(graph, node), mean_input);
  if (node.op == "Gemm") return gemm_mean(node, float_gemm(graph, node), mean_input);
  if (node.op == "QGemm") return gemm_mean(node, dequantized_layer(graph, node), mean_input);
  throw Error(node.label() + ": bias correction applies to Conv, Gemm, QConv and QGemm only");
}

int64_t subtract_from_int32_bias(Graph& graph, Node& node, const std::vector<double>& error) {
  if (!is_quantized(node)) throw Error(node.label() + ": only QConv and QGemm have an int32 bias to correct");
  const Tensor& old_bias = required_initializer(graph, node, 2, DType::i32);
  const int64_t channels = old_bias.elements();
  const Shape shape = old_bias.shape();
  if (static_cast<int64_t>(error.size()) != channels)
    throw Error(node.label() + ": " + std::to_string(error.size()) + " corrections for " + std::to_string(channels) +
                " output channels");
  Tensor bias = old_bias.clone();
  int64_t saturated = 0;
  const double low = std::numeric_limits<int32_t>::min(), high = std::numeric_limits<int32_t>::max();
  for (int64_t c = 0; c < channels; ++c) {
    if (!std::isfinite(error[static_cast<size_t>(c)]))
      throw Error(node.label() + ": correction of channel " + std::to_string(c) + " is not finite");
    double q = bias.data<int32_t>()[c] -
               std::nearbyint(error[static_cast<size_t>(c)] / accumulator_scale(graph, node, c));
    if (q < low || q > high) {
      ++saturated;
      q = std::clamp(q, low, high);
    }
    bias.mutable_data<int32_t>()[c] = static_cast<int32_t>(q);
  }
  // A new name: the old tensor may be another node's too.
  const std::string name = node.outputs[0] + ".corrected_bias";
  graph.initializers[name] = std::move(bias);
  graph.values[name] = ValueInfo{DType::i32, shape};
  node.inputs[2] = name;
  graph.remove_unused();
  return saturated;
}

}  // namespace octet::quant
