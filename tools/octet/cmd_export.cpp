// octet export MODEL.oct --format onnx-qdq -o OUT.onnx: an int8 model as a standard QDQ ONNX
// model (DequantizeLinear → float op → QuantizeLinear), readable by ONNX Runtime and others.
#include <cstdio>

#include "graph/error.hpp"
#include "graph/onnx/onnx_export.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {

Command add_export_command(CLI::App& app) {
  auto* sub = app.add_subcommand("export", "Export an int8 model to another format (QDQ ONNX)");
  struct Options {
    std::string model, output, format = "onnx-qdq";
    std::string activations = qdq_activation_type_name(default_qdq_activation_type());
  };
  auto o = std::make_shared<Options>();
  sub->add_option("model", o->model, "Quantized model (.oct from 'octet quantize')")->required();
  sub->add_option("--format", o->format, "Output format")->capture_default_str()->check(CLI::IsMember({"onnx-qdq"}));
  sub->add_option("-o,--output", o->output, "Output .onnx file (written atomically)")->required();
  sub->add_option("--activations", o->activations,
                  "Activation type in the exported model: u8 (codes + 128, ONNX Runtime's fast U8S8 path on x86) or s8")
      ->capture_default_str()
      ->check(CLI::IsMember({"u8", "s8"}));
  return [o]() {
    const Model model = load_model(o->model);
    QdqExportOptions options;
    options.activations = o->activations == "u8" ? QdqActivationType::u8 : QdqActivationType::s8;
    try {
      export_onnx_qdq(model.graph(), o->output, options);
    } catch (const Error& error) {
      const std::string message = error.what();
      if (message.find(o->output) != std::string::npos) throw;
      throw Error("'" + o->model + "': " + message);
    }
    std::printf("exported  %s -> %s (%s, %s activations, int8 weights, %zu bytes)\n", o->model.c_str(),
                o->output.c_str(), o->format.c_str(), o->activations.c_str(), file_bytes(o->output));
    return 0;
  };
}

}  // namespace octet::cli
