// The .oct model file: exact round trips (every field, every dtype and attribute kind, quant,
// metadata), bit-identical inference after a round trip, zero-copy mmap loading, deterministic
// bytes, atomic saving, and malformed files: every truncation, thousands of byte flips, and
// hand-crafted FlatBuffers that each break one rule. None may crash; each gives octet::Error.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model.hpp"
#include "engine/session.hpp"
#include "graph/model_file.hpp"
#include "graph/schema/octet_model_generated.h"
#include "tests/graph/graph_builder.hpp"

namespace octet {
namespace {

using test::Attrs;
using test::error_message;
using test::GraphBuilder;

// ---------------------------------------------------------------------------------------------
// Helpers

// Bytes at a 64-byte aligned address (a std::vector's data is not).
struct AlignedBytes {
  std::shared_ptr<uint8_t> data;
  size_t size = 0;
  explicit AlignedBytes(const std::vector<uint8_t>& bytes)
      : data(allocate_aligned(bytes.size())), size(bytes.size()) {
    if (size) std::memcpy(data.get(), bytes.data(), size);
  }
  Graph load(size_t length) const { return load_model_buffer(data.get(), length, data, "test.oct"); }
  Graph load() const { return load(size); }
};

// A fresh directory under /tmp, removed (with its files) at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/octet-model-file-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (!made) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    for (const auto& name : entries()) ::unlink((path_ + "/" + name).c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(dir);
    }
    return names;
  }

 private:
  std::string path_;
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put_u32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(std::vector<uint8_t>& bytes, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get_u64(const std::vector<uint8_t>& bytes, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[at + static_cast<size_t>(i)];
  return v;
}

template <class T>
Tensor typed_tensor(DType dtype, const Shape& shape, const std::vector<T>& values) {
  Tensor tensor(dtype, shape);
  EXPECT_EQ(static_cast<size_t>(tensor.elements()), values.size());
  EXPECT_EQ(dtype_size(dtype), sizeof(T));
  std::memcpy(tensor.mutable_raw(), values.data(), values.size() * sizeof(T));
  return tensor;
}

uint32_t float_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

// Attribute values equal, floats compared bit for bit (NaN, -0 and denormals must survive).
void expect_same_attribute(const AttributeValue& a, const AttributeValue& b, const std::string& what) {
  ASSERT_EQ(a.index(), b.index()) << what;
  if (const float* fa = std::get_if<float>(&a)) {
    EXPECT_EQ(float_bits(*fa), float_bits(std::get<float>(b))) << what;
  } else if (const auto* va = std::get_if<std::vector<float>>(&a)) {
    const auto& vb = std::get<std::vector<float>>(b);
    ASSERT_EQ(va->size(), vb.size()) << what;
    for (size_t i = 0; i < va->size(); ++i) EXPECT_EQ(float_bits((*va)[i]), float_bits(vb[i])) << what << "[" << i << "]";
  } else {
    EXPECT_TRUE(a == b) << what;
  }
}

void expect_same_graph(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node& na = a.nodes[i];
    const Node& nb = b.nodes[i];
    EXPECT_EQ(na.name, nb.name);
    EXPECT_EQ(na.op, nb.op);
    EXPECT_EQ(na.inputs, nb.inputs) << na.label();
    EXPECT_EQ(na.outputs, nb.outputs) << na.label();
    ASSERT_EQ(na.attrs.all().size(), nb.attrs.all().size()) << na.label();
    for (const auto& [name, value] : na.attrs.all()) {
      ASSERT_TRUE(nb.attrs.has(name)) << na.label() << " lost attribute " << name;
      expect_same_attribute(value, nb.attrs.all().at(name), na.label() + " " + name);
    }
  }
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (const auto& [name, ta] : a.initializers) {
    const Tensor* tb = b.initializer(name);
    ASSERT_NE(tb, nullptr) << name;
    EXPECT_EQ(ta.dtype(), tb->dtype()) << name;
    EXPECT_EQ(ta.shape(), tb->shape()) << name;
    ASSERT_EQ(ta.bytes(), tb->bytes()) << name;
    if (ta.bytes()) {
      EXPECT_EQ(std::memcmp(ta.raw(), tb->raw(), ta.bytes()), 0) << name << " bytes differ";
    }
  }
  EXPECT_EQ(a.quant.size(), b.quant.size());
  for (const auto& [name, q] : a.quant) {
    ASSERT_TRUE(b.quant.count(name)) << name;
    EXPECT_TRUE(q == b.quant.at(name)) << name;
  }
  ASSERT_EQ(a.values.size(), b.values.size());
  for (const auto& [name, info] : a.values) {
    ASSERT_TRUE(b.values.count(name)) << name;
    EXPECT_EQ(info.dtype, b.values.at(name).dtype) << name;
    EXPECT_EQ(info.shape, b.values.at(name).shape) << name;
  }
}

// Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm, fp32, random weights.
Graph fp32_graph() {
  GraphBuilder b("fp32_net", 7);
  b.input("x", {2, 1, 6, 6});
  b.conv("conv", "x", "c", 1, 4, 3, true,
         {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"strides", std::vector<int64_t>{1, 1}},
          {"kernel_shape", std::vector<int64_t>{3, 3}}, {"dilations", std::vector<int64_t>{1, 1}}});
  b.node("Relu", "relu", {"c"}, {"r"});
  b.node("GlobalAveragePool", "gap", {"r"}, {"p"});
  b.node("Flatten", "flatten", {"p"}, {"f"}, {{"axis", int64_t{1}}});
  b.random_constant("fc.w", {3, 4});
  b.random_constant("fc.b", {3});
  b.node("Gemm", "fc", {"f", "fc.w", "fc.b"}, {"y"},
         {{"alpha", 1.0f}, {"beta", 1.0f}, {"transB", int64_t{1}}});
  b.output("y");
  Graph graph = b.build();
  graph.infer_shapes();
  return graph;
}

// The small model the truncation and byte-flip tests corrupt: the fp32 net plus quantization
// parameters and metadata, so that every section of the file is exercised.
Graph small_model() {
  Graph graph = fp32_graph();
  graph.quant["conv.w"] = QuantParams{{0.01f, 0.02f, 0.03f, 0.04f}, {0, 0, 0, 0}, 0};
  graph.quant["r"] = QuantParams{{0.05f}, {-128}, -1};
  graph.metadata["producer"] = "octet tests";
  graph.metadata["scheme"] = "int8";
  return graph;
}

// Every dtype, every attribute kind, per-tensor and per-channel quant, metadata; valid under
// infer_shapes(). Int8 tensors that no float op accepts yet are stored as plain initializers
// (consumed by nothing) or passed through Identity / MaxPool, which accept any dtype.
Graph int8_graph() {
  GraphBuilder b("int8_net", 11);
  b.input("x", {1, 2, 4, 4});
  b.input("xq", {1, 2, 4, 4}, DType::i8);
  b.conv("conv", "x", "c", 2, 4, 3, true,
         {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"auto_pad", std::string("NOTSET")},
          {"group", int64_t{1}}, {"activation_min", -0.0f}, {"activation_max", 6.0f}});
  b.constant("shape", test::int64_tensor({1, -1}));
  b.node("Reshape", "reshape", {"c", "shape"}, {"r"});
  b.random_constant("fc.w", {64, 5});
  b.node("Gemm", "fc", {"r", "fc.w"}, {"y"},
         {{"alpha", 0.5f}, {"beta", 1e-45f}, {"transA", int64_t{0}}});
  b.node("MaxPool", "pool", {"xq"}, {"yq"},
         {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  std::vector<int8_t> wq(4 * 2 * 3 * 3);
  for (size_t i = 0; i < wq.size(); ++i) wq[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  wq[0] = -128;
  wq[1] = 127;
  b.constant("conv.wq", typed_tensor<int8_t>(DType::i8, {4, 2, 3, 3}, wq));
  b.constant("conv.bq", typed_tensor<int32_t>(DType::i32, {4}, {std::numeric_limits<int32_t>::min(), -1, 0,
                                                                 std::numeric_limits<int32_t>::max()}));
  std::vector<uint8_t> lut(256);
  for (size_t i = 0; i < lut.size(); ++i) lut[i] = static_cast<uint8_t>(255 - i);
  b.constant("lut", typed_tensor<uint8_t>(DType::u8, {256}, lut));
  b.node("Identity", "lut_copy", {"lut"}, {"lut_out"},
         {{"calibration", std::vector<float>{1.5f, -0.0f, 1e-45f, std::numeric_limits<float>::infinity(),
                                             std::numeric_limits<float>::quiet_NaN()}},
          {"note", std::string("multi\nline \xc3\xa9 text")},
          {"empty_ints", std::vector<int64_t>{}},
          {"limits", std::vector<int64_t>{std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}}});
  b.constant("big64", typed_tensor<int64_t>(DType::i64, {2, 2}, {std::numeric_limits<int64_t>::min(), -1, 0,
                                                                  std::numeric_limits<int64_t>::max()}));
  b.constant("empty", Tensor(DType::f32, {0, 3}));
  b.constant("scalar", test::scalar_tensor(-2.5f));
  b.output("y");
  b.output("yq");
  b.output("lut_out");
  Graph graph = b.build();
  graph.quant["conv.wq"] = QuantParams{{0.1f, 0.2f, 0.3f, 0.4f}, {0, 0, 0, 0}, 0};
  graph.quant["conv.bq"] = QuantParams{{1e-4f, 2e-4f, 3e-4f, 4e-4f}, {0, 0, 0, 0}, 0};
  graph.quant["xq"] = QuantParams{{0.0125f}, {-7}, -1};
  graph.quant["yq"] = QuantParams{{0.0125f}, {-7}, -1};
  graph.quant["lut"] = QuantParams{{3.0f}, {128}, -1};
  graph.metadata["producer"] = "octet tests";
  graph.metadata["quantization"] = "per_channel weights, asymmetric activations";
  graph.metadata["empty"] = "";
  graph.metadata[std::string("nul\0key", 7)] = std::string("nul\0value", 9);
  graph.infer_shapes();
  return graph;
}

std::vector<Tensor> run(const Graph& graph, const std::vector<Tensor>& inputs) {
  Session session(Model::from_graph(graph));
  return session.run(inputs);
}

// A graph that loaded from (possibly corrupted) bytes must be fully usable: shapes infer again,
// tensors lie inside `buffer`, aligned, qparams are sane, and it saves and reloads identically.
void expect_valid_loaded(const Graph& graph, const uint8_t* buffer, size_t size) {
  Graph copy = graph;
  ASSERT_NO_THROW(copy.infer_shapes());
  for (const auto& [name, tensor] : graph.initializers) {
    const auto* p = static_cast<const uint8_t*>(tensor.raw());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << name;
    EXPECT_TRUE(p >= buffer && p <= buffer + size && tensor.bytes() <= static_cast<size_t>(buffer + size - p))
        << name << " points outside the loaded buffer";
  }
  for (const auto& [name, q] : graph.quant) {
    ASSERT_FALSE(q.scales.empty()) << name;
    EXPECT_EQ(q.scales.size(), q.zero_points.size()) << name;
    for (float s : q.scales) EXPECT_TRUE(std::isfinite(s) && s > 0) << name;
  }
  AlignedBytes again(serialize_model(graph));
  Graph reloaded = again.load();
  expect_same_graph(graph, reloaded);
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(ModelFile, Fp32RoundTripKeepsEveryFieldAndInferenceIsBitIdentical) {
  const Graph original = fp32_graph();
  AlignedBytes bytes(serialize_model(original));
  const Graph loaded = bytes.load();
  expect_same_graph(original, loaded);

  std::mt19937 rng(99);
  const Tensor x = test::random_tensor({2, 1, 6, 6}, rng);
  const std::vector<Tensor> before = run(original, {x});
  const std::vector<Tensor> after = run(loaded, {x});
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].shape(), (Shape{2, 3}));
  test::expect_identical(after[0], before[0], "output after round trip");
}

TEST(ModelFile, Fp32RoundTripThroughAFileIsBitIdentical) {
  TempDir dir;
  const Graph original = fp32_graph();
  save_model_file(original, dir.file("net.oct"));
  EXPECT_TRUE(is_model_file(dir.file("net.oct")));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"net.oct"});  // no temporary left behind
  const Graph loaded = load_model_file(dir.file("net.oct"));
  expect_same_graph(original, loaded);
  std::mt19937 rng(5);
  const Tensor x = test::random_tensor({2, 1, 6, 6}, rng);
  test::expect_identical(run(loaded, {x})[0], run(original, {x})[0], "file round trip");
}

TEST(ModelFile, Int8GraphRoundTripKeepsEveryDtypeAttributeQuantAndMetadata) {
  const Graph original = int8_graph();
  AlignedBytes bytes(serialize_model(original));
  const Graph loaded = bytes.load();
  expect_same_graph(original, loaded);

  // Spot checks of exact values, independent of the comparison helper.
  EXPECT_EQ(loaded.name, "int8_net");
  EXPECT_EQ(loaded.initializer("conv.wq")->dtype(), DType::i8);
  EXPECT_EQ(loaded.initializer("conv.wq")->data<int8_t>()[0], -128);
  EXPECT_EQ(loaded.initializer("conv.wq")->data<int8_t>()[1], 127);
  EXPECT_EQ(loaded.initializer("conv.bq")->data<int32_t>()[0], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(loaded.initializer("lut")->dtype(), DType::u8);
  EXPECT_EQ(loaded.initializer("lut")->data<uint8_t>()[0], 255);
  EXPECT_EQ(loaded.initializer("big64")->data<int64_t>()[3], std::numeric_limits<int64_t>::max());
  EXPECT_EQ(loaded.initializer("shape")->data<int64_t>()[1], -1);
  EXPECT_EQ(loaded.initializer("empty")->shape(), (Shape{0, 3}));
  EXPECT_EQ(loaded.initializer("empty")->bytes(), 0u);
  EXPECT_EQ(loaded.initializer("scalar")->shape(), Shape{});
  EXPECT_EQ(loaded.initializer("scalar")->data<float>()[0], -2.5f);
  EXPECT_EQ(loaded.quant.at("conv.wq").axis, 0);
  EXPECT_EQ(loaded.quant.at("conv.wq").scales, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(loaded.quant.at("xq").zero_points, std::vector<int32_t>{-7});
  EXPECT_EQ(loaded.quant.at("xq").axis, -1);
  EXPECT_EQ(loaded.metadata.at(std::string("nul\0key", 7)), std::string("nul\0value", 9));
  EXPECT_EQ(loaded.metadata.at("empty"), "");
  EXPECT_EQ(loaded.values.at("xq").dtype, DType::i8);
  EXPECT_EQ(loaded.values.at("yq").shape, (Shape{1, 2, 2, 2}));
  const Node* identity = test::find_node(loaded, "lut_copy");
  ASSERT_NE(identity, nullptr);
  EXPECT_EQ(identity->attrs.get_string("note", ""), "multi\nline \xc3\xa9 text");
  EXPECT_EQ(identity->attrs.get_ints("limits"),
            (std::vector<int64_t>{std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}));
  EXPECT_TRUE(std::isnan(identity->attrs.get_floats("calibration")[4]));
  EXPECT_TRUE(std::get<std::vector<int64_t>>(identity->attrs.all().at("empty_ints")).empty());
  const Node* conv = test::find_node(loaded, "conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_TRUE(std::signbit(conv->attrs.get_float("activation_min", 1.0f)));
  EXPECT_EQ(conv->attrs.get_string("auto_pad", ""), "NOTSET");
}

// Resize keeps ONNX's scales/sizes as float/int lists and its modes as strings: an fp32 graph
// and an int8 one (codes copied, the output sharing the input's qparams) round-trip and run
// bit-identically.
TEST(ModelFile, ResizeRoundTripsInFp32AndInt8) {
  for (DType dtype : {DType::f32, DType::i8}) {
    GraphBuilder b("resize");
    b.input("x", {1, 2, 3, 5}, dtype);
    b.node("Resize", "up", {"x"}, {"u"},
           {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
            {"nearest_mode", std::string("floor")}, {"scales", std::vector<float>{1, 1, 2, 0.6f}}});
    b.node("Resize", "fit", {"u"}, {"y"},
           {{"coordinate_transformation_mode", std::string("pytorch_half_pixel")},
            {"nearest_mode", std::string("round_prefer_ceil")}, {"sizes", std::vector<int64_t>{1, 2, 7, 2}}});
    b.output("y");
    Graph original = b.build();
    if (dtype == DType::i8)
      for (const char* value : {"x", "u", "y"}) original.quant[value] = QuantParams{{0.037f}, {-5}, -1};
    original.infer_shapes();
    AlignedBytes bytes(serialize_model(original));
    const Graph loaded = bytes.load();
    expect_same_graph(original, loaded);
    const Node* up = test::find_node(loaded, "up");
    ASSERT_NE(up, nullptr);
    EXPECT_EQ(float_bits(up->attrs.get_floats("scales")[3]), float_bits(0.6f));
    EXPECT_EQ(test::find_node(loaded, "fit")->attrs.get_ints("sizes"), (std::vector<int64_t>{1, 2, 7, 2}));
    EXPECT_EQ(loaded.value_info("u").shape, (Shape{1, 2, 6, 3}));
    EXPECT_EQ(loaded.value_info("y").dtype, dtype);

    Tensor x(dtype, {1, 2, 3, 5});
    for (int64_t i = 0; i < x.elements(); ++i) {
      if (dtype == DType::f32) x.mutable_data<float>()[i] = 0.25f * static_cast<float>(i) - 3.0f;
      else x.mutable_data<int8_t>()[i] = static_cast<int8_t>(7 * i - 100);
    }
    const Tensor before = run(original, {x})[0];
    const Tensor after = run(loaded, {x})[0];
    ASSERT_EQ(after.shape(), (Shape{1, 2, 7, 2}));
    ASSERT_EQ(after.bytes(), before.bytes());
    EXPECT_EQ(std::memcmp(after.raw(), before.raw(), after.bytes()), 0) << dtype_name(dtype);
  }
}

TEST(ModelFile, OutputIsDeterministic) {
  const std::vector<uint8_t> first = serialize_model(int8_graph());
  EXPECT_EQ(serialize_model(int8_graph()), first);
  AlignedBytes bytes(first);
  EXPECT_EQ(serialize_model(bytes.load()), first) << "load + save must give the same bytes";
  TempDir dir;
  save_model_file(int8_graph(), dir.file("a.oct"));
  EXPECT_EQ(read_bytes(dir.file("a.oct")), first);
}

TEST(ModelFile, HeaderLayout) {
  const std::vector<uint8_t> bytes = serialize_model(fp32_graph());
  ASSERT_GE(bytes.size(), kModelFileHeaderSize);
  EXPECT_EQ(std::memcmp(bytes.data(), "OCTETMDL", 8), 0);
  EXPECT_EQ(get_u64(bytes, 8) & 0xffffffffu, kModelFileVersion);
  EXPECT_EQ(get_u64(bytes, 8) >> 32, kModelFileHeaderSize);
  EXPECT_EQ(get_u64(bytes, 16), kModelFileHeaderSize);              // graph offset
  EXPECT_EQ(get_u64(bytes, 32) % 64, 0u);                           // weights offset
  EXPECT_GE(get_u64(bytes, 32), get_u64(bytes, 16) + get_u64(bytes, 24));
  EXPECT_EQ(get_u64(bytes, 32) + get_u64(bytes, 40), bytes.size());  // weights end the file
  EXPECT_EQ(get_u64(bytes, 48), bytes.size());
  EXPECT_EQ(get_u64(bytes, 56), 0u);                                // flags, reserved
  EXPECT_EQ(std::memcmp(bytes.data() + 64 + 4, "OCTM", 4), 0);      // FlatBuffers identifier
}

// ---------------------------------------------------------------------------------------------
// Zero copy

// The mapping of /proc/self/maps that contains `p`: its file path, or "" if none.
std::string mapping_of(const void* p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto address = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, device, inode, path;
    fields >> range >> perms >> offset >> device >> inode;
    std::getline(fields >> std::ws, path);
    const size_t dash = range.find('-');
    const uintptr_t begin = std::stoull(range.substr(0, dash), nullptr, 16);
    const uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (address >= begin && address < end) return path.empty() ? "[anonymous]" : path;
  }
  return {};
}

TEST(ModelFile, LoadedInitializersPointIntoTheMappedFileAligned) {
  TempDir dir;
  const std::string path = dir.file("zero_copy.oct");
  save_model_file(int8_graph(), path);
  char real[PATH_MAX];
  ASSERT_NE(::realpath(path.c_str(), real), nullptr);
  Tensor survivor;
  {
    const Graph loaded = load_model_file(path);
    ASSERT_FALSE(loaded.initializers.empty());
    for (const auto& [name, tensor] : loaded.initializers) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor.raw()) % 64, 0u) << name;
      if (tensor.bytes() > 0) {
        EXPECT_EQ(mapping_of(tensor.raw()), real) << name << " is not in the mapped file";
      }
    }
    // Read-only: the bytes belong to the file.
    Tensor w = loaded.initializers.at("conv.w");
    EXPECT_THROW(w.mutable_raw(), Error);
    survivor = loaded.initializers.at("lut");
  }
  // The graph is gone; the mapping lives as long as one tensor shares it.
  EXPECT_EQ(mapping_of(survivor.raw()), real);
  EXPECT_EQ(survivor.data<uint8_t>()[0], 255);
  const void* address = survivor.raw();
  survivor = Tensor();
  EXPECT_NE(mapping_of(address), std::string(real)) << "the file stays mapped after the last tensor went";
}

TEST(ModelFile, AlignedBufferIsSharedAndUnalignedBufferIsCopied) {
  const std::vector<uint8_t> serialized = serialize_model(int8_graph());
  AlignedBytes aligned(serialized);
  const long owners_before = aligned.data.use_count();
  {
    const Graph loaded = aligned.load();
    EXPECT_GT(aligned.data.use_count(), owners_before) << "tensors must share the caller's owner";
    for (const auto& [name, tensor] : loaded.initializers) {
      const auto* p = static_cast<const uint8_t*>(tensor.raw());
      EXPECT_TRUE(p >= aligned.data.get() && p <= aligned.data.get() + aligned.size) << name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << name;
    }
  }
  EXPECT_EQ(aligned.data.use_count(), owners_before);

  // One byte off alignment: the loader copies into its own aligned buffer.
  std::shared_ptr<uint8_t> storage = allocate_aligned(serialized.size() + 64);
  uint8_t* odd = storage.get() + 1;
  std::memcpy(odd, serialized.data(), serialized.size());
  const long storage_owners = storage.use_count();
  const Graph copied = load_model_buffer(odd, serialized.size(), storage);
  EXPECT_EQ(storage.use_count(), storage_owners) << "a copied buffer must not retain the caller's owner";
  for (const auto& [name, tensor] : copied.initializers) {
    const auto* p = static_cast<const uint8_t*>(tensor.raw());
    EXPECT_FALSE(p >= storage.get() && p < storage.get() + serialized.size() + 64) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << name;
  }
  expect_same_graph(int8_graph(), copied);
  // Straight from the std::vector, whatever its alignment.
  expect_same_graph(int8_graph(), load_model_buffer(serialized.data(), serialized.size(), nullptr));
}

// ---------------------------------------------------------------------------------------------
// Malformed files

TEST(ModelFile, EveryTruncationIsAnError) {
  const std::vector<uint8_t> bytes = serialize_model(small_model());
  AlignedBytes aligned(bytes);
  ASSERT_NO_THROW(aligned.load());
  for (size_t length = 0; length < bytes.size(); ++length) {
    try {
      aligned.load(length);
      ADD_FAILURE() << "a file truncated to " << length << " of " << bytes.size() << " bytes loaded";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind("test.oct: ", 0), 0u) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  // A few truncated files on disk, through mmap.
  TempDir dir;
  for (size_t length : {size_t{0}, size_t{7}, size_t{63}, bytes.size() / 2, bytes.size() - 1}) {
    write_bytes(dir.file("cut.oct"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(length)));
    const std::string message = error_message([&] { load_model_file(dir.file("cut.oct")); });
    OCTET_EXPECT_CONTAINS(message, dir.file("cut.oct"));
  }
}

// Loads `bytes`; counts octet::Error, checks any successful load is a valid graph. Anything else
// (another exception type, a crash, a sanitizer report) fails the test.
void load_corrupted(const std::vector<uint8_t>& bytes, int& errors, int& loads, const std::string& what) {
  AlignedBytes aligned(bytes);
  try {
    const Graph graph = aligned.load();
    ++loads;
    expect_valid_loaded(graph, aligned.data.get(), aligned.size);
  } catch (const Error& e) {
    ++errors;
    const std::string message = e.what();
    if (message.find('\n') != std::string::npos) ADD_FAILURE() << what << ": multi-line message " << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": unexpected exception type: " << e.what();
  }
}

TEST(ModelFile, RandomByteFlipsNeverCrash) {
  const std::vector<uint8_t> original = serialize_model(small_model());
  const size_t graph_end = static_cast<size_t>(get_u64(original, 16) + get_u64(original, 24));
  std::mt19937 rng(20240601);
  int errors = 0, loads = 0;
  auto position = [&](size_t begin, size_t end) {
    return std::uniform_int_distribution<size_t>(begin, end - 1)(rng);
  };
  auto flip = [&](std::vector<uint8_t>& bytes, size_t at) {
    bytes[at] ^= static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
  };
  // Single bytes anywhere, then concentrated on the header and FlatBuffer (the weight blob
  // accepts any bytes).
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes = original;
    const size_t at = position(0, bytes.size());
    flip(bytes, at);
    load_corrupted(bytes, errors, loads, "flip at " + std::to_string(at));
  }
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes = original;
    const size_t at = position(0, graph_end);
    flip(bytes, at);
    load_corrupted(bytes, errors, loads, "flip at " + std::to_string(at));
  }
  // Every bit of the FlatBuffer, one at a time.
  for (size_t at = kModelFileHeaderSize; at < graph_end; ++at) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::vector<uint8_t> bytes = original;
      bytes[at] ^= static_cast<uint8_t>(1u << bit);
      load_corrupted(bytes, errors, loads, "bit " + std::to_string(bit) + " of byte " + std::to_string(at));
    }
  }
  // Several bytes at once, and runs of 0x00 / 0xff (typical damage).
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes = original;
    const int count = std::uniform_int_distribution<int>(2, 8)(rng);
    for (int k = 0; k < count; ++k) flip(bytes, position(0, graph_end));
    load_corrupted(bytes, errors, loads, "multi-byte flip " + std::to_string(i));
  }
  for (int i = 0; i < 500; ++i) {
    std::vector<uint8_t> bytes = original;
    const size_t at = position(0, bytes.size());
    const size_t run = std::min(bytes.size() - at, std::uniform_int_distribution<size_t>(2, 16)(rng));
    std::memset(bytes.data() + at, i % 2 ? 0xff : 0x00, run);
    load_corrupted(bytes, errors, loads, "run at " + std::to_string(at));
  }
  EXPECT_GT(errors, 1000);
  EXPECT_GT(loads, 100);  // flips in weights, names and float values load fine
}

TEST(ModelFile, WrongMagicIsNotAModelFile) {
  std::vector<uint8_t> bytes = serialize_model(fp32_graph());
  bytes[0] = 'X';
  const std::string message = error_message([&] { AlignedBytes(bytes).load(); });
  OCTET_EXPECT_CONTAINS(message, "test.oct: not an Octet model file");
  TempDir dir;
  write_bytes(dir.file("bad.oct"), bytes);
  EXPECT_FALSE(is_model_file(dir.file("bad.oct")));
  OCTET_EXPECT_CONTAINS(error_message([&] { load_model_file(dir.file("bad.oct")); }), "not an Octet model file");
  const std::string text = "name,value\nx,1\n";
  write_bytes(dir.file("data.csv"), std::vector<uint8_t>(text.begin(), text.end()));
  OCTET_EXPECT_CONTAINS(error_message([&] { load_model_file(dir.file("data.csv")); }), "not an Octet model file");
  write_bytes(dir.file("empty.oct"), {});
  OCTET_EXPECT_CONTAINS(error_message([&] { load_model_file(dir.file("empty.oct")); }), "not an Octet model file");
  EXPECT_FALSE(is_model_file(dir.file("empty.oct")));
}

TEST(ModelFile, FutureVersionNamesBothVersions) {
  std::vector<uint8_t> bytes = serialize_model(fp32_graph());
  put_u32(bytes, 8, 7);
  const std::string message = error_message([&] { AlignedBytes(bytes).load(); });
  OCTET_EXPECT_CONTAINS(message, "test.oct: ");
  OCTET_EXPECT_CONTAINS(message, "version 7");
  OCTET_EXPECT_CONTAINS(message, "version 1");
  put_u32(bytes, 8, 0);
  OCTET_EXPECT_CONTAINS(error_message([&] { AlignedBytes(bytes).load(); }), "version 0");
}

TEST(ModelFile, NonExistentFileDirectoryAndFifo) {
  TempDir dir;
  const std::string missing = dir.file("missing.oct");
  std::string message = error_message([&] { load_model_file(missing); });
  OCTET_EXPECT_CONTAINS(message, missing);
  OCTET_EXPECT_CONTAINS(message, "No such file");
  EXPECT_FALSE(is_model_file(missing));
  message = error_message([&] { load_model_file(dir.path()); });
  OCTET_EXPECT_CONTAINS(message, dir.path());
  OCTET_EXPECT_CONTAINS(message, "directory");
  EXPECT_FALSE(is_model_file(dir.path()));
  // A FIFO must be refused, not block waiting for a writer.
  ASSERT_EQ(::mkfifo(dir.file("pipe.oct").c_str(), 0600), 0);
  OCTET_EXPECT_CONTAINS(error_message([&] { load_model_file(dir.file("pipe.oct")); }), "not a regular file");
  EXPECT_FALSE(is_model_file(dir.file("pipe.oct")));
}

TEST(ModelFile, SaveIntoMissingDirectoryFailsWithoutLeftovers) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/model.oct");
  const std::string message = error_message([&] { save_model_file(fp32_graph(), path); });
  OCTET_EXPECT_CONTAINS(message, path);
  EXPECT_TRUE(dir.entries().empty());
  // rename() fails (the target is a directory) after the temporary was written: it is removed.
  ASSERT_EQ(::mkdir(dir.file("taken.oct").c_str(), 0755), 0);
  OCTET_EXPECT_CONTAINS(error_message([&] { save_model_file(fp32_graph(), dir.file("taken.oct")); }),
                        "taken.oct");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken.oct"});
  ::rmdir(dir.file("taken.oct").c_str());
}

TEST(ModelFile, SaveReplacesAtomicallyAndLoadedGraphsSurvive) {
  TempDir dir;
  const std::string path = dir.file("model.oct");
  save_model_file(int8_graph(), path);
  const Graph old_graph = load_model_file(path);
  save_model_file(fp32_graph(), path);  // replaces the file while `old_graph` maps the old one
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.oct"});
  expect_same_graph(int8_graph(), old_graph);
  expect_same_graph(fp32_graph(), load_model_file(path));
}

TEST(ModelFile, SaveRefusesWhatTheLoaderWouldRefuse) {
  TempDir dir;
  Graph graph = fp32_graph();
  graph.nodes[0].attrs.set("group", int64_t{1} << 40);
  OCTET_EXPECT_CONTAINS(error_message([&] { save_model_file(graph, dir.file("a.oct")); }), "int32 range");
  graph = fp32_graph();
  graph.quant["c"] = QuantParams{{0.0f}, {0}, -1};
  OCTET_EXPECT_CONTAINS(error_message([&] { serialize_model(graph); }), "finite and positive");
  graph = fp32_graph();
  graph.quant["c"] = QuantParams{{1.0f, 2.0f}, {0}, 1};
  OCTET_EXPECT_CONTAINS(error_message([&] { serialize_model(graph); }), "zero points");
  graph = fp32_graph();
  graph.initializers["hollow"] = Tensor();
  OCTET_EXPECT_CONTAINS(error_message([&] { serialize_model(graph); }), "'hollow' holds no data");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ModelFile, InvalidGraphIsReportedWithTheFileName) {
  Graph graph = fp32_graph();
  graph.nodes[1].inputs[0] = "nowhere";  // dangling edge: saved as is, refused at load
  TempDir dir;
  save_model_file(graph, dir.file("dangling.oct"));
  const std::string message = error_message([&] { load_model_file(dir.file("dangling.oct")); });
  OCTET_EXPECT_CONTAINS(message, dir.file("dangling.oct") + ": invalid graph: ");
  OCTET_EXPECT_CONTAINS(message, "nowhere");
}

// ---------------------------------------------------------------------------------------------
// Hand-crafted files: a FlatBuffer built here, field by field, so each test breaks one rule the
// writer would never break.

struct RawAttribute {
  std::string name;
  uint8_t kind = 0;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};
struct RawNode {
  std::string name, op;
  std::vector<std::string> inputs, outputs;
  std::vector<RawAttribute> attributes;
};
struct RawInfo {
  std::string name;
  uint8_t dtype = 0;
  std::vector<int64_t> shape;
};
struct RawInitializer {
  std::string name;
  uint8_t dtype = 0;
  std::vector<int64_t> shape;
  uint64_t offset = 0, size = 0;
};
struct RawQuant {
  std::string value;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  int32_t axis = -1;
};
struct RawModel {
  std::vector<RawNode> nodes;
  std::vector<std::string> inputs, outputs;
  std::vector<RawInfo> infos;
  std::vector<RawInitializer> initializers;
  std::vector<RawQuant> quant;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<uint8_t> blob;
};

// x[1,4] + w[4] -> y, Relu -> z, with quant and metadata: loads as is.
RawModel valid_raw() {
  RawModel m;
  m.inputs = {"x"};
  m.outputs = {"z"};
  m.infos = {{"x", 0, {1, 4}}};
  m.initializers = {{"w", 0, {4}, 0, 16}};
  m.blob.assign(16, 0);
  m.nodes = {{"add", "Add", {"x", "w"}, {"y"}, {}},
             {"relu", "Relu", {"y"}, {"z"}, {{"note", 2, 0, 0, "hi", {}, {}}}}};
  m.quant = {{"y", {0.5f}, {3}, -1}, {"w", {1.f, 2.f, 3.f, 4.f}, {0, 0, 0, 0}, 0}};
  m.metadata = {{"k", "v"}};
  return m;
}

// Header + FlatBuffer + weight blob, as the writer lays them out.
std::vector<uint8_t> wrap_flatbuffer(const flatbuffers::FlatBufferBuilder& fbb, const std::vector<uint8_t>& blob) {
  const uint64_t graph_size = fbb.GetSize();
  const uint64_t weights_offset = (64 + graph_size + 63) / 64 * 64;
  std::vector<uint8_t> bytes(static_cast<size_t>(weights_offset) + blob.size(), 0);
  std::memcpy(bytes.data(), "OCTETMDL", 8);
  put_u32(bytes, 8, 1);
  put_u32(bytes, 12, 64);
  put_u64(bytes, 16, 64);
  put_u64(bytes, 24, graph_size);
  put_u64(bytes, 32, weights_offset);
  put_u64(bytes, 40, blob.size());
  put_u64(bytes, 48, bytes.size());
  std::memcpy(bytes.data() + 64, fbb.GetBufferPointer(), static_cast<size_t>(graph_size));
  if (!blob.empty()) std::memcpy(bytes.data() + weights_offset, blob.data(), blob.size());
  return bytes;
}

std::vector<uint8_t> assemble(const RawModel& m) {
  flatbuffers::FlatBufferBuilder fbb;
  auto strings = [&](const std::vector<std::string>& texts) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> offsets;
    for (const auto& t : texts) offsets.push_back(fbb.CreateString(t));
    return fbb.CreateVector(offsets);
  };
  std::vector<flatbuffers::Offset<fb::Node>> nodes;
  for (const auto& n : m.nodes) {
    std::vector<flatbuffers::Offset<fb::Attribute>> attributes;
    for (const auto& a : n.attributes)
      attributes.push_back(fb::CreateAttribute(fbb, fbb.CreateString(a.name), static_cast<fb::AttributeKind>(a.kind),
                                               a.i, a.f, fbb.CreateString(a.s), fbb.CreateVector(a.ints),
                                               fbb.CreateVector(a.floats)));
    nodes.push_back(fb::CreateNode(fbb, fbb.CreateString(n.name), fbb.CreateString(n.op), strings(n.inputs),
                                   strings(n.outputs), fbb.CreateVector(attributes)));
  }
  std::vector<flatbuffers::Offset<fb::ValueInfo>> infos;
  for (const auto& v : m.infos)
    infos.push_back(fb::CreateValueInfo(fbb, fbb.CreateString(v.name), static_cast<fb::DType>(v.dtype),
                                        fbb.CreateVector(v.shape)));
  std::vector<flatbuffers::Offset<fb::Initializer>> initializers;
  for (const auto& t : m.initializers)
    initializers.push_back(fb::CreateInitializer(fbb, fbb.CreateString(t.name), static_cast<fb::DType>(t.dtype),
                                                 fbb.CreateVector(t.shape), t.offset, t.size));
  std::vector<flatbuffers::Offset<fb::QuantEntry>> quant;
  for (const auto& q : m.quant)
    quant.push_back(fb::CreateQuantEntry(fbb, fbb.CreateString(q.value), fbb.CreateVector(q.scales),
                                         fbb.CreateVector(q.zero_points), q.axis));
  std::vector<flatbuffers::Offset<fb::MetadataEntry>> metadata;
  for (const auto& [k, v] : m.metadata)
    metadata.push_back(fb::CreateMetadataEntry(fbb, fbb.CreateString(k), fbb.CreateString(v)));
  const auto root = fb::CreateModel(fbb, fbb.CreateString("crafted"), fbb.CreateVector(nodes), strings(m.inputs),
                                    strings(m.outputs), fbb.CreateVector(infos), fbb.CreateVector(initializers),
                                    fbb.CreateVector(quant), fbb.CreateVector(metadata));
  fb::FinishModelBuffer(fbb, root);
  return wrap_flatbuffer(fbb, m.blob);
}

std::string crafted_error(const std::function<void(RawModel&)>& change) {
  RawModel m = valid_raw();
  change(m);
  return error_message([&] { AlignedBytes(assemble(m)).load(); });
}

TEST(ModelFileCrafted, TheBaselineLoads) {
  const Graph graph = AlignedBytes(assemble(valid_raw())).load();
  EXPECT_EQ(graph.name, "crafted");
  EXPECT_EQ(graph.values.at("z").shape, (Shape{1, 4}));
  EXPECT_EQ(graph.quant.at("w").scales.size(), 4u);
}

TEST(ModelFileCrafted, TensorRangeAndSizeRules) {
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].offset = 8; }), "not a multiple of 64");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].offset = 64; }),
                        "outside the weight section");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].size = 17; }),
                        "outside the weight section");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].size = 12; }), "the file stores 12");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].offset = ~uint64_t{63}; }),
                        "outside the weight section");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].size = ~uint64_t{0}; }),
                        "outside the weight section");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].dtype = 5; }), "invalid dtype 5");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].shape = {-4}; }), "negative dimension");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].shape = {int64_t{1} << 31}; }),
                        "dimension above");
  // Element count x dtype size overflowing 64 bits must not wrap around to the stored size.
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.initializers[0].dtype = 4;
                          m.initializers[0].shape = {int64_t{1} << 30, int64_t{1} << 30, 1 << 2};
                        }),
                        "needs");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.initializers[0].shape = {2147483647, 2147483647, 2147483647};
                        }),
                        "too many elements");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers.push_back(m.initializers[0]); }),
                        "stored twice");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.initializers[0].name = ""; }), "empty name");
}

TEST(ModelFileCrafted, ValueInfoRules) {
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.infos[0].dtype = 200; }), "invalid dtype 200");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.infos[0].shape = {1, -1}; }), "negative dimension");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.infos.push_back({"q", 0, {1}}); }), "not a graph input");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.infos.push_back(m.infos[0]); }), "two types");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.infos.clear(); }), "no declared type");
}

TEST(ModelFileCrafted, QuantRules) {
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant[0].scales = {-1.0f}; }), "finite and positive");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant[0].scales = {std::nanf("")}; }),
                        "finite and positive");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.quant[0].scales = {std::numeric_limits<float>::infinity()};
                        }),
                        "finite and positive");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant[0].scales = {}; }), "no scales");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant[0].zero_points = {1, 2}; }), "2 zero points for 1");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant[0].axis = -2; }), "invalid axis -2");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant[1].axis = 1; }), "out of range for its shape [4]");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.quant[0].axis = 1;  // y is [1,4]: 4 channels
                          m.quant[0].scales = {1.0f, 2.0f};
                          m.quant[0].zero_points = {0, 0};
                        }),
                        "2 scales for 4 channels");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.quant.push_back(m.quant[0]); }), "stored twice");
  // Parameters of a value the graph does not have are kept (stale but harmless).
  RawModel m = valid_raw();
  m.quant.push_back({"gone", {1.0f, 2.0f}, {0, 0}, 3});
  EXPECT_EQ(AlignedBytes(assemble(m)).load().quant.at("gone").axis, 3);
}

TEST(ModelFileCrafted, NodeAndAttributeRules) {
  std::string message = crafted_error([](RawModel& m) { m.nodes[1].op = "NoSuchOp\n"; });
  OCTET_EXPECT_CONTAINS(message, "unknown op 'NoSuchOp?'");
  EXPECT_EQ(message.find('\n'), std::string::npos);
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.nodes[1].attributes[0].kind = 9; }), "invalid kind 9");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.nodes[1].attributes[0] = {"big", 0, int64_t{1} << 33, 0, "", {}, {}};
                        }),
                        "outside the int32 range");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.nodes[1].attributes[0] = {"list", 3, 0, 0, "", {1, -(int64_t{1} << 40)}, {}};
                        }),
                        "outside the int32 range");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) {
                          m.nodes[1].attributes.push_back(m.nodes[1].attributes[0]);
                        }),
                        "stored twice");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.nodes[1].inputs = {"y", "y"}; }), "invalid graph");
  message = crafted_error([](RawModel& m) { m.nodes[1].inputs = {"line\nbreak"}; });
  OCTET_EXPECT_CONTAINS(message, "invalid graph");
  OCTET_EXPECT_CONTAINS(message, "line?break");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.nodes[0].outputs = {"z"}; }), "invalid graph");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.outputs = {"q"}; }), "never produced");
  OCTET_EXPECT_CONTAINS(crafted_error([](RawModel& m) { m.metadata.push_back({"k", "w"}); }),
                        "metadata key 'k' is stored twice");
}

TEST(ModelFileCrafted, HeaderRules) {
  const std::vector<uint8_t> good = assemble(valid_raw());
  auto header_error = [&](const std::function<void(std::vector<uint8_t>&)>& change) {
    std::vector<uint8_t> bytes = good;
    change(bytes);
    return error_message([&] { AlignedBytes(bytes).load(); });
  };
  const uint64_t size = good.size();
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u32(b, 12, 32); }), "invalid header size 32");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 48, 1u << 20); }), "records 1048576 bytes");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { b.push_back(0); }), "records");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u32(b, 56, 1); }), "unknown header flags");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u32(b, 60, 1); }), "unknown header flags");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 16, 0); }), "graph section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 16, 68); }), "graph section");
  OCTET_EXPECT_CONTAINS(header_error([&](auto& b) { put_u64(b, 24, size); }), "graph section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 24, ~uint64_t{0} - 32); }), "graph section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 16, ~uint64_t{7}); }), "graph section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 32, get_u64(b, 32) + 8); }), "weight section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 32, 64); }), "weight section");  // overlaps graph
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 40, ~uint64_t{0}); }), "weight section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 32, ~uint64_t{63}); }), "weight section");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { put_u64(b, 24, 16); }), "FlatBuffers verification");
  OCTET_EXPECT_CONTAINS(header_error([](auto& b) { b[64 + 4] = 'X'; }), "FlatBuffers verification");
}

// FlatBuffers' Verifier checks vectors for 4-byte alignment only, so the int64 elements of a
// hostile file's shape vector can sit at an address that is 4 mod 8. The loader must read them
// without a misaligned load (UBSan aborts on one) and get the right values. The shape [1,4] of
// input 'x' is planted inside a uint32 vector, at element k for k = 0..3: some of these place
// its int64 payload at an odd multiple of 4.
TEST(ModelFileCrafted, MisalignedInt64VectorIsReadSafely) {
  int misaligned = 0;
  for (uint32_t k = 0; k < 4; ++k) {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<uint32_t> words(k, 0);
    for (uint32_t w : {2u, 1u, 0u, 4u, 0u}) words.push_back(w);  // length 2, int64 1, int64 4
    const auto host = fbb.CreateVector(words);
    const flatbuffers::Offset<flatbuffers::Vector<int64_t>> shape(host.o - 4 - 4 * k);
    const auto name = fbb.CreateString("x");
    const auto info = fb::CreateValueInfo(fbb, name, fb::DType::f32, shape);
    std::vector<flatbuffers::Offset<flatbuffers::String>> ins = {fbb.CreateString("x")};
    std::vector<flatbuffers::Offset<flatbuffers::String>> outs = {fbb.CreateString("y")};
    const auto node = fb::CreateNode(fbb, fbb.CreateString("relu"), fbb.CreateString("Relu"),
                                     fbb.CreateVector(ins), fbb.CreateVector(outs));
    std::vector<flatbuffers::Offset<fb::Node>> nodes = {node};
    std::vector<flatbuffers::Offset<fb::ValueInfo>> infos = {info};
    const auto root = fb::CreateModel(fbb, 0, fbb.CreateVector(nodes), fbb.CreateVector(ins),
                                      fbb.CreateVector(outs), fbb.CreateVector(infos));
    fb::FinishModelBuffer(fbb, root);
    const size_t payload = fbb.GetSize() - host.o + 4 + 4 * (k + 1);  // from the buffer start
    misaligned += payload % 8 != 0;
    const Graph graph = AlignedBytes(wrap_flatbuffer(fbb, {})).load();
    EXPECT_EQ(graph.values.at("x").shape, (Shape{1, 4})) << "k = " << k;
    EXPECT_EQ(graph.values.at("y").shape, (Shape{1, 4})) << "k = " << k;
  }
  EXPECT_GE(misaligned, 1);
}

// Every uoffset-sized word of the FlatBuffer moved by +/-4 (pointers to neighbouring, often
// misaligned, data): an error or a valid load, never a crash.
TEST(ModelFileCrafted, ShiftedOffsetsNeverCrash) {
  const std::vector<uint8_t> bytes = assemble(valid_raw());
  const size_t graph_end = static_cast<size_t>(get_u64(bytes, 16) + get_u64(bytes, 24));
  int errors = 0, loads = 0;
  for (size_t at = kModelFileHeaderSize; at + 4 <= graph_end; at += 4) {
    for (int delta : {-4, 4}) {
      std::vector<uint8_t> changed = bytes;
      uint32_t v = 0;
      for (int i = 3; i >= 0; --i) v = (v << 8) | changed[at + static_cast<size_t>(i)];
      put_u32(changed, at, v + static_cast<uint32_t>(delta));
      load_corrupted(changed, errors, loads, "word at " + std::to_string(at) + " moved by " + std::to_string(delta));
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace octet
