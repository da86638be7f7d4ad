#pragma once
// Small inline-SVG charts for the HTML profile report: a grouped horizontal bar chart and a
// histogram with a marked range. Output is an <svg> element with class "chart" whose data
// marks carry class "bar" (what the report's browser test counts).
#include <optional>
#include <string>
#include <vector>

namespace octet::cli {

std::string html_escape(const std::string& text);

struct BarSeries {
  std::string name, color;
  std::vector<std::optional<double>>
      values;  // one per row; nullopt: no bar; +inf: drawn to the axis end, "∞"
};

// One row per label, one bar per series. `unit` labels the axis ("dB", "ms"). Values above
// `cap` (when given) end at the cap with their value written after the bar, so one outlier (the
// input's 140 dB) does not squash every other bar.
std::string horizontal_bar_chart(const std::string& id, const std::vector<std::string>& labels,
                                 const std::vector<BarSeries>& series, const std::string& unit,
                                 std::optional<double> cap = std::nullopt);

struct HistogramChart {
  double first_edge = 0.0, bin_width = 1.0;
  std::vector<double> counts;
  double range_lo = 0.0, range_hi = 0.0;  // the quantization range, drawn as two lines
};

// Counts on a square-root scale (so that the tails stay visible next to the peak).
std::string histogram_chart(const std::string& id, const HistogramChart& histogram);

// The 256 int8 codes' counts as a strip of bars, empty codes left blank.
std::string code_strip_chart(const std::string& id, const std::vector<double>& counts);

}  // namespace octet::cli
