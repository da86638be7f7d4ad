#include "graph/resize_geometry.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "graph/error.hpp"

namespace octet {
namespace {

using kernels::CoordinateTransform;
using kernels::NearestRounding;

const std::pair<const char*, CoordinateTransform> kTransforms[] = {
    {"half_pixel", CoordinateTransform::half_pixel},
    {"pytorch_half_pixel", CoordinateTransform::pytorch_half_pixel},
    {"align_corners", CoordinateTransform::align_corners},
    {"asymmetric", CoordinateTransform::asymmetric},
    {"tf_half_pixel_for_nn", CoordinateTransform::tf_half_pixel_for_nn},
};

const std::pair<const char*, NearestRounding> kRoundings[] = {
    {"round_prefer_floor", NearestRounding::round_prefer_floor},
    {"round_prefer_ceil", NearestRounding::round_prefer_ceil},
    {"floor", NearestRounding::floor},
    {"ceil", NearestRounding::ceil},
};

// An attribute read; a value of the wrong kind is an error naming the node.
template <class Read>
auto read_attribute(const Node& node, Read&& read) {
  try {
    return read();
  } catch (const Error& error) {
    throw Error(node.label() + ": " + error.what());
  }
}

// The enum named by attribute `attribute`, or an error listing the accepted names.
template <class Enum, size_t N>
Enum named_mode(const Node& node, const char* attribute, const char* fallback,
                const std::pair<const char*, Enum> (&table)[N]) {
  const std::string value = read_attribute(node, [&] { return node.attrs.get_string(attribute, fallback); });
  std::string accepted;
  for (const auto& entry : table) {
    if (value == entry.first) return entry.second;
    accepted += (accepted.empty() ? "" : ", ") + std::string(entry.first);
  }
  throw Error(node.label() + ": " + attribute + " '" + value + "' is not supported (supported: " + accepted + ")");
}

std::string floats_str(const std::vector<float>& values) {
  std::ostringstream text;
  text << "[";
  for (size_t i = 0; i < values.size(); ++i) text << (i ? "," : "") << values[i];  // as shape_str
  text << "]";
  return text.str();
}

}  // namespace

ResizeGeometry resolve_resize_geometry(const Node& node, const Shape& input) {
  const std::string mode = read_attribute(node, [&] { return node.attrs.get_string("mode", "nearest"); });
  if (mode != "nearest")
    throw Error(node.label() + ": mode '" + mode + "' is not supported (only 'nearest')");
  ResizeGeometry g;
  g.transform = named_mode(node, "coordinate_transformation_mode", "half_pixel", kTransforms);
  g.rounding = named_mode(node, "nearest_mode", "round_prefer_floor", kRoundings);
  if (input.size() != 4)
    throw Error(node.label() + ": only 4-D NCHW input can be resized, input is " + shape_str(input));
  if (input[2] < 1 || input[3] < 1)
    throw Error(node.label() + ": cannot resize the empty input " + shape_str(input));

  const bool has_scales = node.attrs.has("scales"), has_sizes = node.attrs.has("sizes");
  if (has_scales == has_sizes) throw Error(node.label() + ": needs exactly one of 'scales' and 'sizes'");
  if (has_scales) {
    const std::vector<float> scales = read_attribute(node, [&] { return node.attrs.get_floats("scales"); });
    if (scales.size() != input.size())
      throw Error(node.label() + ": scales has " + std::to_string(scales.size()) + " values, input " +
                  shape_str(input) + " has rank " + std::to_string(input.size()));
    if (scales[0] != 1.0f || scales[1] != 1.0f)
      throw Error(node.label() + ": only the spatial axes (H, W) of an NCHW tensor can be resized, scales " +
                  floats_str(scales) + " resize N or C");
    for (size_t axis = 0; axis < 2; ++axis) {
      const float scale = scales[axis + 2];
      const int64_t length = input[axis + 2];
      if (!(scale > 0.0f) || !std::isfinite(scale))
        throw Error(node.label() + ": scales " + floats_str(scales) + " must be positive and finite");
      // ONNX: output length = floor(input length × scale), the float scale taken exactly.
      const double output = std::floor(static_cast<double>(scale) * static_cast<double>(length));
      if (output < 1.0)
        throw Error(node.label() + ": scale " + floats_str({scale}) + " leaves no element of axis " +
                    std::to_string(axis + 2) + " (length " + std::to_string(length) + ")");
      if (output > static_cast<double>(int64_t{1} << 40))
        throw Error(node.label() + ": scale " + floats_str({scale}) + " makes axis " + std::to_string(axis + 2) +
                    " too long");
      g.output[axis] = static_cast<int64_t>(output);
      g.scale[axis] = scale;
    }
  } else {
    const std::vector<int64_t> sizes = read_attribute(node, [&] { return node.attrs.get_ints("sizes"); });
    if (sizes.size() != input.size())
      throw Error(node.label() + ": sizes has " + std::to_string(sizes.size()) + " values, input " +
                  shape_str(input) + " has rank " + std::to_string(input.size()));
    if (sizes[0] != input[0] || sizes[1] != input[1])
      throw Error(node.label() + ": only the spatial axes (H, W) of an NCHW tensor can be resized, sizes " +
                  shape_str(sizes) + " change N or C of " + shape_str(input));
    for (size_t axis = 0; axis < 2; ++axis) {
      const int64_t size = sizes[axis + 2];
      if (size < 1) throw Error(node.label() + ": sizes " + shape_str(sizes) + " must be positive");
      g.output[axis] = size;
      g.scale[axis] = static_cast<double>(size) / static_cast<double>(input[axis + 2]);
    }
  }
  return g;
}

}  // namespace octet
