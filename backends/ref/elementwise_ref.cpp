#include <cstring>
#include <limits>

#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"
#include "kernels/ref/elementwise_f32_ref.hpp"

namespace octet::ref {
namespace {

constexpr int kMaxRank = 8;

class AddF32 final : public Kernel {
 public:
  AddF32(Shape out, const Shape& a, const Shape& b, FusedClamp clamp)
      : out_(std::move(out)), clamp_(clamp) {
    if (out_.size() > kMaxRank) throw Error("Add supports at most rank 8");
    strides_for(a, a_strides_);
    strides_for(b, b_strides_);
  }

  void run(const TensorView* inputs, TensorView* outputs) const override {
    kernels::BroadcastOperand a{inputs[0].as<const float>(), {}};
    kernels::BroadcastOperand b{inputs[1].as<const float>(), {}};
    std::memcpy(a.strides, a_strides_, sizeof(a_strides_));
    std::memcpy(b.strides, b_strides_, sizeof(b_strides_));
    float* y = outputs[0].as<float>();
    kernels::add_broadcast_f32_ref(static_cast<int>(out_.size()), out_.data(), a, b, y);
    if (clamped_) kernels::clamp_f32_ref(shape_elements(out_), y, clamp_.low, clamp_.high, y);
  }

  bool clamped_ = false;

 private:
  // Right-aligns `operand` against the output; broadcast axes get stride 0.
  void strides_for(const Shape& operand, int64_t* strides) const {
    const size_t offset = out_.size() - operand.size();
    int64_t stride = 1;
    for (size_t axis = out_.size(); axis-- > 0;) {
      if (axis < offset || operand[axis - offset] == 1) {
        strides[axis] = 0;
      } else {
        strides[axis] = stride;
        stride *= operand[axis - offset];
      }
    }
  }

  Shape out_;
  int64_t a_strides_[kMaxRank] = {0};
  int64_t b_strides_[kMaxRank] = {0};
  FusedClamp clamp_;
};

class ClampF32 final : public Kernel {
 public:
  ClampF32(float low, float high) : low_(low), high_(high) {}
  void run(const TensorView* inputs, TensorView* outputs) const override {
    kernels::clamp_f32_ref(inputs[0].elements(), inputs[0].as<const float>(), low_, high_,
                           outputs[0].as<float>());
  }

 private:
  float low_, high_;
};

class BatchNormF32 final : public Kernel {
 public:
  BatchNormF32(Shape x, float epsilon) : x_(std::move(x)), epsilon_(epsilon) {}
  void run(const TensorView* in, TensorView* outputs) const override {
    int64_t spatial = 1;
    for (size_t i = 2; i < x_.size(); ++i) spatial *= x_[i];
    kernels::batchnorm_f32_ref(x_[0], x_[1], spatial, in[0].as<const float>(), in[1].as<const float>(),
                               in[2].as<const float>(), in[3].as<const float>(),
                               in[4].as<const float>(), epsilon_, outputs[0].as<float>());
  }

 private:
  Shape x_;
  float epsilon_;
};

class SoftmaxF32 final : public Kernel {
 public:
  SoftmaxF32(int64_t rows, int64_t row_size, int64_t inner)
      : rows_(rows), row_size_(row_size), inner_(inner) {}
  void run(const TensorView* inputs, TensorView* outputs) const override {
    kernels::softmax_f32_ref(rows_, row_size_, inner_, inputs[0].as<const float>(),
                             outputs[0].as<float>());
  }

 private:
  int64_t rows_, row_size_, inner_;
};

// Flatten, Reshape, Identity, Dropout: same bytes, new shape.
class Copy final : public Kernel {
 public:
  explicit Copy(size_t bytes) : bytes_(bytes) {}
  void run(const TensorView* inputs, TensorView* outputs) const override {
    if (inputs[0].data != outputs[0].data && bytes_) std::memcpy(outputs[0].data, inputs[0].data, bytes_);
  }

 private:
  size_t bytes_;
};

class Transpose final : public Kernel {
 public:
  Transpose(Shape in, std::vector<int64_t> perm, int64_t element_size)
      : in_(std::move(in)), perm_(std::move(perm)), element_size_(element_size) {}
  void run(const TensorView* inputs, TensorView* outputs) const override {
    kernels::transpose_ref(static_cast<int>(in_.size()), in_.data(), perm_.data(), element_size_,
                           inputs[0].data, outputs[0].data);
  }

 private:
  Shape in_;
  std::vector<int64_t> perm_;
  int64_t element_size_;
};

}  // namespace

std::unique_ptr<Kernel> make_add(const Graph& graph, const Node& node) {
  auto kernel = std::make_unique<AddF32>(graph.value_info(node.outputs[0]).shape,
                                         graph.value_info(node.inputs[0]).shape,
                                         graph.value_info(node.inputs[1]).shape, fused_clamp(node));
  kernel->clamped_ = node.attrs.has("activation");
  return kernel;
}

std::unique_ptr<Kernel> make_clamp(const Graph& graph, const Node& node) {
  const float inf = std::numeric_limits<float>::infinity();
  if (node.op == "Relu") return std::make_unique<ClampF32>(0.0f, inf);
  auto bound = [&](size_t input, const char* attribute, float fallback) {
    if (node.attrs.has(attribute)) return node.attrs.get_float(attribute, fallback);
    if (!node.has_input(input)) return fallback;
    const Tensor* tensor = graph.initializer(node.inputs[input]);
    if (!tensor || tensor->dtype() != DType::f32 || tensor->elements() != 1)
      throw Error(node.label() + ": bound '" + node.inputs[input] + "' must be a constant f32 scalar");
    return tensor->data<float>()[0];
  };
  return std::make_unique<ClampF32>(bound(1, "min", -inf), bound(2, "max", inf));
}

std::unique_ptr<Kernel> make_batchnorm(const Graph& graph, const Node& node) {
  return std::make_unique<BatchNormF32>(graph.value_info(node.inputs[0]).shape,
                                        node.attrs.get_float("epsilon", 1e-5f));
}

std::unique_ptr<Kernel> make_softmax(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  const int64_t rank = static_cast<int64_t>(x.size());
  int64_t axis = node.attrs.get_int("axis", -1);
  if (axis < 0) axis += rank;
  int64_t rows = 1, row = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) rows *= x[static_cast<size_t>(i)];
    else if (i == axis) row *= x[static_cast<size_t>(i)];
    else inner *= x[static_cast<size_t>(i)];
  }
  // Before opset 13, Softmax flattened everything from `axis` on into one row.
  if (node.attrs.get_int("coerce_2d", 0) != 0) {
    row *= inner;
    inner = 1;
  }
  return std::make_unique<SoftmaxF32>(rows, row, inner);
}

std::unique_ptr<Kernel> make_copy(const Graph& graph, const Node& node) {
  const ValueInfo& x = graph.value_info(node.inputs[0]);
  return std::make_unique<Copy>(static_cast<size_t>(shape_elements(x.shape)) * dtype_size(x.dtype));
}

std::unique_ptr<Kernel> make_transpose(const Graph& graph, const Node& node) {
  const ValueInfo& x = graph.value_info(node.inputs[0]);
  if (x.shape.size() > static_cast<size_t>(kMaxRank)) throw Error(node.label() + ": rank above 8");
  std::vector<int64_t> perm = node.attrs.get_ints("perm");
  if (perm.empty())
    for (size_t i = 0; i < x.shape.size(); ++i) perm.push_back(static_cast<int64_t>(x.shape.size() - 1 - i));
  return std::make_unique<Transpose>(x.shape, perm, static_cast<int64_t>(dtype_size(x.dtype)));
}

}  // namespace octet::ref
