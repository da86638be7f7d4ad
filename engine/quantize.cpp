#include "engine/quantize.hpp"

#include <chrono>

#include "engine/session.hpp"
#include "graph/error.hpp"
#include "quant/calibration_hook.hpp"

namespace octet {

Model quantize_model(const Model& model, const quant::QuantizeOptions& options,
                     const CalibrationSource& calibration, const std::function<void(size_t)>& progress,
                     QuantizationSummary* summary) {
  QuantizationSummary local;
  QuantizationSummary& s = summary ? *summary : local;
  for (const auto& entry : model.graph().initializers)
    if (entry.second.dtype() == DType::i8) throw Error("model is already quantized");
  if (options.mode == quant::QuantizationMode::dynamic_int8)
    return Model::from_graph(quant::quantize_dynamic(model.graph(), options, &s.report), false);

  if (calibration.count == 0 || !calibration.fill)
    throw Error("static quantization needs calibration data (at least one sample)");
  if (model.graph().inputs.size() != 1) throw Error("calibration supports models with one input");
  const auto start = std::chrono::steady_clock::now();
  Session session(model);
  quant::CalibrationHook hook(model.graph(), options.observer);
  session.add_hook(&hook);
  Tensor input(session.input_info(0).dtype, session.input_info(0).shape);
  for (size_t i = 0; i < calibration.count; ++i) {
    calibration.fill(i, input);
    session.run({input});
    if (progress) progress(i + 1);
  }
  s.calibration_samples = calibration.count;
  s.calibration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  quant::RangeProvider ranges = [&hook](const std::string& value, const quant::RangeRequest& request) {
    return hook.range(value, request);
  };
  Graph quantized = quant::quantize_static(model.graph(), ranges, options, &s.report);
  quantized.metadata["octet.quantization.calibration_samples"] = std::to_string(calibration.count);
  return Model::from_graph(std::move(quantized), false);
}

}  // namespace octet
