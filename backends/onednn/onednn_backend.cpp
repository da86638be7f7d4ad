// The onednn backend (see onednn_backend.hpp). Primitives, their attributes and the reordered
// weights are created once, at prepare; run() only wraps the executor's buffers, reorders
// activations between NCHW and the layout the primitive chose, and executes.
//
// How oneDNN 2.x computes an int8 convolution / matmul here:
//   acc  = sum (x - zp_x) * w + bias                       (int32; in the 2.x API an s32 bias is
//                                                           added before scaling)
//   v    = float(acc) * scale[c]                           (scale = s_x * s_w[c] / s_y, fp32)
//   v    = clip(v, low - zp_y, high - zp_y)                (eltwise post-op, fused ReLU/clip)
//   y    = saturate_s8(round_half_even(v + zp_y))
// The spec (and the ref and cpu backends) requantize with a Q31 fixed-point multiplier, rounding
// twice (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT, ties away from zero), so
// outputs can differ by one LSB where acc * M lies near a half-integer (~0.05% of outputs on
// random layers; tests/backends/test_onednn_backend.cpp measures it and explains why).
//
// Exactness of the accumulation depends on the ISA oneDNN runs (dnnl::get_effective_cpu_isa,
// capped by DNNL_MAX_CPU_ISA): with VNNI (vpdpbusd) the int32 sums are exact; without it (AVX2,
// AVX-512 core) oneDNN's s8-src convolutions use vpmaddubsw, whose int16 pair sums could
// saturate, so oneDNN reorders the weights with an extra scale of 0.5 ("scale_adjust") and
// compensates in the output scale: odd weights lose their last bit and outputs are off by up to
// ~6 LSB. QGemm's input zero point: see InputZeroPoint below. Two oneDNN 2.6 problems are
// avoided by running the node on the ref kernel: hits_avx2_depthwise_bug and the saturating
// AVX-512 (non-VNNI) s8 GEMM (onednn_refusal).
#include "backends/onednn/onednn_backend.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/ref/quantized_params.hpp"
#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"
#include "graph/window_geometry.hpp"

namespace octet {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Runs oneDNN with `threads` OpenMP threads and gives the caller's setting back afterwards.
class OmpThreads {
 public:
  explicit OmpThreads(int threads) : saved_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

// A primitive with its own (user-managed) scratchpad per call, so one prepared kernel can run
// concurrently in several sessions (library-managed scratchpads belong to the primitive).
struct Step {
  dnnl::primitive primitive;
  dnnl::memory::desc scratchpad;

  template <class Primitive>
  static Step make(const typename Primitive::primitive_desc& pd) {
    return {Primitive(pd), pd.scratchpad_desc()};
  }
  void execute(dnnl::stream& stream, std::unordered_map<int, dnnl::memory> args) const {
    if (scratchpad.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad, stream.get_engine()));
    primitive.execute(stream, args);
  }
};

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A reorder from `from` to `to`, or none when the layouts are the same.
bool make_reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to, Step& step) {
  if (from == to) return false;
  step = Step::make<dnnl::reorder>(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to, user_scratchpad()));
  return true;
}

// A constant (weights, bias) in the layout `wanted`, copied/reordered once.
dnnl::memory constant_memory(const dnnl::memory::desc& user, const void* data, const dnnl::memory::desc& wanted) {
  dnnl::memory source(user, cpu_engine(), const_cast<void*>(data));
  dnnl::memory target(wanted, cpu_engine());
  dnnl::stream stream(cpu_engine());
  if (user == wanted) {
    std::memcpy(target.get_data_handle(), data, user.get_size());
  } else {
    dnnl::reorder(source, target).execute(stream, source, target);
    stream.wait();
  }
  return target;
}

const Tensor& constant(const Graph& graph, const Node& node, size_t input) {
  const Tensor* tensor = graph.initializer(node.inputs[input]);
  if (!tensor) throw Error(node.label() + ": input '" + node.inputs[input] + "' must be a constant");
  return *tensor;
}

// Attributes of an int8 Conv/Gemm: per-channel output scales, zero points, fused clamp.
struct Int8Attributes {
  dnnl::primitive_attr attr;
  std::vector<int32_t> bias;
  int32_t input_zero_point = 0;
};

// How the input zero point reaches oneDNN.
enum class InputZeroPoint {
  // A constant attribute (convolutions: padding must read the zero point).
  attribute,
  // Folded into the bias, bias[c] - zp_x * sum_k w[c][k] (matmul, exact: no padding). With VNNI
  // this takes oneDNN's fast exact path.
  fold,
  // A run-time attribute, set even when zp_x = 0 (matmul on AVX2). oneDNN 2.6's fast AVX2
  // s8 x s8 GEMM (taken when there is no source zero point) saturates in vpmaddubsw and is off by
  // up to ~150 LSB on full-range data; the zero-point path is exact but ~20x slower. (On
  // AVX-512 without VNNI both paths saturate: QGemm runs on the ref kernel there.)
  runtime,
};

Int8Attributes int8_attributes(const Graph& graph, const Node& node, int64_t channels, InputZeroPoint mode) {
  const ref::OutputStageStorage stage = ref::make_output_stage(graph, node, channels);
  const quant::AffineParams input = ref::affine_params(graph, node.inputs[0]);
  const quant::AffineParams output = ref::affine_params(graph, node.outputs[0]);
  const QuantParams& weight = graph.quant.at(node.inputs[1]);
  std::vector<float> scales;
  for (size_t c = 0; c < (weight.per_channel() ? static_cast<size_t>(channels) : 1); ++c)
    scales.push_back(static_cast<float>(static_cast<double>(input.scale) * weight.scales[c] / output.scale));
  Int8Attributes result;
  dnnl::primitive_attr& attr = result.attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_output_scales(weight.per_channel() ? 1 << 1 : 0, scales);  // dim 1: channels (conv), N (matmul)
  if (mode == InputZeroPoint::runtime)
    attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  else if (mode == InputZeroPoint::attribute && input.zero_point != 0)
    attr.set_zero_points(DNNL_ARG_SRC, 0, {input.zero_point});
  result.input_zero_point = input.zero_point;
  if (output.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {output.zero_point});
  // The clip runs on scaled values before the output zero point is added.
  if (stage.clamp.low > quant::kInt8Min || stage.clamp.high < quant::kInt8Max) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, static_cast<float>(stage.clamp.low - output.zero_point),
                       static_cast<float>(stage.clamp.high - output.zero_point));
    attr.set_post_ops(ops);
  }
  result.bias = stage.bias;
  if (mode == InputZeroPoint::fold && input.zero_point != 0) {
    const Tensor& weight_tensor = *graph.initializer(node.inputs[1]);
    const int64_t depth = weight_tensor.elements() / channels;
    result.bias.resize(static_cast<size_t>(channels), 0);
    for (int64_t c = 0; c < channels; ++c) {
      int64_t sum = 0;
      for (int64_t k = 0; k < depth; ++k) sum += weight_tensor.data<int8_t>()[c * depth + k];
      const int64_t folded = result.bias[static_cast<size_t>(c)] - int64_t{input.zero_point} * sum;
      if (folded < std::numeric_limits<int32_t>::min() || folded > std::numeric_limits<int32_t>::max())
        throw Error(node.label() + ": bias with the folded input zero point overflows int32");
      result.bias[static_cast<size_t>(c)] = static_cast<int32_t>(folded);
    }
  }
  return result;
}

dnnl::primitive_attr float_attributes(const Node& node) {
  dnnl::primitive_attr attr = user_scratchpad();
  const ref::FusedClamp clamp = ref::fused_clamp(node);
  const float inf = std::numeric_limits<float>::infinity();
  if (clamp.low == -inf && clamp.high == inf) return attr;
  dnnl::post_ops ops;
  if (clamp.low == 0.0f && clamp.high == inf)
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  else
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, std::max(clamp.low, -std::numeric_limits<float>::max()),
                       std::min(clamp.high, std::numeric_limits<float>::max()));
  attr.set_post_ops(ops);
  return attr;
}

class OnednnKernel : public Kernel {
 public:
  virtual std::string implementation() const = 0;
};

// Conv (f32) and QConv (s8) as one convolution_forward; src and dst reordered from/to NCHW
// when the primitive prefers another layout.
class Convolution final : public OnednnKernel {
 public:
  Convolution(const Graph& graph, const Node& node, int threads) : threads_(threads) {
    const bool int8 = node.op == "QConv";
    const dt data = int8 ? dt::s8 : dt::f32;
    const Shape& x = graph.value_info(node.inputs[0]).shape;
    const Shape& w = graph.value_info(node.inputs[1]).shape;
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    const int64_t groups = node.attrs.get_int("group", 1);
    const WindowGeometry g = resolve_window_geometry(node, x, {w[2], w[3]}, false);
    const dims src_dims{x[0], x[1], x[2], x[3]}, dst_dims{y[0], y[1], y[2], y[3]};
    const dims wei_dims = groups == 1 ? dims{w[0], w[1], w[2], w[3]} : dims{groups, w[0] / groups, w[1], w[2], w[3]};
    src_user_ = dnnl::memory::desc(src_dims, data, tag::nchw);
    dst_user_ = dnnl::memory::desc(dst_dims, data, tag::nchw);
    const dnnl::memory::desc wei_user(wei_dims, data, groups == 1 ? tag::oihw : tag::goihw);
    const bool has_bias = node.has_input(2);
    const dnnl::memory::desc bias_user = has_bias ? dnnl::memory::desc({w[0]}, int8 ? dt::s32 : dt::f32, tag::x)
                                                  : dnnl::memory::desc();

    Int8Attributes q;
    dnnl::primitive_attr attr = int8 ? (q = int8_attributes(graph, node, w[0], InputZeroPoint::attribute)).attr : float_attributes(node);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        dnnl::memory::desc(src_dims, data, tag::any), dnnl::memory::desc(wei_dims, data, tag::any), bias_user,
        dnnl::memory::desc(dst_dims, data, tag::any), {g.strides[0], g.strides[1]},
        {g.dilations[0] - 1, g.dilations[1] - 1}, {g.pad_begin[0], g.pad_begin[1]}, {g.pad_end[0], g.pad_end[1]});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, cpu_engine());
    implementation_ = pd.impl_info_str();
    conv_ = Step::make<dnnl::convolution_forward>(pd);
    src_desc_ = pd.src_desc();
    dst_desc_ = pd.dst_desc();
    reorder_src_ = make_reorder(src_user_, src_desc_, src_reorder_);
    reorder_dst_ = make_reorder(dst_desc_, dst_user_, dst_reorder_);
    weights_ = constant_memory(wei_user, constant(graph, node, 1).raw(), pd.weights_desc());
    if (has_bias)
      bias_ = constant_memory(bias_user, int8 ? static_cast<const void*>(q.bias.data()) : constant(graph, node, 2).raw(),
                              pd.bias_desc());
  }

  void run(const TensorView* in, TensorView* out) const override {
    const OmpThreads scope(threads_);
    const dnnl::engine& engine = cpu_engine();
    dnnl::stream stream(engine);
    dnnl::memory src_user(src_user_, engine, in[0].data), dst_user(dst_user_, engine, out[0].data);
    dnnl::memory src = reorder_src_ ? dnnl::memory(src_desc_, engine) : src_user;
    dnnl::memory dst = reorder_dst_ ? dnnl::memory(dst_desc_, engine) : dst_user;
    if (reorder_src_) src_reorder_.execute(stream, {{DNNL_ARG_FROM, src_user}, {DNNL_ARG_TO, src}});
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst}};
    if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
    conv_.execute(stream, std::move(args));
    if (reorder_dst_) dst_reorder_.execute(stream, {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, dst_user}});
    stream.wait();
  }

  std::string implementation() const override { return implementation_; }

 private:
  int threads_;
  std::string implementation_;
  Step conv_, src_reorder_, dst_reorder_;
  bool reorder_src_ = false, reorder_dst_ = false;
  dnnl::memory::desc src_user_, dst_user_, src_desc_, dst_desc_;
  dnnl::memory weights_, bias_;
};

// QGemm (s8, weight [N,K]) and Gemm (f32, weight [N,K] with transB or [K,N]) as matmul on the
// executor's row-major buffers.
class MatMul final : public OnednnKernel {
 public:
  MatMul(const Graph& graph, const Node& node, int threads) : threads_(threads) {
    const bool int8 = node.op == "QGemm";
    const dt data = int8 ? dt::s8 : dt::f32;
    const Shape& a = graph.value_info(node.inputs[0]).shape;
    const Shape& y = graph.value_info(node.outputs[0]).shape;
    const int64_t m = a[0], k = a[1], n = y[1];
    const bool weight_nk = int8 || node.attrs.get_int("transB", 0) != 0;
    const dnnl::memory::desc src({m, k}, data, tag::ab), dst({m, n}, data, tag::ab);
    const dnnl::memory::desc wei_user({k, n}, data, weight_nk ? tag::ba : tag::ab);
    Int8Attributes q;
    const InputZeroPoint mode = onednn_info().int8_exact_accumulation ? InputZeroPoint::fold : InputZeroPoint::runtime;
    dnnl::primitive_attr attr = int8 ? (q = int8_attributes(graph, node, n, mode)).attr : float_attributes(node);
    if (int8 && mode == InputZeroPoint::runtime) {
      input_zero_point_ = dnnl::memory({{1}, dt::s32, tag::x}, cpu_engine());
      *static_cast<int32_t*>(input_zero_point_.get_data_handle()) = q.input_zero_point;
    }
    const bool has_bias = int8 ? !q.bias.empty() : node.has_input(2);
    const dnnl::memory::desc bias_user =
        has_bias ? dnnl::memory::desc({1, n}, int8 ? dt::s32 : dt::f32, tag::ab) : dnnl::memory::desc();
    const dnnl::matmul::desc desc(src, dnnl::memory::desc({k, n}, data, tag::any), bias_user, dst);
    const dnnl::matmul::primitive_desc pd(desc, attr, cpu_engine());
    implementation_ = pd.impl_info_str();
    matmul_ = Step::make<dnnl::matmul>(pd);
    weights_ = constant_memory(wei_user, constant(graph, node, 1).raw(), pd.weights_desc());
    if (has_bias)
      bias_ = constant_memory(bias_user, int8 ? static_cast<const void*>(q.bias.data()) : constant(graph, node, 2).raw(),
                              pd.bias_desc());
    src_ = src;
    dst_ = dst;
  }

  void run(const TensorView* in, TensorView* out) const override {
    const OmpThreads scope(threads_);
    const dnnl::engine& engine = cpu_engine();
    dnnl::stream stream(engine);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(src_, engine, in[0].data)},
                                               {DNNL_ARG_WEIGHTS, weights_},
                                               {DNNL_ARG_DST, dnnl::memory(dst_, engine, out[0].data)}};
    if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
    if (input_zero_point_) args.emplace(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, input_zero_point_);
    matmul_.execute(stream, std::move(args));
    stream.wait();
  }

  std::string implementation() const override { return implementation_; }

 private:
  int threads_;
  std::string implementation_;
  Step matmul_;
  dnnl::memory::desc src_, dst_;
  dnnl::memory weights_, bias_, input_zero_point_;
};

bool avx512_or_better() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx: return true;
    default: return false;
  }
}

// oneDNN 2.6.3's AVX2 int8 depthwise kernel gives wrong results (every output off, up to 255)
// for a 1x1 depthwise convolution whose channel count is not a multiple of 16 when the input
// zero point is not 0 (found by tests/backends/test_onednn_backend.cpp with
// DNNL_MAX_CPU_ISA=AVX2; the AVX-512 kernels are right).
bool hits_avx2_depthwise_bug(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const Shape& w = graph.value_info(node.inputs[1]).shape;
  const int64_t groups = node.attrs.get_int("group", 1);
  return node.op == "QConv" && groups > 1 && groups == x[1] && groups == w[0] && w[2] == 1 && w[3] == 1 &&
         x[1] % 16 != 0 && ref::affine_params(graph, node.inputs[0]).zero_point != 0 && !avx512_or_better();
}

// Why oneDNN cannot take a node ("" when it can); such nodes run the ref backend's kernel.
std::string onednn_refusal(const Graph& graph, const Node& node) {
  const bool conv = node.op == "Conv" || node.op == "QConv";
  const bool gemm = node.op == "Gemm" || node.op == "QGemm";
  if (!conv && !gemm) return "no oneDNN primitive for " + node.op;
  if (!graph.is_initializer(node.inputs[1])) return "weights are not constant";
  if (node.has_input(2) && !graph.is_initializer(node.inputs[2])) return "bias is not constant";
  if (conv && (graph.value_info(node.inputs[0]).shape.size() != 4 || graph.value_info(node.inputs[1]).shape.size() != 4))
    return "not a 2-D convolution";
  if (conv && hits_avx2_depthwise_bug(graph, node)) return "oneDNN 2.6 AVX2 1x1 depthwise bug";
  // AVX-512 without VNNI: oneDNN 2.6's s8 GEMM saturates in vpmaddubsw (off by up to ~150 LSB
  // on full-range data) whether or not a source zero point is given.
  if (node.op == "QGemm" && avx512_or_better() && !onednn_info().int8_exact_accumulation)
    return "oneDNN 2.6 avx512_core s8 GEMM saturates";
  if (node.op == "Gemm") {
    if (node.attrs.get_int("transA", 0) != 0 || node.attrs.get_float("alpha", 1.0f) != 1.0f ||
        node.attrs.get_float("beta", 1.0f) != 1.0f)
      return "Gemm with transA/alpha/beta";
    if (node.has_input(2)) {
      const Shape& c = graph.value_info(node.inputs[2]).shape;
      const int64_t n = graph.value_info(node.outputs[0]).shape[1];
      if (!(c == Shape{n} || c == Shape{1, n})) return "Gemm with a C that is not a [N] bias";
    }
  }
  return "";
}

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(int threads) : threads_(threads), ref_(make_ref_backend()) {}

  const char* name() const override { return "onednn"; }

  Support supports(const Graph& graph, const Node& node) const override { return ref_->supports(graph, node); }

  std::unique_ptr<Kernel> prepare(const Graph& graph, const Node& node) const override {
    if (!onednn_refusal(graph, node).empty()) return ref_->prepare(graph, node);
    try {
      if (node.op == "Conv" || node.op == "QConv") return std::make_unique<Convolution>(graph, node, threads_);
      return std::make_unique<MatMul>(graph, node, threads_);
    } catch (const dnnl::error& e) {
      throw Error(node.label() + ": oneDNN cannot create the primitive: " + e.what());
    }
  }

 private:
  int threads_;
  std::unique_ptr<Backend> ref_;
};

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
  }
}

}  // namespace

std::unique_ptr<Backend> make_onednn_backend(int threads) { return std::make_unique<OnednnBackend>(threads); }

OnednnInfo onednn_info() {
  const dnnl_version_t* v = dnnl::version();
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  OnednnInfo info;
  info.version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  info.isa = isa_name(isa);
  info.int8_exact_accumulation = isa == dnnl::cpu_isa::avx2_vnni || isa == dnnl::cpu_isa::avx512_core_vnni ||
                                 isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
  return info;
}

std::string onednn_implementation(const Kernel& kernel) {
  const auto* k = dynamic_cast<const OnednnKernel*>(&kernel);
  return k ? k->implementation() : std::string();
}

}  // namespace octet
