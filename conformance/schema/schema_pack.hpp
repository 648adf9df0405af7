// The schema pack: the built-in schemas precompiled at build time, so that validate
// and dump read no YAML at run time. The generator (schema_pack_main.cpp, linked
// without a pack) compiles every file of builtin_sources() from its YAML and writes
// the pack into a generated .cpp; builtin() indexes it and decodes a file's node
// schemas the first time a blob of its format is checked. Private to
// conformance/schema/.
//
// Format (only this file writes and reads it; both come from one build): "KHOSPAK1",
// then unsigned LEB128 numbers and strings (length, bytes):
//   docs   count; per file in builtin_sources() order: path, $id, select, layout name,
//          flags (1: a YAML map, 2: has `layout:`, 4: has a graph), [graph length, graph]
//   names  count; per name: name, type (0: declared with two types, else PropType + 1)
//   graph  props: count, per prop its fields (flags say which are present);
//          nodes: count, root index, per node: flags, $id (file index + 1, 0: none),
//          ref_hops, required, properties (name, target), patterns (matcher, target);
//          a target is index * 2 + 1 for a node, index * 2 for a property
// A file has no graph when compiled() is nullptr for it (not a map, or irregular: the
// yaml-cpp walk then parses it). The reader checks every length and index; builtin()
// falls back to parsing the YAML for whatever part of a pack it cannot read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "conformance/schema/schema_internal.hpp"

namespace khospec::conformance {

// The generated pack (schema_pack_data.cpp), or empty (schema_pack_none.cpp: the
// generator itself, whose builtin() then compiles from the YAML).
std::span<const std::uint8_t> builtin_schema_pack();

struct SchemaPackAccess {
  // The pack of `set` (a set loaded from builtin_sources()): every doc compiled.
  static std::vector<std::uint8_t> write(const SchemaSet& set);

  // Makes `s` (empty) the built-in set from `pack`: docs, selects and layouts from its
  // index, graphs and names decoded on demand. False (and `s` untouched) when the
  // index does not read.
  static bool index(SchemaSet& s, std::span<const std::uint8_t> pack);
  // Doc graph at offset `at` into `g`, $ids pointing into set's docs. False when it does not read.
  static bool read_graph(std::span<const std::uint8_t> pack, std::size_t at, const SchemaSet& set,
                         SchemaSet::Cache::Graph& g);
  // prop_type_by_name()'s table at offset `at`.
  static bool read_names(std::span<const std::uint8_t> pack, std::size_t at,
                         std::vector<std::pair<std::string, std::optional<fdt::PropType>>>& names);

  // Two compiled graphs are the same (both nullptr, or equal field by field, node for
  // node, $ids by value); `why` says where they differ (`at` names the root).
  static bool same_graph(const SchemaSet::CompiledNode* a, const SchemaSet::CompiledNode* b, const std::string& at,
                         std::string& why);
  // Where doc i's graph is in the set's pack; nullopt when it has none.
  static std::optional<std::size_t> graph_offset(const SchemaSet& s, std::size_t i) {
    const std::size_t at = s.cache_->pack_graphs.at(i);
    return at == ~std::size_t{0} ? std::nullopt : std::optional(at);
  }
  // Where the set's prop_type_by_name() table is in its pack.
  static std::size_t names_offset(const SchemaSet& s) { return s.cache_->pack_names; }
  // SchemaSet::compiled() (tests).
  static const SchemaSet::CompiledNode* compiled(const SchemaSet& set, const SchemaDoc& doc);
  // prop_type_by_name()'s tables of `a` and `b` are equal.
  static bool same_names(const SchemaSet& a, const SchemaSet& b, std::string& why);
  // The set serves its graphs from a pack (builtin() with a readable pack).
  static bool uses_pack(const SchemaSet& s) { return !s.cache_->pack.empty(); }
};

}  // namespace khospec::conformance
