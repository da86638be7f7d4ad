// Kernel benchmarks: Octet's AVX2 int8 GEMM against oneDNN on ResNet-18's convolution GEMMs, and
// the peak throughput of the inner-loop instruction sequences (registers only).
//
// Shapes are M x N x K with M = output pixels (rows of the activation matrix), N = output
// channels, K = reduction (C * kh * kw). GOPS = 2 * M * N * K / second (wall clock: the
// multi-threaded runs use OpenMP). Benchmarks:
//   octet_avx2/gemm/wB/...       avx2::gemm_packed, weights packed once, the activation panel
//                                packed once outside the loop; int8 output requantized per row.
//                                w8: weights in [-127, 127] (the AVX2 tiles split them into
//                                hi/lo halves, 2x the multiplies); w7: |w| <= 64 (one pass, the
//                                "7-bit weight" mode, DESIGN.md §7).
//   octet_avx512_vnni/...        the same entry points with weights packed for the AVX-512-VNNI
//                                tiles (8 x 48 zmm tiles, vpdpbusd; full 8-bit weights, exact).
//   octet_*/gemv/...             M = 1 (the classifier): qgemm_s8_avx2, the matrix-vector path.
//   octet_avx2/pack+gemm/wB/...  the same plus packing the activations inside the loop from a
//                                K x M int8 matrix (the NCHW activation of a 1x1 convolution,
//                                pack_conv_panel's pointwise path), for a fair comparison with
//                                oneDNN's GEMM, which packs internally on every call.
//   onednn/gemm_u8s8s32/...      dnnl_gemm_u8s8s32, A = M x K u8, B = K x N s8, int32 C (no
//                                requantization).
//   onednn/matmul_s8s8s8/...     the matmul primitive as the onednn backend configures it on
//                                VNNI CPUs: s8 src (its zero point folded into the bias), weights
//                                reordered once, s32 bias, per-channel output scales, s8 dst with
//                                a zero point. (Under DNNL_MAX_CPU_ISA=AVX2 this configuration
//                                runs oneDNN's saturating s8 GEMM; the backend then passes a
//                                run-time source zero point instead: exact, ~20x slower.)
//   onednn/sgemm/...             dnnl_sgemm, fp32, same shapes.
//   peak/...                     one core, registers only, independent accumulator chains:
//                                our vpmaddubsw + vpmaddwd + vpaddd sequence, fp32 FMA, VNNI
//                                vpdpbusd (ymm and zmm) where the CPU has them, and our AVX-512
//                                tile's inner loop with its operands in L1 (octet_vnni_tile).
// Every GEMM runs with threads:1 and threads:2 (ours: the `threads` argument; oneDNN:
// omp_set_num_threads). oneDNN picks its kernels for the CPU it runs on: the context line
// `onednn_isa` says which; DNNL_MAX_CPU_ISA=AVX2 caps it to compare at the same ISA as ours.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(OCTET_HAVE_AVX2)
#include "kernels/avx2/qconv2d_s8_avx2.hpp"
#endif
#include "kernels/isa.hpp"

namespace {

struct GemmShape {
  int64_t m, n, k;
};
// ResNet-18: conv2_x .. conv5_x 3x3 convolutions (224x224 input), then the classifier.
const GemmShape kShapes[] = {{3136, 64, 576}, {784, 128, 1152}, {196, 256, 2304}, {49, 512, 4608}, {1, 1000, 512}};

std::string shape_name(const GemmShape& s) {
  return "M" + std::to_string(s.m) + "_N" + std::to_string(s.n) + "_K" + std::to_string(s.k);
}

void set_gops(benchmark::State& state, const GemmShape& s) {
  // Every benchmark reports the same counters (GOPS and GMAC/s): the CSV reporter aborts when
  // rows have different ones.
  const double macs = static_cast<double>(s.m * s.n * s.k);
  state.counters["GOPS"] = benchmark::Counter(2.0 * macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
std::vector<T> random_vector(size_t count, int low, int high, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(low, high);
  std::vector<T> values(count);
  for (auto& v : values) v = static_cast<T>(dist(rng));
  return values;
}

// 64-byte aligned bytes (the packed panel is read with aligned loads).
struct AlignedBuffer {
  explicit AlignedBuffer(size_t bytes)
      : data(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)), std::free) {}
  std::unique_ptr<uint8_t, decltype(&std::free)> data;
};

// OpenMP threads for oneDNN during one benchmark, restored afterwards.
class OmpThreads {
 public:
  explicit OmpThreads(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

#if defined(OCTET_HAVE_AVX2)
namespace avx2 = octet::kernels::avx2;

// Packed weights and a per-row output stage of a realistic magnitude.
struct OctetProblem {
  OctetProblem(const GemmShape& s, int weight_max, bool vnni) {
    const std::vector<int8_t> w = random_vector<int8_t>(static_cast<size_t>(s.n * s.k), -weight_max, weight_max, 1);
    // As the cpu backend packs a convolution of s.m output pixels: narrow outputs on the
    // channel-lane tiles (the matrix-vector path keeps its own layout).
    const bool lanes =
        s.m > 1 && avx2::vnni_channel_lanes_suit(s.m, s.m, octet::kernels::cpu_core_loads());
    weights = avx2::pack_weights(w.data(), s.n, s.k, vnni, lanes);
    bias = random_vector<int32_t>(static_cast<size_t>(s.n), -5000, 5000, 2);
    multipliers.assign(static_cast<size_t>(s.n), octet::kernels::QuantizedMultiplier{1 << 30, -10});
    const octet::kernels::QuantizedOutputStage stage{bias.data(), multipliers.data(), true, -3, -128, 127};
    row_stage = avx2::make_row_output_stage(weights, input_zero_point, stage);
    // The activation: a K x M int8 matrix, i.e. the NCHW input of a 1x1 convolution with K
    // channels and M pixels.
    conv = {1, s.k, 1, s.m, s.n, 1, s.m, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    activations = random_vector<int8_t>(static_cast<size_t>(s.k * s.m), -128, 127, 3);
    panel = std::make_unique<AlignedBuffer>(avx2::panel_bytes(weights, s.m));
    output.resize(static_cast<size_t>(s.n * s.m));
  }
  void pack() {
    avx2::pack_conv_panel(conv, activations.data(), 0, input_zero_point, weights.padded_depth, panel->data.get(), 1,
                          weights.vnni);
  }

  int32_t input_zero_point = 5;
  avx2::PackedWeights weights;
  std::vector<int32_t> bias;
  std::vector<octet::kernels::QuantizedMultiplier> multipliers;
  avx2::RowOutputStage row_stage;
  octet::kernels::Conv2dShape conv{};
  std::vector<int8_t> activations;
  std::unique_ptr<AlignedBuffer> panel;
  std::vector<int8_t> output;
};

// How much of the work a benchmark times: the GEMM on a panel packed once, the GEMM plus
// packing the panel, or the fully connected entry point (a [M][K] int8 matrix; for M = 1 its
// matrix-vector path).
enum class OctetMode { gemm, pack_gemm, fully_connected };

void octet_gemm(benchmark::State& state, GemmShape s, int weight_bits, bool vnni, int threads, OctetMode mode) {
  if (!__builtin_cpu_supports("avx2") || (vnni && !__builtin_cpu_supports("avx512vnni"))) {
    state.SkipWithError(vnni ? "no AVX512-VNNI" : "no AVX2");
    return;
  }
  OctetProblem p(s, weight_bits == 7 ? 64 : 127, vnni);
  p.pack();
  for (auto _ : state) {
    if (mode == OctetMode::fully_connected) {
      avx2::qgemm_s8_avx2(s.m, p.activations.data(), p.input_zero_point, p.weights, p.row_stage, p.output.data(),
                          threads);
    } else {
      if (mode == OctetMode::pack_gemm) p.pack();
      avx2::gemm_packed(p.weights, p.row_stage, p.panel->data.get(), s.m, p.output.data(), s.m, threads);
    }
    benchmark::DoNotOptimize(p.output.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, s);
}
#endif

void onednn_gemm_u8s8s32(benchmark::State& state, GemmShape s, int threads) {
  const OmpThreads scope(threads);
  const auto a = random_vector<uint8_t>(static_cast<size_t>(s.m * s.k), 0, 255, 1);
  const auto b = random_vector<int8_t>(static_cast<size_t>(s.k * s.n), -127, 127, 2);
  std::vector<int32_t> c(static_cast<size_t>(s.m * s.n));
  const int32_t c_offset = 0;
  for (auto _ : state) {
    const dnnl_status_t status = dnnl_gemm_u8s8s32('N', 'N', 'F', s.m, s.n, s.k, 1.0f, a.data(), s.k, 0, b.data(), s.n,
                                                   0, 0.0f, c.data(), s.n, &c_offset);
    if (status != dnnl_success) {
      state.SkipWithError("dnnl_gemm_u8s8s32 failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_gops(state, s);
}

void onednn_sgemm(benchmark::State& state, GemmShape s, int threads) {
  const OmpThreads scope(threads);
  std::vector<float> a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.k * s.n)), c(static_cast<size_t>(s.m * s.n));
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : a) v = dist(rng);
  for (auto& v : b) v = dist(rng);
  for (auto _ : state) {
    if (dnnl_sgemm('N', 'N', s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.n, 0.0f, c.data(), s.n) != dnnl_success) {
      state.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_gops(state, s);
}

// The onednn backend's QGemm configuration.
void onednn_matmul_s8s8s8(benchmark::State& state, GemmShape s, int threads) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const OmpThreads scope(threads);
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc src_md({s.m, s.k}, dt::s8, tag::ab), dst_md({s.m, s.n}, dt::s8, tag::ab);
  const dnnl::memory::desc bias_md({1, s.n}, dt::s32, tag::ab), user_weights_md({s.k, s.n}, dt::s8, tag::ba);
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, std::vector<float>(static_cast<size_t>(s.n), 1.0f / 1024));
  attr.set_zero_points(DNNL_ARG_DST, 0, {-3});
  const dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(src_md, dnnl::memory::desc({s.k, s.n}, dt::s8, tag::any), bias_md, dst_md), attr, engine);
  auto src = random_vector<int8_t>(static_cast<size_t>(s.m * s.k), -128, 127, 1);
  auto weights = random_vector<int8_t>(static_cast<size_t>(s.n * s.k), -127, 127, 2);
  auto bias = random_vector<int32_t>(static_cast<size_t>(s.n), -5000, 5000, 3);
  std::vector<int8_t> dst(static_cast<size_t>(s.m * s.n));
  dnnl::memory user_weights(user_weights_md, engine, weights.data()), packed_weights(pd.weights_desc(), engine);
  dnnl::reorder(user_weights, packed_weights).execute(stream, user_weights, packed_weights);
  stream.wait();
  const dnnl::matmul matmul(pd);
  const std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(src_md, engine, src.data())},
                                                   {DNNL_ARG_WEIGHTS, packed_weights},
                                                   {DNNL_ARG_BIAS, dnnl::memory(bias_md, engine, bias.data())},
                                                   {DNNL_ARG_DST, dnnl::memory(dst_md, engine, dst.data())}};
  for (auto _ : state) {
    matmul.execute(stream, args);
    stream.wait();
    benchmark::DoNotOptimize(dst.data());
  }
  set_gops(state, s);
  state.SetLabel(pd.impl_info_str());
}

// ---- Peak microbenchmarks: one core, registers only ---------------------------------------
constexpr int64_t kPeakLoops = 1 << 14;

void set_peak(benchmark::State& state, double macs_per_call) {
  state.counters["GMAC/s"] = benchmark::Counter(macs_per_call * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GOPS"] = benchmark::Counter(2.0 * macs_per_call * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Our inner loop: vpmaddubsw (32 u8 x s8 products summed in pairs to int16) + vpmaddwd with ones
// (pairs to int32) + vpaddd into one of 4 accumulators; 8 independent products per loop.
void peak_u8s8_maddubs(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx2")) {
    state.SkipWithError("no AVX2");
    return;
  }
  for (auto _ : state) {
    int64_t n = kPeakLoops;
    __asm__ volatile(
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
        "vpxor %%ymm1, %%ymm1, %%ymm1\n\t"
        "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"
        "vpxor %%ymm3, %%ymm3, %%ymm3\n\t"
        "vpcmpeqw %%ymm12, %%ymm12, %%ymm12\n\t"
        "vpabsb %%ymm12, %%ymm13\n\t"
        "vpsrlw $15, %%ymm12, %%ymm14\n\t"
        "1:\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm4\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm5\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm6\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm7\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm8\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm9\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm10\n\t"
        "vpmaddubsw %%ymm13, %%ymm12, %%ymm11\n\t"
        "vpmaddwd %%ymm14, %%ymm4, %%ymm4\n\t"
        "vpmaddwd %%ymm14, %%ymm5, %%ymm5\n\t"
        "vpmaddwd %%ymm14, %%ymm6, %%ymm6\n\t"
        "vpmaddwd %%ymm14, %%ymm7, %%ymm7\n\t"
        "vpmaddwd %%ymm14, %%ymm8, %%ymm8\n\t"
        "vpmaddwd %%ymm14, %%ymm9, %%ymm9\n\t"
        "vpmaddwd %%ymm14, %%ymm10, %%ymm10\n\t"
        "vpmaddwd %%ymm14, %%ymm11, %%ymm11\n\t"
        "vpaddd %%ymm4, %%ymm0, %%ymm0\n\t"
        "vpaddd %%ymm5, %%ymm1, %%ymm1\n\t"
        "vpaddd %%ymm6, %%ymm2, %%ymm2\n\t"
        "vpaddd %%ymm7, %%ymm3, %%ymm3\n\t"
        "vpaddd %%ymm8, %%ymm0, %%ymm0\n\t"
        "vpaddd %%ymm9, %%ymm1, %%ymm1\n\t"
        "vpaddd %%ymm10, %%ymm2, %%ymm2\n\t"
        "vpaddd %%ymm11, %%ymm3, %%ymm3\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13", "xmm14");
  }
  set_peak(state, static_cast<double>(kPeakLoops) * 8 * 32);
}

// fp32 FMA: 12 independent vfmadd231ps chains of 8 MACs.
void peak_fp32_fma(benchmark::State& state) {
  if (!__builtin_cpu_supports("fma")) {
    state.SkipWithError("no FMA");
    return;
  }
  for (auto _ : state) {
    int64_t n = kPeakLoops;
    __asm__ volatile(
        "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
        "vmovaps %%ymm0, %%ymm1\n\t"
        "vmovaps %%ymm0, %%ymm2\n\t"
        "vmovaps %%ymm0, %%ymm3\n\t"
        "vmovaps %%ymm0, %%ymm4\n\t"
        "vmovaps %%ymm0, %%ymm5\n\t"
        "vmovaps %%ymm0, %%ymm6\n\t"
        "vmovaps %%ymm0, %%ymm7\n\t"
        "vmovaps %%ymm0, %%ymm8\n\t"
        "vmovaps %%ymm0, %%ymm9\n\t"
        "vmovaps %%ymm0, %%ymm10\n\t"
        "vmovaps %%ymm0, %%ymm11\n\t"
        "vmovaps %%ymm0, %%ymm12\n\t"
        "vmovaps %%ymm0, %%ymm13\n\t"
        "1:\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm0\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm1\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm2\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm3\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm4\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm5\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm6\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm7\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm8\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm9\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm10\n\t"
        "vfmadd231ps %%ymm13, %%ymm12, %%ymm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13");
  }
  set_peak(state, static_cast<double>(kPeakLoops) * 12 * 8);
}

// VNNI for reference: vpdpbusd, 4 u8 x s8 products summed straight into
// int32 (no int16 saturation), 12 independent chains; ymm (AVX-VNNI) and zmm (AVX512-VNNI).
void peak_vnni_ymm(benchmark::State& state) {
  if (!__builtin_cpu_supports("avxvnni")) {
    state.SkipWithError("no AVX-VNNI");
    return;
  }
  for (auto _ : state) {
    int64_t n = kPeakLoops;
    // {vex} selects the AVX-VNNI (VEX) encoding rather than AVX512-VNNI (EVEX).
    __asm__ volatile(
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
        "1:\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm0\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm1\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm2\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm3\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm4\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm5\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm6\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm7\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm8\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm9\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm10\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13");
  }
  set_peak(state, static_cast<double>(kPeakLoops) * 12 * 32);
}

void peak_vnni_zmm(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512vnni")) {
    state.SkipWithError("no AVX512-VNNI");
    return;
  }
  for (auto _ : state) {
    int64_t n = kPeakLoops;
    __asm__ volatile(
        "1:\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm0\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm1\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm2\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm3\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm4\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm5\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm6\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm7\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm8\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm9\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm10\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13");
  }
  set_peak(state, static_cast<double>(kPeakLoops) * 12 * 64);
}

// Our AVX-512-VNNI inner loop exactly as kernels/avx512 runs it, with its operands in L1: per
// K quad, 3 panel loads, 8 weight-quad broadcasts from memory and 24 vpdpbusd into 24 zmm
// accumulators. The ceiling for the GEMM tiles; the plain vpdpbusd peak above is the ISA's.
// (target attribute: registers zmm16..31 exist only with AVX-512; the check above guards it.)
__attribute__((target("avx512f"))) void peak_vnni_tile_loop(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512vnni")) {
    state.SkipWithError("no AVX512-VNNI");
    return;
  }
  alignas(64) static uint8_t panel[3 * 64];
  alignas(64) static int8_t weights[2 * 16];
  for (auto _ : state) {
    int64_t n = kPeakLoops;
    __asm__ volatile(
        "1:\n\t"
        "vmovdqa64 (%1), %%zmm24\n\t"
        "vmovdqa64 64(%1), %%zmm25\n\t"
        "vmovdqa64 128(%1), %%zmm26\n\t"
#define OCTET_ROW(offset, a, b, c)                  \
  "vpbroadcastd " #offset "(%2), %%zmm27\n\t"       \
  "vpdpbusd %%zmm27, %%zmm24, %%zmm" #a "\n\t"      \
  "vpdpbusd %%zmm27, %%zmm25, %%zmm" #b "\n\t"      \
  "vpdpbusd %%zmm27, %%zmm26, %%zmm" #c "\n\t"
        OCTET_ROW(0, 0, 1, 2) OCTET_ROW(4, 3, 4, 5) OCTET_ROW(8, 6, 7, 8) OCTET_ROW(12, 9, 10, 11)
        OCTET_ROW(16, 12, 13, 14) OCTET_ROW(20, 15, 16, 17) OCTET_ROW(24, 18, 19, 20) OCTET_ROW(28, 21, 22, 23)
#undef OCTET_ROW
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n)
        : "r"(panel), "r"(weights)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
          "xmm23", "xmm24", "xmm25", "xmm26", "xmm27");
  }
  set_peak(state, static_cast<double>(kPeakLoops) * 24 * 64);
}

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

template <class... Args>
void add(const std::string& name, Args&&... args) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)
      ->MinTime(0.2)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

void register_all() {
  for (const GemmShape& s : kShapes)
    for (int threads : {1, 2}) {
      const std::string suffix = "/" + shape_name(s) + "/threads:" + std::to_string(threads);
#if defined(OCTET_HAVE_AVX2)
      // AVX2 tiles with 8-bit (split) and 7-bit weights, and the AVX-512-VNNI tiles (8-bit).
      struct Variant {
        const char* name;
        int bits;
        bool vnni;
      };
      for (const Variant& v : {Variant{"octet_avx2/%s/w8", 8, false}, Variant{"octet_avx2/%s/w7", 7, false},
                               Variant{"octet_avx512_vnni/%s/w8", 8, true}}) {
        const auto named = [&](const char* what) {
          std::string n = v.name;
          return n.replace(n.find("%s"), 2, what) + suffix;
        };
        if (s.m == 1) {  // a classifier's Linear: the matrix-vector path
          add(named("gemv"), octet_gemm, s, v.bits, v.vnni, threads, OctetMode::fully_connected);
          continue;
        }
        add(named("gemm"), octet_gemm, s, v.bits, v.vnni, threads, OctetMode::gemm);
        add(named("pack+gemm"), octet_gemm, s, v.bits, v.vnni, threads, OctetMode::pack_gemm);
      }
#endif
      add("onednn/gemm_u8s8s32" + suffix, onednn_gemm_u8s8s32, s, threads);
      add("onednn/matmul_s8s8s8" + suffix, onednn_matmul_s8s8s8, s, threads);
      add("onednn/sgemm" + suffix, onednn_sgemm, s, threads);
    }
  for (const auto& [name, fn] : {std::pair{"peak/vpmaddubsw+vpmaddwd+vpaddd", peak_u8s8_maddubs},
                                 std::pair{"peak/fp32_fma", peak_fp32_fma},
                                 std::pair{"peak/vpdpbusd_ymm_avxvnni", peak_vnni_ymm},
                                 std::pair{"peak/vpdpbusd_zmm_avx512vnni", peak_vnni_zmm},
                                 std::pair{"peak/octet_vnni_tile_8x48_l1", peak_vnni_tile_loop}})
    benchmark::RegisterBenchmark(name, fn)->MinTime(0.2);
}

}  // namespace

int main(int argc, char** argv) {
  const dnnl_version_t* v = dnnl::version();
  benchmark::AddCustomContext("onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                                    std::to_string(v->patch));
  benchmark::AddCustomContext("onednn_isa", isa_name(dnnl::get_effective_cpu_isa()));
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
