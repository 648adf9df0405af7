// The followed hand-over as text (one line per structure, its fields below it)
// and as JSON (the same tree: kind, name, format, path, phys, size, order,
// preserved, fields, children). --depth and --summary cut the tree and count
// what they leave out, so a hand-over with millions of blocks stays readable.
#include <map>

#include "conformance/handover/walk.hpp"
#include "core/json.hpp"

namespace khospec::conformance {

namespace {

using follow::hex;

// The structures that can number in the millions (map blocks, folios, chunk and
// kho_block pages): --summary counts them instead of listing them.
bool bulk(const std::string& kind) {
  return kind == "block" || kind == "folio" || kind == "kho_block" || kind == "vmalloc_chunk";
}

// Whether `c`, a child of a node at depth `d`, is shown.
bool shown(const HandoverNode& c, int d, const RenderOptions& ro) {
  if (ro.depth >= 0 && d >= ro.depth) return false;
  return !(ro.summary && bulk(c.kind));
}

// What is left out below `n`: counts per kind.
std::map<std::string, std::uint64_t> hidden_counts(const HandoverNode& n, int d, const RenderOptions& ro) {
  std::map<std::string, std::uint64_t> c;
  for (const auto& ch : n.children)
    if (!shown(ch, d, ro)) ++c[ch.kind];
  return c;
}

std::string head_line(const HandoverNode& n) {
  std::string s = n.kind;
  const bool quoted = n.kind == "session" || n.kind == "reserve_mem" || n.kind == "flb";
  if (!n.name.empty() && n.name != n.kind) s += " " + (quoted ? "\"" + n.name + "\"" : n.name);
  if (!n.format.empty() && n.format != n.name && n.format != n.kind) s += ": " + n.format;
  if (n.size) s += (n.name == hex(n.phys) ? " +" : " @" + hex(n.phys) + " +") + hex(n.size);
  if (n.order && n.kind != "order") s += " order " + std::to_string(*n.order);
  if (n.preserved && !*n.preserved) s += " NOT PRESERVED";
  return s;
}

void text(std::ostream& o, const HandoverNode& n, int d, const RenderOptions& ro) {
  const std::string ind(static_cast<std::size_t>(d) * 4, ' ');
  const bool leaf = n.kind == "block";
  o << ind << head_line(n);
  if (leaf && n.fields.empty() && n.children.empty()) {
    o << "\n";
    return;
  }
  o << " {\n";
  for (const auto& f : n.fields) o << ind << "    " << f.name << " = " << f.text << "\n";
  for (const auto& c : n.children)
    if (shown(c, d, ro)) text(o, c, d + 1, ro);
  if (n.omitted) o << ind << "    (" << n.omitted << " more followed and checked, not kept)\n";
  std::string s;
  for (const auto& [k, c] : hidden_counts(n, d, ro)) s += (s.empty() ? "" : ", ") + std::to_string(c) + " " + k;
  if (!s.empty()) o << ind << "    (" << s << " not shown)\n";
  o << ind << "}\n";
}

void json(JsonWriter& w, const HandoverNode& n, int d, const RenderOptions& ro) {
  w.begin_object();
  w.key("kind").value(n.kind);
  w.key("name").value(n.name);
  w.key("format").value(n.format);
  w.key("path").value(n.path);
  w.key("phys").value(hex(n.phys));
  w.key("size").value(hex(n.size));
  w.key("order");
  if (n.order) w.value(static_cast<std::uint64_t>(*n.order)); else w.null();
  w.key("preserved");
  if (n.preserved) w.value(*n.preserved); else w.null();
  w.key("fields").begin_array();
  for (const auto& f : n.fields) {
    w.begin_object();
    w.key("name").value(f.name);
    w.key("value").value(f.text);
    w.key("number");
    if (f.number) w.value(*f.number); else w.null();
    w.end_object();
  }
  w.end_array();
  w.key("children").begin_array();
  for (const auto& c : n.children)
    if (shown(c, d, ro)) json(w, c, d + 1, ro);
  w.end_array();
  w.key("omitted").value(n.omitted);
  w.key("not_shown").begin_object();
  for (const auto& [k, c] : hidden_counts(n, d, ro)) w.key(k).value(c);
  w.end_object();
  w.end_object();
}

}  // namespace

void render_handover_text(std::ostream& out, const Handover& h, const RenderOptions& ro) { text(out, h.root, 0, ro); }

void write_handover_json(JsonWriter& w, const Handover& h, const RenderOptions& ro) { json(w, h.root, 0, ro); }

}  // namespace khospec::conformance
