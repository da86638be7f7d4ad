#include "backends/ref/ref_kernels.hpp"
#include "graph/error.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/ref/pool2d_ref.hpp"

namespace octet::ref {
namespace {

class Pool2d final : public Kernel {
 public:
  Pool2d(kernels::Pool2dShape shape, bool max, bool count_include_pad, DType dtype)
      : shape_(shape), max_(max), count_include_pad_(count_include_pad), dtype_(dtype) {}

  void run(const TensorView* inputs, TensorView* outputs) const override {
    if (!max_) {
      kernels::average_pool2d_f32_ref(shape_, count_include_pad_, inputs[0].as<const float>(),
                                      outputs[0].as<float>());
    } else if (dtype_ == DType::f32) {
      kernels::max_pool2d_f32_ref(shape_, inputs[0].as<const float>(), outputs[0].as<float>());
    } else if (dtype_ == DType::u8) {
      kernels::max_pool2d_u8_ref(shape_, inputs[0].as<const uint8_t>(), outputs[0].as<uint8_t>());
    } else {
      kernels::max_pool2d_s8_ref(shape_, inputs[0].as<const int8_t>(), outputs[0].as<int8_t>());
    }
  }

 private:
  kernels::Pool2dShape shape_;
  bool max_, count_include_pad_;
  DType dtype_;
};

class GlobalAveragePool final : public Kernel {
 public:
  GlobalAveragePool(int64_t planes, int64_t plane_size) : planes_(planes), plane_size_(plane_size) {}
  void run(const TensorView* inputs, TensorView* outputs) const override {
    kernels::global_average_pool_f32_ref(planes_, plane_size_, inputs[0].as<const float>(),
                                         outputs[0].as<float>());
  }

 private:
  int64_t planes_, plane_size_;
};

}  // namespace

std::unique_ptr<Kernel> make_pool(const Graph& graph, const Node& node) {
  const ValueInfo& x = graph.value_info(node.inputs[0]);
  const Shape& y = graph.value_info(node.outputs[0]).shape;
  WindowGeometry g = resolve_window_geometry(node, x.shape, node.attrs.get_ints("kernel_shape"),
                                             node.attrs.get_int("ceil_mode", 0) != 0);
  kernels::Pool2dShape shape{x.shape[0], x.shape[1], x.shape[2], x.shape[3], y[2], y[3],
                             g.kernel[0], g.kernel[1], g.strides[0], g.strides[1],
                             g.dilations[0], g.dilations[1], g.pad_begin[0], g.pad_begin[1],
                             g.pad_end[0], g.pad_end[1]};
  return std::make_unique<Pool2d>(shape, node.op == "MaxPool",
                                  node.attrs.get_int("count_include_pad", 0) != 0, x.dtype);
}

std::unique_ptr<Kernel> make_global_average_pool(const Graph& graph, const Node& node) {
  const Shape& x = graph.value_info(node.inputs[0]).shape;
  int64_t plane = 1;
  for (size_t i = 2; i < x.size(); ++i) plane *= x[i];
  return std::make_unique<GlobalAveragePool>(x[0] * x[1], plane);
}

}  // namespace octet::ref
