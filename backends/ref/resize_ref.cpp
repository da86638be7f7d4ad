#include <vector>

#include "backends/ref/ref_kernels.hpp"
#include "graph/resize_geometry.hpp"
#include "kernels/ref/resize_nearest_ref.hpp"

namespace octet::ref {
namespace {

// Nearest resize of any element type: the source row and column of every output position are
// computed once here, run() only copies elements.
class ResizeNearest final : public Kernel {
 public:
  ResizeNearest(const Shape& input, const ResizeGeometry& g, size_t element_bytes)
      : shape_{input[0] * input[1], input[2], input[3], g.output[0], g.output[1]}, element_bytes_(element_bytes) {
    for (int64_t y = 0; y < shape_.out_h; ++y)
      rows_.push_back(kernels::nearest_source_index(y, shape_.in_h, shape_.out_h, g.scale[0], g.transform, g.rounding));
    for (int64_t x = 0; x < shape_.out_w; ++x)
      cols_.push_back(kernels::nearest_source_index(x, shape_.in_w, shape_.out_w, g.scale[1], g.transform, g.rounding));
  }

  void run(const TensorView* inputs, TensorView* outputs) const override {
    kernels::resize_nearest_ref(shape_, rows_.data(), cols_.data(), element_bytes_, inputs[0].data,
                                outputs[0].data);
  }

 private:
  kernels::ResizeNearestShape shape_;
  size_t element_bytes_;
  std::vector<int64_t> rows_, cols_;
};

}  // namespace

std::unique_ptr<Kernel> make_resize(const Graph& graph, const Node& node) {
  const ValueInfo& x = graph.value_info(node.inputs[0]);
  return std::make_unique<ResizeNearest>(x.shape, resolve_resize_geometry(node, x.shape), dtype_size(x.dtype));
}

}  // namespace octet::ref
