#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace octet {

// Element types a tensor can hold. i64 exists only for shape-like constants (Reshape's target).
enum class DType : uint8_t { f32, i8, u8, i32, i64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);

}  // namespace octet
