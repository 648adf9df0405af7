// Decoding a checked FDT into a typed tree (for dump, the validator and Python).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag.hpp"
#include "fdt/decode.hpp"
#include "fdt/reader.hpp"

namespace khospec::fdt {

struct Property {
  std::string name;
  std::uint64_t offset = 0;          // absolute byte offset of the FDT_PROP token
  std::vector<std::uint8_t> raw;     // value bytes as stored
  PropType type = PropType::bytes;   // declared type, or the guess when !type_known
  bool type_known = false;           // type from the caller's resolver, not guessed
  std::optional<Value> value;        // nullopt when the length/shape is wrong
};

struct Node {
  std::string name;
  std::string path;                  // "/" for the root
  std::uint64_t offset = 0;          // absolute byte offset of FDT_BEGIN_NODE
  std::vector<Property> props;
  std::vector<Node> children;

  const Property* prop(std::string_view n) const;
  const Node* child(std::string_view n) const;
};

struct Tree {
  Node root;
  Endian endian = Endian::little;
};

// Declared wire type of a property, keyed by node path and property name; nullopt
// when the caller does not know it (the decode then guesses, guess_type()). The
// caller's format knowledge: for KHO blobs, the schemas (conformance/schema).
using TypeResolver = std::function<std::optional<PropType>(const Node& node, std::string_view prop)>;

// What the devicetree specification itself fixes: `compatible` is a string list.
// Nothing else, so a blob of no known format is otherwise decoded by guessing.
std::optional<PropType> standard_prop_type(const Node& node, std::string_view prop);

// The type shown for an unknown property: string if it reads as one, u32/u64 by
// length, raw bytes otherwise.
PropType guess_type(std::span<const std::uint8_t> v);

// The hints of the decode's findings that depend on what the blob is: a wrong
// length means something only in the terms of whoever declared the type. The
// caller that passes the types passes these with them.
struct DecodeHints {
  std::string_view value_length;    // kho_prop_len_* of a fixed-size type (not strings)
  std::string_view too_deep;        // fdt_too_deep
  std::string_view duplicate_node;  // fdt_duplicate_node_name
};
// libfdt's terms, for a blob of no particular producer.
const DecodeHints& generic_decode_hints();

struct DecodeOptions {
  Endian endian = Endian::little;
  TypeResolver resolver = standard_prop_type;
  const DecodeHints* hints = nullptr;  // nullptr: generic_decode_hints()
  int max_depth = 64;  // KHO trees are at most 4 levels deep
};

// Walks `blob` (which must be ok()) and decodes every property. Fires
// kho_prop_len_<type> for declared properties whose length is wrong, plus
// fdt_duplicate_node_name / fdt_duplicate_property_name / fdt_too_deep.
// Equal to to_tree() of read_flat() + type_flat() (that is how it is built).
Tree decode_tree(const Blob& blob, const DecodeOptions& opts, Report& report);

// The same decode read in place, for validate()'s hot path: names and values
// are views into the Blob's storage (which must outlive the FlatTree; moving
// the Blob keeps its storage), nodes and properties sit in two arrays in
// document order, so a decode costs a handful of allocations in all.
// a == b for property and node names, compared a word at a time inline: they are
// a few bytes long and validation compares a few dozen per blob, where a memcmp()
// call costs more than the comparison.
inline bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  std::size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  for (; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

struct FlatProp {
  std::string_view name;
  std::span<const std::uint8_t> raw;
  std::uint64_t offset = 0;          // absolute byte offset of the FDT_PROP token
  PropType type = PropType::bytes;   // filled by type_flat()
  bool type_known = false;
  bool value_ok = false;             // decode(raw, type) succeeds
  bool duplicate = false;            // an earlier property of the node has this name
  std::uint64_t number = 0;          // the value of a u32 / u64 / phys_addr when value_ok
  const void* schema = nullptr;      // opaque here: what a validator bound it to (SchemaSet::bind_flat())
};

struct FlatNode {
  std::string_view name;
  std::uint64_t offset = 0;          // absolute byte offset of FDT_BEGIN_NODE
  int parent = -1, first_child = -1, last_child = -1, next_sibling = -1;
  int depth = 0;
  std::uint32_t first_prop = 0, prop_count = 0;
  std::uint32_t child_count = 0;
  bool duplicate = false;            // an earlier sibling has this name
  const void* schema = nullptr;      // opaque here: what a validator bound it to (SchemaSet::bind_flat())
};

struct FlatTree {
  std::vector<FlatNode> nodes;  // nodes[0] is the root; empty when the blob is not ok()
  std::vector<FlatProp> props;
  Endian endian = Endian::little;
  // fdt_too_deep: where decode_tree() reports it (before nodes[too_deep_before]).
  int max_depth = 0;
  bool too_deep = false;
  std::size_t too_deep_before = 0;
  std::uint64_t too_deep_offset = 0;
  int too_deep_parent = -1;
  // The hints type_flat_declared()'s findings carry (set with the declared types;
  // nullptr: generic_decode_hints()).
  const DecodeHints* hints = nullptr;

  // The node's path ("/", "/memblock", ...), built from its parents on demand
  // (findings and the owning tree ask; a clean validation never does).
  std::string path(const FlatNode& n) const;
  std::string path(int node) const { return path(nodes[static_cast<std::size_t>(node)]); }
  std::span<const FlatProp> props_of(const FlatNode& n) const { return {props.data() + n.first_prop, n.prop_count}; }
  // The first property / child with this name (Node::prop() / Node::child()).
  const FlatProp* prop(const FlatNode& n, std::string_view name) const {
    for (const auto& p : props_of(n))
      if (same_name(p.name, name)) return &p;
    return nullptr;
  }
  int child(const FlatNode& n, std::string_view name) const {  // -1 if none
    for (int c = n.first_child; c >= 0; c = nodes[static_cast<std::size_t>(c)].next_sibling)
      if (same_name(nodes[static_cast<std::size_t>(c)].name, name)) return c;
    return -1;
  }
};

// Wire type of `prop` of node `node` (an index into tree.nodes), as TypeResolver.
using FlatResolver = std::function<std::optional<PropType>(const FlatTree& tree, int node, std::string_view prop)>;

// Pass 1: the nodes and properties decode_tree() keeps, no findings. It walks the
// structure again; Blob::open(..., &flat) builds the same decode during its own walk.
FlatTree read_flat(const Blob& blob, int max_depth = DecodeOptions{}.max_depth);

// read_flat() fed one structure tag at a time (Blob::for_each_token(), or open()'s
// walk through `sink`): the nodes fdt_next_node() visits, each with the PROP tags
// before its first subnode or end (what fdt_for_each_property_offset() lists).
class FlatBuilder {
 public:
  // Fills `tree` (empty, as constructed). `off_dt_struct` / `struct_size`: the
  // header's structure block (absolute offsets; how many tags it can hold).
  FlatBuilder(FlatTree& tree, std::uint64_t off_dt_struct, std::size_t struct_size,
              int max_depth = DecodeOptions{}.max_depth);
  ~FlatBuilder();
  FlatBuilder(const FlatBuilder&) = delete;
  FlatBuilder& operator=(const FlatBuilder&) = delete;
  void feed(const Blob::Token& tok);
  static void sink(void* self, const Blob::Token& tok) { static_cast<FlatBuilder*>(self)->feed(tok); }

 private:
  void begin_node(const Blob::Token& tok);
  FlatTree& t_;
  std::uint64_t off_dt_struct_;
  int max_depth_;
  int depth_ = -1;
  int cur_ = -1;             // the innermost open node kept
  bool props_open_ = false;  // the next PROP tags belong to cur_
  bool done_ = false;        // the root has ended
  // Names seen past kLinearNames (duplicate checks): cur_'s properties, and per depth the open node's children.
  std::set<std::string_view> prop_set_;
  std::vector<std::set<std::string_view>> child_sets_;
};
// Pass 2: types and values, with exactly decode_tree()'s findings in its order
// (their hints: tree.hints).
void type_flat(FlatTree& tree, const Blob& blob, Endian endian, const FlatResolver& resolver, Report& report);
// type_flat()'s first half: every property's declared type from `resolver`
// (FlatProp::type_known / type; none without a resolver).
void declare_types(FlatTree& tree, const FlatResolver& resolver);
// type_flat() with every property's declared type already set (FlatProp::type_known
// and type: what the resolver would answer); the rest are guessed (guess_type()).
void type_flat_declared(FlatTree& tree, const Blob& blob, Endian endian, Report& report);
// The decoded value of a typed property (nullopt when !value_ok).
std::optional<Value> flat_value(const FlatTree& tree, const FlatProp& p);
// The strings of a string / string-list property (empty otherwise): Value::strings, in place.
std::vector<std::string_view> flat_strings(const FlatProp& p);
// The owning tree decode_tree() returns.
Tree to_tree(const FlatTree& tree);

}  // namespace khospec::fdt
