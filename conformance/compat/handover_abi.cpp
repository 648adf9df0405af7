#include "conformance/compat/handover_abi.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "conformance/compat/abi.hpp"
#include "conformance/handover/handover.hpp"
#include "conformance/schema/schema.hpp"
#include "conformance/validate/validate.hpp"
#include "core/rules.hpp"
#include "fdt/decode.hpp"
#include "registry/clients.hpp"

namespace khospec::conformance {

namespace {

// Every format and layout of the built-in schemas: what types, required-ness
// and pointer targets a property has under its compatible.
const abi::AbiSet& builtin_abi() {
  static const abi::AbiSet s = abi_from_schemas(SchemaSet::builtin(), {}, "schemas");
  return s;
}

std::string first_string(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name) {
  const fdt::FlatProp* p = t.prop(n, name);
  if (!p || p->raw.empty()) return {};
  const auto* b = reinterpret_cast<const char*>(p->raw.data());
  return std::string(b, strnlen(b, p->raw.size()));
}

const abi::Prop* schema_prop(const abi::Node* s, std::string_view name) {
  if (!s) return nullptr;
  for (const auto& p : s->props)
    if (p.name == name) return &p;
  return nullptr;
}

// The schema node a child named `name` falls under: a fixed name, else the
// pattern child whose regex accepts it.
const abi::Node* schema_child(const abi::Node* s, std::string_view name) {
  if (!s) return nullptr;
  for (const auto& c : s->children)
    if (!c.pattern && c.name == name) return &c;
  for (const auto& c : s->children)
    if (c.pattern && schema_pattern_matches(name, c.name)) return &c;
  return nullptr;
}

// A present property: its wire type and required-ness from the schema, else
// the type the decoder gave it (optional: nothing says a reader needs it).
abi::Prop observed_prop(const fdt::FlatProp& p, const abi::Node* schema) {
  abi::Prop out;
  out.name = std::string(p.name);
  if (const abi::Prop* s = schema_prop(schema, p.name)) {
    out.value.type = s->value.type;
    out.value.points_to = s->value.points_to;
    out.required = s->required;
    out.deprecated = s->deprecated;
  } else {
    out.value.type = std::string(fdt::type_name(p.type));
    out.description = "not described by the schema of this compatible";
  }
  out.value.len = abi::type_len(out.value.type);
  return out;
}

abi::Node observed_node(const fdt::FlatTree& t, const fdt::FlatNode& n, const abi::Node* schema, int depth) {
  abi::Node out;
  out.name = n.parent < 0 ? "/" : std::string(n.name);
  for (const auto& p : t.props_of(n)) {
    if (p.duplicate) continue;
    out.props.push_back(observed_prop(p, schema));
  }
  if (depth > 16) return out;
  for (int ci = n.first_child; ci >= 0; ci = t.nodes[static_cast<std::size_t>(ci)].next_sibling) {
    const fdt::FlatNode& c = t.nodes[static_cast<std::size_t>(ci)];
    if (c.duplicate) continue;
    abi::Node k = observed_node(t, c, schema_child(schema, c.name), depth + 1);
    k.required = false;  // present here; whether another hand-over has it is an addition, not a break
    out.children.push_back(std::move(k));
  }
  return out;
}

// The layouts of the structures the walker followed below a client, by kind.
void followed_layouts(const HandoverNode& n, std::set<std::string>& out) {
  static const std::map<std::string, std::string, std::less<>> by_kind = {
      {"session", "luo_session_ser"},       {"file", "luo_file_ser"},       {"kho_block", "kho_block_header_ser"},
      {"vmalloc", "kho_vmalloc"},           {"vmalloc_chunk", "kho_vmalloc_chunk"},
      {"flb_header", "luo_flb_header_ser"}, {"flb", "luo_flb_ser"},         {"kexec_metadata", "kho_kexec_metadata"}};
  if (auto it = by_kind.find(n.kind); it != by_kind.end()) out.insert(it->second);
  if (!n.format.empty() && n.kind != "client")
    if (const auto* f = registry::format_by_label(n.format); f && !registry::identity(*f).layout.empty())
      out.insert(std::string(registry::identity(*f).layout));
  for (const auto& c : n.children) followed_layouts(c, out);
}

// Adds `name` and every layout it reaches (field pointers, inline structs) from the built-in schemas.
void add_layout(abi::AbiSet& s, const std::string& name, bool followed) {
  for (auto& have : s.layouts) {
    if (have.name != name) continue;
    if (followed) have.builtin = false;
    return;
  }
  const abi::Layout* l = builtin_abi().layout(name);
  if (!l) return;
  abi::Layout copy = *l;
  copy.builtin = !followed;
  s.layouts.push_back(copy);
  for (const auto& f : l->fields) {
    for (const auto& t : f.value.points_to) add_layout(s, t, false);
    if (!f.layout.empty()) add_layout(s, f.layout, false);
  }
}

void add_pointed_layouts(abi::AbiSet& s, const abi::Node& n) {
  for (const auto& p : n.props)
    for (const auto& t : p.value.points_to) add_layout(s, t, false);
  for (const auto& c : n.children) add_pointed_layouts(s, c);
}

}  // namespace

std::optional<abi::AbiSet> abi_from_handover(std::span<const std::uint8_t> root, const MemoryImage* image,
                                             const std::string& origin, Report& report) {
  ValidateOptions vo;
  Report checks;  // the hand-over's own findings are `validate`'s business, not compat's
  Validation v = validate(root, image, vo, checks);
  if (v.flat.nodes.empty()) {
    report.add(make_finding("compat_input_invalid", origin, std::nullopt, "", "", "the root FDT cannot be decoded "
                            "(run `khospec validate " + origin + "` for why)", "compat"));
    return std::nullopt;
  }
  const fdt::FlatTree& t = v.flat;
  const fdt::FlatNode& top = t.nodes.front();
  abi::AbiSet s;
  s.origin = origin;

  abi::Format f;
  f.compatible = first_string(t, top, "compatible");
  f.kind = "root";
  f.status = "observed";
  f.title = "KHO root FDT, as written";
  f.source = origin;
  const abi::Format* schema = builtin_abi().format(f.compatible);
  f.root = observed_node(t, top, schema ? &schema->root : nullptr, 0);
  for (auto& p : f.root.props)
    if (p.name == "compatible") p.value.values = {f.compatible};

  // With memory: each client's pointer names what the walker found behind it,
  // and each client's own format joins the set.
  std::set<std::string> followed;
  if (v.handover) {
    for (const HandoverNode& c : v.handover->root.children) {
      if (c.kind != "client") continue;
      auto node = std::find_if(f.root.children.begin(), f.root.children.end(),
                               [&](const abi::Node& n) { return n.name == c.name; });
      const HandoverField* blob = c.field("blob");
      const registry::ClientFormat* cf = registry::format_by_label(c.format);
      std::string target;
      abi::Format cl;
      cl.kind = "client";
      cl.status = "observed";
      cl.source = origin + " /" + c.name;
      if (blob && blob->text == "FDT" && image) {
        std::uint8_t hdr[40] = {};
        const std::uint64_t total = image->read(c.phys, hdr) ? fdt::peek_fdt_totalsize(hdr).value_or(0) : 0;
        const std::uint64_t len = std::min<std::uint64_t>(std::max(total, c.size), vo.read.max_size);
        auto bytes = image->read_vec(c.phys, static_cast<std::size_t>(len));
        Report ignored;
        Validation sv = bytes ? validate(*bytes, nullptr, vo, ignored) : Validation{};
        target = "fdt";
        if (!sv.flat.nodes.empty()) {
          cl.compatible = first_string(sv.flat, sv.flat.nodes.front(), "compatible");
          const abi::Format* cs = builtin_abi().format(cl.compatible);
          cl.root = observed_node(sv.flat, sv.flat.nodes.front(), cs ? &cs->root : nullptr, 0);
          for (auto& p : cl.root.props)
            if (p.name == "compatible") p.value.values = {cl.compatible};
          cl.title = "KHO client sub-FDT, as written";
        }
      } else if (cf && cf->kind == registry::BlobKind::raw) {
        target = std::string(registry::identity(*cf).layout);
        cl.compatible = cf->label();
        cl.title = "KHO client struct, as written";
        cl.root.name = "/";
        cl.root.description = "a packed struct " + target + " (no FDT): its layout is compared";
        followed.insert(target);
      }
      followed_layouts(c, followed);
      if (!target.empty() && node != f.root.children.end())
        for (auto& p : node->props)
          if (!p.value.points_to.empty()) p.value.points_to = {target};
      if (!cl.compatible.empty() && !s.format(cl.compatible)) s.formats.push_back(std::move(cl));
    }
  }
  s.formats.insert(s.formats.begin(), std::move(f));
  for (const auto& fm : s.formats) add_pointed_layouts(s, fm.root);
  for (const auto& l : followed) add_layout(s, l, true);
  return s;
}

}  // namespace khospec::conformance
