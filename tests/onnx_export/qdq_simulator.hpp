#pragma once
// A float interpreter for the QDQ ONNX models Octet exports: reads the ModelProto itself (not
// Octet's graph) and runs it as ONNX defines it: QuantizeLinear rounds half to even and
// saturates to the zero point's type, DequantizeLinear is (q - zp) * scale (per axis when the
// scale is 1-D), and the float ops between them run on Octet's fp32 reference kernels. This is
// the "fake quantization" view of the model, written independently of the exporter, so a
// mismatch with Octet's integer kernels means the exported file says something else.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "graph/error.hpp"
#include "graph/node.hpp"
#include "graph/shape.hpp"
#include "graph/window_geometry.hpp"
#include "kernels/ref/conv2d_f32_ref.hpp"
#include "kernels/ref/gemm_f32_ref.hpp"
#include "kernels/ref/pool2d_ref.hpp"
#include "kernels/ref/resize_nearest_ref.hpp"

namespace octet::test {

struct SimValue {
  Shape shape;
  std::vector<float> data;  // integer tensors hold their codes as exact floats
  int32_t type = onnx::TensorProto::FLOAT;
};

class QdqSimulator {
 public:
  explicit QdqSimulator(const onnx::ModelProto& model) : model_(model) {
    for (const auto& init : model.graph().initializer()) constants_[init.name()] = read_initializer(init);
  }

  // Runs the graph on named float inputs; returns every value computed (outputs included).
  //
  // `pinned` (optional) holds Octet's own int8 codes of quantized values, by name: each time a
  // QuantizeLinear computes one of them, the largest |simulated - Octet| code difference goes to
  // `deviation[name]` and the run continues from Octet's codes (shifted by 128 in a uint8
  // model). Every op is then judged on the same inputs as Octet's kernel, layer by layer,
  // without earlier 1-LSB differences propagating.
  std::map<std::string, SimValue> run(const std::map<std::string, SimValue>& inputs,
                                      const std::map<std::string, std::vector<int8_t>>* pinned = nullptr,
                                      std::map<std::string, double>* deviation = nullptr) const {
    std::map<std::string, SimValue> values = constants_;
    for (const auto& entry : inputs) values[entry.first] = entry.second;
    for (const auto& node : model_.graph().node()) {
      SimValue value = run_node(node, values);
      const std::vector<int8_t>* octet = nullptr;
      if (pinned && node.op_type() == "QuantizeLinear") {
        auto found = pinned->find(node.output(0));
        if (found != pinned->end()) octet = &found->second;
      }
      if (octet) {
        if (octet->size() != value.data.size()) throw Error("pinned '" + node.output(0) + "': size differs");
        const float offset = value.type == onnx::TensorProto::UINT8 ? 128.0f : 0.0f;
        double worst = 0;
        for (size_t i = 0; i < value.data.size(); ++i) {
          const float code = static_cast<float>((*octet)[i]) + offset;
          worst = std::max(worst, std::fabs(static_cast<double>(value.data[i]) - code));
          value.data[i] = code;
        }
        if (deviation) (*deviation)[node.output(0)] = worst;
      }
      values[node.output(0)] = std::move(value);
    }
    return values;
  }

 private:
  static SimValue read_initializer(const onnx::TensorProto& t) {
    SimValue v;
    v.type = t.data_type();
    v.shape.assign(t.dims().begin(), t.dims().end());
    const int64_t n = shape_elements(v.shape);
    v.data.resize(static_cast<size_t>(n));
    const std::string& raw = t.raw_data();
    auto read = [&](auto sample) {
      using T = decltype(sample);
      if (raw.size() != static_cast<size_t>(n) * sizeof(T)) throw Error("initializer '" + t.name() + "': bad raw size");
      for (int64_t i = 0; i < n; ++i) {
        T x;
        std::memcpy(&x, raw.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
        v.data[static_cast<size_t>(i)] = static_cast<float>(x);
      }
    };
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT: read(float{}); break;
      case onnx::TensorProto::INT8: read(int8_t{}); break;
      case onnx::TensorProto::UINT8: read(uint8_t{}); break;
      case onnx::TensorProto::INT32: read(int32_t{}); break;
      case onnx::TensorProto::INT64: read(int64_t{}); break;
      default: throw Error("initializer '" + t.name() + "': unexpected type");
    }
    return v;
  }

  static Node octet_node(const onnx::NodeProto& proto) {
    Node node;
    node.op = proto.op_type();
    node.name = proto.name();
    for (const auto& a : proto.attribute()) {
      switch (a.type()) {
        case onnx::AttributeProto::INT: node.attrs.set(a.name(), static_cast<int64_t>(a.i())); break;
        case onnx::AttributeProto::FLOAT: node.attrs.set(a.name(), a.f()); break;
        case onnx::AttributeProto::STRING: node.attrs.set(a.name(), a.s()); break;
        case onnx::AttributeProto::INTS:
          node.attrs.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end()));
          break;
        default: throw Error(node.label() + ": unexpected attribute kind");
      }
    }
    return node;
  }

  static const SimValue& get(const std::map<std::string, SimValue>& values, const std::string& name) {
    auto found = values.find(name);
    if (found == values.end()) throw Error("value '" + name + "' is not computed yet");
    return found->second;
  }

  // Scale / zero point of element i along `axis` (per tensor when the scale has one element).
  static size_t param_index(const SimValue& x, const SimValue& scale, int64_t axis, int64_t i) {
    if (scale.data.size() == 1) return 0;
    if (axis < 0) axis += static_cast<int64_t>(x.shape.size());
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
    return static_cast<size_t>((i / inner) % x.shape[static_cast<size_t>(axis)]);
  }

  SimValue run_node(const onnx::NodeProto& proto, const std::map<std::string, SimValue>& values) const {
    const Node node = octet_node(proto);
    const std::string& op = node.op;
    const SimValue& x = get(values, proto.input(0));
    auto input = [&](int i) -> const SimValue* {
      return proto.input_size() > i && !proto.input(i).empty() ? &get(values, proto.input(i)) : nullptr;
    };
    SimValue y;
    y.shape = x.shape;
    if (op == "QuantizeLinear" || op == "DequantizeLinear") {
      const SimValue& scale = *input(1);
      const SimValue* zp = input(2);
      const int64_t axis = node.attrs.get_int("axis", 1);
      y.data.resize(x.data.size());
      double low = 0, high = 255;  // uint8 when the zero point is absent, as ONNX says
      if (zp && zp->type == onnx::TensorProto::INT8) low = -128, high = 127;
      for (size_t i = 0; i < x.data.size(); ++i) {
        const size_t p = param_index(x, scale, axis, static_cast<int64_t>(i));
        const float s = scale.data[p];
        const float z = zp ? zp->data[p] : 0.0f;
        if (op == "QuantizeLinear")
          y.data[i] = static_cast<float>(std::min(std::max(static_cast<double>(std::nearbyint(x.data[i] / s)) + z, low), high));
        else
          y.data[i] = (x.data[i] - z) * s;
      }
      y.type = op == "QuantizeLinear" ? (zp ? zp->type : onnx::TensorProto::UINT8) : onnx::TensorProto::FLOAT;
    } else if (op == "Conv") {
      const SimValue& w = *input(1);
      const SimValue* b = input(2);
      const WindowGeometry g = resolve_window_geometry(node, x.shape, {w.shape[2], w.shape[3]}, false);
      kernels::Conv2dShape s{x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], g.output[0], g.output[1],
                             w.shape[2], w.shape[3], g.strides[0], g.strides[1], g.dilations[0], g.dilations[1],
                             g.pad_begin[0], g.pad_begin[1], node.attrs.get_int("group", 1)};
      y.shape = {x.shape[0], w.shape[0], g.output[0], g.output[1]};
      y.data.resize(static_cast<size_t>(shape_elements(y.shape)));
      kernels::conv2d_f32_ref(s, x.data.data(), w.data.data(), b ? b->data.data() : nullptr,
                              {-INFINITY, INFINITY}, y.data.data());
    } else if (op == "Gemm") {
      const SimValue& b = *input(1);
      const SimValue* c = input(2);
      const bool trans_b = node.attrs.get_int("transB", 0) != 0;
      const int64_t m = x.shape[0], k = x.shape[1], n = trans_b ? b.shape[0] : b.shape[1];
      y.shape = {m, n};
      y.data.resize(static_cast<size_t>(m * n));
      kernels::gemm_f32_ref(m, n, k, {x.data.data(), k, 1},
                            trans_b ? kernels::MatrixF32{b.data.data(), 1, k} : kernels::MatrixF32{b.data.data(), n, 1},
                            node.attrs.get_float("alpha", 1.0f), y.data.data());
      const float beta = node.attrs.get_float("beta", 1.0f);
      if (c)
        for (int64_t i = 0; i < m * n; ++i) y.data[static_cast<size_t>(i)] += beta * c->data[static_cast<size_t>(c->data.size() == 1 ? 0 : i % n)];
    } else if (op == "Add") {
      const SimValue& b = *input(1);
      y.data.resize(x.data.size());
      for (size_t i = 0; i < x.data.size(); ++i) y.data[i] = x.data[i] + b.data[b.data.size() == 1 ? 0 : i];
    } else if (op == "Relu" || op == "Clip") {
      const float low = op == "Relu" ? 0.0f : (input(1) ? input(1)->data[0] : -INFINITY);
      const float high = op == "Relu" ? INFINITY : (input(2) ? input(2)->data[0] : INFINITY);
      y.data.resize(x.data.size());
      for (size_t i = 0; i < x.data.size(); ++i) y.data[i] = std::min(std::max(x.data[i], low), high);
    } else if (op == "MaxPool" || op == "AveragePool") {
      const WindowGeometry g = resolve_window_geometry(node, x.shape, node.attrs.get_ints("kernel_shape"),
                                                       node.attrs.get_int("ceil_mode", 0) != 0);
      kernels::Pool2dShape s{x.shape[0], x.shape[1], x.shape[2], x.shape[3], g.output[0], g.output[1],
                             g.kernel[0], g.kernel[1], g.strides[0], g.strides[1], g.dilations[0], g.dilations[1],
                             g.pad_begin[0], g.pad_begin[1], g.pad_end[0], g.pad_end[1]};
      y.shape = {x.shape[0], x.shape[1], g.output[0], g.output[1]};
      y.data.resize(static_cast<size_t>(shape_elements(y.shape)));
      if (op == "MaxPool")
        kernels::max_pool2d_f32_ref(s, x.data.data(), y.data.data());
      else
        kernels::average_pool2d_f32_ref(s, node.attrs.get_int("count_include_pad", 0) != 0, x.data.data(), y.data.data());
    } else if (op == "GlobalAveragePool") {
      y.shape = {x.shape[0], x.shape[1], 1, 1};
      y.data.resize(static_cast<size_t>(x.shape[0] * x.shape[1]));
      kernels::global_average_pool_f32_ref(x.shape[0] * x.shape[1], x.shape[2] * x.shape[3], x.data.data(), y.data.data());
    } else if (op == "Flatten" || op == "Reshape" || op == "Identity") {
      y = x;
      if (op == "Flatten") {
        const int64_t axis = node.attrs.get_int("axis", 1);
        int64_t outer = 1;
        for (int64_t d = 0; d < axis; ++d) outer *= x.shape[static_cast<size_t>(d)];
        y.shape = {outer, shape_elements(x.shape) / outer};
      } else if (op == "Reshape") {
        const SimValue& target = *input(1);
        y.shape.clear();
        int64_t known = 1, infer = -1;
        for (size_t d = 0; d < target.data.size(); ++d) {
          int64_t dim = static_cast<int64_t>(target.data[d]);
          if (dim == 0) dim = x.shape[d];
          if (dim == -1) infer = static_cast<int64_t>(d);
          else known *= dim;
          y.shape.push_back(dim);
        }
        if (infer >= 0) y.shape[static_cast<size_t>(infer)] = shape_elements(x.shape) / known;
      }
    } else if (op == "Resize") {
      y = resize_nearest(node, x, input(2), input(3));
    } else {
      throw Error("simulator: unsupported op " + op);
    }
    return y;
  }

  // Opset-13 Resize in nearest mode on NCHW, read from the ONNX form: the output size and the
  // scale the coordinates divide by come from `scales` (floored) or `sizes`.
  static SimValue resize_nearest(const Node& node, const SimValue& x, const SimValue* scales, const SimValue* sizes) {
    if (node.attrs.get_string("mode", "nearest") != "nearest") throw Error("simulator: Resize mode is not nearest");
    const std::map<std::string, kernels::CoordinateTransform> transforms = {
        {"half_pixel", kernels::CoordinateTransform::half_pixel},
        {"pytorch_half_pixel", kernels::CoordinateTransform::pytorch_half_pixel},
        {"align_corners", kernels::CoordinateTransform::align_corners},
        {"asymmetric", kernels::CoordinateTransform::asymmetric},
        {"tf_half_pixel_for_nn", kernels::CoordinateTransform::tf_half_pixel_for_nn}};
    const std::map<std::string, kernels::NearestRounding> roundings = {
        {"round_prefer_floor", kernels::NearestRounding::round_prefer_floor},
        {"round_prefer_ceil", kernels::NearestRounding::round_prefer_ceil},
        {"floor", kernels::NearestRounding::floor},
        {"ceil", kernels::NearestRounding::ceil}};
    const auto transform = transforms.at(node.attrs.get_string("coordinate_transformation_mode", "half_pixel"));
    const auto rounding = roundings.at(node.attrs.get_string("nearest_mode", "round_prefer_floor"));
    SimValue y;
    y.shape = x.shape;
    std::vector<int64_t> index[2];
    for (size_t axis = 2; axis < 4; ++axis) {
      double scale;
      if (scales && !scales->data.empty()) {
        scale = scales->data[axis];
        y.shape[axis] = static_cast<int64_t>(std::floor(scale * static_cast<double>(x.shape[axis])));
      } else {
        y.shape[axis] = static_cast<int64_t>(sizes->data[axis]);
        scale = static_cast<double>(y.shape[axis]) / static_cast<double>(x.shape[axis]);
      }
      for (int64_t i = 0; i < y.shape[axis]; ++i)
        index[axis - 2].push_back(
            kernels::nearest_source_index(i, x.shape[axis], y.shape[axis], scale, transform, rounding));
    }
    y.data.resize(static_cast<size_t>(shape_elements(y.shape)));
    kernels::resize_nearest_ref({x.shape[0] * x.shape[1], x.shape[2], x.shape[3], y.shape[2], y.shape[3]},
                                index[0].data(), index[1].data(), sizeof(float), x.data.data(), y.data.data());
    return y;
  }

  const onnx::ModelProto& model_;
  std::map<std::string, SimValue> constants_;
};

}  // namespace octet::test
