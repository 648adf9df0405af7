// Decoding a checked FDT into a typed tree (for dump, the validator and Python).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
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
  bool type_known = false;           // type from the KHO type table, not guessed
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

// Declared wire type of a KHO property, keyed by node path and property name;
// nullopt when the property is not part of any KHO ABI khospec knows.
using TypeResolver = std::function<std::optional<PropType>(const Node& node, std::string_view prop)>;

// The built-in table of every property the kernel's KHO producers write
// (kho-v1..v4 roots, memblock/reserve-mem, kho_test, LUO v1/v2, RFC mem/ftrace).
std::optional<PropType> kho_prop_type(const Node& node, std::string_view prop);

// The type shown for an unknown property: string if it reads as one, u32/u64 by
// length, raw bytes otherwise.
PropType guess_type(std::span<const std::uint8_t> v);

struct DecodeOptions {
  Endian endian = Endian::little;
  TypeResolver resolver = kho_prop_type;
  int max_depth = 64;  // KHO trees are at most 4 levels deep
};

// Walks `blob` (which must be ok()) and decodes every property. Fires
// kho_prop_len_<type> for known properties whose length is wrong, plus
// fdt_duplicate_node_name / fdt_duplicate_property_name / fdt_too_deep.
// Equal to to_tree() of read_flat() + type_flat() (that is how it is built).
Tree decode_tree(const Blob& blob, const DecodeOptions& opts, Report& report);

// The same decode read in place, for validate()'s hot path: names and values
// are views into the Blob's storage (which must outlive the FlatTree; moving
// the Blob keeps its storage), nodes and properties sit in two arrays in
// document order, so a decode costs a handful of allocations in all.
struct FlatProp {
  std::string_view name;
  std::span<const std::uint8_t> raw;
  std::uint64_t offset = 0;          // absolute byte offset of the FDT_PROP token
  PropType type = PropType::bytes;   // filled by type_flat()
  bool type_known = false;
  bool value_ok = false;             // decode(raw, type) succeeds
  bool duplicate = false;            // an earlier property of the node has this name
  std::uint64_t number = 0;          // the value of a u32 / u64 / phys_addr when value_ok
};

struct FlatNode {
  std::string_view name;
  std::uint64_t offset = 0;          // absolute byte offset of FDT_BEGIN_NODE
  std::uint32_t path_begin = 0, path_len = 0;  // into FlatTree::paths
  int parent = -1, first_child = -1, last_child = -1, next_sibling = -1;
  int depth = 0;
  std::uint32_t first_prop = 0, prop_count = 0;
  std::uint32_t child_count = 0;
  bool duplicate = false;            // an earlier sibling has this name
};

struct FlatTree {
  std::vector<FlatNode> nodes;  // nodes[0] is the root; empty when the blob is not ok()
  std::vector<FlatProp> props;
  std::string paths;            // every node's path ("/", "/memblock", ...), back to back
  Endian endian = Endian::little;
  // fdt_too_deep: where decode_tree() reports it (before nodes[too_deep_before]).
  int max_depth = 0;
  bool too_deep = false;
  std::size_t too_deep_before = 0;
  std::uint64_t too_deep_offset = 0;
  int too_deep_parent = -1;

  std::string_view path(const FlatNode& n) const { return {paths.data() + n.path_begin, n.path_len}; }
  std::string_view path(int node) const { return path(nodes[static_cast<std::size_t>(node)]); }
  std::span<const FlatProp> props_of(const FlatNode& n) const { return {props.data() + n.first_prop, n.prop_count}; }
  // The first property / child with this name (Node::prop() / Node::child()).
  const FlatProp* prop(const FlatNode& n, std::string_view name) const;
  int child(const FlatNode& n, std::string_view name) const;  // -1 if none
};

// Wire type of `prop` of node `node` (an index into tree.nodes), as TypeResolver.
using FlatResolver = std::function<std::optional<PropType>(const FlatTree& tree, int node, std::string_view prop)>;

// Pass 1: the nodes and properties decode_tree() keeps (from blob.tokens()), no findings.
FlatTree read_flat(const Blob& blob, int max_depth = DecodeOptions{}.max_depth);
// Pass 2: types and values, with exactly decode_tree()'s findings in its order.
void type_flat(FlatTree& tree, const Blob& blob, Endian endian, const FlatResolver& resolver, Report& report);
// The decoded value of a typed property (nullopt when !value_ok).
std::optional<Value> flat_value(const FlatTree& tree, const FlatProp& p);
// The strings of a string / string-list property (empty otherwise): Value::strings, in place.
std::vector<std::string_view> flat_strings(const FlatProp& p);
// The owning tree decode_tree() returns.
Tree to_tree(const FlatTree& tree);

}  // namespace khospec::fdt
