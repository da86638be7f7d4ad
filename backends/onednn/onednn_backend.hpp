#pragma once
// The onednn backend: the same quantized graph on oneDNN (Debian's libdnnl, 2.x API) int8
// primitives, a cross-check of our numeric spec and a performance peer.
//
//  - QConv  -> convolution_forward, s8 src (any layout, reordered from NCHW at run time), s8
//              weights (grouped goihw for group > 1, reordered once at prepare), s32 bias,
//              s8 dst; per-channel output scales s_x * s_w[c] / s_y; src/dst zero points as
//              attributes; the fused ReLU/clip as an eltwise_clip post-op.
//  - QGemm  -> matmul with the same attributes (the [N,K] weight viewed as [K,N] "ba"); with
//              VNNI the input zero point is folded into the bias (exact, fast); without VNNI it
//              stays a (run-time) attribute, because oneDNN 2.6's AVX2 s8 GEMM without one
//              saturates in vpmaddubsw (the zero-point path is exact but ~20x slower); on
//              AVX-512 without VNNI both saturate and QGemm runs on the ref kernel.
//  - Conv, Gemm (fp32, constant weights) -> convolution_forward / matmul in f32 (the fp32 peer).
//  - everything else: the ref backend's kernels.
//
// oneDNN requantizes in fp32 (y = round_half_even(float(acc) * scale) + zp, saturated), not with
// the spec's Q31 fixed-point multiplier (ties away from zero), so a few outputs differ by 1 LSB;
// tests/backends/test_onednn_backend.cpp measures how many. Which kernels oneDNN picks depends
// on the CPU and on DNNL_MAX_CPU_ISA; onednn_info() says which ISA is in effect.
#include <memory>
#include <string>

#include "backends/backend.hpp"

namespace octet {

// `threads`: OpenMP threads oneDNN uses inside each primitive (set around each call).
std::unique_ptr<Backend> make_onednn_backend(int threads = 1);

struct OnednnInfo {
  std::string version;  // "2.6.3"
  std::string isa;      // the ISA oneDNN's kernels use ("avx2", "avx512_core_vnni", ...)
  bool int8_exact_accumulation = false;  // false: AVX2/AVX-512 without VNNI (see the .cpp)
};
OnednnInfo onednn_info();

// The oneDNN implementation a kernel prepared by this backend runs ("jit_uni_int8:avx2",
// "ref_int8:any", ...), or "" for kernels delegated to the ref backend.
std::string onednn_implementation(const Kernel& kernel);

}  // namespace octet
