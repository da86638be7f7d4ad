#pragma once
#include <string>

#include "engine/model.hpp"

namespace octet::cli {

// Loads an ONNX model (the .oct format arrives with quantization) and prepares it for
// inference. Throws octet::Error naming the file.
Model load_model(const std::string& path);

}  // namespace octet::cli
