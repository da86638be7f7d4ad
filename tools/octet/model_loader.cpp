#include "tools/octet/model_loader.hpp"

#include <filesystem>

#include "graph/error.hpp"
#include "graph/model_file.hpp"
#include "graph/onnx/onnx_import.hpp"

namespace octet::cli {

Model load_model(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error("model file '" + path + "' does not exist");
  if (std::filesystem::is_directory(path)) throw Error("model path '" + path + "' is a directory");
  try {
    // .oct files hold graphs that were optimized before saving.
    if (is_model_file(path)) return Model::from_graph(load_model_file(path), false);
    return Model::from_graph(import_onnx_file(path));
  } catch (const Error& error) {
    const std::string message = error.what();
    // Importer and loader messages already name the file; later passes may not.
    if (message.find(path) != std::string::npos) throw;
    throw Error("'" + path + "': " + message);
  }
}

size_t file_bytes(const std::string& path) {
  return static_cast<size_t>(std::filesystem::file_size(path));
}

}  // namespace octet::cli
