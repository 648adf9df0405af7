// Node schemas compiled to plain tables (SchemaSet::CompiledNode): the $ref chain
// resolved, properties / patternProperties indexed by name, const / enum / bounds as
// numbers. validate_tree(), prop_type() and bind_flat() walk these, not yaml-cpp nodes.
#include <functional>

#include "conformance/schema/schema_pack.hpp"

namespace khospec::conformance {

using namespace schema_detail;

namespace {

// Compiles the node schemas reachable from a doc's root into plain tables. The
// compiled walk must answer exactly what the yaml-cpp walk answers, so anything
// where the two could differ makes the doc irregular (the yaml-cpp walk stays in
// charge): a non-map schema where a map is read (yaml-cpp's operator[] would throw
// or convert it), non-scalar pattern keys, a $ref cycle, 16 or more $refs on one
// path (node_schema_for_path() counts them per path) or schemas nested deeper than
// validate_node()'s limit.
struct Compiler {
  const SchemaSet& set;
  SchemaSet::Cache::Graph& g;
  std::function<std::optional<std::pair<const SchemaDoc*, YAML::Node>>(const SchemaDoc&, const std::string&)> resolve;
  bool irregular = false;
  struct Seen {
    YAML::Node key;
    SchemaSet::CompiledNode* node;
    bool done;
  };
  std::vector<Seen> seen;

  const cs::Prop* prop(const YAML::Node& p) {
    auto c = std::make_unique<cs::Prop>();
    if (p["const"]) {
      c->has_const = true;
      c->const_str = str(p["const"]);
      c->const_num = num(p["const"]);
    }
    if (p["enum"] && p["enum"].IsSequence()) {
      c->has_enum = true;
      for (const auto& e : p["enum"]) {
        c->enum_str.push_back(str(e));
        c->enum_num.push_back(num(e));
      }
    }
    c->minimum = num(p["minimum"]);
    c->maximum = num(p["maximum"]);
    c->multiple_of = num(p["multipleOf"]);
    if (auto t = type_ref(str(p["$ref"]))) c->type = fdt::parse_type(*t);
    g.props.push_back(std::move(c));
    return g.props.back().get();
  }

  // validate_node(n, doc, schema): the $ref chain, then the tables.
  SchemaSet::CompiledNode* node(const SchemaDoc& doc, YAML::Node schema) {
    for (auto& s : seen) {
      if (s.key.is(schema)) {
        if (!s.done) irregular = true;  // a cycle
        return s.node;
      }
    }
    g.nodes.push_back(std::make_unique<SchemaSet::CompiledNode>());
    SchemaSet::CompiledNode* out = g.nodes.back().get();
    seen.push_back({schema, out, false});
    const std::size_t me = seen.size() - 1;
    fill(*out, doc, schema);
    seen[me].done = true;
    return out;
  }

  void fill(SchemaSet::CompiledNode& out, const SchemaDoc& doc, YAML::Node schema) {
    if (!has(schema) || !schema.IsMap()) {
      out.skip = true;
      return;
    }
    const SchemaDoc* cur_doc = &doc;
    int hops = 0;
    for (; schema["$ref"] && !type_ref(str(schema["$ref"])) && hops < 16; ++hops) {
      auto r = resolve(*cur_doc, str(schema["$ref"]));
      if (!r) {
        out.skip = true;
        return;
      }
      cur_doc = r->first;
      schema.reset(r->second);
      if (!schema.IsMap()) {
        irregular = true;
        return;
      }
    }
    if (hops >= 16) {
      irregular = true;
      return;
    }
    out.ref_hops = hops;
    out.id = &cur_doc->id;
    if (schema["required"] && schema["required"].IsSequence()) {
      for (const auto& r : schema["required"]) out.required.push_back(str(r));
    }
    out.additional_ok = !(schema["additionalProperties"] && schema["additionalProperties"].IsScalar() &&
                          schema["additionalProperties"].Scalar() == "false");
    if (YAML::Node props = schema["properties"]) {
      if (!props.IsMap()) {
        irregular = true;
        return;
      }
      for (const auto& kv : props) {
        if (!kv.second.IsMap()) {
          irregular = true;
          return;
        }
        if (!kv.first.IsScalar()) continue;  // yaml-cpp never finds a non-scalar key by name
        SchemaSet::CompiledNode::Entry e;
        e.name = kv.first.Scalar();
        if (is_node_schema(kv.second)) e.node = node(*cur_doc, kv.second);
        else e.prop = prop(kv.second);
        out.props.push_back(std::move(e));
      }
    }
    YAML::Node patterns = schema["patternProperties"];
    if (patterns && patterns.IsMap()) {
      for (const auto& kv : patterns) {
        if (!kv.second.IsMap() || !kv.first.IsScalar() || kv.first.IsNull()) {
          irregular = true;
          return;
        }
        SchemaSet::CompiledNode::Pattern p;
        p.m = cs::make_matcher(kv.first.Scalar());
        if (is_node_schema(kv.second)) p.node = node(*cur_doc, kv.second);
        else p.prop = prop(kv.second);
        out.patterns.push_back(std::move(p));
      }
    }
  }

  // Longest chain of child schemas and most $refs on one path from `n`.
  void extent(const SchemaSet::CompiledNode* n, int depth, int hops, int& max_depth, int& max_hops,
              std::vector<const SchemaSet::CompiledNode*>& path) {
    if (depth > 64) return;  // a cycle (already irregular)
    hops += n->ref_hops;
    max_depth = std::max(max_depth, depth);
    max_hops = std::max(max_hops, hops);
    path.push_back(n);
    for (const auto& e : n->props)
      if (e.node) extent(e.node, depth + 1, hops, max_depth, max_hops, path);
    for (const auto& p : n->patterns)
      if (p.node) extent(p.node, depth + 1, hops, max_depth, max_hops, path);
    path.pop_back();
  }
};

}  // namespace

const SchemaSet::CompiledNode* SchemaSet::compiled(const SchemaDoc& doc) const {
  Cache& c = *cache_;
  // Doc i of a sealed set: its graph, once built, is read without the lock.
  const std::less<const SchemaDoc*> before;
  const bool indexed = c.graph_at && !before(&doc, docs_.data()) && before(&doc, docs_.data() + c.sealed_docs);
  const std::size_t i = indexed ? static_cast<std::size_t>(&doc - docs_.data()) : 0;
  if (indexed) {
    if (const Cache::Graph* g = c.graph_at[i].load(std::memory_order_acquire)) return g->root;
  }
  std::lock_guard<std::mutex> lock(c.mu);
  for (const auto& [d, g] : c.graphs)
    if (d == &doc) return g->root;
  auto g = std::make_unique<Cache::Graph>();
  // The built-in set: the graph the build compiled into the pack, if it reads.
  if (indexed && !c.pack_graphs.empty()) {
    if (c.pack_graphs[i] == ~std::size_t{0} || SchemaPackAccess::read_graph(c.pack, c.pack_graphs[i], *this, *g)) {
      c.graphs.emplace_back(&doc, std::move(g));
      c.graph_at[i].store(c.graphs.back().second.get(), std::memory_order_release);
      return c.graphs.back().second->root;
    }
    g = std::make_unique<Cache::Graph>();
  }
  Compiler comp{*this, *g, [this](const SchemaDoc& from, const std::string& ref)
                    -> std::optional<std::pair<const SchemaDoc*, YAML::Node>> {
                  auto r = resolve(from, ref);
                  if (!r || !r->doc) return std::nullopt;
                  return std::make_pair(r->doc, r->node);
                },
                false, {}};
  const SchemaDoc& yaml = loaded(doc);
  const CompiledNode* root = yaml.parsed ? comp.node(yaml, yaml.root) : nullptr;
  if (root && !comp.irregular) {
    int max_depth = 0, max_hops = 0;
    std::vector<const CompiledNode*> path;
    comp.extent(root, 0, 0, max_depth, max_hops, path);
    if (max_depth > 32 || max_hops >= 16) comp.irregular = true;
  }
  g->root = comp.irregular ? nullptr : root;
  c.graphs.emplace_back(&doc, std::move(g));
  if (indexed) c.graph_at[i].store(c.graphs.back().second.get(), std::memory_order_release);
  return c.graphs.back().second->root;
}

bool schema_is_compiled(const SchemaSet& set, const SchemaDoc& doc) { return set.compiled(doc) != nullptr; }

namespace schema_detail {

// node_schema_for_path() on the compiled tables: the node schema for `path`, or nullptr.
const SchemaSet::CompiledNode* compiled_for_path(const SchemaSet::CompiledNode* cur, std::string_view path) {
  std::size_t pos = 1;
  while (pos < path.size()) {
    if (cur->skip) return nullptr;
    auto next = path.find('/', pos);
    std::string_view name = path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    pos = next == std::string_view::npos ? path.size() : next + 1;
    cur = cur->child_schema(name);
    if (!cur) return nullptr;
  }
  return cur->skip ? nullptr : cur;
}

std::optional<fdt::PropType> compiled_prop_type(const SchemaSet::CompiledNode* s, std::string_view prop) {
  if (!s) return std::nullopt;
  const auto* e = s->entry(prop);
  if (!e || e->node) return std::nullopt;
  return e->prop->type;
}

}  // namespace schema_detail

void SchemaSet::bind_flat(fdt::FlatTree& t, const SchemaDoc* doc) const {
  t.hints = &kho_decode_hints();
  const CompiledNode* root = doc ? compiled(*doc) : nullptr;
  if (doc && !root) {
    // The yaml-cpp walk: types through flat_type_resolver(); validate_flat() walks
    // the owning tree for such a doc and reads no binding.
    fdt::declare_types(t, flat_type_resolver(*doc));
    return;
  }
  // by_path: the node's path names its schema component by component (non-empty
  // names without '/'), so the child lookup by name is what compiled_for_path()
  // finds; otherwise the types come from compiled_for_path() itself.
  std::vector<char> by_path;
  for (std::size_t i = 0; i < t.nodes.size(); ++i) {
    fdt::FlatNode& n = t.nodes[i];
    const CompiledNode* s = nullptr;       // the schema validate_compiled() checks n against
    const CompiledNode* typer = nullptr;   // the schema prop_type() reads n's types from
    if (root) {
      const bool clean = !n.name.empty() && n.name.find('/') == std::string_view::npos;
      if (n.parent < 0) {
        s = root;
        typer = root->skip ? nullptr : root;
      } else {
        const auto* ps = static_cast<const CompiledNode*>(t.nodes[static_cast<std::size_t>(n.parent)].schema);
        s = ps && !ps->skip ? ps->child_schema(n.name) : nullptr;
        const bool parent_clean = by_path.empty() || by_path[static_cast<std::size_t>(n.parent)];
        if (clean && parent_clean) {
          typer = s && !s->skip ? s : nullptr;
        } else {
          if (by_path.empty()) by_path.assign(t.nodes.size(), 1);
          by_path[i] = 0;
          typer = compiled_for_path(root, t.path(n));
        }
      }
    }
    n.schema = s;
    for (std::uint32_t k = 0; k < n.prop_count; ++k) {
      fdt::FlatProp& p = t.props[n.first_prop + k];
      // compiled_prop_type(): a `properties` entry's $ref type; prop_schema(): that entry, else a pattern.
      const CompiledNode::Entry* e = typer ? typer->entry(p.name) : nullptr;
      std::optional<fdt::PropType> declared = e && e->prop ? e->prop->type : std::nullopt;
      if (!declared) declared = builtin().prop_type_by_name(p.name);
      p.type_known = declared.has_value();
      if (declared) p.type = *declared;
      p.schema = nullptr;
      if (s && !s->skip) {
        if (s != typer) e = s->entry(p.name);  // typer is s unless the path is not clean
        p.schema = e && e->prop ? e->prop : s->pattern_prop(p.name);  // s->prop_schema()
      }
    }
  }
}

}  // namespace khospec::conformance
