#pragma once
// The loop around a SIMD form of kernels/qadd_affine_s8.hpp, shared by its 8-lane (AVX2) and
// 16-lane (AVX-512) kernels: blocks of `Lanes` elements, the lanes a block reports near a tie
// redone from the table, the tail from the table.
#include <cstdint>

#include "kernels/nearest_rounding_x86.hpp"
#include "kernels/qadd_table_s8.hpp"

namespace octet::kernels {

// `start_thread()` runs once per thread (inside its rounding mode) and returns the block
// function: block(i) computes elements [i, i + Lanes) into `output` and returns a bit per element
// to take from the table instead. Returns how many lanes came from the table.
template <int Lanes, bool Broadcast, class StartThread>
int64_t run_qadd_affine_blocks(int64_t count, const int8_t* a, const int8_t* b, const int8_t* table, int8_t* output,
                               int threads, const StartThread& start_thread) {
  const int64_t vector_end = count / Lanes * Lanes;
  int64_t from_table_lanes = 0;
#pragma omp parallel num_threads(threads) reduction(+ : from_table_lanes) if (threads > 1 && count >= (1 << 16))
  {
    const NearestRounding nearest;
    const auto block = start_thread();
#pragma omp for schedule(static)
    for (int64_t i = 0; i < vector_end; i += Lanes) {
      uint64_t near_tie = block(i);
      while (near_tie != 0) {
        const int64_t j = i + __builtin_ctzll(near_tie);
        output[j] = qadd_table_entry(table, a[j], b[Broadcast ? 0 : j]);
        near_tie &= near_tie - 1;
        ++from_table_lanes;
      }
    }
  }
  for (int64_t j = vector_end; j < count; ++j) output[j] = qadd_table_entry(table, a[j], b[Broadcast ? 0 : j]);
  return from_table_lanes;
}

}  // namespace octet::kernels
