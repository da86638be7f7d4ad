#include "tools/octet/profile_html.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include "tools/octet/number_text.hpp"
#include "tools/octet/svg_chart.hpp"

namespace octet::cli {
namespace {

using nlohmann::json;

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"};

std::string color_of(size_t i) {
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}
// The local mode's bars: the backend's colour, lighter.
std::string light_color_of(size_t i) {
  static const char* const light[] = {"#9ecae1", "#f4a3a3", "#a1d99b",
                                      "#c5b0d5", "#fdd0a2", "#9edae5"};
  return light[i % (sizeof light / sizeof light[0])];
}

std::string fmt(double value, NumberSpec spec = {'f', 1, ""}) {
  return number_text(value, spec);
}

// A JSON number as table text; null (an infinite SQNR, say) as `null_text`.
std::string cell(const json& value, NumberSpec format, const char* null_text = "–") {
  if (value.is_null() || !value.is_number()) return null_text;
  return fmt(value.get<double>(), format);
}

const json& path_or_null(const json& object, std::initializer_list<const char*> keys) {
  static const json null_value;
  const json* current = &object;
  for (const char* key : keys) {
    if (!current->is_object() || !current->contains(key)) return null_value;
    current = &(*current)[key];
  }
  return *current;
}

std::string bytes_text(double bytes) {
  if (bytes >= 1e6) return fmt(bytes / 1e6, NumberSpec{'f', 2, " MB"});
  if (bytes >= 1e3) return fmt(bytes / 1e3, NumberSpec{'f', 1, " KB"});
  return fmt(bytes, NumberSpec{'f', 0, " B"});
}

std::optional<double> sqnr_value(const json& stats) {
  if (!stats.is_object()) return std::nullopt;
  if (stats["sqnr_db"].is_null())
    return std::numeric_limits<double>::infinity();  // identical outputs
  return stats["sqnr_db"].get<double>();
}

const char* kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; margin-top: 34px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; }
code { background: #f3f3f3; padding: 1px 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f5f5f5; }
td.l, th.l { text-align: left; }
tr.bad td { background: #fff0f0; }
.scroll { overflow-x: auto; }
svg.chart text { font: 11px system-ui, sans-serif; fill: #333; }
svg.chart .label { text-anchor: end; }
svg.chart .tick { text-anchor: middle; fill: #666; }
svg.chart .unit { text-anchor: end; fill: #666; }
svg.chart .over { fill: #333; font-size: 10px; }
svg.chart .grid { stroke: #eee; }
svg.chart .axis { stroke: #888; }
svg.hist .bar { fill: #4c78a8; }
svg.codes .bar { fill: #72b7b2; }
svg.hist .clipzone { fill: #fbe3e3; }
svg.hist .range { stroke: #d62728; stroke-dasharray: 3 2; stroke-width: 1.5; }
.hists { display: flex; flex-wrap: wrap; gap: 14px; }
.hist-card { border: 1px solid #e3e3e3; padding: 6px; width: 304px; font-size: 12px; }
.hist-card .name { font-weight: 600; word-break: break-all; }
.note { color: #666; font-size: 12px; }
ul.suggestions li { margin: 6px 0; }
.measured { color: #2a7; }
.unmeasured { color: #a60; }
)";

// Top-1, or for a regression profile abs_rel / MAE / PSNR against the dataset's targets.
std::string accuracy_cell(const json& s) {
  if (!s.contains("regression")) return cell(path_or_null(s, {"top1"}), NumberSpec{'f', 4, ""});
  const json& r = s["regression"];
  return cell(r["abs_rel"], NumberSpec{'g', 5, ""}) + " / " + cell(r["mae"], NumberSpec{'g', 4, ""}) + " / " +
         cell(r["psnr_db"], NumberSpec{'f', 2, " dB"}, "∞");
}

std::string summary_section(const json& p) {
  const bool regression = p.value("task", "") == "regression";
  std::string html =
      "<h2>Summary</h2>\n<table>\n<tr><th class=\"l\">model</th><th>" +
      std::string(regression ? "abs_rel / MAE / PSNR" : "top-1") + "</th><th>output SQNR</th>"
      "<th>model file</th><th>parameters</th><th>latency "
      "(median)</th><th>Quantize</th><th>Dequantize</th><th>arena</th>"
      "<th class=\"l\">kernels</th></tr>\n";
  auto row = [&](const json& s, bool fp32) {
    const json& file = path_or_null(p, {"files", fp32 ? "ref_bytes" : "model_bytes"});
    html +=
        "<tr><td class=\"l\">" + html_escape(s["name"]) + "</td><td>" +
        accuracy_cell(s) + "</td><td>" +
        (s.contains("output_sqnr_db") ? cell(s["output_sqnr_db"], NumberSpec{'f', 1, " dB"}, "∞")
                                      : std::string("reference")) +
        "</td><td>" + (file.is_number() ? bytes_text(file.get<double>()) : std::string("–")) +
        "</td><td>" + bytes_text(s["parameter_bytes"].get<double>()) + "</td><td>" +
        cell(s["latency_ms"]["median"], NumberSpec{'f', 3, " ms"}) + "</td><td>" +
        (fp32 ? std::string("–") : cell(s["quantize_ms"], NumberSpec{'f', 3, " ms"})) +
        "</td><td>" +
        (fp32 ? std::string("–") : cell(s["dequantize_ms"], NumberSpec{'f', 3, " ms"})) +
        "</td><td>" + bytes_text(s["arena_bytes"].get<double>()) + "</td><td class=\"l\">" +
        html_escape(s["isa"].get<std::string>().empty() ? "" : s["isa"].get<std::string>() + "; ") +
        html_escape(s["partition"]) + "</td></tr>\n";
  };
  row(p["fp32"], true);
  for (const auto& backend : p["backends"]) row(backend, false);
  html += "</table>\n<p class=\"note\">Latency: median of " +
          std::to_string(p["fp32"]["timed_runs"].get<uint64_t>()) +
          " timed runs per model (batch 1, one sample at a time). fp32 runs on the scalar "
          "reference kernels. Peak RSS of "
          "the profile run: " +
          bytes_text(p["memory"]["peak_rss_bytes"].get<double>()) +
          "; fp32 activations held per sample: " +
          bytes_text(p["memory"]["reference_activation_bytes"].get<double>()) + ".</p>\n";
  return html;
}

// Rows of the per-layer charts: nodes with statistics (those with an fp32 twin).
std::vector<const json*> compared_layers(const json& p) {
  std::vector<const json*> rows;
  for (const json& layer : p["layers"])
    if (!layer["reference"].get<std::string>().empty()) rows.push_back(&layer);
  return rows;
}

std::string sqnr_section(const json& p) {
  std::string html =
      "<h2>Per-layer SQNR</h2>\n<p class=\"note\">SQNR = 10·log10(Σ fp32² / Σ (int8 − fp32)²) of "
      "each "
      "layer's output over all samples. <b>Propagated</b>: the int8 model on its own input (errors "
      "accumulate); <b>local</b>: each layer fed the quantized fp32 input (its own error only). "
      "Higher "
      "is better; ∞: identical.</p>\n";
  const auto rows = compared_layers(p);
  std::vector<std::string> labels;
  for (const json* layer : rows)
    labels.push_back((*layer)["op"].get<std::string>() + " " + (*layer)["node"].get<std::string>());
  std::vector<BarSeries> series;
  size_t b = 0;
  for (const json& backend : p["backends"]) {
    const std::string name = backend["name"];
    for (const char* mode : {"propagated", "local"}) {
      BarSeries s{
          name + " " + mode, std::string(mode) == "local" ? light_color_of(b) : color_of(b), {}};
      bool any = false;
      for (const json* layer : rows) {
        const auto value = sqnr_value(path_or_null(*layer, {"backends", name.c_str(), mode}));
        any = any || value.has_value();
        s.values.push_back(value);
      }
      if (any) series.push_back(std::move(s));
    }
    ++b;
  }
  html += "<div class=\"scroll\">" +
          horizontal_bar_chart("sqnr-chart", labels, series, "dB", 80.0) + "</div>\n";
  return html;
}

std::string time_section(const json& p) {
  std::string html =
      "<h2>Per-layer time</h2>\n<p class=\"note\">Median wall time of each node over the timed "
      "runs "
      "(only the timer attached), per backend.</p>\n";
  std::vector<std::string> labels;
  for (const json& layer : p["layers"])
    labels.push_back(layer["op"].get<std::string>() + " " + layer["node"].get<std::string>());
  std::vector<BarSeries> series;
  size_t b = 0;
  for (const json& backend : p["backends"]) {
    const std::string name = backend["name"];
    BarSeries s{name, color_of(b++), {}};
    for (const json& layer : p["layers"]) {
      const json& t = path_or_null(layer, {"backends", name.c_str(), "time_ms"});
      s.values.push_back(t.is_number() ? std::optional<double>(t.get<double>()) : std::nullopt);
    }
    series.push_back(std::move(s));
  }
  html += "<div class=\"scroll\">" + horizontal_bar_chart("time-chart", labels, series, "ms") +
          "</div>\n";
  return html;
}

std::string layer_table(const json& p) {
  std::string html =
      "<h2>Layers</h2>\n<p class=\"note\">Per backend and mode: SQNR, MSE, max |error| in output "
      "LSBs, "
      "share of int8 codes that differ from the fp32 value's own code, cosine similarity. Error "
      "decomposition (local mode, QConv/QGemm/QAdd): shares of the layer's MSE that quantizing its "
      "fp32 "
      "output once would cost by clipping and by rounding; the rest comes from inputs, weights and "
      "accumulation. Overflow: u8×s8 pairs that would saturate vpmaddubsw, and sums a " +
      std::to_string(p.value("accumulator_bits", 24)) + "-bit accumulator could not hold.</p>\n";
  html +=
      "<div class=\"scroll\"><table>\n<tr><th class=\"l\">node</th><th "
      "class=\"l\">op</th><th>MACs</th><th>weights</th>"
      "<th class=\"l\">backend</th><th>time</th><th>GOPS</th><th>prop. SQNR</th><th>local "
      "SQNR</th><th>local MSE</th>"
      "<th>max err (LSB)</th><th>differ</th><th>cosine</th><th>clip share</th><th>round share</th>"
      "<th>saturated pairs</th><th>acc. bits</th></tr>\n";
  for (const json& layer : p["layers"]) {
    for (const auto& [name, entry] : layer["backends"].items()) {
      const json& local = path_or_null(entry, {"local"});
      const json& prop = path_or_null(entry, {"propagated"});
      const json& stats = local.is_object() ? local : prop;
      const auto local_sqnr = sqnr_value(local);
      const bool bad = local_sqnr && *local_sqnr < 20.0;
      html +=
          std::string("<tr") + (bad ? " class=\"bad\"" : "") + "><td class=\"l\">" +
          html_escape(layer["node"]) + "</td><td class=\"l\">" + html_escape(layer["op"]) +
          "</td><td>" +
          (layer["macs"].get<int64_t>()
               ? fmt(layer["macs"].get<double>() / 1e6, NumberSpec{'f', 2, " M"})
               : std::string("")) +
          "</td><td>" +
          (layer["weight_bytes"].get<size_t>() ? bytes_text(layer["weight_bytes"].get<double>())
                                               : "") +
          "</td><td class=\"l\">" + html_escape(name) +
          (entry["ran_on"] != name ? " (ran on " + html_escape(entry["ran_on"]) + ")" : "") +
          "</td><td>" + cell(entry["time_ms"], NumberSpec{'f', 4, ""}) + "</td><td>" +
          cell(entry["gops"], NumberSpec{'f', 1, ""}) + "</td><td>" +
          (prop.is_object() ? cell(prop["sqnr_db"], NumberSpec{'f', 1, ""}, "∞") : "") +
          "</td><td>" +
          (local.is_object() ? cell(local["sqnr_db"], NumberSpec{'f', 1, ""}, "∞") : "") +
          "</td><td>" + (local.is_object() ? cell(local["mse"], NumberSpec{'g', 3, ""}) : "") +
          "</td><td>" + cell(path_or_null(stats, {"max_error_lsb"}), NumberSpec{'f', 1, ""}, "") +
          "</td><td>" +
          (stats.is_object() ? cell(stats["differ_fraction"], NumberSpec{'f', 3, ""}) : "") +
          "</td><td>" + (stats.is_object() ? cell(stats["cosine"], NumberSpec{'f', 5, ""}) : "") +
          "</td><td>" +
          cell(path_or_null(stats, {"decomposition", "clip_share"}), NumberSpec{'f', 2, ""}, "") +
          "</td><td>" +
          cell(path_or_null(stats, {"decomposition", "rounding_share"}), NumberSpec{'f', 2, ""},
               "") +
          "</td><td>";
      if (entry.contains("overflow")) {
        const json& o = entry["overflow"];
        html += std::to_string(o["saturated_pairs"].get<uint64_t>()) + " / " +
                std::to_string(o["pairs"].get<uint64_t>()) + "</td><td>" +
                std::to_string(o["accumulator_bits_needed"].get<int>());
      } else {
        html += "</td><td>";
      }
      html += "</td></tr>\n";
    }
  }
  return html + "</table></div>\n";
}

std::string histogram_section(const json& p) {
  std::string html =
      "<h2>Histograms and ranges</h2>\n<p class=\"note\">fp32 values of each quantized tensor over "
      "all samples (square-root count scale), the range its int8 twin represents (red lines; "
      "shaded: "
      "clipped), and below, the int8 codes the first backend produced (levels used out of "
      "256).</p>\n"
      "<div class=\"hists\">\n";
  const std::string first = p["backends"][0]["name"];
  size_t i = 0;
  for (const json& t : p["tensors"]) {
    HistogramChart chart;
    chart.first_edge = t["histogram"]["first_edge"];
    chart.bin_width = t["histogram"]["bin_width"];
    for (const auto& c : t["histogram"]["counts"]) chart.counts.push_back(c.get<double>());
    chart.range_lo = t["range"][0];
    chart.range_hi = t["range"][1];
    html += "<div class=\"hist-card\"><div class=\"name\">" + html_escape(t["value"]) + "</div>";
    html += histogram_chart("hist-" + std::to_string(i), chart);
    html += "<div>range [" + fmt(chart.range_lo, NumberSpec{'g', 4, ""}) + ", " +
            fmt(chart.range_hi, NumberSpec{'g', 4, ""}) + "], data [" +
            fmt(t["min"].get<double>(), NumberSpec{'g', 4, ""}) + ", " +
            fmt(t["max"].get<double>(), NumberSpec{'g', 4, ""}) + "], clipped " +
            fmt(100.0 * t["clipped_fraction"].get<double>(), NumberSpec{'f', 3, "%"}) + "</div>";
    const json& codes = path_or_null(t, {"codes", first.c_str()});
    if (codes.is_object()) {
      std::vector<double> counts;
      for (const auto& c : codes["counts"]) counts.push_back(c.get<double>());
      html += code_strip_chart("codes-" + std::to_string(i), counts);
      html += "<div>int8 levels used: " + std::to_string(codes["levels_used"].get<int>()) +
              " / 256</div>";
    }
    html += "</div>\n";
    ++i;
  }
  return html + "</div>\n";
}

std::string add_section(const json& p) {
  std::string html =
      "<h2>Residual Add diagnostics</h2>\n<p class=\"note\">Both inputs are rescaled to 2·max(s_a, "
      "s_b)/2^20 "
      "by fixed-point multipliers (M0 · 2^shift / 2^31), summed and requantized to the output "
      "scale. "
      "Bits lost: log2 of the input scale ratio, the finer input's bits below the coarser one's "
      "LSB.</p>\n"
      "<div class=\"scroll\"><table>\n<tr><th class=\"l\">Add</th><th class=\"l\">runs "
      "as</th><th>s_a</th>"
      "<th>s_b</th><th>s_out</th><th>ratio</th><th>bits lost</th><th>finer bits below out LSB</th>"
      "<th>a: M0, shift</th><th>b: M0, shift</th><th>out: M0, shift</th><th class=\"l\">ran "
      "on</th></tr>\n";
  for (const json& a : p["adds"]) {
    std::string ran;
    for (const auto& [backend, on] : a["ran_on"].items())
      ran += (ran.empty() ? "" : ", ") + backend + ": " + on.get<std::string>();
    html += "<tr><td class=\"l\">" + html_escape(a["node"]) + "</td><td class=\"l\">" +
            html_escape(a["int8"].get<bool>() ? "QAdd (int8)"
                                              : a["runs_as"].get<std::string>() + " (fp32)") +
            "</td>";
    if (a["int8"].get<bool>()) {
      auto m = [](const json& x) {
        return std::to_string(x["multiplier"].get<int64_t>()) + ", " +
               std::to_string(x["shift"].get<int>());
      };
      html += "<td>" + cell(a["a"]["scale"], NumberSpec{'g', 4, ""}) + "</td><td>" +
              cell(a["b"]["scale"], NumberSpec{'g', 4, ""}) + "</td><td>" +
              cell(a["output"]["scale"], NumberSpec{'g', 4, ""}) + "</td><td>" +
              cell(a["scale_ratio"], NumberSpec{'f', 2, ""}) + "</td><td>" +
              cell(a["bits_lost"], NumberSpec{'f', 2, ""}) + "</td><td>" +
              cell(a["finer_bits_below_output_lsb"], NumberSpec{'f', 2, ""}) + "</td><td>" +
              m(a["a_multiplier"]) + "</td><td>" + m(a["b_multiplier"]) + "</td><td>" +
              m(a["output_multiplier"]) + "</td>";
    } else {
      html += "<td colspan=\"9\"></td>";
    }
    html += "<td class=\"l\">" + html_escape(ran) + "</td></tr>\n";
  }
  return html + "</table></div>\n";
}

std::string suggestion_section(const json& p) {
  std::string html = "<h2>Suggestions</h2>\n";
  if (!p.contains("suggestions") || p["suggestions"].empty())
    return html + "<p>None: no layer stands out.</p>\n";
  html += "<ul class=\"suggestions\">\n";
  for (const json& s : p["suggestions"]) {
    html += "<li>" + html_escape(s["text"]);
    if (!s["flag"].get<std::string>().empty())
      html += " <code>" + html_escape(s["flag"]) + "</code>";
    html += s["measured"].is_null() ? " <span class=\"unmeasured\">(effect not measured)</span>"
                                    : " <span class=\"measured\">(measured)</span>";
    html += "</li>\n";
  }
  return html + "</ul>\n";
}

std::string sensitivity_section(const json& p) {
  if (!p.contains("sensitivity")) return "";
  const json& s = p["sensitivity"];
  std::string html =
      "<h2>Sensitivity</h2>\n<p class=\"note\">Each layer's quantization undone alone — the layer "
      "in fp32, "
      "or its output given another observer's range (calibrated on " +
      html_escape(s["calibration"]) + ") — and the model evaluated on " +
      std::to_string(s["samples"].get<size_t>()) + " samples on " + html_escape(s["backend"]) +
      ". int8 output SQNR " + cell(s["base_sqnr_db"], NumberSpec{'f', 1, " dB"}, "∞") + ", top-1 " +
      cell(s["base_top1"], NumberSpec{'f', 4, ""}) + " (fp32 " +
      cell(s["fp32_top1"], NumberSpec{'f', 4, ""}) + ").</p>\n";
  std::vector<std::string> labels;
  BarSeries recovered{"SQNR recovered by the best fix", "#2ca02c", {}};
  for (const json& entry : s["ranking"]) {
    labels.push_back(entry["layer"].get<std::string>() + " [" + entry["fix"].get<std::string>() +
                     "]");
    recovered.values.push_back(entry["recovered_sqnr_db"].is_null()
                                   ? std::numeric_limits<double>::infinity()
                                   : entry["recovered_sqnr_db"].get<double>());
  }
  html += "<div class=\"scroll\">" +
          horizontal_bar_chart("sensitivity-chart", labels, {recovered}, "dB") + "</div>\n";
  return html;
}

}  // namespace

std::string profile_html(const json& p) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Octet "
      "profile: " +
      html_escape(p["model"]) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>Octet quantization profile</h1>\n<p class=\"meta\"><code>" +
          html_escape(p["model"]) + "</code> against <code>" + html_escape(p["ref"]) +
          "</code> on <code>" + html_escape(p["data"]) +
          "</code>: " + std::to_string(p["samples"].get<size_t>()) + " samples, modes " +
          html_escape(p["modes"].dump()) + ", " +
          fmt(p["seconds"].get<double>(), NumberSpec{'f', 1, " s"}) + ".</p>\n";
  html += summary_section(p);
  html += suggestion_section(p);
  html += sqnr_section(p);
  html += sensitivity_section(p);
  html += time_section(p);
  html += histogram_section(p);
  html += add_section(p);
  html += layer_table(p);
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace octet::cli
