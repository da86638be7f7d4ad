#pragma once
// The residual Add as one affine form in float, for SIMD paths that would otherwise gather from
// kernels/qadd_table_s8.hpp's 64 KB table (a gather costs ~13 cycles per 16 lanes here). With
// the fixed-point scheme's coefficients (kernels/ref/qadd_s8_ref.hpp) multiplied out, the result
// is about zp + round(y) for y = a Ca + b Cb + K. The form keeps y in steps of 1/4096:
//   Y = round_to_int(a * a_coefficient + (b * b_coefficient + offset))
//     with a_coefficient = 4096 Ca, b_coefficient = 4096 Cb, offset = 4096 (K + zp + 1/2) + 2,
//   result = clamp(Y >> 12, low, high),
// so the shift is the rounding (half up) and the zero point is already in. The fixed-point path
// rounds three times and the float path once: they agree except where y lies within a hair of a
// tie (the fixed-point roundings move y by ~2^-18 of an output step, float's by ~2^-16). A lane
// whose Y mod 4096 is 0..3 (y within 2.5/4096 below to 1.5/4096 above a tie: the +2 centres the
// window) takes its result from the table instead; and the backend runs the form on all 65536
// pairs of codes against the table before using it (qadd_affine_form_matches). Exactness is
// checked exhaustively per layer, not argued; a layer that fails keeps the table path.
#include <cstdint>
#include <optional>

#include "kernels/ref/qadd_s8_ref.hpp"

namespace octet::kernels {

struct QAddAffineForm {
  float a_coefficient = 0, b_coefficient = 0, offset = 0;  // in 1/4096 of an output step
  int32_t low = -128, high = 127;
};

// Y mod 4096 below this: near a tie, from the table.
constexpr int32_t kQAddTieWindow = 4;

// The form of `params`, or nullopt where float could misbehave: a coefficient or offset so small
// that a flush-to-zero mode (an embedding application's MXCSR) would change a sum, or Y that
// could reach float's integer limit 2^24.
std::optional<QAddAffineForm> qadd_affine_form(const QAddParams& params);

// A SIMD path of the form (kernels/avx2/qadd_affine_s8_avx2.hpp): the Add of
// kernels/qadd_table_s8.hpp over `count` elements, `b` broadcast when b_count == 1, lanes near a
// tie taken from `table`; returns how many were.
using QAddAffineKernel = int64_t (*)(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count,
                                     const QAddAffineForm& form, const int8_t* table, int8_t* output, int threads);

// Runs `kernel` on every pair of codes, and with every b broadcast, against the table: true when
// every lane it does not take from the table agrees and at most `max_table_lanes` of the 65536
// pairs need the table (beyond that the fix-ups would cost more than the gathers they save).
bool qadd_affine_form_matches(const QAddAffineForm& form, const int8_t* table, QAddAffineKernel kernel,
                              int64_t max_table_lanes = 2048);

}  // namespace octet::kernels
