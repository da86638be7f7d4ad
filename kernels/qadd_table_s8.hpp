#pragma once
// Residual Add by table lookup: an int8 Add has only 256 x 256 input pairs, so the whole
// function (kernels/ref/qadd_s8_ref.hpp, three fixed-point requantizations per element) is
// tabulated once per layer when the model is prepared (65536 evaluations of the reference,
// 64 KB), and running it is one load per element. Bit-exact with the reference by construction.
#include <cstdint>
#include <vector>

#include "kernels/ref/qadd_s8_ref.hpp"

namespace octet::kernels {

// table[(a + 128) * 256 + (b + 128)] = qadd_one_s8(a, b, params), followed by kQAddTableSlack
// zero bytes so vector code may gather 32-bit words at any entry.
constexpr int64_t kQAddTableSlack = 4;
std::vector<int8_t> make_qadd_table_s8(const QAddParams& params);

// The entry for one pair: what every path's scalar loop and tail reads.
inline int8_t qadd_table_entry(const int8_t* table, int8_t a, int8_t b) {
  return table[(static_cast<int32_t>(a) + 128) * 256 + (static_cast<int32_t>(b) + 128)];
}

// Element-wise over `count` elements; `b` is broadcast when b_count == 1. `threads` split large
// tensors (each element is computed once, so results do not depend on it).
void qadd_table_s8(int64_t count, const int8_t* a, const int8_t* b, int64_t b_count, const int8_t* table,
                   int8_t* output, int threads = 1);

}  // namespace octet::kernels
