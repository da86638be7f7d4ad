#pragma once
// Overflow counting for QConv/QGemm: how often the integer arithmetic would leave a narrower
// type than the one Octet uses. Counted on the layer's real int8 input, never simulated (the
// layer's result is not changed):
//  - vpmaddubsw pairs: AVX2's u8 x s8 multiply sums two adjacent products in int16 with
//    saturation. With activations entering as u = x + 128 (DESIGN.md §2/§7), a pair
//    u[k]·w[k] + u[k+1]·w[k+1] (k even, in the reduction order (input channel, ky, kx) of an
//    OIHW weight row; spatial padding enters as the zero point) beyond [-32768, 32767] would
//    saturate. Octet's kernels never let that happen (7-bit weights or the exact split): the
//    count says what the plain fast path would have got wrong.
//  - accumulator width: the int32 accumulator acc = bias + sum_k (x[k] - zp)·w[k], summed in
//    that order from the bias (as the kernels start from the bias), against a signed
//    `accumulator_bits`-bit register (24 by default, an NPU-style width): outputs whose final
//    value does not fit, and outputs where some partial sum did not fit.
#include <cstdint>
#include <vector>

#include "graph/graph.hpp"

namespace octet::quant {

struct OverflowCounts {
  uint64_t pairs = 0;            // u8 x s8 pairs examined
  uint64_t saturated_pairs = 0;  // pairs whose int16 sum would saturate
  uint64_t outputs = 0;          // accumulators examined
  uint64_t final_overflows = 0;  // final accumulator outside the narrow range
  uint64_t partial_overflows =
      0;  // some partial sum outside it (includes final_overflows' outputs)
  int64_t max_abs_accumulator = 0;

  void merge(const OverflowCounts& other);
  // Bits a signed accumulator needs for the largest value seen (sign included).
  int bits_needed() const;
};

class OverflowCounter {
 public:
  // `node` is a QConv or QGemm of `graph` (else octet::Error). Weights, bias and geometry are
  // copied out of the graph once, here.
  OverflowCounter(const Graph& graph, const Node& node, int accumulator_bits = 24);

  // Counts one run of the layer on `input` (the node's int8 input 0).
  void count(const int8_t* input, OverflowCounts& counts) const;
  int accumulator_bits() const { return bits_; }

 private:
  void count_conv(const int8_t* input, OverflowCounts& counts) const;
  void count_gemm(const int8_t* input, OverflowCounts& counts) const;
  void one_output(int64_t channel, const int32_t* u, const int32_t* d,
                  OverflowCounts& counts) const;

  bool conv_ = true;
  int bits_;
  int64_t limit_;  // 2^(bits-1)
  int32_t zero_point_ = 0;
  std::vector<int8_t> weights_;  // [channels][depth]
  std::vector<int32_t> bias_;    // [channels] (zeros without a bias)
  int64_t channels_ = 0, depth_ = 0;
  // Convolution geometry (NCHW input, OIHW weights).
  int64_t batch_ = 1, in_c_ = 0, in_h_ = 0, in_w_ = 0, out_h_ = 0, out_w_ = 0, k_h_ = 1, k_w_ = 1;
  int64_t stride_h_ = 1, stride_w_ = 1, dil_h_ = 1, dil_w_ = 1, pad_h_ = 0, pad_w_ = 0, groups_ = 1;
  int64_t rows_ = 1;  // Gemm: M
};

}  // namespace octet::quant
