// The cpu backend: Octet's SIMD kernels where the active ISA has them (kernels/isa.hpp picks
// the path at run time; OCTET_ISA forces one), the ref kernels for everything else. Weights are
// packed once here, at prepare; kernels are immutable and shared by every session.
#include <limits>
#include <memory>
#include <optional>

#include "backends/backend.hpp"
#include "backends/ref/quantized_params.hpp"
#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/isa.hpp"
#include "kernels/qadd_affine_s8.hpp"
#include "kernels/qadd_table_s8.hpp"
#if defined(OCTET_HAVE_AVX2)
#include "kernels/avx2/dwconv2d_s8_avx2.hpp"
#include "kernels/avx2/elementwise_s8_avx2.hpp"
#include "kernels/avx2/pool2d_s8_avx2.hpp"
#include "kernels/avx2/qadd_affine_s8_avx2.hpp"
#include "kernels/avx2/qconv2d_s8_avx2.hpp"
#include "kernels/avx512/pool2d_s8_avx512.hpp"
#include "kernels/avx512/qadd_affine_s8_avx512.hpp"
#include "kernels/avx512/qadd_table_s8_avx512.hpp"
#endif
#if defined(OCTET_HAVE_NEON)
#include "kernels/neon/qconv2d_s8_neon.hpp"
#endif

namespace octet {
namespace {

// The packed-GEMM convolution and fully connected layer, the same for every ISA: the traits say
// how that ISA packs weights, folds the output stage and runs.
template <class Isa>
class QConvPacked final : public Kernel {
 public:
  QConvPacked(const Graph& graph, const Node& node, const kernels::Conv2dShape& shape, Isa isa, int threads)
      : shape_(shape), isa_(isa), threads_(threads) {
    input_zero_point_ = ref::affine_params(graph, node.inputs[0]).zero_point;
    const Tensor& weight = *graph.initializer(node.inputs[1]);
    const ref::OutputStageStorage storage = ref::make_output_stage(graph, node, shape.out_channels);
    const kernels::QuantizedOutputStage stage = storage.stage();
    const int64_t out_per_group = shape.out_channels / shape.groups;
    const int64_t depth = weight.elements() / shape.out_channels;
    for (int64_t group = 0; group < shape.groups; ++group) {
      packed_.push_back(isa_.pack_conv(shape, weight.data<int8_t>() + group * out_per_group * depth, out_per_group));
      // This group's channels only.
      const int64_t first = group * out_per_group;
      const kernels::QuantizedOutputStage group_stage{
          stage.bias ? stage.bias + first : nullptr, stage.multipliers + (stage.per_channel ? first : 0),
          stage.per_channel, stage.output_zero_point, stage.low, stage.high};
      stages_.push_back(isa_.output_stage(packed_.back(), input_zero_point_, group_stage));
    }
  }
  void run(const TensorView* in, TensorView* out) const override {
    isa_.conv(shape_, in[0].as<const int8_t>(), input_zero_point_, packed_, stages_, out[0].as<int8_t>(), threads_);
  }

 private:
  kernels::Conv2dShape shape_;
  Isa isa_;
  int32_t input_zero_point_ = 0;
  std::vector<typename Isa::Packed> packed_;
  std::vector<typename Isa::Stage> stages_;
  int threads_;
};

template <class Isa>
class QGemmPacked final : public Kernel {
 public:
  QGemmPacked(const Graph& graph, const Node& node, Isa isa, int threads) : isa_(isa), threads_(threads) {
    const Tensor* weight = graph.initializer(node.inputs[1]);
    if (!weight) throw Error(node.label() + ": weights must be constant");
    m_ = graph.value_info(node.inputs[0]).shape[0];
    zero_point_ = ref::affine_params(graph, node.inputs[0]).zero_point;
    packed_ = isa_.pack(weight->data<int8_t>(), weight->shape()[0], weight->shape()[1]);
    const ref::OutputStageStorage storage = ref::make_output_stage(graph, node, weight->shape()[0]);
    stage_ = isa_.output_stage(packed_, zero_point_, storage.stage());
  }
  void run(const TensorView* in, TensorView* out) const override {
    isa_.gemm(m_, in[0].as<const int8_t>(), zero_point_, packed_, stage_, out[0].as<int8_t>(), threads_);
  }

 private:
  Isa isa_;
  int64_t m_ = 0;
  int32_t zero_point_ = 0;
  typename Isa::Packed packed_;
  typename Isa::Stage stage_;
  int threads_;
};

kernels::Conv2dShape qconv_shape(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  if (!graph.initializer(node.inputs[1])) throw Error(node.label() + ": weights must be constant");
  WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
  return {x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[2], w[3], g.strides[0], g.strides[1],
          g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1], node.attrs.get_int("group", 1)};
}

#if defined(OCTET_HAVE_AVX2)
struct Avx2 {
  using Packed = kernels::avx2::PackedWeights;
  using Stage = kernels::avx2::RowOutputStage;
  bool vnni = false;  // AVX-512 VNNI tiles (vpdpbusd) instead of vpmaddubsw
  Packed pack(const int8_t* w, int64_t rows, int64_t depth) const {
    return kernels::avx2::pack_weights(w, rows, depth, vnni);
  }
  Packed pack_conv(const kernels::Conv2dShape& shape, const int8_t* w, int64_t rows) const {
    return kernels::avx2::pack_conv_weights(shape, w, rows, vnni);
  }
  Stage output_stage(const Packed& p, int32_t zp, const kernels::QuantizedOutputStage& s) const {
    return kernels::avx2::make_row_output_stage(p, zp, s);
  }
  void conv(const kernels::Conv2dShape& shape, const int8_t* x, int32_t zp, const std::vector<Packed>& p,
            const std::vector<Stage>& s, int8_t* y, int threads) const {
    kernels::avx2::qconv2d_s8_avx2(shape, x, zp, p, s, y, threads);
  }
  void gemm(int64_t m, const int8_t* a, int32_t zp, const Packed& p, const Stage& s, int8_t* y, int threads) const {
    kernels::avx2::qgemm_s8_avx2(m, a, zp, p, s, y, threads);
  }
};
#endif

#if defined(OCTET_HAVE_NEON)
struct Neon {
  using Packed = kernels::neon::PackedWeights;
  using Stage = kernels::neon::RowOutputStage;
  bool use_dot = false;
  Packed pack(const int8_t* w, int64_t rows, int64_t depth) const {
    return kernels::neon::pack_weights(w, rows, depth, use_dot);
  }
  Packed pack_conv(const kernels::Conv2dShape& shape, const int8_t* w, int64_t rows) const {
    return pack(w, rows, shape.in_channels / shape.groups * shape.kernel_h * shape.kernel_w);
  }
  Stage output_stage(const Packed& p, int32_t zp, const kernels::QuantizedOutputStage& s) const {
    return kernels::neon::make_row_output_stage(p, zp, s);
  }
  void conv(const kernels::Conv2dShape& shape, const int8_t* x, int32_t zp, const std::vector<Packed>& p,
            const std::vector<Stage>& s, int8_t* y, int threads) const {
    kernels::neon::qconv2d_s8_neon(shape, x, zp, p, s, y, threads, use_dot);
  }
  void gemm(int64_t m, const int8_t* a, int32_t zp, const Packed& p, const Stage& s, int8_t* y, int threads) const {
    kernels::neon::qgemm_s8_neon(m, a, zp, p, s, y, threads, use_dot);
  }
};
#endif

#if defined(OCTET_HAVE_AVX2)
class QDepthwiseAvx2 final : public Kernel {
 public:
  QDepthwiseAvx2(const Graph& graph, const Node& node, const kernels::Conv2dShape& shape, int threads)
      : shape_(shape), threads_(threads) {
    input_zero_point_ = ref::affine_params(graph, node.inputs[0]).zero_point;
    weight_ = *graph.initializer(node.inputs[1]);
    stage_ = ref::make_output_stage(graph, node, shape.out_channels);
  }
  void run(const TensorView* in, TensorView* out) const override {
    kernels::avx2::dwconv2d_s8_avx2(shape_, in[0].as<const int8_t>(), input_zero_point_, weight_.data<int8_t>(),
                                    stage_.stage(), out[0].as<int8_t>(), threads_);
  }

 private:
  kernels::Conv2dShape shape_;
  int32_t input_zero_point_ = 0;
  Tensor weight_;
  ref::OutputStageStorage stage_;
  int threads_;
};

class MaxPoolS8Avx2 final : public Kernel {
 public:
  MaxPoolS8Avx2(const Graph& graph, const Node& node, int threads, bool avx512) : threads_(threads), avx512_(avx512) {
    const Shape& x = graph.value_info(node.inputs[0]).shape;
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    WindowGeometry g = resolve_window_geometry(node, x, node.attrs.get_ints("kernel_shape"),
                                               node.attrs.get_int("ceil_mode", 0) != 0);
    shape_ = {x[0], x[1], x[2], x[3], y[2], y[3], g.kernel[0], g.kernel[1], g.strides[0], g.strides[1],
              g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1], g.pad_end[0], g.pad_end[1]};
  }
  void run(const TensorView* in, TensorView* out) const override {
    if (avx512_ && kernels::avx512::max_pool2d_s8_avx512(shape_, in[0].as<const int8_t>(), out[0].as<int8_t>(), threads_))
      return;
    kernels::avx2::max_pool2d_s8_avx2(shape_, in[0].as<const int8_t>(), out[0].as<int8_t>(), threads_);
  }

 private:
  kernels::Pool2dShape shape_{};
  int threads_;
  bool avx512_ = false;  // masked-load kernel (strides 1 and 2) on the VNNI CPUs
};

class GlobalAveragePoolS8Avx2 final : public Kernel {
 public:
  GlobalAveragePoolS8Avx2(const Graph& graph, const Node& node) {
    const Shape& x = graph.value_info(node.inputs[0]).shape;
    planes_ = x[0] * x[1];
    plane_size_ = x[2] * x[3];
  }
  void run(const TensorView* in, TensorView* out) const override {
    kernels::avx2::global_average_pool_s8_avx2(planes_, plane_size_, in[0].as<const int8_t>(), out[0].as<int8_t>());
  }

 private:
  int64_t planes_ = 0, plane_size_ = 0;
};

// Chooses the depthwise kernel or the packed GEMM for a QConv.
std::unique_ptr<Kernel> make_qconv_avx2(const Graph& graph, const Node& node, Avx2 avx2, int threads) {
  const kernels::Conv2dShape shape = qconv_shape(graph, node);
  if (kernels::avx2::is_depthwise(shape)) return std::make_unique<QDepthwiseAvx2>(graph, node, shape, threads);
  return std::make_unique<QConvPacked<Avx2>>(graph, node, shape, avx2, threads);
}

// Quantize / Dequantize: element-wise, one pass over the tensor.
class QuantizeAvx2 final : public Kernel {
 public:
  QuantizeAvx2(quant::AffineParams params, int threads) : params_(params), threads_(threads) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::avx2::quantize_f32_to_s8_avx2(in[0].elements(), in[0].as<const float>(), params_.scale,
                                           params_.zero_point, out[0].as<int8_t>(), threads_);
  }

 private:
  quant::AffineParams params_;
  int threads_;
};

class DequantizeAvx2 final : public Kernel {
 public:
  DequantizeAvx2(quant::AffineParams params, int threads) : params_(params), threads_(threads) {}
  void run(const TensorView* in, TensorView* out) const override {
    kernels::avx2::dequantize_s8_to_f32_avx2(in[0].elements(), in[0].as<const int8_t>(), params_.scale,
                                             params_.zero_point, out[0].as<float>(), threads_);
  }

 private:
  quant::AffineParams params_;
  int threads_;
};

#endif

// Residual Add on every ISA: the 64 KB table of kernels/qadd_table_s8.hpp, built here once,
// and on AVX2 (and AVX-512) CPUs the float form of kernels/qadd_affine_s8.hpp where it reproduces
// the table.
class QAddTable final : public Kernel {
 public:
  QAddTable(const Graph& graph, const Node& node, int threads, bool avx2, bool avx512)
      : threads_(threads), avx2_(avx2), avx512_(avx512) {
    const float inf = std::numeric_limits<float>::infinity();
    const quant::AffineParams output = ref::affine_params(graph, node.outputs[0]);
    const quant::QuantizedRange range =
        node.attrs.has("activation") ? quant::quantized_clamp(output, node.attrs.get_float("activation_min", -inf),
                                                              node.attrs.get_float("activation_max", inf))
                                     : quant::QuantizedRange{};
    params_ = quant::make_qadd_params(ref::affine_params(graph, node.inputs[0]), ref::affine_params(graph, node.inputs[1]),
                                      output, range.low, range.high);
    b_count_ = shape_elements(graph.value_info(node.inputs[1]).shape);
    table_ = kernels::make_qadd_table_s8(params_);
#if defined(OCTET_HAVE_AVX2)
    // The float form where it provably gives the table's results (checked on all 65536 pairs).
    // On 16 lanes only where 512-bit float leaves the clock alone (AMD): on Intel's AVX-512 CPUs
    // the convolutions between the Adds ran ~7% slower with it (resnet50, one thread, paired
    // runs on Sapphire Rapids: 18.74 ms against 18.27 with the 8-lane form), on Zen 5 the Adds
    // took 0.55-0.67x of their 8-lane time and nothing around them slowed (11.81 against 12.15).
    if (avx2_) {  // every AVX-512 CPU here has AVX2 too
      affine_kernel_ = avx512_ && kernels::cpu_keeps_clock_under_512_bit_float() ? kernels::avx512::qadd_affine_s8_avx512
                                                                                : kernels::avx2::qadd_affine_s8_avx2;
      affine_ = kernels::qadd_affine_form(params_);
      if (affine_ && !kernels::qadd_affine_form_matches(*affine_, table_.data(), affine_kernel_)) affine_.reset();
    }
#endif
  }
  void run(const TensorView* in, TensorView* out) const override {
#if defined(OCTET_HAVE_AVX2)
    if (affine_) {
      affine_kernel_(out[0].elements(), in[0].as<const int8_t>(), in[1].as<const int8_t>(), b_count_, *affine_,
                     table_.data(), out[0].as<int8_t>(), threads_);
      return;
    }
    if (avx512_) {
      kernels::avx512::qadd_table_s8_avx512(out[0].elements(), in[0].as<const int8_t>(), in[1].as<const int8_t>(),
                                            b_count_, table_.data(), out[0].as<int8_t>(), threads_);
      return;
    }
    if (avx2_) {
      kernels::avx2::qadd_table_s8_avx2(out[0].elements(), in[0].as<const int8_t>(), in[1].as<const int8_t>(),
                                        b_count_, table_.data(), out[0].as<int8_t>(), threads_);
      return;
    }
#endif
    kernels::qadd_table_s8(out[0].elements(), in[0].as<const int8_t>(), in[1].as<const int8_t>(), b_count_,
                           table_.data(), out[0].as<int8_t>(), threads_);
  }

 private:
  kernels::QAddParams params_;
  kernels::QAddAffineKernel affine_kernel_ = nullptr;
  int64_t b_count_ = 0;
  std::vector<int8_t> table_;
  std::optional<kernels::QAddAffineForm> affine_;  // set when it matched the table exhaustively
  int threads_ = 1;
  bool avx2_ = false;    // the AVX2 paths: the float form, or gathers where it does not match
  bool avx512_ = false;  // with AVX-512 (the VNNI CPUs)
};
class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(threads), ref_(make_ref_backend()), isa_(kernels::active_isa()) {}

  const char* name() const override { return "cpu"; }

  Support supports(const Graph& graph, const Node& node) const override { return ref_->supports(graph, node); }

  std::unique_ptr<Kernel> prepare(const Graph& graph, const Node& node) const override {
#if defined(OCTET_HAVE_AVX2)
    if (isa_ == kernels::Isa::avx2 || isa_ == kernels::Isa::avx512_vnni) {
      const Avx2 avx2{isa_ == kernels::Isa::avx512_vnni};
      if (node.op == "QConv") return make_qconv_avx2(graph, node, avx2, threads_);
      if (node.op == "QGemm") return std::make_unique<QGemmPacked<Avx2>>(graph, node, avx2, threads_);
      if (node.op == "MaxPool" && graph.value_info(node.inputs[0]).dtype == DType::i8)
        return std::make_unique<MaxPoolS8Avx2>(graph, node, threads_, isa_ == kernels::Isa::avx512_vnni);
      if (node.op == "QGlobalAveragePool") return std::make_unique<GlobalAveragePoolS8Avx2>(graph, node);
      if (node.op == "QuantizeLinear")
        return std::make_unique<QuantizeAvx2>(ref::affine_params(graph, node.outputs[0]), threads_);
      if (node.op == "DequantizeLinear")
        return std::make_unique<DequantizeAvx2>(ref::affine_params(graph, node.inputs[0]), threads_);
    }
#endif
#if defined(OCTET_HAVE_NEON)
    if (isa_ == kernels::Isa::neon || isa_ == kernels::Isa::neon_dot) {
      const Neon neon{isa_ == kernels::Isa::neon_dot};
      if (node.op == "QConv") return std::make_unique<QConvPacked<Neon>>(graph, node, qconv_shape(graph, node), neon, threads_);
      if (node.op == "QGemm") return std::make_unique<QGemmPacked<Neon>>(graph, node, neon, threads_);
    }
#endif
    if (node.op == "QAdd")
      return std::make_unique<QAddTable>(graph, node, threads_,
                                         isa_ == kernels::Isa::avx2 || isa_ == kernels::Isa::avx512_vnni,
                                         isa_ == kernels::Isa::avx512_vnni);
    return ref_->prepare(graph, node);
  }

 private:
  int threads_;
  std::unique_ptr<Backend> ref_;
  kernels::Isa isa_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace octet
