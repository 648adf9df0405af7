// YAML schemas for KHO FDTs and fixed binary layouts (schemas/), dt-schema
// shaped, loaded with yaml-cpp. The meta-schema (schemas/meta-schemas/
// kho-core.yaml) lists exactly the keywords and wire types implemented here;
// `khospec schema lint` turns anything else into a schema_* finding.
//
// Node schemas: $id, $schema, title, description, maintainers, kernel, select,
// status, properties, patternProperties, required, additionalProperties,
// examples, $defs. A property schema uses $ref: types.yaml#/definitions/TYPE
// plus const / enum / minimum / maximum / multipleOf / deprecated; a child node
// is `type: object` (or a $ref to another node schema).
// Layout schemas (`layout:`) describe packed structures field by field.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/diag.hpp"
#include "fdt/decode.hpp"
#include "fdt/tree.hpp"

namespace khospec::conformance {

namespace compiled_schema {
struct Prop;
}

struct SchemaSource {
  std::string path;  // display path ("schemas/kho/kho-v1.yaml")
  std::string text;
};

// The keywords and types the validator implements (the meta-schema must list exactly these).
const std::vector<std::string_view>& implemented_schema_keywords();
const std::vector<std::string_view>& implemented_node_keywords();
const std::vector<std::string_view>& implemented_property_keywords();
const std::vector<std::string_view>& implemented_layout_keywords();
const std::vector<std::string_view>& implemented_field_keywords();
const std::vector<std::string_view>& implemented_types();

struct SchemaDoc {
  std::string path;
  std::string id;      // $id ("" when missing)
  YAML::Node root;     // a built-in doc's stays empty until its YAML is needed (SchemaSet::doc())
  bool parsed = false; // the file is a YAML map
};

struct LayoutField {
  std::string name;
  std::uint64_t offset = 0, size = 0, count = 1;
  // A C bit-field (`bits: [LSB, WIDTH]`): bits [LSB, LSB+WIDTH) of the little-endian
  // storage unit at offset/size (GCC's layout on little-endian); width 0: the whole unit.
  unsigned bit_lsb = 0, bit_width = 0;
};
struct Layout {
  std::string name;
  std::uint64_t size = 0;
  std::vector<LayoutField> fields;
};

class SchemaSet {
 public:
  SchemaSet();
  ~SchemaSet();
  SchemaSet(SchemaSet&&) noexcept;
  SchemaSet& operator=(SchemaSet&&) noexcept;

  // Parses every source; YAML errors become schema_yaml_error in `report`, and
  // so does a source over kMaxSchemaFile bytes or past kMaxSchemaTotal in all
  // (not parsed: the memory bound, docs/fuzz.md).
  static constexpr std::size_t kMaxSchemaFile = 256u << 10, kMaxSchemaTotal = 1u << 20;
  static SchemaSet load(const std::vector<SchemaSource>& sources, Report& report);
  // The schemas khospec was built with (embedded at build time). Their headers,
  // compiled node schemas and the property types by name come precompiled from the
  // schema pack (schema_pack.hpp), so validate and dump parse no YAML; a file's YAML
  // is parsed only when something reads it (docs(), doc(), lint, layouts, an
  // irregular schema's yaml-cpp walk).
  static const SchemaSet& builtin();
  static const std::vector<SchemaSource>& builtin_sources();

  // Every doc, each parsed (a built-in set parses all of its files).
  const std::vector<SchemaDoc>& docs() const;
  // Doc i without parsing it: path, id and parsed are known, root may be empty.
  std::size_t doc_count() const { return docs_.size(); }
  const SchemaDoc& doc_header(std::size_t i) const { return docs_[i]; }
  // Doc i with its YAML parsed.
  const SchemaDoc& doc(std::size_t i) const { return doc_at(i); }
  // The first doc whose `layout: name:` is `name`, parsed; nullptr when none. The
  // built-in set parses only that file.
  const SchemaDoc* layout_doc(std::string_view name) const;
  // The node schema selected by a compatible / ABI name (`select:`), or nullptr.
  const SchemaDoc* for_abi(std::string_view abi) const;
  const SchemaDoc* by_id(std::string_view id) const;
  // A layout by its `layout: name:`.
  std::optional<Layout> layout(std::string_view name) const;

  // Meta-validation: keywords, types, $id/$schema/title, regexes, $refs,
  // duplicate $ids, layouts, compatible vs file name / example, every example.
  void lint(Report& report) const;

  // Validates a decoded tree against `doc` (schema_* findings).
  void validate_tree(const fdt::Tree& tree, const SchemaDoc& doc, const std::string& file, Report& report) const;
  // validate_tree() on the in-place decode (validate()'s path): the same findings in the
  // same order. A tree bind_flat() bound to `doc` is checked as bound; any other is
  // bound on a copy first.
  void validate_flat(const fdt::FlatTree& tree, const SchemaDoc& doc, const std::string& file, Report& report) const;
  // The wire type the schema declares for `prop` of `node`, if any.
  std::optional<fdt::PropType> prop_type(const SchemaDoc& doc, const fdt::Node& node, std::string_view prop) const;
  // The wire type of a property of this name wherever the set's node schemas declare
  // it (a `properties` entry, any format, any depth); nullopt when none does or two
  // declare different types. The set is parsed whole on first use.
  std::optional<fdt::PropType> prop_type_by_name(std::string_view prop) const;
  // prop_type(), else builtin().prop_type_by_name(): the decode resolver for blobs of
  // `doc`'s format. The fallback types what the format leaves untyped (a property
  // that does not belong there, or one only a pattern declares) as dump does.
  fdt::TypeResolver type_resolver(const SchemaDoc& doc) const;
  // prop_type_by_name() as a resolver: for blobs of no particular format (dump).
  fdt::TypeResolver type_resolver() const;
  // type_resolver() for fdt::type_flat(); it caches per node, so use one per type_flat() pass.
  fdt::FlatResolver flat_type_resolver(const SchemaDoc& doc) const;
  // True when `ref` (relative to `from`) names a type, a schema or a definition.
  bool resolve_public(const SchemaDoc& from, const std::string& ref) const;

 private:
  struct Resolved {
    const SchemaDoc* doc = nullptr;
    YAML::Node node;
    std::optional<fdt::PropType> type;
  };
  std::optional<Resolved> resolve(const SchemaDoc& from, const std::string& ref) const;
  YAML::Node node_schema_for_path(const SchemaDoc& doc, const std::string& path, const SchemaDoc** owner) const;
  void validate_node(const fdt::Node& n, const SchemaDoc& doc, YAML::Node schema, const std::string& file,
                     Report& report, int depth) const;
  // A built-in doc is parsed on first use; every other member function goes through these.
  const SchemaDoc& doc_at(std::size_t i) const;
  // `doc` with its YAML parsed (doc_at() when it is one of ours).
  const SchemaDoc& loaded(const SchemaDoc& doc) const;
  // Fixes the doc list (load(), builtin()): compiled() then indexes its cache by doc.
  void seal();
  void parse_all() const;

 public:
  // Node schemas compiled to plain tables (schema_compile.cpp): validate_tree() and
  // prop_type() walk these instead of yaml-cpp nodes. Defined in schema_internal.hpp,
  // opaque outside conformance/schema/.
  struct CompiledNode;
  struct Cache;

  // One pass over `tree`, parents before children: declares every property's wire
  // type in place (FlatProp::type / type_known: what flat_type_resolver() answers;
  // `doc` null: builtin().prop_type_by_name() only) and KHO's decode hints
  // (FlatTree::hints) for fdt::type_flat_declared(), and, when `doc` is compiled,
  // binds every node and property to its schema (FlatNode::schema /
  // FlatProp::schema: as validate_compiled() finds them, a child's by its name in
  // its parent's), so validate_flat() looks nothing up again.
  void bind_flat(fdt::FlatTree& tree, const SchemaDoc* doc) const;

 private:
  // nullptr when the doc's node schemas use a form only the yaml-cpp walk reproduces exactly.
  const CompiledNode* compiled(const SchemaDoc& doc) const;
  friend bool schema_is_compiled(const SchemaSet& set, const SchemaDoc& doc);
  friend struct SchemaPackAccess;  // the schema pack's writer, reader and tests (schema_pack.hpp)
  friend void schema_validate_tree_yaml(const SchemaSet&, const fdt::Tree&, const SchemaDoc&, const std::string&,
                                        Report&);
  friend std::optional<fdt::PropType> schema_prop_type_yaml(const SchemaSet&, const SchemaDoc&, const fdt::Node&,
                                                            std::string_view);
  std::optional<fdt::PropType> prop_type_yaml(const SchemaDoc& doc, const fdt::Node& node, std::string_view prop) const;
  mutable std::vector<SchemaDoc> docs_;  // built-in docs fill in `root` lazily (doc_at)
  std::unique_ptr<Cache> cache_;
};

// patternProperties matching as validate_tree() does it: a small automaton for patterns
// made of literals, character classes and * + ? (^ $ anchors), std::regex_search otherwise.
// Exposed for the equivalence test against std::regex_search.
bool schema_pattern_matches(std::string_view name, const std::string& re);
// validate_tree() and prop_type() through the yaml-cpp walk the compiled tables replace
// (the reference the equivalence tests compare against).
void schema_validate_tree_yaml(const SchemaSet& set, const fdt::Tree& tree, const SchemaDoc& doc,
                               const std::string& file, Report& report);
std::optional<fdt::PropType> schema_prop_type_yaml(const SchemaSet& set, const SchemaDoc& doc, const fdt::Node& node,
                                                   std::string_view prop);
// True when validate_tree()/prop_type() use the compiled tables for `doc` (tests).
bool schema_is_compiled(const SchemaSet& set, const SchemaDoc& doc);
// How many built-in schema files this process has parsed with yaml-cpp (tests: validate
// and dump must parse none).
std::size_t builtin_schema_yaml_loads();

// Small YAML accessors shared with the ABI reader (conformance/compat/abi.cpp).
std::string yaml_str(const YAML::Node& n);                      // scalar text, "" otherwise
std::optional<std::uint64_t> yaml_u64(const YAML::Node& n);     // 0x.. / decimal scalars
bool is_node_schema(const YAML::Node& s);                       // a child-node schema (not a property)
std::optional<std::string> wire_type_ref(const std::string& ref);  // "u64" from ".../types.yaml#/definitions/u64"

// Compiles a dts-syntax example (the kernel bindings' `examples:` form) to a blob:
// `name { prop = "str"; prop = <cells>; child { ... }; };` Cells are big-endian
// 32-bit words, as dtc writes them. Returns empty and sets `error` on a syntax error.
std::vector<std::uint8_t> compile_dts_example(std::string_view text, std::string& error);

// The hints of decode findings on KHO blobs: KHO writes every number as a native-endian
// C value of fixed size, and the kernel looks subtrees up by name (docs/kernel-abi.md).
const fdt::DecodeHints& kho_decode_hints();
// How `khospec dump` and the lint of examples decode a KHO blob of any format: wire
// types by property name from the built-in schemas (SchemaSet::type_resolver()), KHO's hints.
fdt::DecodeOptions kho_decode_options(fdt::Endian endian);

}  // namespace khospec::conformance
