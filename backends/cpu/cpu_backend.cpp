// The cpu backend: Octet's SIMD kernels where the active ISA has them (kernels/isa.hpp picks
// the path at run time; OCTET_ISA forces one), the ref kernels for everything else. Weights are
// packed once here, at prepare; kernels are immutable and shared by every session.
#include <memory>

#include "backends/backend.hpp"
#include "backends/ref/quantized_params.hpp"
#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/isa.hpp"
#if defined(OCTET_HAVE_AVX2)
#include "kernels/avx2/qconv2d_s8_avx2.hpp"
#endif

namespace octet {
namespace {

#if defined(OCTET_HAVE_AVX2)
class QConvAvx2 final : public Kernel {
 public:
  QConvAvx2(const Graph& graph, const Node& node, int threads) : threads_(threads) {
    const Shape& x = graph.value_info(node.inputs[0]).shape;
    const Shape& w = graph.value_info(node.inputs[1]).shape;
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
    shape_ = {x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[2], w[3], g.strides[0], g.strides[1],
              g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1], node.attrs.get_int("group", 1)};
    input_zero_point_ = ref::affine_params(graph, node.inputs[0]).zero_point;
    const Tensor* weight = graph.initializer(node.inputs[1]);
    if (!weight) throw Error(node.label() + ": weights must be constant");
    const ref::OutputStageStorage storage = ref::make_output_stage(graph, node, w[0]);
    const kernels::QuantizedOutputStage stage = storage.stage();
    const int64_t out_per_group = w[0] / shape_.groups;
    const int64_t depth = w[1] * w[2] * w[3];
    for (int64_t group = 0; group < shape_.groups; ++group) {
      packed_.push_back(kernels::avx2::pack_weights(weight->data<int8_t>() + group * out_per_group * depth,
                                                    out_per_group, depth));
      // The stage of this group's channels only.
      const int64_t first = group * out_per_group;
      const kernels::QuantizedOutputStage group_stage{
          stage.bias ? stage.bias + first : nullptr, stage.multipliers + (stage.per_channel ? first : 0),
          stage.per_channel, stage.output_zero_point, stage.low, stage.high};
      stages_.push_back(kernels::avx2::make_row_output_stage(packed_.back(), input_zero_point_, group_stage));
    }
  }
  void run(const TensorView* in, TensorView* out) const override {
    kernels::avx2::qconv2d_s8_avx2(shape_, in[0].as<const int8_t>(), input_zero_point_, packed_, stages_,
                                   out[0].as<int8_t>(), threads_);
  }

 private:
  kernels::Conv2dShape shape_{};
  int32_t input_zero_point_ = 0;
  std::vector<kernels::avx2::PackedWeights> packed_;
  std::vector<kernels::avx2::RowOutputStage> stages_;
  int threads_;
};

class QGemmAvx2 final : public Kernel {
 public:
  QGemmAvx2(const Graph& graph, const Node& node, int threads) : threads_(threads) {
    const Tensor* weight = graph.initializer(node.inputs[1]);
    if (!weight) throw Error(node.label() + ": weights must be constant");
    m_ = graph.value_info(node.inputs[0]).shape[0];
    zero_point_ = ref::affine_params(graph, node.inputs[0]).zero_point;
    packed_ = kernels::avx2::pack_weights(weight->data<int8_t>(), weight->shape()[0], weight->shape()[1]);
    const ref::OutputStageStorage storage = ref::make_output_stage(graph, node, weight->shape()[0]);
    stage_ = kernels::avx2::make_row_output_stage(packed_, zero_point_, storage.stage());
  }
  void run(const TensorView* in, TensorView* out) const override {
    kernels::avx2::qgemm_s8_avx2(m_, in[0].as<const int8_t>(), zero_point_, packed_, stage_, out[0].as<int8_t>(),
                                 threads_);
  }

 private:
  int64_t m_ = 0;
  int32_t zero_point_ = 0;
  kernels::avx2::PackedWeights packed_;
  kernels::avx2::RowOutputStage stage_;
  int threads_;
};
#endif

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(threads), ref_(make_ref_backend()), isa_(kernels::active_isa()) {}

  const char* name() const override { return "cpu"; }

  Support supports(const Graph& graph, const Node& node) const override { return ref_->supports(graph, node); }

  std::unique_ptr<Kernel> prepare(const Graph& graph, const Node& node) const override {
#if defined(OCTET_HAVE_AVX2)
    if (isa_ == kernels::Isa::avx2) {
      if (node.op == "QConv") return std::make_unique<QConvAvx2>(graph, node, threads_);
      if (node.op == "QGemm") return std::make_unique<QGemmAvx2>(graph, node, threads_);
    }
#endif
    return ref_->prepare(graph, node);
  }

  // Which kernel path a node runs on (for reports and profilers).
  const char* path(const Node& node) const {
    const bool simd = node.op == "QConv" || node.op == "QGemm";
    return simd ? kernels::isa_name(isa_) : "ref";
  }

 private:
  int threads_;
  std::unique_ptr<Backend> ref_;
  kernels::Isa isa_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace octet
