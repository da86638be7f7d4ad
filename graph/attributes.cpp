#include "graph/attributes.hpp"

#include "graph/error.hpp"

namespace octet {
namespace {

template <class T>
T get_typed(const std::map<std::string, AttributeValue>& values, const std::string& name,
            const T& fallback, const char* kind) {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  if (const T* value = std::get_if<T>(&it->second)) return *value;
  throw Error("attribute '" + name + "' is not " + kind);
}

}  // namespace

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  return get_typed<int64_t>(values_, name, fallback, "an integer");
}

float Attributes::get_float(const std::string& name, float fallback) const {
  auto it = values_.find(name);
  // Integers are accepted where a float is expected (hand-written models often use them).
  if (it != values_.end())
    if (const int64_t* value = std::get_if<int64_t>(&it->second)) return static_cast<float>(*value);
  return get_typed<float>(values_, name, fallback, "a float");
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  return get_typed<std::string>(values_, name, fallback, "a string");
}

std::vector<int64_t> Attributes::get_ints(const std::string& name,
                                          const std::vector<int64_t>& fallback) const {
  return get_typed<std::vector<int64_t>>(values_, name, fallback, "a list of integers");
}

std::vector<float> Attributes::get_floats(const std::string& name,
                                          const std::vector<float>& fallback) const {
  return get_typed<std::vector<float>>(values_, name, fallback, "a list of floats");
}

}  // namespace octet
