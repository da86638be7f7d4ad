// The .oct model file: writing (deterministic, atomic) and loading (mmap, zero-copy, every byte
// checked before use). Layout and limits are described in graph/model_file.hpp.
#include "graph/model_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <system_error>
#include <type_traits>
#include <utility>

#include "graph/error.hpp"
#include "graph/op_schema.hpp"
#include "graph/schema/octet_model_generated.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .oct weight blob is little-endian; a big-endian host needs byte swapping here"
#endif

namespace octet {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers

constexpr int64_t kMaxDimension = std::numeric_limits<int32_t>::max();
constexpr size_t kGraphAlignment = 8;  // the FlatBuffer's largest scalar
// FlatBuffers buffers must stay below 2 GiB (the Verifier asserts it).
constexpr uint64_t kMaxGraphSize = 0x7fffffffu - 1;

uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

std::string errno_text(int error) { return std::generic_category().message(error); }

// Names from a file can hold anything; keep error messages one printable line.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 80) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  return out + "'";
}

// Empty when `shape` is within the file format's limits, else what is wrong with it.
std::string shape_problem(const Shape& shape) {
  int64_t product = 1;  // of the non-zero dimensions: bounds every partial product too
  for (int64_t dim : shape) {
    if (dim < 0) return "negative dimension in shape " + shape_str(shape);
    if (dim > kMaxDimension) return "dimension above 2^31-1 in shape " + shape_str(shape);
    if (dim == 0) continue;
    if (product > std::numeric_limits<int64_t>::max() / dim)
      return "shape " + shape_str(shape) + " has too many elements";
    product *= dim;
  }
  return {};
}

bool fits_int32(int64_t value) {
  return value >= std::numeric_limits<int32_t>::min() && value <= std::numeric_limits<int32_t>::max();
}

// Empty when the parameters are well-formed on their own (the rank check needs the graph).
std::string quant_problem(const QuantParams& q) {
  if (q.scales.empty()) return "has no scales";
  for (float scale : q.scales)
    if (!std::isfinite(scale) || !(scale > 0.0f))
      return "has scale " + std::to_string(scale) + " (scales must be finite and positive)";
  if (q.zero_points.size() != q.scales.size())
    return "has " + std::to_string(q.zero_points.size()) + " zero points for " +
           std::to_string(q.scales.size()) + " scales";
  if (q.axis < -1) return "has invalid axis " + std::to_string(q.axis);
  if (q.axis == -1 && q.scales.size() != 1)
    return "is per tensor (axis -1) but has " + std::to_string(q.scales.size()) + " scales";
  return {};
}

bool valid_dtype(fb::DType dtype) {
  return static_cast<uint8_t>(dtype) <= static_cast<uint8_t>(fb::DType::i64);
}

// Little-endian header fields.
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Header field offsets (see the table in model_file.hpp).
constexpr size_t kVersionAt = 8, kHeaderSizeAt = 12, kGraphOffsetAt = 16, kGraphSizeAt = 24,
                 kWeightsOffsetAt = 32, kWeightsSizeAt = 40, kFileSizeAt = 48, kFlagsAt = 56,
                 kReservedAt = 60;

// ---------------------------------------------------------------------------------------------
// Writing

// What the file consists of: `head` (header, FlatBuffer, padding up to the weight blob) and the
// initializers' bytes at their file offsets. Tensors are referenced, not copied.
struct FileLayout {
  std::vector<uint8_t> head;
  struct Piece {
    uint64_t offset;
    const void* data;
    size_t size;
  };
  std::vector<Piece> pieces;  // increasing offsets, all >= head.size()
  uint64_t file_size = 0;
};

using StringOffset = flatbuffers::Offset<flatbuffers::String>;

// Shared strings: every value name appears several times (producer output, consumer inputs,
// quantization entry), attribute names on every node; storing each once keeps the graph section
// small next to the int8 weights. Deterministic, like the rest of the writer.
StringOffset make_string(flatbuffers::FlatBufferBuilder& fbb, const std::string& text) {
  return fbb.CreateSharedString(text.data(), text.size());
}

flatbuffers::Offset<flatbuffers::Vector<StringOffset>> make_strings(
    flatbuffers::FlatBufferBuilder& fbb, const std::vector<std::string>& texts) {
  std::vector<StringOffset> offsets;
  offsets.reserve(texts.size());
  for (const auto& text : texts) offsets.push_back(make_string(fbb, text));
  return fbb.CreateVector(offsets);
}

// Refuses, before anything is written, what the loader would refuse.
[[noreturn]] void refuse(const std::string& what) {
  throw Error("cannot write model file: " + what);
}

flatbuffers::Offset<fb::Attribute> make_attribute(flatbuffers::FlatBufferBuilder& fbb,
                                                  const Node& node, const std::string& name,
                                                  const AttributeValue& value) {
  auto check_int = [&](int64_t v) {
    if (!fits_int32(v))
      refuse("attribute " + quoted(name) + " of " + node.label() + " holds " + std::to_string(v) +
             ", outside the int32 range the model file accepts");
  };
  const StringOffset name_offset = make_string(fbb, name);
  switch (value.index()) {
    case 0: {
      const int64_t v = std::get<int64_t>(value);
      check_int(v);
      return fb::CreateAttribute(fbb, name_offset, fb::AttributeKind::Int, v);
    }
    case 1:
      return fb::CreateAttribute(fbb, name_offset, fb::AttributeKind::Float, 0, std::get<float>(value));
    case 2: {
      const StringOffset s = make_string(fbb, std::get<std::string>(value));
      return fb::CreateAttribute(fbb, name_offset, fb::AttributeKind::String, 0, 0.0f, s);
    }
    case 3: {
      const auto& ints = std::get<std::vector<int64_t>>(value);
      for (int64_t v : ints) check_int(v);
      return fb::CreateAttribute(fbb, name_offset, fb::AttributeKind::Ints, 0, 0.0f, 0,
                                 fbb.CreateVector(ints));
    }
    default:
      return fb::CreateAttribute(fbb, name_offset, fb::AttributeKind::Floats, 0, 0.0f, 0, 0,
                                 fbb.CreateVector(std::get<std::vector<float>>(value)));
  }
}

FileLayout plan_file(const Graph& graph) {
  static_assert(std::variant_size_v<AttributeValue> == 5, "new attribute kind: extend the schema");
  flatbuffers::FlatBufferBuilder fbb(4096);
  // Write every scalar field, defaults included: otherwise a float attribute of -0.0 compares
  // equal to the default 0.0, is left out and reads back as +0.0.
  fbb.ForceDefaults(true);
  FileLayout layout;

  // Initializers: the weight blob layout (offsets relative to the blob), in name order.
  std::vector<flatbuffers::Offset<fb::Initializer>> initializers;
  uint64_t blob_size = 0;
  for (const auto& [name, tensor] : graph.initializers) {
    if (name.empty()) refuse("an initializer has an empty name");
    const std::string problem = shape_problem(tensor.shape());
    if (!problem.empty()) refuse("initializer " + quoted(name) + ": " + problem);
    if (tensor.empty() || tensor.elements() != shape_elements(tensor.shape()))
      refuse("initializer " + quoted(name) + " holds no data");
    const uint64_t offset = align_up(blob_size, kModelFileAlignment);
    blob_size = offset + tensor.bytes();
    layout.pieces.push_back({offset, tensor.raw(), tensor.bytes()});
    initializers.push_back(fb::CreateInitializer(
        fbb, make_string(fbb, name), static_cast<fb::DType>(tensor.dtype()),
        fbb.CreateVector(tensor.shape()), offset, tensor.bytes()));
  }

  std::vector<flatbuffers::Offset<fb::Node>> nodes;
  for (const Node& node : graph.nodes) {
    std::vector<flatbuffers::Offset<fb::Attribute>> attributes;
    for (const auto& [name, value] : node.attrs.all())
      attributes.push_back(make_attribute(fbb, node, name, value));
    nodes.push_back(fb::CreateNode(fbb, make_string(fbb, node.name), make_string(fbb, node.op),
                                   make_strings(fbb, node.inputs), make_strings(fbb, node.outputs),
                                   fbb.CreateVector(attributes)));
  }

  // Types of the graph inputs (the rest is recomputed by shape inference at load).
  std::vector<flatbuffers::Offset<fb::ValueInfo>> input_infos;
  for (const auto& [name, info] : graph.values) {
    if (std::find(graph.inputs.begin(), graph.inputs.end(), name) == graph.inputs.end()) continue;
    const std::string problem = shape_problem(info.shape);
    if (!problem.empty()) refuse("graph input " + quoted(name) + ": " + problem);
    input_infos.push_back(fb::CreateValueInfo(fbb, make_string(fbb, name),
                                              static_cast<fb::DType>(info.dtype),
                                              fbb.CreateVector(info.shape)));
  }

  std::vector<flatbuffers::Offset<fb::QuantEntry>> quant;
  for (const auto& [name, q] : graph.quant) {
    const std::string problem = quant_problem(q);
    if (!problem.empty()) refuse("quantization parameters of " + quoted(name) + " " + problem);
    // All-zero zero points (every symmetric weight) are stored as an empty list.
    const bool all_zero = std::all_of(q.zero_points.begin(), q.zero_points.end(), [](int32_t z) { return z == 0; });
    quant.push_back(fb::CreateQuantEntry(fbb, make_string(fbb, name), fbb.CreateVector(q.scales),
                                         fbb.CreateVector(all_zero ? std::vector<int32_t>{} : q.zero_points),
                                         q.axis));
  }

  std::vector<flatbuffers::Offset<fb::MetadataEntry>> metadata;
  for (const auto& [key, value] : graph.metadata)
    metadata.push_back(fb::CreateMetadataEntry(fbb, make_string(fbb, key), make_string(fbb, value)));

  const auto root = fb::CreateModel(
      fbb, make_string(fbb, graph.name), fbb.CreateVector(nodes), make_strings(fbb, graph.inputs),
      make_strings(fbb, graph.outputs), fbb.CreateVector(input_infos), fbb.CreateVector(initializers),
      fbb.CreateVector(quant), fbb.CreateVector(metadata));
  fb::FinishModelBuffer(fbb, root);
  const uint64_t graph_size = fbb.GetSize();
  if (graph_size > kMaxGraphSize) refuse("the graph description exceeds 2 GiB");

  const uint64_t graph_offset = kModelFileHeaderSize;
  const uint64_t weights_offset = align_up(graph_offset + graph_size, kModelFileAlignment);
  layout.file_size = weights_offset + blob_size;
  for (auto& piece : layout.pieces) piece.offset += weights_offset;

  layout.head.assign(static_cast<size_t>(weights_offset), 0);
  uint8_t* h = layout.head.data();
  std::memcpy(h, kModelFileMagic, sizeof(kModelFileMagic));
  put_u32(h + kVersionAt, kModelFileVersion);
  put_u32(h + kHeaderSizeAt, static_cast<uint32_t>(kModelFileHeaderSize));
  put_u64(h + kGraphOffsetAt, graph_offset);
  put_u64(h + kGraphSizeAt, graph_size);
  put_u64(h + kWeightsOffsetAt, weights_offset);
  put_u64(h + kWeightsSizeAt, blob_size);
  put_u64(h + kFileSizeAt, layout.file_size);
  put_u32(h + kFlagsAt, 0);
  put_u32(h + kReservedAt, 0);
  std::memcpy(h + graph_offset, fbb.GetBufferPointer(), static_cast<size_t>(graph_size));
  return layout;
}

// ---------------------------------------------------------------------------------------------
// Reading

class Reader {
 public:
  Reader(const uint8_t* data, size_t size, std::shared_ptr<const void> owner, std::string file)
      : data_(data), size_(size), owner_(std::move(owner)), file_(std::move(file)) {}

  Graph read() {
    check_header();
    const fb::Model* model = verified_model();
    Graph graph = convert(*model);
    try {
      graph.infer_shapes();
    } catch (const std::exception& e) {
      fail(std::string("invalid graph: ") + e.what());
    }
    check_inferred(graph);
    return graph;
  }

 private:
  // Messages quote names from the file (also inside shape inference's messages): control
  // characters become '?' so that the message stays one line.
  [[noreturn]] void fail(std::string what) const {
    for (char& c : what)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    throw Error(file_ + ": " + what);
  }

  void check_header() {
    if (size_ < sizeof(kModelFileMagic) || std::memcmp(data_, kModelFileMagic, sizeof(kModelFileMagic)) != 0)
      fail("not an Octet model file (no OCTETMDL magic)");
    if (size_ < kModelFileHeaderSize)
      fail("truncated header (" + std::to_string(size_) + " of " +
           std::to_string(kModelFileHeaderSize) + " bytes)");
    const uint32_t version = get_u32(data_ + kVersionAt);
    if (version > kModelFileVersion)
      fail("model file format version " + std::to_string(version) +
           " is newer than this build of Octet supports (version " +
           std::to_string(kModelFileVersion) + "); upgrade Octet");
    if (version == 0) fail("invalid model file format version 0");
    if (get_u32(data_ + kHeaderSizeAt) != kModelFileHeaderSize)
      fail("invalid header size " + std::to_string(get_u32(data_ + kHeaderSizeAt)));
    const uint64_t file_size = get_u64(data_ + kFileSizeAt);
    if (file_size != size_)
      fail("the header records " + std::to_string(file_size) + " bytes but the file has " +
           std::to_string(size_) + (size_ < file_size ? " (truncated)" : ""));
    if (get_u32(data_ + kFlagsAt) != 0 || get_u32(data_ + kReservedAt) != 0)
      fail("unknown header flags");
    graph_offset_ = get_u64(data_ + kGraphOffsetAt);
    graph_size_ = get_u64(data_ + kGraphSizeAt);
    weights_offset_ = get_u64(data_ + kWeightsOffsetAt);
    weights_size_ = get_u64(data_ + kWeightsSizeAt);
    // Each comparison is written so that nothing can overflow: offset <= size first, then the
    // size against what is left.
    if (graph_offset_ < kModelFileHeaderSize || graph_offset_ % kGraphAlignment != 0 ||
        graph_offset_ > size_ || graph_size_ > size_ - graph_offset_ || graph_size_ > kMaxGraphSize)
      fail("graph section (offset " + std::to_string(graph_offset_) + ", " +
           std::to_string(graph_size_) + " bytes) is misplaced or outside the file");
    if (weights_offset_ % kModelFileAlignment != 0 || weights_offset_ > size_ ||
        weights_size_ > size_ - weights_offset_ || weights_offset_ < graph_offset_ + graph_size_)
      fail("weight section (offset " + std::to_string(weights_offset_) + ", " +
           std::to_string(weights_size_) + " bytes) is misaligned, overlaps the graph or lies outside the file");
  }

  const fb::Model* verified_model() {
    const uint8_t* buffer = data_ + graph_offset_;
    const size_t size = static_cast<size_t>(graph_size_);
    flatbuffers::Verifier::Options options;
    options.max_depth = 16;  // Model > Node > Attribute > vector: 4 levels used
    // A table takes at least 4 bytes: a legitimate buffer cannot hold more than size / 4.
    options.max_tables = static_cast<flatbuffers::uoffset_t>(size / 4 + 1);
    options.check_alignment = true;
    flatbuffers::Verifier verifier(buffer, size, options);
    if (!fb::VerifyModelBuffer(verifier)) fail("corrupt graph section (FlatBuffers verification failed)");
    return fb::GetModel(buffer);
  }

  // --- field readers: null vectors are empty; scalars read with memcpy (the Verifier checks
  // 4-byte alignment of vectors only, an 8-byte element could be misaligned).
  static std::string text(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

  static std::vector<std::string> texts(const flatbuffers::Vector<StringOffset>* v) {
    std::vector<std::string> out;
    if (!v) return out;
    out.reserve(v->size());
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) out.push_back(text(v->Get(i)));
    return out;
  }

  template <class T>
  static std::vector<T> scalars(const flatbuffers::Vector<T>* v) {
    static_assert(std::is_arithmetic_v<T>);
    std::vector<T> out;
    if (!v || v->size() == 0) return out;
    out.resize(v->size());
    std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
    return out;
  }

  Shape shape(const flatbuffers::Vector<int64_t>* v, const std::string& what) const {
    Shape dims = scalars(v);
    const std::string problem = shape_problem(dims);
    if (!problem.empty()) fail(what + ": " + problem);
    return dims;
  }

  DType dtype(fb::DType value, const std::string& what) const {
    if (!valid_dtype(value))
      fail(what + " has invalid dtype " + std::to_string(static_cast<unsigned>(value)));
    return static_cast<DType>(value);
  }

  Graph convert(const fb::Model& model) const {
    Graph graph;
    graph.name = text(model.name());
    graph.inputs = texts(model.inputs());
    graph.outputs = texts(model.outputs());

    if (const auto* infos = model.input_infos()) {
      const std::set<std::string> inputs(graph.inputs.begin(), graph.inputs.end());
      for (const fb::ValueInfo* info : *infos) {
        const std::string name = info->name()->str();
        const std::string what = "graph input " + quoted(name);
        if (!inputs.count(name)) fail("type recorded for " + quoted(name) + ", which is not a graph input");
        ValueInfo value{dtype(info->dtype(), what), shape(info->shape(), what)};
        if (!graph.values.emplace(name, std::move(value)).second) fail(what + " has two types");
      }
    }

    if (const auto* initializers = model.initializers()) {
      const uint8_t* blob = data_ + weights_offset_;
      for (const fb::Initializer* init : *initializers) {
        const std::string name = init->name()->str();
        const std::string what = "initializer " + quoted(name);
        if (name.empty()) fail("an initializer has an empty name");
        const DType type = dtype(init->dtype(), what);
        Shape dims = shape(init->shape(), what);
        const uint64_t offset = init->offset(), size = init->size();
        if (offset % kModelFileAlignment != 0)
          fail(what + " starts at offset " + std::to_string(offset) + ", not a multiple of 64");
        if (offset > weights_size_ || size > weights_size_ - offset)
          fail(what + " (offset " + std::to_string(offset) + ", " + std::to_string(size) +
               " bytes) lies outside the weight section of " + std::to_string(weights_size_) + " bytes");
        const uint64_t elements = static_cast<uint64_t>(shape_elements(dims));  // checked above
        const uint64_t element_size = dtype_size(type);
        if (elements > std::numeric_limits<uint64_t>::max() / element_size ||
            elements * element_size != size)
          fail(what + " of shape " + shape_str(dims) + " and dtype " + dtype_name(type) + " needs " +
               std::to_string(elements) + " x " + std::to_string(element_size) + " bytes, the file stores " +
               std::to_string(size));
        Tensor tensor = Tensor::wrap(type, std::move(dims), blob + offset, owner_);
        if (!graph.initializers.emplace(name, std::move(tensor)).second) fail(what + " is stored twice");
      }
    }

    if (const auto* nodes = model.nodes()) {
      graph.nodes.reserve(nodes->size());
      for (flatbuffers::uoffset_t index = 0; index < nodes->size(); ++index)
        graph.nodes.push_back(convert_node(*nodes->Get(index), index));
    }

    if (const auto* quant = model.quant()) {
      for (const fb::QuantEntry* entry : *quant) {
        const std::string name = entry->value()->str();
        QuantParams q;
        q.scales = scalars(entry->scales());
        q.zero_points = scalars(entry->zero_points());
        if (q.zero_points.empty()) q.zero_points.assign(q.scales.size(), 0);  // stored compactly: all zero
        q.axis = entry->axis();
        const std::string problem = quant_problem(q);
        if (!problem.empty()) fail("quantization parameters of " + quoted(name) + " " + problem);
        if (!graph.quant.emplace(name, std::move(q)).second)
          fail("quantization parameters of " + quoted(name) + " are stored twice");
      }
    }

    if (const auto* metadata = model.metadata()) {
      for (const fb::MetadataEntry* entry : *metadata) {
        const std::string key = entry->key()->str();
        if (!graph.metadata.emplace(key, text(entry->value())).second)
          fail("metadata key " + quoted(key) + " is stored twice");
      }
    }
    return graph;
  }

  Node convert_node(const fb::Node& stored, size_t index) const {
    Node node;
    node.name = text(stored.name());
    node.op = stored.op()->str();
    const std::string what = "node " + std::to_string(index) + " " + quoted(node.name);
    if (!find_op_schema(node.op)) fail(what + " has unknown op " + quoted(node.op));
    node.inputs = texts(stored.inputs());
    node.outputs = texts(stored.outputs());
    if (const auto* attributes = stored.attributes()) {
      for (const fb::Attribute* attribute : *attributes) {
        const std::string name = attribute->name()->str();
        const std::string attr_what = what + " attribute " + quoted(name);
        if (node.attrs.has(name)) fail(attr_what + " is stored twice");
        auto check_int = [&](int64_t v) {
          if (!fits_int32(v))
            fail(attr_what + " holds " + std::to_string(v) + ", outside the int32 range");
        };
        switch (attribute->kind()) {
          case fb::AttributeKind::Int:
            check_int(attribute->i());
            node.attrs.set(name, attribute->i());
            break;
          case fb::AttributeKind::Float:
            node.attrs.set(name, attribute->f());
            break;
          case fb::AttributeKind::String:
            node.attrs.set(name, text(attribute->s()));
            break;
          case fb::AttributeKind::Ints: {
            std::vector<int64_t> ints = scalars(attribute->ints());
            for (int64_t v : ints) check_int(v);
            node.attrs.set(name, std::move(ints));
            break;
          }
          case fb::AttributeKind::Floats:
            node.attrs.set(name, scalars(attribute->floats()));
            break;
          default:
            fail(attr_what + " has invalid kind " + std::to_string(static_cast<unsigned>(attribute->kind())));
        }
      }
    }
    return node;
  }

  // After shape inference: every value has a sane shape, and per-channel qparams match the
  // channel count of their value.
  void check_inferred(const Graph& graph) const {
    for (const auto& [name, info] : graph.values) {
      bool ok = true;
      for (int64_t dim : info.shape) ok = ok && dim >= 0;
      if (ok) {
        try {
          ok = shape_elements(info.shape) <= std::numeric_limits<int64_t>::max() / 8;
        } catch (const Error&) {
          ok = false;
        }
      }
      if (!ok) fail("value " + quoted(name) + " gets the invalid shape " + shape_str(info.shape));
    }
    for (const auto& [name, q] : graph.quant) {
      auto it = graph.values.find(name);
      if (it == graph.values.end()) continue;  // qparams of a value the graph no longer has
      const Shape& dims = it->second.shape;
      if (q.axis >= 0) {
        if (static_cast<size_t>(q.axis) >= dims.size())
          fail("quantization axis " + std::to_string(q.axis) + " of " + quoted(name) +
               " is out of range for its shape " + shape_str(dims));
        if (static_cast<int64_t>(q.scales.size()) != dims[static_cast<size_t>(q.axis)])
          fail("quantization parameters of " + quoted(name) + " have " + std::to_string(q.scales.size()) +
               " scales for " + std::to_string(dims[static_cast<size_t>(q.axis)]) + " channels (axis " +
               std::to_string(q.axis) + " of " + shape_str(dims) + ")");
      }
    }
  }

  const uint8_t* data_;
  size_t size_;
  std::shared_ptr<const void> owner_;
  std::string file_;
  uint64_t graph_offset_ = 0, graph_size_ = 0, weights_offset_ = 0, weights_size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Files

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error close() may return (delayed write errors).
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

bool write_all(int fd, const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd, p, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

bool write_layout(int fd, const FileLayout& layout) {
  static const uint8_t zeros[kModelFileAlignment] = {};
  if (!write_all(fd, layout.head.data(), layout.head.size())) return false;
  uint64_t position = layout.head.size();
  for (const auto& piece : layout.pieces) {
    const size_t padding = static_cast<size_t>(piece.offset - position);  // < 64
    if (!write_all(fd, zeros, padding) || !write_all(fd, piece.data, piece.size)) return false;
    position = piece.offset + piece.size;
  }
  return true;
}

}  // namespace

std::vector<uint8_t> serialize_model(const Graph& graph) {
  FileLayout layout = plan_file(graph);
  std::vector<uint8_t> bytes = std::move(layout.head);
  bytes.resize(static_cast<size_t>(layout.file_size), 0);
  for (const auto& piece : layout.pieces)
    if (piece.size) std::memcpy(bytes.data() + piece.offset, piece.data, piece.size);
  return bytes;
}

void save_model_file(const Graph& graph, const std::string& path) {
  const FileLayout layout = plan_file(graph);  // refuses bad graphs before touching the disk
  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // umask applies
    if (fd < 0 && errno != EEXIST)
      throw Error(path + ": cannot create the model file: " + errno_text(errno));
  }
  if (fd < 0) throw Error(path + ": cannot create a temporary file next to it");
  FileDescriptor file(fd);
  auto abandon = [&](const std::string& what, int error) {
    if (file.get() >= 0) file.close();
    ::unlink(temp.c_str());
    throw Error(path + ": " + what + ": " + errno_text(error));
  };
  if (!write_layout(file.get(), layout)) abandon("cannot write the model file", errno);
  if (::fsync(file.get()) != 0) abandon("cannot flush the model file", errno);
  if (file.close() != 0) abandon("cannot write the model file", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) abandon("cannot replace the model file", errno);
}

Graph load_model_buffer(const void* data, size_t size, std::shared_ptr<const void> owner,
                        const std::string& name) {
  if (!data && size > 0) throw Error(name + ": no data");
  if (size == 0) return Reader(nullptr, 0, nullptr, name).read();  // fails: no magic
  if (reinterpret_cast<uintptr_t>(data) % kModelFileAlignment != 0) {
    // Tensors must be 64-byte aligned: copy once into memory the graph owns.
    std::shared_ptr<uint8_t> copy = allocate_aligned(size);
    std::memcpy(copy.get(), data, size);
    const uint8_t* bytes = copy.get();
    return Reader(bytes, size, std::move(copy), name).read();
  }
  return Reader(static_cast<const uint8_t*>(data), size, std::move(owner), name).read();
}

Graph load_model_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang (it is refused below); no effect on regular files.
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.get() < 0) throw Error(path + ": cannot open model file: " + errno_text(errno));
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) throw Error(path + ": cannot stat model file: " + errno_text(errno));
  if (S_ISDIR(info.st_mode)) throw Error(path + ": is a directory, not a model file");
  if (!S_ISREG(info.st_mode)) throw Error(path + ": not a regular file");
  const size_t size = static_cast<size_t>(info.st_size);
  if (size == 0) return Reader(nullptr, 0, nullptr, path).read();  // fails: no magic
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.get(), 0);
  if (mapped == MAP_FAILED) throw Error(path + ": cannot map model file: " + errno_text(errno));
  // The mapping outlives the descriptor; the last tensor sharing `owner` unmaps it.
  std::shared_ptr<const void> owner(mapped, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return Reader(static_cast<const uint8_t*>(mapped), size, std::move(owner), path).read();
}

bool is_model_file(const std::string& path) {
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.get() < 0) return false;
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  char magic[sizeof(kModelFileMagic)];
  size_t got = 0;
  while (got < sizeof(magic)) {
    const ssize_t n = ::read(file.get(), magic + got, sizeof(magic) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return std::memcmp(magic, kModelFileMagic, sizeof(magic)) == 0;
}

}  // namespace octet
