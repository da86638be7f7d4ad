// octet run MODEL --input x.npy --output y.npy: one inference (or one per leading-axis item when
// the file holds a batch of inputs for a batch-1 model), outputs saved as .npy.
#include <cstring>

#include "engine/data/npy.hpp"
#include "engine/session.hpp"
#include "graph/error.hpp"
#include "tools/octet/backend_options.hpp"
#include "tools/octet/commands.hpp"
#include "tools/octet/model_loader.hpp"

namespace octet::cli {
namespace {

// How many model-sized items `array` holds: 1 if its shape is the input shape, B if it is
// [B, input dims without the leading 1].
int64_t items_in(const data::NpyArray& array, const ValueSlot& input, const std::string& path) {
  if (array.dtype != data::NpyType::f32)
    throw Error("'" + path + "': input must be float32, file holds another dtype");
  if (array.shape == input.shape) return 1;
  if (!input.shape.empty() && input.shape[0] == 1 && array.shape.size() == input.shape.size() &&
      std::equal(array.shape.begin() + 1, array.shape.end(), input.shape.begin() + 1))
    return array.shape[0];
  throw Error("'" + path + "': shape " + shape_str(array.shape) + " does not fit input '" + input.name +
              "' of shape " + shape_str(input.shape) + " (or a batch [B," +
              shape_str(Shape(input.shape.begin() + (input.shape.empty() ? 0 : 1), input.shape.end())).substr(1));
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto* sub = app.add_subcommand("run", "Run a model on inputs from .npy files, write outputs as .npy");
  struct Options {
    std::string model;
    BackendFlags backend;
    int threads = 1;
    std::vector<std::string> inputs, outputs;
  };
  auto options = std::make_shared<Options>();
  sub->add_option("model", options->model, "Model file (.onnx)")->required();
  sub->add_option("--input,-i", options->inputs, "Input .npy file, one per model input (float32)")->required();
  sub->add_option("--output,-o", options->outputs, "Output .npy file, one per model output")->required();
  add_backend_flags(*sub, options->backend, "ref");
  sub->add_option("--threads", options->threads, "Threads per kernel (cpu backend)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  return [options]() {
    Model model = load_model(options->model);
    SessionOptions run_options = session_options(options->backend, model);
    run_options.threads = options->threads;
    Session session(model, run_options);
    const size_t input_count = model.graph().inputs.size();
    const size_t output_count = model.graph().outputs.size();
    if (options->inputs.size() != input_count)
      throw Error("model takes " + std::to_string(input_count) + " input(s), " +
                  std::to_string(options->inputs.size()) + " --input file(s) given");
    if (options->outputs.size() != output_count)
      throw Error("model has " + std::to_string(output_count) + " output(s), " +
                  std::to_string(options->outputs.size()) + " --output file(s) given");

    std::vector<data::NpyArray> arrays;
    int64_t items = -1;
    for (size_t i = 0; i < input_count; ++i) {
      arrays.push_back(data::read_npy(options->inputs[i]));
      const int64_t count = items_in(arrays.back(), session.input_info(i), options->inputs[i]);
      if (items >= 0 && count != items) throw Error("input files hold different numbers of items");
      items = count;
    }
    // Results of every item, concatenated along the leading axis.
    std::vector<std::vector<float>> results(output_count);
    std::vector<Tensor> item_inputs;
    for (size_t i = 0; i < input_count; ++i) item_inputs.emplace_back(DType::f32, session.input_info(i).shape);
    for (int64_t item = 0; item < items; ++item) {
      for (size_t i = 0; i < input_count; ++i) {
        const size_t bytes = session.input_info(i).bytes;
        std::memcpy(item_inputs[i].mutable_raw(), arrays[i].bytes.data() + static_cast<size_t>(item) * bytes, bytes);
      }
      std::vector<Tensor> outputs = session.run(item_inputs);
      for (size_t o = 0; o < output_count; ++o) {
        if (outputs[o].dtype() != DType::f32) throw Error("output '" + session.output_info(o).name + "' is not float32");
        const float* values = outputs[o].data<float>();
        results[o].insert(results[o].end(), values, values + outputs[o].elements());
      }
    }
    for (size_t o = 0; o < output_count; ++o) {
      Shape shape = session.output_info(o).shape;
      if (items != 1) {
        if (!shape.empty() && shape[0] == 1) shape[0] = items;
        else shape.insert(shape.begin(), items);
      }
      data::write_npy(options->outputs[o], shape, results[o].data());
    }
    return 0;
  };
}

}  // namespace octet::cli
