// validate_tree() / validate_flat() on the compiled tables: one walk (a template over
// the owning tree and the in-place decode) with the same checks, findings and order
// as the yaml-cpp walk of schema_check_yaml.cpp; a message is only formatted when its
// check fails.
#include "conformance/schema/schema_internal.hpp"

namespace khospec::conformance {

using namespace schema_detail;

namespace {

// validate_compiled() on the owning tree: schemas looked up by name as it walks.
struct TreeCtx {
  const std::string& file;
  Report& report;
  void add(const char* rule, const fdt::Node& n, const fdt::Property* p, std::string msg, const std::string& id) {
    add_schema_finding(report, file, rule, p ? p->offset : n.offset, n.path, p ? p->name : std::string(),
                       std::move(msg), id);
  }
  template <class F>
  void each_prop(const fdt::Node& n, const SchemaSet::CompiledNode& s, F f) {
    for (const auto& p : n.props) f(p, s.prop_schema(p.name));
  }
  template <class F>
  void each_child(const fdt::Node& n, const SchemaSet::CompiledNode& s, F f) {
    for (const auto& c : n.children) f(c, s.child_schema(c.name));
  }
  static bool has(const fdt::Node& n, const std::string& name) { return n.prop(name) || n.child(name); }
  static bool value_ok(const fdt::Property& p) { return p.value.has_value(); }
  static fdt::PropType type(const fdt::Property& p) { return p.value->type; }
  static std::uint64_t number(const fdt::Property& p) { return p.value->number; }
  static bool has_string(const fdt::Property& p, const std::string& want) {
    return std::find(p.value->strings.begin(), p.value->strings.end(), want) != p.value->strings.end();
  }
  static std::string format(const fdt::Property& p) { return fdt::format_value(*p.value); }
};

// minimum / maximum / multipleOf of a number, for both walks (Tree and FlatTree).
template <class Ctx, class N, class P>
void check_bounds(Ctx& ctx, const N& n, const P& p, const cs::Prop& ps, std::uint64_t v, const std::string& id) {
  if (ps.minimum && v < *ps.minimum)
    ctx.add("schema_minimum", n, &p, "value " + hex(v) + " is below the minimum " + hex(*ps.minimum), id);
  if (ps.maximum && v > *ps.maximum)
    ctx.add("schema_maximum", n, &p, "value " + hex(v) + " is above the maximum " + hex(*ps.maximum), id);
  // multipleOf is a page or an alignment in every KHO schema: a mask, not a 64-bit divide.
  if (ps.multiple_of && *ps.multiple_of > 0 &&
      ((*ps.multiple_of & (*ps.multiple_of - 1)) == 0 ? v & (*ps.multiple_of - 1) : v % *ps.multiple_of) != 0)
    ctx.add("schema_multiple_of", n, &p, "value " + hex(v) + " is not a multiple of " + hex(*ps.multiple_of), id);
}

// The compiled walk, for the owning tree (TreeCtx) and the in-place decode
// (FlatCtx, schemas bound by bind_flat()): the same checks, findings and order.
template <class Ctx, class N>
void validate_compiled(const N& n, const SchemaSet::CompiledNode& s, Ctx& ctx, int depth) {
  if (depth > 32 || s.skip) return;
  static const std::string kNoId;
  const std::string& id = s.id ? *s.id : kNoId;
  for (const auto& name : s.required) {
    if (!ctx.has(n, name)) ctx.add("schema_required", n, nullptr, "required '" + name + "' is missing", id);
  }
  ctx.each_prop(n, s, [&](const auto& p, const cs::Prop* ps) {
    if (!ps) {
      if (!s.additional_ok)
        ctx.add("schema_unknown_property", n, &p, "property '" + std::string(p.name) + "' is not defined by the schema",
                id);
      return;
    }
    if (!ctx.value_ok(p)) return;  // wrong length: kho_prop_len_* already fired
    const fdt::PropType type = ctx.type(p);
    const bool is_number = type == fdt::PropType::u32 || type == fdt::PropType::u64 || type == fdt::PropType::phys_addr;
    const std::uint64_t number = ctx.number(p);
    if (ps->has_const) {
      bool ok;
      if (is_number) ok = ps->const_num && *ps->const_num == number;
      else ok = ctx.has_string(p, ps->const_str);  // fdt_node_check_compatible()
      if (!ok) {
        std::string got = is_number ? hex(number) : ctx.format(p);
        ctx.add("schema_const", n, &p, "value " + got + " is not '" + ps->const_str + "'", id);
      }
    }
    if (ps->has_enum) {
      bool ok = false;
      for (std::size_t i = 0; i < ps->enum_str.size() && !ok; ++i) {
        if (is_number) ok = ps->enum_num[i] && *ps->enum_num[i] == number;
        else ok = ctx.has_string(p, ps->enum_str[i]);
      }
      if (!ok) {
        std::string allowed;
        for (const auto& e : ps->enum_str) allowed += (allowed.empty() ? "" : ", ") + e;
        ctx.add("schema_enum", n, &p, "value " + ctx.format(p) + " is not one of [" + allowed + "]", id);
      }
    }
    if (is_number) check_bounds(ctx, n, p, *ps, number, id);
  });
  ctx.each_child(n, s, [&](const auto& c, const SchemaSet::CompiledNode* cs_) {
    if (!cs_) {
      if (!s.additional_ok)
        ctx.add("schema_unknown_node", c, nullptr, "node '" + std::string(c.name) + "' is not defined by the schema",
                id);
      return;
    }
    validate_compiled(c, *cs_, ctx, depth + 1);
  });
}


// `want` is one of the property's strings (Value::strings: string and string-list values).
bool flat_has_string(const fdt::FlatProp& p, std::string_view want) {
  if (p.type != fdt::PropType::string && p.type != fdt::PropType::string_list) return false;
  std::string_view all(reinterpret_cast<const char*>(p.raw.data()), p.raw.size() - 1);  // value_ok: ends in NUL
  for (std::size_t pos = 0;;) {
    const std::size_t end = all.find('\0', pos);
    if (all.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos) == want) return true;
    if (end == std::string_view::npos) return false;
    pos = end + 1;
  }
}

// validate_compiled() on the in-place decode: the schemas bind_flat() bound.
struct FlatCtx {
  const fdt::FlatTree& t;
  const std::string& file;
  Report& report;
  void add(const char* rule, const fdt::FlatNode& n, const fdt::FlatProp* p, std::string msg, const std::string& id) {
    add_schema_finding(report, file, rule, p ? p->offset : n.offset, t.path(n),
                       p ? std::string(p->name) : std::string(), std::move(msg), id);
  }
  template <class F>
  void each_prop(const fdt::FlatNode& n, const SchemaSet::CompiledNode&, F f) {
    for (const auto& p : t.props_of(n)) f(p, static_cast<const cs::Prop*>(p.schema));  // s.prop_schema(p.name)
  }
  template <class F>
  void each_child(const fdt::FlatNode& n, const SchemaSet::CompiledNode&, F f) {
    for (int c = n.first_child; c >= 0; c = t.nodes[static_cast<std::size_t>(c)].next_sibling) {
      const fdt::FlatNode& cn = t.nodes[static_cast<std::size_t>(c)];
      f(cn, static_cast<const SchemaSet::CompiledNode*>(cn.schema));  // s.child_schema(cn.name)
    }
  }
  bool has(const fdt::FlatNode& n, const std::string& name) const { return t.prop(n, name) || t.child(n, name) >= 0; }
  static bool value_ok(const fdt::FlatProp& p) { return p.value_ok; }
  static fdt::PropType type(const fdt::FlatProp& p) { return p.type; }
  static std::uint64_t number(const fdt::FlatProp& p) { return p.number; }
  static bool has_string(const fdt::FlatProp& p, const std::string& want) { return flat_has_string(p, want); }
  std::string format(const fdt::FlatProp& p) const { return fdt::format_value(*fdt::flat_value(t, p)); }
};

}  // namespace

void SchemaSet::validate_flat(const fdt::FlatTree& tree, const SchemaDoc& doc, const std::string& file,
                              Report& report) const {
  if (tree.nodes.empty()) {
    validate_tree(fdt::Tree{}, doc, file, report);  // what an empty decode is checked as
    return;
  }
  const CompiledNode* root = compiled(doc);
  if (!root) {
    const fdt::Tree t = fdt::to_tree(tree);  // the yaml-cpp walk reads the owning tree
    validate_node(t.root, doc, loaded(doc).root, file, report, 0);
    return;
  }
  if (tree.nodes.front().schema != root) {
    fdt::FlatTree copy = tree;  // bind_flat() declares types in place; only the binding is used
    bind_flat(copy, &doc);
    validate_flat(copy, doc, file, report);
    return;
  }
  FlatCtx ctx{tree, file, report};
  validate_compiled(tree.nodes.front(), *root, ctx, 0);
}

void SchemaSet::validate_tree(const fdt::Tree& tree, const SchemaDoc& doc, const std::string& file,
                              Report& report) const {
  if (const CompiledNode* root = compiled(doc)) {
    TreeCtx ctx{file, report};
    validate_compiled(tree.root, *root, ctx, 0);
    return;
  }
  validate_node(tree.root, doc, loaded(doc).root, file, report, 0);
}

}  // namespace khospec::conformance
