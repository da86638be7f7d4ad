#pragma once
#include <string>

#include "engine/model.hpp"

namespace octet::cli {

// Loads an Octet model file (.oct, recognised by its magic, mapped zero-copy) or an ONNX model
// (imported and optimized for inference). Throws octet::Error naming the file.
Model load_model(const std::string& path);

// Size in bytes of a file on disk.
size_t file_bytes(const std::string& path);

}  // namespace octet::cli
