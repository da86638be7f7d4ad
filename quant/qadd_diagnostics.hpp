#pragma once
// Residual-Add diagnostics: for each Add of the fp32 model, whether the int8 model runs it as a
// QAdd and, if so, how its two inputs meet. TFLite's scheme (make_qadd_params) brings both
// inputs to the common scale 2·max(s_a, s_b) / 2^20, sums them, and requantizes to s_y: the
// finer input (smaller scale) carries log2(s_coarse / s_fine) bits below the coarser one's LSB,
// which the sum can only keep if the output scale is fine enough — with s_y ≥ s_coarse (the usual
// case, the sum's range covers both) they are rounded away at the output.
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "kernels/ref/qadd_s8_ref.hpp"
#include "quant/qparams.hpp"

namespace octet::quant {

struct QAddDiagnostic {
  std::string node;          // the Add's name (the same in both graphs)
  bool int8 = false;         // runs as QAdd in the tested graph
  std::string tested_op;     // what it runs as ("QAdd", "Add", or "" when absent)
  std::string a, b, output;  // tested value names
  AffineParams a_params, b_params, output_params;
  double scale_ratio = 1.0;  // max(s_a, s_b) / min(s_a, s_b)
  double bits_lost = 0.0;    // log2(scale_ratio): the finer input's bits below the coarser's LSB
  // log2(s_y / s_fine): the finer input's bits below the output's LSB, rounded away when the
  // sum is requantized (negative: none).
  double finer_bits_below_output = 0.0;
  std::string finer;           // name of the finer input
  kernels::QAddParams params;  // fixed-point multipliers and shifts, fused clamp included
};

// One entry per Add node of `reference`, in its order.
std::vector<QAddDiagnostic> qadd_diagnostics(const Graph& reference, const Graph& tested);

}  // namespace octet::quant
