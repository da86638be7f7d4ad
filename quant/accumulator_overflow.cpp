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
  if (!weight || weight->dtype() != DType::i8) throw Error(node.label() + ": weights must be an int8 constant");
  channels_ = weight->shape()[0];
  depth_ = weight->elements() / std::max<int64_t>(channels_, 1);
  weights_.assign(weight->data<int8_t>(), weight->data<int8_t>() + weight->elements());
  bias_.assign(static_cast<size_t>(channels_), 0);
  if (node.has_input(2)) {
    const Tensor* bias = graph.initializer(node.inputs[2]);
    if (!bias || bias->dtype() != DType::i32 || bias->elements() != channels_)
      throw Error(node.label() + ": bias must be an int32 constant with one value per output channel");
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
    if (x.size() != 4 || w.size() != 4 || y.size() != 4) throw Error(node.label() + ": overflow counting supports 2-D convolutions");
    const WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
    batch_ = x[0], in_c_ = x[1], in_h_ = x[2], in_w_ = x[3];
    out_h_ = y[2], out_w_ = y[3], k_h_ = w[2], k_w_ = w[3];
    stride_h_ = g.strides[0], stride_w_ = g.strides[1], dil_h_ = g.dilations[0], dil_w_ = g.dilations[1];
    pad_h_ = g.pad_begin[0], pad_w_ = g.pad_begin[1];
    groups_ = node.attrs.get_int("group", 1);
  } else {
    if (x.size() != 2 || x[1] != depth_) throw Error(node.label() + ": input must be [M, K] with K = weight columns");
    rows_ = x[0];
  }
}

template <class ActivationAt>
void OverflowCounter::one_output(int64_t channel, const ActivationAt& x_at, OverflowCounts& counts) const {
  const int8_t* w = weights_.data() + channel * depth_;
  int64_t acc = bias_[static_cast<size_t>(channel)];
  bool partial_overflow = acc >= limit_ || acc < -limit_;
  int64_t max_abs = std::llabs(acc);
  for (int64_t k = 0; k < depth_; k += 2) {
    const int32_t x0 = x_at(k);
    int32_t pair = (x0 + 128) * w[k];
    acc += static_cast<int64_t>(x0 - zero_point_) * w[k];
    if (k + 1 < depth_) {
      const int32_t x1 = x_at(k + 1);
      pair += (x1 + 128) * w[k + 1];
      counts.saturated_pairs += (pair > 32767 || pair < -32768) ? 1 : 0;
      ++counts.pairs;
      // The partial sum is checked per pair: a narrow register overflowing between the two
      // products of a pair and coming back is still an overflow of that register, but kernels
      // add a pair as one value, so this is the granularity that matters.
      acc += static_cast<int64_t>(x1 - zero_point_) * w[k + 1];
    }
    partial_overflow = partial_overflow || acc >= limit_ || acc < -limit_;
    max_abs = std::max(max_abs, static_cast<int64_t>(std::llabs(acc)));
  }
  ++counts.outputs;
  counts.final_overflows += (acc >= limit_ || acc < -limit_) ? 1 : 0;
  counts.partial_overflows += partial_overflow ? 1 : 0;
  counts.max_abs_accumulator = std::max(counts.max_abs_accumulator, max_abs);
}

void OverflowCounter::count_conv(const int8_t* input, OverflowCounts& counts) const {
  const int64_t group_in = in_c_ / groups_, group_out = channels_ / groups_;
  const int64_t taps = k_h_ * k_w_;
  for (int64_t n = 0; n < batch_; ++n)
    for (int64_t oc = 0; oc < channels_; ++oc) {
      const int64_t first_channel = (oc / group_out) * group_in;
      for (int64_t oy = 0; oy < out_h_; ++oy)
        for (int64_t ox = 0; ox < out_w_; ++ox) {
          // k = (ic, ky, kx) in OIHW order within the group.
          auto x_at = [&](int64_t k) -> int32_t {
            const int64_t ic = first_channel + k / taps, tap = k % taps;
            const int64_t iy = oy * stride_h_ - pad_h_ + (tap / k_w_) * dil_h_;
            const int64_t ix = ox * stride_w_ - pad_w_ + (tap % k_w_) * dil_w_;
            if (iy < 0 || iy >= in_h_ || ix < 0 || ix >= in_w_) return zero_point_;
            return input[((n * in_c_ + ic) * in_h_ + iy) * in_w_ + ix];
          };
          one_output(oc, x_at, counts);
        }
    }
}

void OverflowCounter::count_gemm(const int8_t* input, OverflowCounts& counts) const {
  for (int64_t m = 0; m < rows_; ++m) {
    const int8_t* row = input + m * depth_;
    for (int64_t c = 0; c < channels_; ++c) one_output(c, [row](int64_t k) -> int32_t { return row[k]; }, counts);
  }
}

void OverflowCounter::count(const int8_t* input, OverflowCounts& counts) const {
  if (conv_) count_conv(input, counts);
  else count_gemm(input, counts);
}

}  // namespace octet::quant
