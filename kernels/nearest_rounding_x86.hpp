#pragma once
// x86 SIMD paths that convert with the MXCSR rounding mode (kernels/qadd_affine_s8.hpp's float
// form) set round-to-nearest with no flush-to-zero for their loop and restore the caller's MXCSR
// after it, so the exhaustive check at load time holds whatever mode an embedding application
// runs in. (The tie window would absorb a one-step change of Y in most layers anyway; this makes
// it certain, not likely.)
#include <immintrin.h>

namespace octet::kernels {

class NearestRounding {
 public:
  NearestRounding() : saved_(_mm_getcsr()) { _mm_setcsr(0x1F80); }  // every exception masked, RN, no FTZ/DAZ
  ~NearestRounding() { _mm_setcsr(saved_); }
  NearestRounding(const NearestRounding&) = delete;
  NearestRounding& operator=(const NearestRounding&) = delete;

 private:
  unsigned saved_;
};

}  // namespace octet::kernels
