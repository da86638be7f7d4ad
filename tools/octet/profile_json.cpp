#include "tools/octet/profile_json.hpp"

#include <cmath>
#include <sstream>

namespace octet::cli {
namespace {

using nlohmann::json;

json number(double value) {
  return std::isfinite(value) ? json(value) : json();
}

json error_json(const quant::ErrorStats& e, const LayerReport& layer) {
  json j = {{"sqnr_db", number(e.sqnr_db())},
            {"mse", number(e.mse())},
            {"max_abs_error", number(e.max_abs_error())},
            {"differ_fraction", number(e.differ_fraction())},
            {"cosine", number(e.cosine())},
            {"mean_error", number(e.mean_error())},
            {"error_std", number(std::sqrt(e.error_variance()))},
            {"elements", e.count()}};
  if (layer.int8) j["max_error_lsb"] = number(e.max_abs_error() / layer.params.scale);
  return j;
}

// The layer's error split against what quantizing its fp32 output once would cost: clipping and
// rounding energies from the histogram pass, the rest inherited or made inside the layer.
json decomposition_json(const quant::ErrorStats& e, const quant::TensorHistogram& tensor) {
  const double total = e.mse();
  const double clip = tensor.clip_mse(), rounding = tensor.rounding_mse();
  json j = {
      {"clip_mse", number(clip)}, {"rounding_mse", number(rounding)}, {"total_mse", number(total)}};
  if (total > 0.0) {
    j["clip_share"] = number(std::min(1.0, clip / total));
    j["rounding_share"] = number(std::min(1.0, rounding / total));
    j["other_share"] = number(std::max(0.0, 1.0 - (clip + rounding) / total));
  }
  return j;
}

json overflow_json(const quant::OverflowCounts& o) {
  return {{"pairs", o.pairs},
          {"saturated_pairs", o.saturated_pairs},
          {"saturated_pair_fraction",
           o.pairs ? static_cast<double>(o.saturated_pairs) / static_cast<double>(o.pairs) : 0.0},
          {"accumulators", o.outputs},
          {"final_overflows", o.final_overflows},
          {"partial_overflows", o.partial_overflows},
          {"max_abs_accumulator", o.max_abs_accumulator},
          {"accumulator_bits_needed", o.bits_needed()}};
}

json summary_json(const RunSummary& s) {
  json j = {
      {"name", s.name},
      {"isa", s.isa},
      {"partition", s.partition},
      {"arena_bytes", s.arena_bytes},
      {"parameter_bytes", s.parameter_bytes},
      {"latency_ms", {{"median", number(s.latency_median_ms)}, {"min", number(s.latency_min_ms)}}},
      {"timed_runs", s.timed_runs},
      {"quantize_ms", number(s.quantize_ms)},
      {"dequantize_ms", number(s.dequantize_ms)}};
  if (s.labelled) {
    j["top1"] = number(s.top1());
    j["labelled"] = s.labelled;
    j["correct_top1"] = s.correct_top1;
  }
  if (s.output_error) {
    j["output_sqnr_db"] = number(s.output_error->sqnr_db());
    j["output_mse"] = number(s.output_error->mse());
    j["output_cosine"] = number(s.output_error->cosine());
  }
  return j;
}

json histogram_json(const quant::Histogram& h) {
  const quant::BinnedCounts& bins = h.bins();
  return {{"first_edge", bins.edge(bins.first_index)},
          {"bin_width", bins.width()},
          {"counts", bins.counts}};
}

}  // namespace

json profile_json(const ProfileReport& report, const ProfileRunInfo& info) {
  json j;
  j["model"] = info.model;
  j["ref"] = info.ref;
  j["data"] = info.data;
  j["samples"] = report.samples;
  j["seconds"] = info.seconds;
  json modes = json::array();
  if (report.propagated) modes.push_back("propagated");
  if (report.local) modes.push_back("local");
  j["modes"] = modes;
  j["accumulator_bits"] = report.accumulator_bits;
  j["output"] = report.output;
  j["metadata"] = report.metadata;
  j["memory"] = {{"peak_rss_bytes", report.peak_rss_bytes},
                 {"reference_activation_bytes", report.reference_bytes}};
  j["fp32"] = summary_json(report.fp32);
  j["backends"] = json::array();
  for (const auto& backend : report.backends) j["backends"].push_back(summary_json(backend));

  std::map<std::string, const quant::TensorHistogram*> tensor_of;
  for (const auto& tensor : report.tensors) tensor_of[tensor.fp32.value] = &tensor.fp32;
  j["layers"] = json::array();
  for (const LayerReport& layer : report.layers) {
    json l = {{"index", layer.node_index},
              {"node", layer.node},
              {"op", layer.op},
              {"value", layer.value},
              {"reference", layer.reference},
              {"int8", layer.int8},
              {"macs", layer.macs},
              {"weight_bytes", layer.weight_bytes},
              {"activation_bytes", layer.activation_bytes}};
    if (layer.int8)
      l["qparams"] = {{"scale", layer.params.scale}, {"zero_point", layer.params.zero_point}};
    auto tensor = layer.int8 ? tensor_of.find(layer.reference) : tensor_of.end();
    json backends = json::object();
    for (size_t b = 0; b < layer.backends.size(); ++b) {
      const LayerBackendReport& entry = layer.backends[b];
      json e = {{"ran_on", entry.ran_on},
                {"time_ms", number(entry.median_ms)},
                {"min_ms", number(entry.min_ms)},
                {"timed_runs", entry.timed_runs},
                {"gops", layer.macs > 0 ? number(entry.gops) : json()}};
      for (const auto& [name, stats] :
           {std::pair<const char*, const std::optional<quant::ErrorStats>*>{"propagated",
                                                                            &entry.propagated},
            {"local", &entry.local}}) {
        if (!stats->has_value()) continue;
        e[name] = error_json(**stats, layer);
        if (tensor != tensor_of.end() &&
            (layer.op == "QConv" || layer.op == "QGemm" || layer.op == "QAdd"))
          e[name]["decomposition"] = decomposition_json(**stats, *tensor->second);
      }
      if (entry.overflow) e["overflow"] = overflow_json(*entry.overflow);
      backends[report.backends[b].name] = e;
    }
    l["backends"] = backends;
    j["layers"].push_back(l);
  }

  j["tensors"] = json::array();
  for (const TensorReport& tensor : report.tensors) {
    const quant::TensorHistogram& h = tensor.fp32;
    json t = {{"value", h.value},
              {"twin", h.twin},
              {"qparams", {{"scale", h.params.scale}, {"zero_point", h.params.zero_point}}},
              {"range", {h.range_lo, h.range_hi}},
              {"min", h.histogram.min()},
              {"max", h.histogram.max()},
              {"elements", h.count()},
              {"clipped_fraction", number(h.clipped_fraction())},
              {"below", h.below},
              {"above", h.above},
              {"clip_mse", number(h.clip_mse())},
              {"rounding_mse", number(h.rounding_mse())},
              {"histogram", histogram_json(h.histogram)}};
    json codes = json::object();
    for (size_t b = 0; b < tensor.codes.size(); ++b)
      if (tensor.codes[b])
        codes[report.backends[b].name] = {{"levels_used", tensor.codes[b]->levels_used()},
                                          {"counts", tensor.codes[b]->counts}};
    t["codes"] = codes;
    j["tensors"].push_back(t);
  }

  j["adds"] = json::array();
  for (const AddReport& add : report.adds) {
    const quant::QAddDiagnostic& d = add.diagnostic;
    json a = {{"node", d.node}, {"int8", d.int8}, {"runs_as", d.tested_op}};
    json ran = json::object();
    for (size_t b = 0; b < add.ran_on.size(); ++b) ran[report.backends[b].name] = add.ran_on[b];
    a["ran_on"] = ran;
    if (d.int8) {
      auto multiplier = [](const kernels::QuantizedMultiplier& m) {
        return json{{"multiplier", m.multiplier},
                    {"shift", m.shift},
                    {"real", quant::dequantize_multiplier(m)}};
      };
      a["a"] = {{"value", d.a}, {"scale", d.a_params.scale}, {"zero_point", d.a_params.zero_point}};
      a["b"] = {{"value", d.b}, {"scale", d.b_params.scale}, {"zero_point", d.b_params.zero_point}};
      a["output"] = {{"value", d.output},
                     {"scale", d.output_params.scale},
                     {"zero_point", d.output_params.zero_point}};
      a["scale_ratio"] = number(d.scale_ratio);
      a["bits_lost"] = number(d.bits_lost);
      a["finer_input"] = d.finer;
      a["finer_bits_below_output_lsb"] = number(d.finer_bits_below_output);
      a["left_shift"] = d.params.left_shift;
      a["a_multiplier"] = multiplier(d.params.a_multiplier);
      a["b_multiplier"] = multiplier(d.params.b_multiplier);
      a["output_multiplier"] = multiplier(d.params.output_multiplier);
      a["clamp"] = {d.params.low, d.params.high};
    }
    j["adds"].push_back(a);
  }
  return j;
}

namespace {

std::string csv_field(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  return value.dump();
}

json at(const json& object, const std::string& path) {
  const json* current = &object;
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    if (!current->is_object() || !current->contains(part)) return json();
    current = &(*current)[part];
  }
  return *current;
}

}  // namespace

std::string profile_csv(const json& profile) {
  static const std::vector<std::string> kLayerColumns = {"index",
                                                         "node",
                                                         "op",
                                                         "value",
                                                         "reference",
                                                         "macs",
                                                         "weight_bytes",
                                                         "activation_bytes",
                                                         "qparams.scale",
                                                         "qparams.zero_point"};
  static const std::vector<std::string> kBackendColumns = {
      "ran_on",
      "time_ms",
      "gops",
      "propagated.sqnr_db",
      "propagated.mse",
      "propagated.max_error_lsb",
      "propagated.differ_fraction",
      "propagated.cosine",
      "propagated.mean_error",
      "propagated.decomposition.clip_share",
      "propagated.decomposition.rounding_share",
      "local.sqnr_db",
      "local.mse",
      "local.max_error_lsb",
      "local.differ_fraction",
      "local.cosine",
      "local.mean_error",
      "local.decomposition.clip_share",
      "local.decomposition.rounding_share",
      "overflow.saturated_pairs",
      "overflow.pairs",
      "overflow.final_overflows",
      "overflow.partial_overflows",
      "overflow.accumulator_bits_needed"};
  std::string csv;
  for (const auto& column : kLayerColumns) csv += column + ",";
  csv += "backend";
  for (const auto& column : kBackendColumns) csv += "," + column;
  csv += "\n";
  for (const json& layer : profile.at("layers")) {
    for (const auto& [backend, entry] : layer.at("backends").items()) {
      for (const auto& column : kLayerColumns) csv += csv_field(at(layer, column)) + ",";
      csv += csv_field(backend);
      for (const auto& column : kBackendColumns) csv += "," + csv_field(at(entry, column));
      csv += "\n";
    }
  }
  return csv;
}

}  // namespace octet::cli
