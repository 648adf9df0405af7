// The wire type of a property as the schemas declare it, per node schema
// (prop_type(), type_resolver(doc), flat_type_resolver()) and by name across the set
// (prop_type_by_name(), type_resolver()): the decode resolvers validate(), dump and
// the lint of examples pass to fdt::, with KHO's hints for the decode's findings.
#include <memory>

#include "conformance/schema/schema_pack.hpp"

namespace khospec::conformance {

using namespace schema_detail;

namespace {

// Every `properties` entry with a wire type, in node schemas at any depth (child
// nodes, patternProperties nodes, $defs), into `names`; a name declared with two
// types keeps nullopt.
void collect_names(const YAML::Node& s, int depth,
                   std::vector<std::pair<std::string, std::optional<fdt::PropType>>>& names) {
  if (depth > 32 || !s.IsMap()) return;
  if (const YAML::Node props = s["properties"]; props && props.IsMap()) {
    for (const auto& kv : props) {
      if (!kv.first.IsScalar() || !kv.second.IsMap()) continue;
      if (is_node_schema(kv.second)) {
        collect_names(kv.second, depth + 1, names);
        continue;
      }
      const auto t = type_ref(str(kv.second["$ref"]));
      const auto type = t ? fdt::parse_type(*t) : std::nullopt;
      if (!type) continue;
      const std::string name = kv.first.Scalar();
      auto it = std::find_if(names.begin(), names.end(), [&](const auto& e) { return e.first == name; });
      if (it == names.end()) names.emplace_back(name, type);
      else if (it->second != type) it->second = std::nullopt;
    }
  }
  if (const YAML::Node patterns = s["patternProperties"]; patterns && patterns.IsMap()) {
    for (const auto& kv : patterns)
      if (is_node_schema(kv.second)) collect_names(kv.second, depth + 1, names);
  }
  if (const YAML::Node defs = s["$defs"]; defs && defs.IsMap()) {
    for (const auto& kv : defs) collect_names(kv.second, depth + 1, names);
  }
}

}  // namespace

std::optional<fdt::PropType> SchemaSet::prop_type_by_name(std::string_view prop) const {
  Cache& c = *cache_;
  std::call_once(c.names_once, [&] {
    // The built-in set reads the table from its pack (written from this same code).
    if (!c.pack.empty() && SchemaPackAccess::read_names(c.pack, c.pack_names, c.names)) return;
    c.names.clear();
    parse_all();
    for (const auto& d : docs_) {
      // Layouts, types.yaml and the meta-schema declare no node properties.
      if (!d.parsed || d.root["layout"] || d.root["definitions"] || d.root["schema-keywords"]) continue;
      collect_names(d.root, 0, c.names);
    }
  });
  for (const auto& [name, type] : c.names)
    if (fdt::same_name(name, prop)) return type;
  return std::nullopt;
}

fdt::TypeResolver SchemaSet::type_resolver() const {
  return [this](const fdt::Node&, std::string_view prop) { return prop_type_by_name(prop); };
}

std::optional<fdt::PropType> SchemaSet::prop_type(const SchemaDoc& doc, const fdt::Node& node,
                                                  std::string_view prop) const {
  if (const CompiledNode* root = compiled(doc)) return compiled_prop_type(compiled_for_path(root, node.path), prop);
  return prop_type_yaml(doc, node, prop);
}

fdt::TypeResolver SchemaSet::type_resolver(const SchemaDoc& doc) const {
  const CompiledNode* root = compiled(doc);
  if (!root) {
    return [this, d = &doc](const fdt::Node& node, std::string_view prop) {
      auto t = prop_type(*d, node, prop);
      return t ? t : builtin().prop_type_by_name(prop);
    };
  }
  // decode_tree() asks once per property, node after node: remember the last node's schema.
  struct Last {
    std::string path;
    const CompiledNode* schema = nullptr;
    bool valid = false;
  };
  auto last = std::make_shared<Last>();
  return [root, last](const fdt::Node& node, std::string_view prop) {
    if (!last->valid || last->path != node.path) {
      last->path = node.path;
      last->schema = compiled_for_path(root, node.path);
      last->valid = true;
    }
    auto t = compiled_prop_type(last->schema, prop);
    return t ? t : builtin().prop_type_by_name(prop);
  };
}

fdt::FlatResolver SchemaSet::flat_type_resolver(const SchemaDoc& doc) const {
  const CompiledNode* root = compiled(doc);
  if (!root) {
    // The yaml-cpp walk reads a Node's path: adapt type_resolver().
    struct Last {
      const fdt::FlatTree* tree = nullptr;
      int node = -1;
      fdt::Node n;
    };
    return [r = type_resolver(doc), tmp = std::make_shared<Last>()](const fdt::FlatTree& t, int node,
                                                                    std::string_view prop) {
      if (tmp->tree != &t || tmp->node != node) {
        tmp->tree = &t;
        tmp->node = node;
        tmp->n.name = std::string(t.nodes[static_cast<std::size_t>(node)].name);
        tmp->n.path = std::string(t.path(node));
      }
      return r(tmp->n, prop);
    };
  }
  // type_flat() asks once per property, node after node: remember the last node's schema.
  struct Last {
    const fdt::FlatTree* tree = nullptr;
    int node = -1;
    const CompiledNode* schema = nullptr;
  };
  auto last = std::make_shared<Last>();
  return [root, last](const fdt::FlatTree& t, int node, std::string_view prop) {
    if (last->tree != &t || last->node != node) {
      last->tree = &t;
      last->node = node;
      last->schema = compiled_for_path(root, t.path(node));
    }
    auto t2 = compiled_prop_type(last->schema, prop);
    return t2 ? t2 : builtin().prop_type_by_name(prop);
  };
}

const fdt::DecodeHints& kho_decode_hints() {
  static const fdt::DecodeHints h{
      "KHO properties are native-endian fixed-size C values written with "
      "fdt_property(fdt, name, &val, sizeof(val)); the kernel's readers reject any other length",
      "KHO trees are at most a few levels deep; the blob is corrupt or hostile",
      "fdt_subnode_offset() finds only the first, so the kernel's kho_retrieve_subtree() "
      "would ignore the second"};
  return h;
}

fdt::DecodeOptions kho_decode_options(fdt::Endian endian) {
  fdt::DecodeOptions o;
  o.endian = endian;
  o.resolver = SchemaSet::builtin().type_resolver();
  o.hints = &kho_decode_hints();
  return o;
}

}  // namespace khospec::conformance
