#include "tools/octet/svg_chart.hpp"

#include <algorithm>
#include <cmath>

#include "tools/octet/number_text.hpp"

namespace octet::cli {
namespace {

std::string fmt(double value, NumberSpec spec = {'f', 1, ""}) {
  return number_text(value, spec);
}

std::string short_number(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude != 0.0 && (magnitude < 1e-3 || magnitude >= 1e5))
    return fmt(value, NumberSpec{'g', 2, ""});
  if (magnitude < 1.0) return fmt(value, NumberSpec{'g', 3, ""});
  return fmt(value, NumberSpec{'g', 4, ""});
}

// A "nice" tick step for a span: 1, 2 or 5 times a power of ten, about five ticks.
double tick_step(double span) {
  if (span <= 0.0) return 1.0;
  const double raw = span / 5.0, power = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / power;
  return (fraction < 1.5 ? 1.0 : fraction < 3.5 ? 2.0 : fraction < 7.5 ? 5.0 : 10.0) * power;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string horizontal_bar_chart(const std::string& id, const std::vector<std::string>& labels,
                                 const std::vector<BarSeries>& series, const std::string& unit,
                                 std::optional<double> cap) {
  const double label_width = 330, plot_width = 520, bar_height = 9, gap = 6, top = 34, bottom = 28;
  const double row_height =
      bar_height * static_cast<double>(std::max<size_t>(series.size(), 1)) + gap;
  const double height = top + row_height * static_cast<double>(labels.size()) + bottom;
  double lo = 0.0, hi = 0.0;
  bool infinite = false;
  for (const auto& s : series)
    for (const auto& v : s.values) {
      if (!v) continue;
      if (std::isinf(*v) || (cap && *v > *cap)) {
        infinite = true;  // drawn past the axis end
        continue;
      }
      lo = std::min(lo, *v);
      hi = std::max(hi, *v);
    }
  if (hi <= lo) hi = lo + 1.0;
  const double step = tick_step(hi - lo);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step + (infinite ? step : 0.0);
  auto x_of = [&](double v) { return label_width + (v - lo) / (hi - lo) * plot_width; };

  std::string svg = "<svg class=\"chart\" id=\"" + html_escape(id) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    fmt(label_width + plot_width + 20, NumberSpec{'f', 0, ""}) + "\" height=\"" +
                    fmt(height, NumberSpec{'f', 0, ""}) + "\" role=\"img\">\n";
  // Legend.
  double legend_x = label_width;
  for (const auto& s : series) {
    svg += "<rect x=\"" + fmt(legend_x, NumberSpec{'f', 0, ""}) +
           "\" y=\"8\" width=\"12\" height=\"12\" fill=\"" + s.color + "\"/>";
    svg += "<text x=\"" + fmt(legend_x + 16, NumberSpec{'f', 0, ""}) +
           "\" y=\"18\" class=\"legend\">" + html_escape(s.name) + "</text>\n";
    legend_x += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  // Grid and axis.
  for (double t = lo; t <= hi + step * 1e-9; t += step) {
    const double x = x_of(t);
    svg += "<line x1=\"" + fmt(x) + "\" y1=\"" + fmt(top - 4) + "\" x2=\"" + fmt(x) + "\" y2=\"" +
           fmt(height - bottom) + "\" class=\"grid\"/>";
    svg += "<text x=\"" + fmt(x) + "\" y=\"" + fmt(height - bottom + 14) + "\" class=\"tick\">" +
           short_number(t) + "</text>\n";
  }
  svg += "<text x=\"" + fmt(label_width + plot_width, NumberSpec{'f', 0, ""}) + "\" y=\"" +
         fmt(height - 2) + "\" class=\"unit\">" + html_escape(unit) + "</text>\n";
  const double zero = x_of(std::clamp(0.0, lo, hi));
  for (size_t r = 0; r < labels.size(); ++r) {
    const double row_top = top + row_height * static_cast<double>(r);
    svg += "<text x=\"" + fmt(label_width - 6) + "\" y=\"" + fmt(row_top + row_height / 2 + 1) +
           "\" class=\"label\">" + html_escape(labels[r]) + "</text>\n";
    for (size_t s = 0; s < series.size(); ++s) {
      if (r >= series[s].values.size() || !series[s].values[r]) continue;
      const double v = *series[s].values[r];
      const bool beyond = std::isinf(v) || (cap && v > *cap);
      const double end = beyond ? (v > 0 ? x_of(hi) : x_of(lo)) : x_of(v);
      const double x = std::min(zero, end), w = std::max(std::fabs(end - zero), 1.0);
      const double y = row_top + bar_height * static_cast<double>(s);
      svg += "<rect class=\"bar\" x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w) +
             "\" height=\"" + fmt(bar_height - 1) + "\" fill=\"" + series[s].color + "\"><title>" +
             html_escape(labels[r]) + " — " + html_escape(series[s].name) + ": " +
             (std::isinf(v) ? std::string("∞") : short_number(v)) + " " + html_escape(unit) +
             "</title></rect>";
      if (beyond)
        svg += "<text x=\"" + fmt(end + 3) + "\" y=\"" + fmt(y + bar_height - 1) +
               "\" class=\"over\">" + (std::isinf(v) ? std::string("∞") : short_number(v)) +
               "</text>";
      svg += "\n";
    }
  }
  svg += "<line x1=\"" + fmt(zero) + "\" y1=\"" + fmt(top - 4) + "\" x2=\"" + fmt(zero) +
         "\" y2=\"" + fmt(height - bottom) + "\" class=\"axis\"/>\n</svg>\n";
  return svg;
}

std::string histogram_chart(const std::string& id, const HistogramChart& h) {
  const double width = 300, height = 130, left = 6, right = 6, top = 8, bottom = 22;
  const double data_lo = h.first_edge,
               data_hi = h.first_edge + h.bin_width * static_cast<double>(h.counts.size());
  double lo = std::min(data_lo, h.range_lo), hi = std::max(data_hi, h.range_hi);
  if (hi <= lo) hi = lo + 1.0;
  const double pad = (hi - lo) * 0.03;
  lo -= pad;
  hi += pad;
  auto x_of = [&](double v) { return left + (v - lo) / (hi - lo) * (width - left - right); };
  double peak = 0.0;
  for (double c : h.counts) peak = std::max(peak, c);
  const double plot_height = height - top - bottom;
  std::string svg = "<svg class=\"chart hist\" id=\"" + html_escape(id) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    fmt(width, NumberSpec{'f', 0, ""}) + "\" height=\"" +
                    fmt(height, NumberSpec{'f', 0, ""}) + "\" role=\"img\">\n";
  // Outside the quantization range: shaded (values there are clipped).
  svg += "<rect x=\"" + fmt(x_of(lo)) + "\" y=\"" + fmt(top) + "\" width=\"" +
         fmt(std::max(0.0, x_of(h.range_lo) - x_of(lo))) + "\" height=\"" + fmt(plot_height) +
         "\" class=\"clipzone\"/>";
  svg += "<rect x=\"" + fmt(x_of(h.range_hi)) + "\" y=\"" + fmt(top) + "\" width=\"" +
         fmt(std::max(0.0, x_of(hi) - x_of(h.range_hi))) + "\" height=\"" + fmt(plot_height) +
         "\" class=\"clipzone\"/>\n";
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] <= 0.0) continue;
    const double x0 = x_of(h.first_edge + h.bin_width * static_cast<double>(i));
    const double x1 = x_of(h.first_edge + h.bin_width * static_cast<double>(i + 1));
    const double bar = std::max(1.0, std::sqrt(h.counts[i] / peak) * plot_height);
    svg += "<rect class=\"bar\" x=\"" + fmt(x0, NumberSpec{'f', 2, ""}) + "\" y=\"" +
           fmt(top + plot_height - bar, NumberSpec{'f', 2, ""}) + "\" width=\"" +
           fmt(std::max(0.6, x1 - x0), NumberSpec{'f', 2, ""}) + "\" height=\"" +
           fmt(bar, NumberSpec{'f', 2, ""}) + "\"/>";
  }
  svg += "\n";
  for (double edge : {h.range_lo, h.range_hi})
    svg += "<line x1=\"" + fmt(x_of(edge)) + "\" y1=\"" + fmt(top) + "\" x2=\"" + fmt(x_of(edge)) +
           "\" y2=\"" + fmt(top + plot_height) + "\" class=\"range\"/>";
  svg += "<line x1=\"" + fmt(left) + "\" y1=\"" + fmt(top + plot_height) + "\" x2=\"" +
         fmt(width - right) + "\" y2=\"" + fmt(top + plot_height) + "\" class=\"axis\"/>\n";
  svg += "<text x=\"" + fmt(x_of(h.range_lo)) + "\" y=\"" + fmt(height - 6) + "\" class=\"tick\">" +
         short_number(h.range_lo) + "</text>";
  svg += "<text x=\"" + fmt(x_of(h.range_hi)) + "\" y=\"" + fmt(height - 6) + "\" class=\"tick\">" +
         short_number(h.range_hi) + "</text>\n";
  svg += "</svg>\n";
  return svg;
}

std::string code_strip_chart(const std::string& id, const std::vector<double>& counts) {
  const double width = 300, height = 36;
  double peak = 0.0;
  for (double c : counts) peak = std::max(peak, c);
  std::string svg = "<svg class=\"chart codes\" id=\"" + html_escape(id) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    fmt(width, NumberSpec{'f', 0, ""}) + "\" height=\"" +
                    fmt(height, NumberSpec{'f', 0, ""}) + "\" role=\"img\">\n";
  const double bin = (width - 12) / static_cast<double>(std::max<size_t>(counts.size(), 1));
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] <= 0.0) continue;
    const double bar = std::max(1.0, std::sqrt(counts[i] / peak) * (height - 6));
    svg += "<rect class=\"bar\" x=\"" +
           fmt(6 + bin * static_cast<double>(i), NumberSpec{'f', 2, ""}) + "\" y=\"" +
           fmt(height - 2 - bar, NumberSpec{'f', 2, ""}) + "\" width=\"" +
           fmt(std::max(0.8, bin), NumberSpec{'f', 2, ""}) + "\" height=\"" +
           fmt(bar, NumberSpec{'f', 2, ""}) + "\"/>";
  }
  svg += "\n<line x1=\"6\" y1=\"" + fmt(height - 2) + "\" x2=\"" + fmt(width - 6) + "\" y2=\"" +
         fmt(height - 2) + "\" class=\"axis\"/>\n</svg>\n";
  return svg;
}

}  // namespace octet::cli
