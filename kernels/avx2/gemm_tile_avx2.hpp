#pragma once
// Pieces of the AVX2 GEMM tiles: the epilogue that requantizes and stores one tile row, and the
// weight-quad broadcast.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx2/qconv2d_s8_avx2.hpp"
#include "kernels/avx2/requantize_avx2.hpp"

namespace octet::kernels::avx2 {
// Internal linkage: these are compiled into translation units with different ISA flags (AVX2,
// AVX-512-VNNI); one shared out-of-line copy could carry the wrong instructions.
namespace {

// Requantizes the 8 int32 accumulators of one row and stores `count` (<= 8) int8 results.
inline void store_row(__m256i acc, const RowOutputStage& s, int64_t row, int8_t* out, int64_t count) {
  acc = _mm256_add_epi32(acc, _mm256_set1_epi32(s.bias[static_cast<size_t>(row)]));
  const LaneRequant r{_mm256_set1_epi32(s.multiplier[static_cast<size_t>(row)]),
                      _mm256_set1_epi32(s.left[static_cast<size_t>(row)]),
                      _mm256_set1_epi32(s.right[static_cast<size_t>(row)])};
  __m256i y = _mm256_add_epi32(multiply_by_quantized_multiplier(acc, r), _mm256_set1_epi32(s.output_zero_point));
  y = _mm256_max_epi32(y, _mm256_set1_epi32(s.low));
  y = _mm256_min_epi32(y, _mm256_set1_epi32(s.high));
  // 8 x int32 in [-128, 127] -> 8 x int8 (saturating packs are exact here).
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
  const __m128i bytes = _mm_packs_epi16(words, words);
  if (count == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
  } else {
    alignas(16) int8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    std::memcpy(out, tmp, static_cast<size_t>(count));
  }
}

// Four weight bytes (one row's quad of K) in every 32-bit lane.
inline __m256i broadcast_quad(const int8_t* p) {
  int32_t value;
  std::memcpy(&value, p, 4);  // memcpy, not a cast: no aliasing UB, still one vpbroadcastd
  return _mm256_set1_epi32(value);
}

}  // namespace

}  // namespace octet::kernels::avx2
