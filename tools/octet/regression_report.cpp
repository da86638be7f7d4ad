#include "tools/octet/regression_report.hpp"

#include <cmath>
#include <cstdio>

namespace octet::cli {

nlohmann::json metric_json(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

nlohmann::json metrics_json(const RegressionMetrics& m) {
  return {{"mae", metric_json(m.mae())},         {"abs_rel", metric_json(m.abs_rel())},
          {"psnr_db", metric_json(m.psnr())},    {"mse", metric_json(m.mse())},
          {"elements", m.elements()},            {"abs_rel_elements", m.abs_rel_elements()}};
}

std::string metric_text(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string metrics_text(const RegressionMetrics& m) {
  const std::string abs_rel = m.abs_rel_elements() == 0 ? "n/a" : metric_text(m.abs_rel());
  return "MAE " + metric_text(m.mae()) + "  abs_rel " + abs_rel + "  PSNR " + metric_text(m.psnr()) + " dB";
}

}  // namespace octet::cli
