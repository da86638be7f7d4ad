#include "kernels/avx2/pool2d_s8_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/ref/qpool2d_s8_ref.hpp"

namespace octet::kernels::avx2 {

namespace {

constexpr int64_t kLanes = 32;

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

inline __m256i load(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store(int8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// Even and odd bytes of 64 consecutive bytes, each as 32 bytes in order. The words are split
// into their low and high byte as unsigned 0..255 values, so packus keeps every bit pattern.
inline void deinterleave(const int8_t* p, __m256i& even, __m256i& odd) {
  const __m256i lo = load(p), hi = load(p + kLanes);
  const __m256i low_bytes = _mm256_set1_epi16(0x00FF);
  even = _mm256_permute4x64_epi64(
      _mm256_packus_epi16(_mm256_and_si256(lo, low_bytes), _mm256_and_si256(hi, low_bytes)), 0xD8);
  odd = _mm256_permute4x64_epi64(_mm256_packus_epi16(_mm256_srli_epi16(lo, 8), _mm256_srli_epi16(hi, 8)), 0xD8);
}

}  // namespace

// Separable: for each output row, the maximum over the window's input rows (full width, plain
// vector maxima), then over the window's columns of that row. Padding holds -128, which never
// wins against a real value (the reference ignores padding; a window always has a real value).
// Horizontal strides 1 and 2 (every ResNet/MobileNet pool) run on vectors: stride 2 first splits
// the row into its even and odd columns; other strides take a scalar loop over the row.
void max_pool2d_s8_avx2(const Pool2dShape& s, const int8_t* input, int8_t* output, int threads) {
  const int64_t planes = s.batch * s.channels;
  const int64_t span = (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1;  // padded columns read
  const int64_t row_len = round_up(std::max(span, s.pad_left + s.in_w), 2 * kLanes) + 2 * kLanes;
  const int64_t out_len = round_up(s.out_w, kLanes);
#pragma omp parallel num_threads(threads) if (threads > 1 && planes > 1 && planes * s.in_h * s.in_w >= (1 << 17))
  {
    // row: the vertical maxima in padded coordinates; even/odd: its columns split by parity.
    std::vector<int8_t> row(static_cast<size_t>(row_len), int8_t{-128});
    std::vector<int8_t> even(static_cast<size_t>(row_len / 2)), odd(static_cast<size_t>(row_len / 2));
    std::vector<int8_t> result(static_cast<size_t>(out_len));
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int8_t* in = input + p * s.in_h * s.in_w;
      int8_t* out = output + p * s.out_h * s.out_w;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        int8_t* vmax = row.data() + s.pad_left;
        std::fill(vmax, vmax + s.in_w, int8_t{-128});
        for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
          const int64_t iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
          if (iy < 0 || iy >= s.in_h) continue;
          const int8_t* src = in + iy * s.in_w;
          int64_t x = 0;
          for (; x + kLanes <= s.in_w; x += kLanes) store(vmax + x, _mm256_max_epi8(load(vmax + x), load(src + x)));
          if (x < s.in_w && s.in_w >= kLanes) {  // last vector overlaps the previous one: max is idempotent
            x = s.in_w - kLanes;
            store(vmax + x, _mm256_max_epi8(load(vmax + x), load(src + x)));
            x = s.in_w;
          }
          for (; x < s.in_w; ++x) vmax[x] = std::max(vmax[x], src[x]);
        }
        if (s.stride_w == 1) {
          for (int64_t ox = 0; ox < s.out_w; ox += kLanes) {
            __m256i best = _mm256_set1_epi8(-128);
            for (int64_t kx = 0; kx < s.kernel_w; ++kx)
              best = _mm256_max_epi8(best, load(row.data() + ox + kx * s.dilation_w));
            store(result.data() + ox, best);
          }
        } else if (s.stride_w == 2) {
          for (int64_t j = 0; 2 * j < row_len - 2 * kLanes; j += kLanes) {
            __m256i e, o;
            deinterleave(row.data() + 2 * j, e, o);
            store(even.data() + j, e);
            store(odd.data() + j, o);
          }
          for (int64_t ox = 0; ox < s.out_w; ox += kLanes) {
            __m256i best = _mm256_set1_epi8(-128);
            for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
              const int64_t tap = kx * s.dilation_w;  // padded column 2 * ox + tap
              best = _mm256_max_epi8(best, load((tap % 2 ? odd : even).data() + ox + tap / 2));
            }
            store(result.data() + ox, best);
          }
        } else {
          for (int64_t ox = 0; ox < s.out_w; ++ox) {
            int8_t best = -128;
            for (int64_t kx = 0; kx < s.kernel_w; ++kx)
              best = std::max(best, row[static_cast<size_t>(ox * s.stride_w + kx * s.dilation_w)]);
            result[static_cast<size_t>(ox)] = best;
          }
        }
        std::copy(result.begin(), result.begin() + s.out_w, out + oy * s.out_w);
      }
    }
  }
}

void global_average_pool_s8_avx2(int64_t planes, int64_t plane_size, const int8_t* input, int8_t* output) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* in = input + p * plane_size;
    __m256i sums = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= plane_size; i += 32) {
      const __m256i u = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)), flip);
      sums = _mm256_add_epi64(sums, _mm256_sad_epu8(u, _mm256_setzero_si256()));
    }
    alignas(32) int64_t parts[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(parts), sums);
    int64_t sum = parts[0] + parts[1] + parts[2] + parts[3] - 128 * i;  // back from u to x
    for (; i < plane_size; ++i) sum += in[i];
    output[p] = static_cast<int8_t>(rounded_divide(static_cast<int32_t>(sum), static_cast<int32_t>(plane_size)));
  }
}

}  // namespace octet::kernels::avx2
