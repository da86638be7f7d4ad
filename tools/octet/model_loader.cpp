#include "tools/octet/model_loader.hpp"

#include <filesystem>

#include "graph/error.hpp"
#include "graph/onnx/onnx_import.hpp"

namespace octet::cli {

Model load_model(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error("model file '" + path + "' does not exist");
  try {
    return Model::from_graph(import_onnx_file(path));
  } catch (const Error& error) {
    const std::string message = error.what();
    // Importer messages already name the file; later passes may not.
    if (message.find(path) != std::string::npos) throw;
    throw Error("'" + path + "': " + message);
  }
}

}  // namespace octet::cli
