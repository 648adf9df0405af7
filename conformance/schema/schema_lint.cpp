// `khospec schema lint`: meta-validation of a schema set. Keywords and wire types
// against what the validator implements, $id / $schema / title, patterns, $refs,
// layouts, compatible vs select, duplicate $ids, and every example compiled and
// validated against its own schema.
#include <map>
#include <set>

#include "conformance/schema/pattern.hpp"
#include "conformance/schema/schema_internal.hpp"
#include "fdt/inspect.hpp"

namespace khospec::conformance {

using namespace schema_detail;

namespace {

struct Linter {
  const SchemaSet& set;
  Report& report;
  const SchemaDoc* doc = nullptr;

  void add(const char* rule, const YAML::Node& at, std::string msg, std::string where = {}) {
    lint_add(report, doc->path, rule, at, std::move(msg), std::move(where));
  }

  void keywords(const YAML::Node& n, const SV& allowed, const std::string& where) {
    if (!n.IsMap()) return;
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      if (!contains(allowed, k))
        add("schema_unknown_keyword", kv.first, "keyword '" + k + "' is not implemented by khospec's validator", where);
    }
  }

  void property(const YAML::Node& p, const std::string& where) {
    if (!p.IsMap()) {
      add("schema_untyped_property", p, "property schema is not a map", where);
      return;
    }
    if (is_node_schema(p)) {
      node(p, where);
      return;
    }
    keywords(p, implemented_property_keywords(), where);
    std::string ref = str(p["$ref"]);
    if (ref.empty()) {
      add("schema_untyped_property", p, "property has no wire type ($ref: types.yaml#/definitions/TYPE)", where);
    } else if (auto t = type_ref(ref)) {
      if (!contains(implemented_types(), *t) || !fdt::parse_type(*t))
        add("schema_unknown_type", p["$ref"], "unknown wire type '" + *t + "'", where);
    }
    points_to(p["points-to"], where);
  }

  // points-to: what a pointer value addresses (a layout name, "fdt" or "blob");
  // the compatibility checker follows it to compare the pointed-to layouts.
  void points_to(const YAML::Node& n, const std::string& where) {
    if (!n) return;
    std::vector<YAML::Node> items;
    if (n.IsSequence()) {
      for (const auto& e : n) items.push_back(e);
    } else {
      items.push_back(n);
    }
    for (const auto& e : items) {
      std::string t = e.IsScalar() ? e.as<std::string>() : std::string();
      if (t != "fdt" && t != "blob" && !set.layout(t))
        add("schema_bad_points_to", e, "points-to '" + t + "' names no layout (nor fdt / blob)", where);
    }
  }

  void pattern(const YAML::Node& key, const std::string& where) {
    std::string re = key.as<std::string>();
    if (!re.empty() && re.front() == '$' && re.back() == '^') {
      add("schema_pattern_anchors", key,
          "pattern \"" + re + "\" has its anchors reversed ('$' first, '^' last) and matches no node name", where);
      return;
    }
    if (std::string why; !compile_pattern(re, &why)) {
      const std::string shown = re.size() > 80 ? re.substr(0, 80) + "..." : re;
      add("schema_bad_pattern", key, "pattern \"" + shown + "\" does not compile: " + why, where);
    }
  }

  void node(const YAML::Node& n, const std::string& where) {
    keywords(n, where.empty() ? implemented_schema_keywords() : implemented_node_keywords(), where);
    if (auto ref = str(n["$ref"]); !ref.empty() && !set.resolve_public(*doc, ref))
      add("schema_unresolved_ref", n["$ref"], "$ref '" + ref + "' does not resolve", where);
    if (n["properties"] && n["properties"].IsMap()) {
      for (const auto& kv : n["properties"]) property(kv.second, where + "/" + kv.first.as<std::string>());
    }
    if (n["patternProperties"] && n["patternProperties"].IsMap()) {
      for (const auto& kv : n["patternProperties"]) {
        pattern(kv.first, where);
        property(kv.second, where + "/{" + kv.first.as<std::string>() + "}");
      }
    }
    if (n["$defs"] && n["$defs"].IsMap()) {
      for (const auto& kv : n["$defs"]) node(kv.second, where + "/$defs/" + kv.first.as<std::string>());
    }
  }

  void layout(const YAML::Node& l) {
    keywords(l, implemented_layout_keywords(), "layout");
    auto size = num(l["size"]);
    if (!size) {
      add("schema_bad_layout", l, "layout has no numeric size", "layout");
      return;
    }
    struct Span {
      std::uint64_t begin, end;
      std::uint64_t bits_lo = 0, bits_hi = 0;  // a bit-field's bits within its unit (hi 0: whole)
    };
    std::vector<Span> spans;
    for (const auto& f : l["fields"]) {
      keywords(f, implemented_field_keywords(), "layout/" + str(f["name"]));
      auto off = num(f["offset"]);
      auto sz = num(f["size"]);
      std::uint64_t count = num(f["count"]).value_or(1);
      if (!off || !sz || count == 0 || *sz > (1u << 24) || count > (1u << 24)) {
        add("schema_bad_layout", f, "field '" + str(f["name"]) + "' needs numeric offset and size", "layout");
        continue;
      }
      if (std::string t = str(f["type"]); !t.empty() && !contains(implemented_types(), t))
        add("schema_unknown_type", f["type"], "unknown field type '" + t + "'", "layout/" + str(f["name"]));
      points_to(f["points-to"], "layout/" + str(f["name"]));
      const std::uint64_t end = *off + *sz * count;
      if (end > *size)
        add("schema_bad_layout", f, "field '" + str(f["name"]) + "' ends at " + std::to_string(end) +
                                        ", past the struct size " + std::to_string(*size), "layout");
      Span me{*off, end};
      if (const auto& b = f["bits"]) {
        const bool pair = b.IsSequence() && b.size() == 2;
        const std::uint64_t lsb = pair ? num(b[0]).value_or(~std::uint64_t{0}) : ~std::uint64_t{0};
        const std::uint64_t width = pair ? num(b[1]).value_or(0) : 0;
        if (width == 0 || lsb > 64 || count != 1 || *sz > 8 || lsb + width > *sz * 8) {
          add("schema_bad_layout", b, "field '" + str(f["name"]) + "': bits takes [LSB, WIDTH] inside its one storage unit",
              "layout");
        } else {
          me.bits_lo = lsb;
          me.bits_hi = lsb + width;
        }
      }
      for (const auto& s : spans) {
        // Bit-fields may share a storage unit when their bits do not overlap.
        const bool same_unit_bits = s.bits_hi && me.bits_hi && s.begin == me.begin && s.end == me.end;
        const bool overlap = same_unit_bits ? me.bits_lo < s.bits_hi && s.bits_lo < me.bits_hi
                                            : me.begin < s.end && s.begin < me.end;
        if (overlap) add("schema_bad_layout", f, "field '" + str(f["name"]) + "' overlaps an earlier field", "layout");
      }
      spans.push_back(me);
    }
  }

  // The compatible a schema accepts at its root: properties.compatible const / enum.
  static std::vector<std::string> accepted(const YAML::Node& root) {
    std::vector<std::string> out;
    const YAML::Node props = root["properties"];
    // A scalar `properties:` (a finding of node()) has no subscript: yaml-cpp throws.
    YAML::Node c = props && props.IsMap() ? props["compatible"] : YAML::Node();
    if (!c || !c.IsMap()) return out;
    if (c["const"]) out.push_back(str(c["const"]));
    if (c["enum"] && c["enum"].IsSequence()) {
      for (const auto& e : c["enum"]) out.push_back(str(e));
    }
    return out;
  }

  void examples(const YAML::Node& ex) {
    if (!ex.IsSequence()) return;
    int idx = 0;
    for (const auto& e : ex) {
      ++idx;
      std::string text = str(e);
      std::string err;
      std::vector<std::uint8_t> blob = compile_schema_example(text, doc->path + " example " + std::to_string(idx), err);
      if (!err.empty()) {
        add("schema_example_invalid", e, "example " + std::to_string(idx) + " does not compile: " + err);
        continue;
      }
      fdt::InspectOptions io;
      io.read.file = doc->path + " example " + std::to_string(idx);
      io.decode = kho_decode_options(fdt::Endian::little);
      io.decode.resolver = set.type_resolver(*doc);
      Report r;
      auto insp = fdt::inspect(blob, io, r);
      if (insp.blob.ok()) set.validate_tree(insp.tree, *doc, io.read.file, r);
      // Compatible the example uses vs the one the schema accepts.
      auto acc = accepted(doc->root);
      if (insp.blob.ok() && !acc.empty()) {
        if (const auto* p = insp.tree.root.prop("compatible"); p && p->value && !p->value->strings.empty()) {
          const std::string& used = p->value->strings.front();
          if (std::find(acc.begin(), acc.end(), used) == acc.end())
            add("schema_compatible_mismatch", doc->root["properties"]["compatible"],
                "the schema accepts compatible [" + join(acc) + "] but its example " + std::to_string(idx) +
                    " uses '" + used + "'");
        }
      }
      for (const auto& d2 : r.diagnostics()) {
        if (d2.level == Level::info) continue;
        add("schema_example_invalid", e,
            "example " + std::to_string(idx) + ": (" + d2.rule + ") " + (d2.node.empty() ? "" : d2.node) +
                (d2.property.empty() ? "" : ":" + d2.property) + ": " + d2.message);
      }
    }
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

  void run(const SchemaDoc& d) {
    doc = &d;
    const YAML::Node& root = d.root;
    if (!root["$id"]) add("schema_missing_id", root, "the schema has no $id");
    if (!root["$schema"]) add("schema_missing_meta_schema", root, "the schema has no $schema");
    if (!root["title"]) add("schema_missing_title", root, "the schema has no title");
    if (root["layout"]) {
      keywords(root, implemented_schema_keywords(), "");
      layout(root["layout"]);
    } else if (!root["definitions"] && !root["schema-keywords"]) {
      node(root, "");
    }
    // A released schema accepts exactly the compatible its file is named after.
    auto acc = accepted(root);
    std::string sel = str(root["select"]);
    // Proposed variants are selected as "<compatible>-rfc-<what>" (the compatible is shared).
    const std::string base = sel.substr(0, sel.find("-rfc-"));
    const bool sel_ok = std::any_of(acc.begin(), acc.end(), [&](const std::string& a) {
      return a == base || a.rfind(base + ";", 0) == 0;
    });
    if (!sel.empty() && !acc.empty() && !sel_ok)
      add("schema_compatible_mismatch", root["select"],
          "select '" + sel + "' is not among the compatibles the schema accepts [" + join(acc) + "]");
    if (root["examples"]) examples(root["examples"]);
  }
};

}  // namespace

void SchemaSet::lint(Report& report) const {
  parse_all();
  std::map<std::string, const SchemaDoc*> ids;
  for (const auto& d : docs_) {
    if (!d.parsed) continue;
    // The meta-schema itself is not linted as a node schema; types.yaml neither.
    Linter l{*this, report};
    if (d.root["schema-keywords"]) {
      l.doc = &d;
      // Meta-schema: its keyword lists must equal what the validator implements.
      auto check = [&](const char* key, const SV& impl) {
        std::set<std::string> listed, implemented(impl.begin(), impl.end());
        for (const auto& k : d.root[key]) listed.insert(str(k));
        if (listed != implemented)
          l.add("schema_unknown_keyword", d.root[key],
                std::string("meta-schema list '") + key + "' differs from the keywords the validator implements");
      };
      check("schema-keywords", implemented_schema_keywords());
      check("node-keywords", implemented_node_keywords());
      check("property-keywords", implemented_property_keywords());
      check("layout-keywords", implemented_layout_keywords());
      check("field-keywords", implemented_field_keywords());
      check("types", implemented_types());
    } else {
      // The linter reads keys and values as the meta-schema shapes them; a
      // shape it did not foresee (a map as a key, a scalar where a map goes)
      // makes yaml-cpp throw: a finding, never an escape (fuzz/schema).
      try {
        l.run(d);
      } catch (const YAML::Exception& e) {
        l.add("schema_yaml_error", d.root, std::string("a value of an unexpected shape: ") + e.what());
      }
    }
    if (!d.id.empty()) {
      auto [it, fresh] = ids.emplace(d.id, &d);
      if (!fresh) {  // reported on both files, each naming the other
        l.doc = &d;
        l.add("schema_duplicate_id", d.root["$id"], "$id '" + d.id + "' is also used by " + it->second->path);
        l.doc = it->second;
        l.add("schema_duplicate_id", it->second->root["$id"], "$id '" + d.id + "' is also used by " + d.path);
      }
    }
  }
}

}  // namespace khospec::conformance
