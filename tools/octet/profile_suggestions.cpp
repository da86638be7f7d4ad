#include "tools/octet/profile_suggestions.hpp"

#include <cmath>
#include <string>

#include "tools/octet/number_text.hpp"

namespace octet::cli {
namespace {

using nlohmann::json;

std::string fmt(double value, NumberSpec spec = {'f', 1, ""}) {
  return number_text(value, spec);
}

double get(const json& object, const char* key, double fallback = 0.0) {
  return object.contains(key) && object[key].is_number() ? object[key].get<double>() : fallback;
}

json suggestion(const std::string& kind, const std::string& text, const std::string& flag,
                json measured) {
  return {{"kind", kind}, {"text", text}, {"flag", flag}, {"measured", std::move(measured)}};
}

// A trial recovering less than this is noise, not a suggestion.
constexpr double kWorthwhileDb = 1.0;

// The whole-model trial of a PTQ pass (--sensitivity: "cle", "bias-correction",
// "cle+bias-correction"), or null when it was not measured.
json pass_trial(const json& p, const std::string& fix) {
  if (!p.contains("sensitivity") || !p["sensitivity"].contains("passes")) return nullptr;
  for (const json& pass : p["sensitivity"]["passes"])
    if (pass["fix"] == fix) return pass;
  return nullptr;
}

// " Measured: output SQNR +2.1 dB." for a measured pass trial, "" otherwise.
std::string measured_text(const json& trial) {
  if (trial.is_null()) return "";
  const json& db = trial["recovered_sqnr_db"];
  std::string text = " Measured (--sensitivity): output SQNR " +
                     (db.is_null() ? std::string("becomes exact") : fmt(db.get<double>(), NumberSpec{'f', 1, " dB", true}));
  if (!trial["recovered_top1"].is_null())
    text += ", top-1 " + fmt(100.0 * trial["recovered_top1"].get<double>(), NumberSpec{'f', 2, " points", true});
  return text + ".";
}

}  // namespace

json profile_suggestions(const json& p) {
  json out = json::array();
  const std::string first = p["backends"][0]["name"];
  const bool has_local = p["modes"].size() > 0 && p["modes"].back() == "local";
  const char* mode = has_local ? "local" : "propagated";

  // Layers to keep in float and observers per tensor: measured when --sensitivity ran.
  if (p.contains("sensitivity")) {
    std::string keep, effects;
    json measured = json::array();
    for (const json& entry : p["sensitivity"]["ranking"]) {
      const double recovered =
          entry["recovered_sqnr_db"].is_null() ? 1e9 : entry["recovered_sqnr_db"].get<double>();
      if (recovered < kWorthwhileDb) continue;
      const std::string fix = entry["fix"];
      if (fix == "fp32") {
        keep += (keep.empty() ? "" : ",") + entry["layer"].get<std::string>();
        effects += (effects.empty() ? "" : ", ") + entry["layer"].get<std::string>() + " " +
                   (entry["recovered_sqnr_db"].is_null()
                        ? std::string("exact")
                        : fmt(recovered, NumberSpec{'f', 1, " dB", true}));
        measured.push_back(entry);
      } else {
        out.push_back(suggestion("observer",
                                 "Give the output of " + entry["op"].get<std::string>() + " '" +
                                     entry["layer"].get<std::string>() + "' the " + fix.substr(9) +
                                     " observer's range: output SQNR " +
                                     (entry["recovered_sqnr_db"].is_null()
                                          ? std::string("becomes exact")
                                          : fmt(recovered, NumberSpec{'f', 1, " dB", true})) +
                                     " (a per-tensor observer; re-quantize with --observer " +
                                     fix.substr(9) + " if several tensors agree).",
                                 "--observer " + fix.substr(9), entry));
      }
    }
    if (!keep.empty())
      out.push_back(
          suggestion("keep-float",
                     "Keep in fp32 the layers whose float version alone recovers at least 1 dB "
                     "of output SQNR (" +
                         effects +
                         "); octet quantize --auto-fallback BUDGET "
                         "searches the fewest that meet an accuracy budget.",
                     "--keep-float " + keep, measured));
  } else {
    std::string worst;
    double worst_db = 1e9;
    for (const json& layer : p["layers"]) {
      if (layer["op"] != "QConv" && layer["op"] != "QGemm" && layer["op"] != "QAdd") continue;
      const json& entry = layer["backends"][first];
      if (!entry.contains(mode) || entry[mode]["sqnr_db"].is_null()) continue;
      if (entry[mode]["sqnr_db"].get<double>() < worst_db)
        worst_db = entry[mode]["sqnr_db"], worst = layer["node"];
    }
    if (!worst.empty())
      out.push_back(suggestion("keep-float",
                               "Lowest " + std::string(mode) + " SQNR: '" + worst + "' (" +
                                   fmt(worst_db, NumberSpec{'f', 1, " dB"}) +
                                   "). Run with --sensitivity to measure what "
                                   "keeping it in fp32 recovers.",
                               "--keep-float " + worst, nullptr));
  }

  // Clipping: tensors losing more than 1% of their values to the range.
  for (const json& tensor : p["tensors"]) {
    const double clipped = get(tensor, "clipped_fraction");
    if (clipped < 0.01) continue;
    out.push_back(
        suggestion("range",
                   "'" + tensor["value"].get<std::string>() +
                       "': " + fmt(100 * clipped, NumberSpec{'f', 1, "%"}) +
                       " of the fp32 values fall outside the int8 range [" +
                       fmt(tensor["range"][0].get<double>(), NumberSpec{'g', 4, ""}) + ", " +
                       fmt(tensor["range"][1].get<double>(), NumberSpec{'g', 4, ""}) +
                       "] (clipping MSE " + fmt(get(tensor, "clip_mse"), NumberSpec{'g', 3, ""}) +
                       "): calibrate on more representative data or try another observer.",
                   "--observer", nullptr));
  }

  // Bias correction: a layer whose local error is mostly a constant offset.
  for (const json& layer : p["layers"]) {
    if (layer["op"] != "QConv" && layer["op"] != "QGemm") continue;
    const json& entry = layer["backends"][first];
    if (!entry.contains(mode)) continue;
    const double mse = get(entry[mode], "mse"), mean = get(entry[mode], "mean_error");
    if (mse <= 0.0 || mean * mean < 0.25 * mse) continue;
    const double gain = -10.0 * std::log10(1.0 - mean * mean / mse);
    out.push_back(suggestion(
        "bias-correction",
        "'" + layer["node"].get<std::string>() +
            "': " + fmt(100 * mean * mean / mse, NumberSpec{'f', 0, "%"}) + " of its " + mode +
            " error is a constant offset (mean " + fmt(mean, NumberSpec{'g', 3, ""}) +
            "); removing it would gain about " + fmt(gain, NumberSpec{'f', 1, " dB"}) + ".",
        "--bias-correction", json{{"layer", layer["node"]}, {"estimated_gain_db", gain}}));
  }

  // Cross-layer equalization helps per-tensor weights, whose one scale serves every channel.
  const std::string weights =
      p.contains("metadata") ? p["metadata"].value("octet.quantization.weights", "") : "";
  if (weights == "per-tensor") {
    const json cle = pass_trial(p, "cle");
    out.push_back(suggestion(
        "cle",
        "Weights are quantized per tensor: cross-layer equalization evens out the channel "
        "ranges first (or use --weights per-channel)." + measured_text(cle),
        "--cle", cle));
  }
  // Bias correction of the whole model, and both passes together, when --sensitivity measured them.
  for (const char* fix : {"bias-correction", "cle+bias-correction"}) {
    const json trial = pass_trial(p, fix);
    if (trial.is_null() || trial["recovered_sqnr_db"].is_null() ||
        trial["recovered_sqnr_db"].get<double>() < kWorthwhileDb)
      continue;
    const bool both = std::string(fix) == "cle+bias-correction";
    out.push_back(suggestion(both ? "cle+bias-correction" : "bias-correction",
                             std::string(both ? "Cross-layer equalization and bias correction together"
                                              : "Empirical bias correction of every layer") +
                                 " (octet quantize " + (both ? "--cle --bias-correction" : "--bias-correction") +
                                 ")." + measured_text(trial),
                             both ? "--cle --bias-correction" : "--bias-correction", trial));
  }

  // Integer widths: a narrower accumulator (an NPU's) and AVX2's int16 pair sums.
  const int bits = p.value("accumulator_bits", 24);
  for (const json& layer : p["layers"]) {
    const json& entry = layer["backends"][first];
    if (!entry.contains("overflow")) continue;
    const json& o = entry["overflow"];
    if (o["partial_overflows"].get<uint64_t>() > 0)
      out.push_back(suggestion(
          "accumulator",
          "'" + layer["node"].get<std::string>() + "' needs a " +
              std::to_string(o["accumulator_bits_needed"].get<int>()) +
              "-bit accumulator: " + std::to_string(o["partial_overflows"].get<uint64_t>()) +
              " of " + std::to_string(o["accumulators"].get<uint64_t>()) +
              " sums would overflow a " + std::to_string(bits) + "-bit one.",
          "", nullptr));
  }
  uint64_t pairs = 0, saturated = 0;
  for (const json& layer : p["layers"]) {
    const json& entry = layer["backends"][first];
    if (!entry.contains("overflow")) continue;
    pairs += entry["overflow"]["pairs"].get<uint64_t>();
    saturated += entry["overflow"]["saturated_pairs"].get<uint64_t>();
  }
  if (saturated > 0)
    out.push_back(
        suggestion("weight-bits",
                   fmt(100.0 * static_cast<double>(saturated) / static_cast<double>(pairs),
                       NumberSpec{'f', 3, "%"}) +
                       " of the u8×s8 pairs would saturate vpmaddubsw's int16 sum: the AVX2 path "
                       "takes the exact split for these weights; 7-bit weights avoid it.",
                   "--weight-bits 7", nullptr));
  return out;
}

}  // namespace octet::cli
