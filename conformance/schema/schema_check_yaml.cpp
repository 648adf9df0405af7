// The yaml-cpp walk the compiled tables replace: validate_node() and prop_type_yaml()
// read the schema nodes as they are. It checks the docs compiled() calls irregular
// (non-map schemas, $ref cycles, very long $ref chains) and is the reference the
// equivalence tests compare the compiled walk with.
#include "conformance/schema/schema_internal.hpp"

namespace khospec::conformance {

using namespace schema_detail;

YAML::Node SchemaSet::node_schema_for_path(const SchemaDoc& doc, const std::string& path,
                                           const SchemaDoc** owner) const {
  const SchemaDoc* cur_doc = &doc;
  YAML::Node cur = loaded(doc).root;
  std::size_t pos = 1;
  int hops = 0;
  auto deref = [&]() {
    while (cur && cur.IsMap() && cur["$ref"] && !type_ref(str(cur["$ref"])) && hops++ < 16) {
      auto r = resolve(*cur_doc, str(cur["$ref"]));
      if (!r) return false;
      cur_doc = r->doc;
      cur.reset(r->node);
    }
    return true;
  };
  if (!deref()) return YAML::Node();
  while (pos < path.size()) {
    if (!has(cur) || !cur.IsMap()) return YAML::Node();
    auto next = path.find('/', pos);
    std::string name = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    pos = next == std::string::npos ? path.size() : next + 1;
    YAML::Node child;
    // A scalar `properties:` has no subscript (yaml-cpp throws): found by fuzz/schema.
    if (cur["properties"] && cur["properties"].IsMap() && cur["properties"][name] &&
        is_node_schema(cur["properties"][name])) {
      child = cur["properties"][name];
    } else if (cur["patternProperties"] && cur["patternProperties"].IsMap()) {
      for (const auto& kv : cur["patternProperties"]) {
        if (is_node_schema(kv.second) && pattern_matches(name, str(kv.first))) {
          child = kv.second;
          break;
        }
      }
    }
    if (!has(child)) return YAML::Node();
    cur.reset(child);
    if (!deref()) return YAML::Node();
  }
  if (owner) *owner = cur_doc;
  return cur;
}

std::optional<fdt::PropType> SchemaSet::prop_type_yaml(const SchemaDoc& doc, const fdt::Node& node,
                                                       std::string_view prop) const {
  const SchemaDoc* owner = &doc;
  YAML::Node s = node_schema_for_path(doc, node.path, &owner);
  if (!has(s) || !s.IsMap() || !s["properties"] || !s["properties"].IsMap() || !s["properties"][std::string(prop)])
    return std::nullopt;
  YAML::Node p = s["properties"][std::string(prop)];
  if (is_node_schema(p) || !p.IsMap()) return std::nullopt;
  auto ref = str(p["$ref"]);
  if (auto t = type_ref(ref)) return fdt::parse_type(*t);
  return std::nullopt;
}

namespace {

// The walk's findings, located as the compiled walk locates them.
struct Findings {
  const std::string& file;
  Report& report;
  void add(const char* rule, const fdt::Node& n, const fdt::Property* p, std::string msg, const std::string& id) {
    add_schema_finding(report, file, rule, p ? p->offset : n.offset, n.path, p ? p->name : std::string(),
                       std::move(msg), id);
  }
};

// The values of a property as strings / numbers for const / enum checks.
std::vector<std::string> prop_strings(const fdt::Property& p) {
  if (p.value && !p.value->strings.empty()) return p.value->strings;
  return {};
}

}  // namespace

void SchemaSet::validate_node(const fdt::Node& n, const SchemaDoc& doc, YAML::Node schema, const std::string& file,
                              Report& report, int depth) const {
  if (depth > 32 || !has(schema) || !schema.IsMap()) return;
  const SchemaDoc* cur_doc = &doc;
  for (int hops = 0; schema["$ref"] && !type_ref(str(schema["$ref"])) && hops < 16; ++hops) {
    auto r = resolve(*cur_doc, str(schema["$ref"]));
    if (!r) return;
    cur_doc = r->doc;
    schema.reset(r->node);
  }
  // Shapes lint reports (a $ref to a scalar, a scalar `properties:` or property
  // schema) are walked as if absent: yaml-cpp throws on their subscripts (fuzz/schema).
  if (!schema.IsMap()) return;
  Findings ctx{file, report};
  const std::string& id = cur_doc->id;
  YAML::Node props = schema["properties"];
  if (props && !props.IsMap()) props = YAML::Node();
  YAML::Node patterns = schema["patternProperties"];
  auto pattern_match = [&](const std::string& name, bool want_node) -> YAML::Node {
    if (!patterns || !patterns.IsMap()) return YAML::Node();
    for (const auto& kv : patterns) {
      if (is_node_schema(kv.second) == want_node && pattern_matches(name, str(kv.first))) return kv.second;
    }
    return YAML::Node();
  };
  const bool additional_ok = !(schema["additionalProperties"] && schema["additionalProperties"].IsScalar() &&
                               schema["additionalProperties"].Scalar() == "false");
  // Required properties and nodes.
  if (schema["required"] && schema["required"].IsSequence()) {
    for (const auto& r : schema["required"]) {
      std::string name = str(r);
      if (!n.prop(name) && !n.child(name))
        ctx.add("schema_required", n, nullptr, "required '" + name + "' is missing", id);
    }
  }
  for (const auto& p : n.props) {
    YAML::Node ps = props && props[p.name] && !is_node_schema(props[p.name]) ? props[p.name] : pattern_match(p.name, false);
    if (!has(ps)) {
      if (!additional_ok)
        ctx.add("schema_unknown_property", n, &p, "property '" + p.name + "' is not defined by the schema", id);
      continue;
    }
    if (!p.value || !ps.IsMap()) continue;  // wrong length: kho_prop_len_* already fired
    const bool is_number = p.value->type == fdt::PropType::u32 || p.value->type == fdt::PropType::u64 ||
                           p.value->type == fdt::PropType::phys_addr;
    if (ps["const"]) {
      const std::string want = str(ps["const"]);
      bool ok;
      if (is_number) {
        auto w = num(ps["const"]);
        ok = w && *w == p.value->number;
      } else {
        auto s = prop_strings(p);
        ok = std::find(s.begin(), s.end(), want) != s.end();  // fdt_node_check_compatible() semantics
      }
      if (!ok) {
        std::string got = is_number ? hex(p.value->number) : fdt::format_value(*p.value);
        ctx.add("schema_const", n, &p, "value " + got + " is not '" + want + "'", id);
      }
    }
    if (ps["enum"] && ps["enum"].IsSequence()) {
      bool ok = false;
      auto s = prop_strings(p);
      for (const auto& e : ps["enum"]) {
        if (is_number) {
          auto w = num(e);
          ok = ok || (w && *w == p.value->number);
        } else {
          ok = ok || std::find(s.begin(), s.end(), str(e)) != s.end();
        }
      }
      if (!ok) {
        std::string allowed;
        for (const auto& e : ps["enum"]) allowed += (allowed.empty() ? "" : ", ") + str(e);
        ctx.add("schema_enum", n, &p, "value " + fdt::format_value(*p.value) + " is not one of [" + allowed + "]", id);
      }
    }
    if (is_number) {
      if (auto mn = num(ps["minimum"]); mn && p.value->number < *mn)
        ctx.add("schema_minimum", n, &p, "value " + hex(p.value->number) + " is below the minimum " + hex(*mn), id);
      if (auto mx = num(ps["maximum"]); mx && p.value->number > *mx)
        ctx.add("schema_maximum", n, &p, "value " + hex(p.value->number) + " is above the maximum " + hex(*mx), id);
      if (auto m = num(ps["multipleOf"]); m && *m > 0 && p.value->number % *m != 0)
        ctx.add("schema_multiple_of", n, &p, "value " + hex(p.value->number) + " is not a multiple of " + hex(*m), id);
    }
  }
  for (const auto& c : n.children) {
    YAML::Node cs = props && props[c.name] && is_node_schema(props[c.name]) ? props[c.name] : pattern_match(c.name, true);
    if (!has(cs)) {
      if (!additional_ok)
        ctx.add("schema_unknown_node", c, nullptr, "node '" + c.name + "' is not defined by the schema", id);
      continue;
    }
    validate_node(c, *cur_doc, cs, file, report, depth + 1);
  }
}

void schema_validate_tree_yaml(const SchemaSet& set, const fdt::Tree& tree, const SchemaDoc& doc,
                               const std::string& file, Report& report) {
  set.validate_node(tree.root, doc, set.loaded(doc).root, file, report, 0);
}

std::optional<fdt::PropType> schema_prop_type_yaml(const SchemaSet& set, const SchemaDoc& doc, const fdt::Node& node,
                                                   std::string_view prop) {
  return set.prop_type_yaml(doc, node, prop);
}

}  // namespace khospec::conformance
