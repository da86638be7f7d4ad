#pragma once
// The .oct model file: a whole octet::Graph (nodes, attributes, inputs/outputs, input types,
// initializers, quantization parameters, metadata) in one file that loads without copying
// weights.
//
// Layout (all integers little-endian):
//
//   offset  size  field
//        0     8  magic "OCTETMDL"
//        8     4  format version (kModelFileVersion; a newer file is refused, naming both)
//       12     4  header size (64)
//       16     8  graph offset   } the FlatBuffer (graph/schema/octet_model.fbs, identifier
//       24     8  graph size     } "OCTM"), 8-byte aligned
//       32     8  weights offset } the weight blob, 64-byte aligned; every initializer's bytes
//       40     8  weights size   } start at a multiple of 64 inside it
//       48     8  file size (must equal the real size: catches truncation)
//       56     4  flags (0 in version 1)
//       60     4  reserved (0)
//   header | FlatBuffer | zero padding to 64 | tensor, padding, tensor, ...
//
// Loading maps the file read-only; initializers are Tensor::wrap()s into the mapping sharing
// one owner that unmaps it when the last tensor (of any copy of the graph) goes away. Do not
// modify or truncate a file while a graph loaded from it is alive (save_model_file() replaces
// files by rename, which is safe).
//
// Everything read is checked before use: header ranges (overflow-safe), the FlatBuffers
// Verifier, enums, shapes, tensor ranges and sizes, quantization parameters, ops known to
// find_op_schema(), then Graph::infer_shapes(). A malformed file raises octet::Error with a
// one-line message "<file>: <what is wrong>", never reads out of bounds.
//
// Sanity limits of version 1 (beyond them a file is refused, so that shape inference never
// overflows on hostile numbers): every dimension in [0, 2^31 - 1] with the product of the
// non-zero dimensions of a shape fitting int64; integer attribute values (scalars and list
// items) in the int32 range.
//
// Output is deterministic: the same graph always gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace octet {

inline constexpr char kModelFileMagic[8] = {'O', 'C', 'T', 'E', 'T', 'M', 'D', 'L'};
inline constexpr uint32_t kModelFileVersion = 1;
inline constexpr size_t kModelFileHeaderSize = 64;
inline constexpr size_t kModelFileAlignment = 64;  // weight blob and every tensor in it

// The whole file in memory (what save_model_file() writes). A std::vector's data is not
// necessarily 64-byte aligned: load_model_buffer() then copies it once.
std::vector<uint8_t> serialize_model(const Graph& graph);

// Writes atomically: a temporary file next to `path`, flushed, then renamed over it. On any
// failure the temporary is removed, `path` is untouched and octet::Error names the path.
void save_model_file(const Graph& graph, const std::string& path);

// Maps `path` read-only and returns the graph (shapes inferred) with zero-copy initializers.
Graph load_model_file(const std::string& path);

// The same from bytes in memory. When `data` is 64-byte aligned the initializers point into it
// and share `owner` (which must keep the bytes alive and unchanged; it may be null if the caller
// guarantees that for the graph's lifetime). Otherwise the bytes are first copied into an
// aligned buffer the graph owns, and `owner` is not retained. `name` is used in error messages.
Graph load_model_buffer(const void* data, size_t size, std::shared_ptr<const void> owner,
                        const std::string& name = "<memory>");

// True when `path` is a readable file starting with the magic. Never throws.
bool is_model_file(const std::string& path);

}  // namespace octet
