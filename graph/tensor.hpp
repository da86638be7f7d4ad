#pragma once
// Tensor owns (or shares ownership of) its bytes; TensorView is the non-owning window the
// executor hands to kernels and hooks. Storage is 64-byte aligned so SIMD kernels and the
// zero-copy model loader can rely on it.
#include <cstdint>
#include <memory>

#include "graph/dtype.hpp"
#include "graph/error.hpp"
#include "graph/shape.hpp"

namespace octet {

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::f32;
  const Shape* shape = nullptr;  // points into the executor's plan or a Tensor; never owned

  int64_t elements() const { return shape ? shape_elements(*shape) : 0; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

class Tensor {
 public:
  static constexpr size_t kAlignment = 64;

  Tensor() = default;
  // Allocates zero-initialised, aligned storage.
  Tensor(DType dtype, Shape shape);
  // Shares bytes owned by someone else (a mapped model file) without copying. The bytes must
  // stay valid while `owner` is alive and must not be written through this tensor.
  static Tensor wrap(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t elements() const { return elements_; }
  size_t bytes() const { return static_cast<size_t>(elements_) * dtype_size(dtype_); }
  bool empty() const { return storage_ == nullptr; }

  const void* raw() const { return storage_.get(); }
  void* mutable_raw();

  template <class T>
  const T* data() const {
    return static_cast<const T*>(raw());
  }
  template <class T>
  T* mutable_data() {
    return static_cast<T*>(mutable_raw());
  }

  // A deep copy (also turns a wrapped read-only tensor into a writable one).
  Tensor clone() const;
  TensorView view() const;

 private:
  DType dtype_ = DType::f32;
  Shape shape_;
  int64_t elements_ = 0;
  std::shared_ptr<const void> owner_;  // keeps wrapped bytes alive
  std::shared_ptr<uint8_t> storage_;   // aliasing pointer to the first byte
  bool read_only_ = false;
};

// Aligned allocation helper shared by tensors and the activation arena.
std::shared_ptr<uint8_t> allocate_aligned(size_t bytes);

}  // namespace octet
