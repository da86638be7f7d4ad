#include "quant/accumulator_overflow.hpp"

#include <algorithm>
#include <cstdlib>

#include "graph/error.hpp"
#include "graph/window_geometry.hpp"

namespace octet::quant {

void OverflowCounts::merge(const OverflowCounts& other) {
  pairs += other.pairs;
  saturated_pairs += other.saturated_pairs;
  outputs += other.outputs;
  final_overflows += other.final_overflows;
  partial_overflows += other.partial_overflows;
  max_abs_accumulator = std::max(max_abs_accumulator, other.max_abs_accumulator);
}

int OverflowCounts::bits_needed() const {
  // A signed b-bit register holds [-2^(b-1), 2^(b-1) - 1]; counting with the magnitude is
  // conservative by one value at the negative end.
  int bits = 1;
  while (bits < 63 && (int64_t{1} << (bits - 1)) <= max_abs_accumulator) ++bits;
  return bits;
}

OverflowCounter::OverflowCounter(const Graph& graph, const Node& node, int accumulator_bits)
    : bits_(accumulator_bits) {
  if (node.op != "QConv" && node.op != "QGemm")
    throw Error("overflow counting needs a QConv or QGemm, not " + node.label());
  if (accumulator_bits < 2 || accumulator_bits > 62)
    throw Error("accumulator width must be 2..62 bits, got " + std::to_string(accumulator_bits));
  limit_ = int64_t{1} << (accumulator_bits - 1);
  conv_ = node.op == "QConv";
  const Tensor* weight = graph.initializer(node.inputs[1]);
  if (!weight || weight->dtype() != DType::i8)
    throw Error(node.label() + ": weights must be an int8 constant");
  channels_ = weight->shape()[0];
  depth_ = weight->elements() / std::max<int64_t>(channels_, 1);
  weights_.assign(weight->data<int8_t>(), weight->data<int8_t>() + weight->elements());
  bias_.assign(static_cast<size_t>(channels_), 0);
  if (node.has_input(2)) {
    const Tensor* bias = graph.initializer(node.inputs[2]);
    if (!bias || bias->dtype() != DType::i32 || bias->elements() != channels_)
      throw Error(node.label() +
                  ": bias must be an int32 constant with one value per output channel");
    bias_.assign(bias->data<int32_t>(), bias->data<int32_t>() + channels_);
  }
  auto q = graph.quant.find(node.inputs[0]);
  if (q == graph.quant.end() || q->second.zero_points.empty())
    throw Error(node.label() + ": input '" + node.inputs[0] + "' has no qparams");
  zero_point_ = q->second.zero_points[0];
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  if (conv_) {
    const Shape& w = weight->shape();
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    if (x.size() != 4 || w.size() != 4 || y.size() != 4)
      throw Error(node.label() + ": overflow counting supports 2-D convolutions");
    const WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
    batch_ = x[0], in_c_ = x[1], in_h_ = x[2], in_w_ = x[3];
    out_h_ = y[2], out_w_ = y[3], k_h_ = w[2], k_w_ = w[3];
    stride_h_ = g.strides[0], stride_w_ = g.strides[1], dil_h_ = g.dilations[0],
    dil_w_ = g.dilations[1];
    pad_h_ = g.pad_begin[0], pad_w_ = g.pad_begin[1];
    groups_ = node.attrs.get_int("group", 1);
  } else {
    if (x.size() != 2 || x[1] != depth_)
      throw Error(node.label() + ": input must be [M, K] with K = weight columns");
    rows_ = x[0];
  }
}

// One accumulator over an im2col column given as u = x + 128 (the vpmaddubsw operand) and
// d = x - zp (the spec's operand), both precomputed once per output position.
void OverflowCounter::one_output(int64_t channel, const int32_t* u, const int32_t* d,
                                 OverflowCounts& counts) const {
  const int8_t* w = weights_.data() + channel * depth_;
  int64_t acc = bias_[static_cast<size_t>(channel)];
  bool partial_overflow = acc >= limit_ || acc < -limit_;
  int64_t max_abs = acc < 0 ? -acc : acc;
  uint64_t saturated = 0;
  const int64_t pairs = depth_ / 2;
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t k = 2 * p;
    const int32_t pair = u[k] * w[k] + u[k + 1] * w[k + 1];
    saturated += static_cast<uint64_t>((pair > 32767) | (pair < -32768));
    // The partial sum is checked per pair: kernels add a pair as one value, so that is the
    // granularity at which a narrow register would overflow.
    acc += d[k] * w[k] + d[k + 1] * w[k + 1];
    partial_overflow |= (acc >= limit_) | (acc < -limit_);
    const int64_t magnitude = acc < 0 ? -acc : acc;
    max_abs = magnitude > max_abs ? magnitude : max_abs;
  }
  if (depth_ % 2) {  // the odd last product has no partner: one u8 x s8 product always fits int16
    acc += d[depth_ - 1] * w[depth_ - 1];
    partial_overflow |= (acc >= limit_) | (acc < -limit_);
    max_abs = std::max(max_abs, static_cast<int64_t>(std::llabs(acc)));
  }
  counts.pairs += static_cast<uint64_t>(pairs);
  counts.saturated_pairs += saturated;
  ++counts.outputs;
  counts.final_overflows += (acc >= limit_ || acc < -limit_) ? 1 : 0;
  counts.partial_overflows += partial_overflow ? 1 : 0;
  counts.max_abs_accumulator = std::max(counts.max_abs_accumulator, max_abs);
}

void OverflowCounter::count_conv(const int8_t* input, OverflowCounts& counts) const {
  const int64_t group_in = in_c_ / groups_, group_out = channels_ / groups_;
  std::vector<int32_t> u(static_cast<size_t>(depth_)), d(static_cast<size_t>(depth_));
  for (int64_t n = 0; n < batch_; ++n)
    for (int64_t g = 0; g < groups_; ++g)
      for (int64_t oy = 0; oy < out_h_; ++oy)
        for (int64_t ox = 0; ox < out_w_; ++ox) {
          // The column of k = (ic, ky, kx) in OIHW order within the group; padding is the zero
          // point.
          size_t k = 0;
          for (int64_t ic = g * group_in; ic < (g + 1) * group_in; ++ic)
            for (int64_t ky = 0; ky < k_h_; ++ky)
              for (int64_t kx = 0; kx < k_w_; ++kx, ++k) {
                const int64_t iy = oy * stride_h_ - pad_h_ + ky * dil_h_;
                const int64_t ix = ox * stride_w_ - pad_w_ + kx * dil_w_;
                const int32_t x = (iy < 0 || iy >= in_h_ || ix < 0 || ix >= in_w_)
                                      ? zero_point_
                                      : input[((n * in_c_ + ic) * in_h_ + iy) * in_w_ + ix];
                u[k] = x + 128;
                d[k] = x - zero_point_;
              }
          for (int64_t oc = g * group_out; oc < (g + 1) * group_out; ++oc)
            one_output(oc, u.data(), d.data(), counts);
        }
}

void OverflowCounter::count_gemm(const int8_t* input, OverflowCounts& counts) const {
  std::vector<int32_t> u(static_cast<size_t>(depth_)), d(static_cast<size_t>(depth_));
  for (int64_t m = 0; m < rows_; ++m) {
    for (int64_t k = 0; k < depth_; ++k) {
      u[static_cast<size_t>(k)] = input[m * depth_ + k] + 128;
      d[static_cast<size_t>(k)] = input[m * depth_ + k] - zero_point_;
    }
    for (int64_t c = 0; c < channels_; ++c) one_output(c, u.data(), d.data(), counts);
  }
}

void OverflowCounter::count(const int8_t* input, OverflowCounts& counts) const {
  if (conv_)
    count_conv(input, counts);
  else
    count_gemm(input, counts);
}

}  // namespace octet::quant
