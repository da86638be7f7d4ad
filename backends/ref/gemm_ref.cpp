#include <algorithm>

#include "backends/ref/ref_kernels.hpp"
#include "kernels/ref/gemm_f32_ref.hpp"

namespace octet::ref {
namespace {

// ONNX Gemm: Y = alpha * op(A) * op(B) + beta * C, C broadcast to [M, N], then the fused clamp.
class GemmF32 final : public Kernel {
 public:
  GemmF32(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
          Shape c_shape, bool has_c, FusedClamp clamp)
      : m_(m), n_(n), k_(k), trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha), beta_(beta),
        c_shape_(std::move(c_shape)), has_c_(has_c), clamp_(clamp) {}

  void run(const TensorView* inputs, TensorView* outputs) const override {
    const float* a = inputs[0].as<const float>();
    const float* b = inputs[1].as<const float>();
    kernels::MatrixF32 lhs = trans_a_ ? kernels::MatrixF32{a, 1, m_} : kernels::MatrixF32{a, k_, 1};
    kernels::MatrixF32 rhs = trans_b_ ? kernels::MatrixF32{b, 1, k_} : kernels::MatrixF32{b, n_, 1};
    float* y = outputs[0].as<float>();
    kernels::gemm_f32_ref(m_, n_, k_, lhs, rhs, alpha_, y);
    if (has_c_) {
      const float* c = inputs[2].as<const float>();
      // C's shape right-aligned against [M, N]; a dimension of 1 (or a missing one) broadcasts.
      const int64_t c_rows = c_shape_.size() == 2 ? c_shape_[0] : 1;
      const int64_t c_cols = c_shape_.empty() ? 1 : c_shape_.back();
      for (int64_t i = 0; i < m_; ++i)
        for (int64_t j = 0; j < n_; ++j)
          y[i * n_ + j] += beta_ * c[(c_rows == 1 ? 0 : i) * c_cols + (c_cols == 1 ? 0 : j)];
    }
    for (int64_t i = 0; i < m_ * n_; ++i) y[i] = std::min(std::max(y[i], clamp_.low), clamp_.high);
  }

 private:
  int64_t m_, n_, k_;
  bool trans_a_, trans_b_;
  float alpha_, beta_;
  Shape c_shape_;
  bool has_c_;
  FusedClamp clamp_;
};

// MatMul with NumPy batch broadcasting over leading axes.
class MatMulF32 final : public Kernel {
 public:
  MatMulF32(Shape a, Shape b, Shape y) : a_(std::move(a)), b_(std::move(b)), y_(std::move(y)) {}

  void run(const TensorView* inputs, TensorView* outputs) const override {
    const int64_t m = a_[a_.size() - 2], k = a_.back(), n = b_.back();
    const size_t batch_rank = y_.size() - 2;
    int64_t batches = 1;
    for (size_t i = 0; i < batch_rank; ++i) batches *= y_[i];
    for (int64_t flat = 0; flat < batches; ++flat) {
      // Decompose the output batch index and map it onto each operand (size-1 axes broadcast).
      int64_t rest = flat, offset_a = 0, offset_b = 0, stride_a = 1, stride_b = 1;
      for (size_t axis = batch_rank; axis-- > 0;) {
        const int64_t index = rest % y_[axis];
        rest /= y_[axis];
        const ptrdiff_t from_a = static_cast<ptrdiff_t>(axis) - static_cast<ptrdiff_t>(batch_rank) +
                                 static_cast<ptrdiff_t>(a_.size() - 2);
        const ptrdiff_t from_b = static_cast<ptrdiff_t>(axis) - static_cast<ptrdiff_t>(batch_rank) +
                                 static_cast<ptrdiff_t>(b_.size() - 2);
        if (from_a >= 0) {
          const int64_t dim = a_[static_cast<size_t>(from_a)];
          offset_a += (dim == 1 ? 0 : index) * stride_a;
          stride_a *= dim;
        }
        if (from_b >= 0) {
          const int64_t dim = b_[static_cast<size_t>(from_b)];
          offset_b += (dim == 1 ? 0 : index) * stride_b;
          stride_b *= dim;
        }
      }
      kernels::gemm_f32_ref(m, n, k, {inputs[0].as<const float>() + offset_a * m * k, k, 1},
                            {inputs[1].as<const float>() + offset_b * k * n, n, 1}, 1.0f,
                            outputs[0].as<float>() + flat * m * n);
    }
  }

 private:
  Shape a_, b_, y_;
};

}  // namespace

std::unique_ptr<Kernel> make_gemm(const Graph& graph, const Node& node) {
  const Shape& a = graph.value_info(node.inputs[0]).shape;
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  const bool trans_a = node.attrs.get_int("transA", 0) != 0;
  const int64_t k = trans_a ? a[0] : a[1];
  const bool has_c = node.has_input(2);
  Shape c_shape = has_c ? graph.value_info(node.inputs[2]).shape : Shape{};
  return std::make_unique<GemmF32>(y[0], y[1], k, trans_a, node.attrs.get_int("transB", 0) != 0,
                                   node.attrs.get_float("alpha", 1.0f),
                                   node.attrs.get_float("beta", 1.0f), c_shape, has_c,
                                   fused_clamp(node));
}

std::unique_ptr<Kernel> make_matmul(const Graph& graph, const Node& node) {
  return std::make_unique<MatMulF32>(graph.value_info(node.inputs[0]).shape,
                                     graph.value_info(node.inputs[1]).shape,
                                     graph.value_info(node.outputs[0]).shape);
}

}  // namespace octet::ref
