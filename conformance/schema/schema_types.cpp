// The wire type of a property as the schemas declare it: per node schema
// (prop_type(), type_resolver(), flat_type_resolver()), the decode resolvers
// validate() and the lint of examples pass to fdt::.
#include <memory>

#include "conformance/schema/schema_internal.hpp"

namespace khospec::conformance {

using namespace schema_detail;

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
      return t ? t : fdt::kho_prop_type(node, prop);
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
    return t ? t : fdt::kho_prop_type(node, prop);
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
    static const fdt::Node kAnyNode;  // kho_prop_type() reads names only
    if (last->tree != &t || last->node != node) {
      last->tree = &t;
      last->node = node;
      last->schema = compiled_for_path(root, t.path(node));
    }
    auto t2 = compiled_prop_type(last->schema, prop);
    return t2 ? t2 : fdt::kho_prop_type(kAnyNode, prop);
  };
}

}  // namespace khospec::conformance
