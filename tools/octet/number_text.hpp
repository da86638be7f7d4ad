#pragma once
// Numbers as report text without printf format strings (the build treats non-literal formats as
// errors): a spec says fixed or general notation, the precision and a suffix.
#include <iomanip>
#include <sstream>
#include <string>

namespace octet::cli {

struct NumberSpec {
  char style = 'f';  // 'f': fixed, like %.Nf; 'g': general, like %.Ng
  int precision = 2;
  const char* suffix = "";
  bool sign = false;  // a leading + on positive values, like %+
};

inline std::string number_text(double value, NumberSpec spec) {
  std::ostringstream out;
  if (spec.style == 'f') out << std::fixed;
  if (spec.sign) out << std::showpos;
  out << std::setprecision(spec.precision) << value << spec.suffix;
  return out.str();
}

}  // namespace octet::cli
