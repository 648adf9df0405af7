// Decoding a checked FDT into a typed tree (for dump, the validator and Python).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
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
Tree decode_tree(const Blob& blob, const DecodeOptions& opts, Report& report);

}  // namespace khospec::fdt
