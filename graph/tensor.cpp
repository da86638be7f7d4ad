#include "graph/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace octet {

std::shared_ptr<uint8_t> allocate_aligned(size_t bytes) {
  size_t rounded = (bytes + Tensor::kAlignment - 1) / Tensor::kAlignment * Tensor::kAlignment;
  if (rounded == 0) rounded = Tensor::kAlignment;
  void* memory = std::aligned_alloc(Tensor::kAlignment, rounded);
  if (!memory) throw std::bad_alloc();
  std::memset(memory, 0, rounded);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(memory), [](uint8_t* p) { std::free(p); });
}

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), elements_(shape_elements(shape_)) {
  storage_ = allocate_aligned(bytes());
}

Tensor Tensor::wrap(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.elements_ = shape_elements(tensor.shape_);
  tensor.owner_ = std::move(owner);
  // Aliasing constructor: shares the owner's control block, points at the wrapped bytes.
  tensor.storage_ = std::shared_ptr<uint8_t>(
      std::const_pointer_cast<void>(tensor.owner_),
      const_cast<uint8_t*>(static_cast<const uint8_t*>(data)));
  tensor.read_only_ = true;
  return tensor;
}

void* Tensor::mutable_raw() {
  if (read_only_) throw Error("tensor wraps read-only memory; clone() it before writing");
  return storage_.get();
}

Tensor Tensor::clone() const {
  Tensor copy(dtype_, shape_);
  if (bytes()) std::memcpy(copy.storage_.get(), storage_.get(), bytes());
  return copy;
}

TensorView Tensor::view() const {
  return TensorView{storage_.get(), dtype_, &shape_};
}

}  // namespace octet
