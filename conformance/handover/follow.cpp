// The walk from the root FDT: the map summary, then every child of the root,
// identified by its node name (registry::formats_of_node()), the root
// compatible (registry::written_under()) and its content, and handed to the
// reader of its format family. The blob itself is the first pointer the
// cardinal rule checks.
#include <algorithm>
#include <cstring>
#include <map>

#include "conformance/handover/readers.hpp"
#include "core/rules.hpp"
#include "fdt/reader.hpp"

namespace khospec::conformance {

const HandoverField* HandoverNode::field(std::string_view n) const {
  for (const auto& f : fields)
    if (f.name == n) return &f;
  return nullptr;
}

const HandoverNode* HandoverNode::child(std::string_view k, std::string_view n) const {
  for (const auto& c : children)
    if (c.kind == k && (n.empty() || c.name == n)) return &c;
  return nullptr;
}

std::vector<const HandoverNode*> Handover::find_all(std::string_view kind) const {
  std::vector<const HandoverNode*> out;
  std::vector<const HandoverNode*> stack{&root};
  while (!stack.empty()) {
    const HandoverNode* n = stack.back();
    stack.pop_back();
    if (n->kind == kind) out.push_back(n);
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) stack.push_back(&*it);
  }
  return out;
}

namespace follow {

std::optional<std::uint64_t> prop_u64(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name,
                                      fdt::Endian e) {
  const fdt::FlatProp* p = t.prop(n, name);
  if (!p || p->raw.size() != 8) return std::nullopt;
  return fdt::load_u64(p->raw.data(), e);
}

std::optional<std::uint32_t> prop_u32(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name,
                                      fdt::Endian e) {
  const fdt::FlatProp* p = t.prop(n, name);
  if (!p || p->raw.size() != 4) return std::nullopt;
  return fdt::load_u32(p->raw.data(), e);
}

std::string prop_first_string(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name) {
  const fdt::FlatProp* p = t.prop(n, name);
  if (!p) return {};
  return c_string(p->raw);
}

namespace {

// A sub-FDT read for its content only: the validator checks its container and
// schema separately (validate.cpp), so findings here are dropped.
struct SubFdt {
  fdt::Blob blob;
  fdt::FlatTree flat;
  bool ok() const { return blob.ok() && !flat.nodes.empty(); }
};

std::unique_ptr<SubFdt> open_sub_fdt(Walk& w, const std::string& path, std::uint64_t phys, std::uint64_t total) {
  auto s = std::make_unique<SubFdt>();
  auto bytes = w.read(path, phys, std::min<std::uint64_t>(total, w.opts().max_fdt + 1), "sub-FDT");
  if (!bytes) return s;
  Report ignored;
  fdt::ReadOptions ro;
  ro.file = path;
  ro.max_size = w.opts().max_fdt;
  s->blob = fdt::Blob::open(*bytes, ro, ignored, &s->flat);
  return s;
}

// The string a struct blob starts with (luo_ser.compatible), when it is one: NUL-
// terminated within the field and printable. "" otherwise.
std::string struct_tag(std::span<const std::uint8_t> head) {
  if (head.empty() || head[0] < 0x21 || head[0] > 0x7e) return {};  // no string: no layout to read
  const Struct s(layout("luo_ser"), head, fdt::Endian::little);
  bool terminated = false;
  const std::string c = s.str("compatible", &terminated);
  if (!terminated || c.empty()) return {};
  for (unsigned char ch : c)
    if (ch < 0x21 || ch > 0x7e) return {};
  return c;
}

// A version-1 kho_kexec_metadata by content: version 1 and a NUL-terminated release.
bool looks_like_metadata(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 4 || fdt::load_u32(bytes.data(), fdt::Endian::little) != 1) return false;  // version 1
  const Layout& km = layout("kho_kexec_metadata");
  if (!km.size || bytes.size() < km.size) return false;
  const Struct s(km, bytes, fdt::Endian::little);
  bool terminated = false;
  s.str("previous_release", &terminated);
  return s.u("version") == 1 && terminated;
}

std::string describe_fdt_blob(const std::string& compat) {
  return compat.empty() ? std::string("an FDT without a compatible") : "an FDT '" + printable(compat) + "'";
}

void summarize_map(Walk& w, HandoverNode& root, const MapDecode& map) {
  HandoverNode m = make_node("map", map.format, "/ -> preserved-memory-map");
  m.format = map.format;
  std::map<unsigned, std::pair<std::uint64_t, std::uint64_t>> per;  // order -> (blocks, bytes)
  std::uint64_t total = 0;
  for (const auto& b : map.blocks) {
    auto& p = per[b.order];
    ++p.first;
    p.second += b.size();
    total += b.size();
  }
  // The map's blocks count against the same budget as the clients' entries (--map-limit).
  w.spend(map.blocks.size(), m.path);
  add_field(m, "blocks", map.blocks.size(), false);
  add_field(m, "bytes", total);
  add_text(m, "complete", map.complete ? "yes" : "no");
  for (const auto& [order, p] : per) {
    HandoverNode o = make_node("order", dec(order), m.path + " -> order " + dec(order));
    o.order = order;
    add_field(o, "blocks", p.first, false);
    add_field(o, "bytes", p.second);
    for (const auto& b : map.blocks) {
      if (b.order != order) continue;
      HandoverNode bn = make_node("block", hex(b.phys), o.path, b.phys, b.size());
      bn.order = b.order;
      bn.preserved = true;
      w.keep(o, std::move(bn));
    }
    w.keep(m, std::move(o));
  }
  w.keep(root, std::move(m));
}

struct Child {
  const fdt::FlatNode* node;
  const fdt::FlatProp* ptr;
  std::uint64_t phys;
  std::optional<std::uint64_t> blob_size;
};

void add_at(Report& r, const FollowOptions& o, std::string_view rule, const std::string& node, const fdt::FlatProp* p,
            std::string msg) {
  r.add(make_finding(rule, o.file, p ? std::optional<std::uint64_t>(p->offset) : std::nullopt, node,
                     p ? std::string(p->name) : std::string(), std::move(msg), "kho"));
}

void follow_client(Walk& w, Report& report, HandoverNode& root, const fdt::FlatTree& t, const Child& c) {
  const std::string name(c.node->name);
  const std::string path = "/" + name;
  HandoverNode client = make_node("client", name, path, c.phys, 0);
  if (c.blob_size) add_field(client, "blob-size", *c.blob_size);
  std::uint8_t hdr[40] = {};
  bool in_image = w.in_image(c.phys, sizeof hdr) ||
                  (c.blob_size && *c.blob_size < sizeof hdr && w.in_image(c.phys, *c.blob_size));
  if (in_image) {
    auto b = w.read(path, c.phys, w.in_image(c.phys, sizeof hdr) ? sizeof hdr : *c.blob_size, "blob");
    if (b) std::copy(b->begin(), b->end(), hdr);
  }
  if (!in_image) {
    if (!w.blocked("kho_image_addr_missing"))
      add_at(report, w.opts(), "kho_image_addr_missing", path, c.ptr,
             "blob " + hex(c.phys) + " is not in the memory image");
    add_text(client, "blob", "not in the image");
    w.keep(root, std::move(client));
    return;
  }
  const std::optional<std::uint32_t> fdt_total = fdt::peek_fdt_totalsize(hdr);
  const bool is_fdt = fdt_total.has_value();
  // Identity: the formats this node holds under this root's compatible.
  std::vector<const registry::ClientFormat*> all = registry::formats_of_node(name), cands;
  for (const auto* f : all)
    if (registry::written_under(w.root_compatible(), *f)) cands.push_back(f);
  std::unique_ptr<SubFdt> sub;
  std::string actual;
  std::vector<std::uint8_t> raw;
  std::uint64_t extent = c.blob_size.value_or(kPageSize);
  if (is_fdt) {
    extent = c.blob_size.value_or(*fdt_total);
    if (c.blob_size && *c.blob_size != *fdt_total && !w.blocked("kho_blob_size_mismatch"))
      add_at(report, w.opts(), "kho_blob_size_mismatch", path, t.prop(*c.node, "blob-size"),
             "blob-size " + hex(*c.blob_size) + " but the FDT at " + hex(c.phys) + " has totalsize " + hex(*fdt_total));
    sub = open_sub_fdt(w, path, c.phys, std::max<std::uint64_t>(*fdt_total, c.blob_size.value_or(0)));
    if (sub->ok()) actual = prop_first_string(sub->flat, sub->flat.nodes.front(), "compatible");
    add_text(client, "blob", "FDT");
  } else {
    actual = struct_tag(hdr);
    add_text(client, "blob", "struct");
  }
  // The format the content is (by label), among every client format khospec knows.
  const registry::ClientFormat* is = nullptr;
  for (const auto& f : registry::client_formats())
    if ((f.kind == registry::BlobKind::fdt) == is_fdt && !actual.empty() && f.label() == actual) is = &f;
  if (!is_fdt && !is) {
    // kexec-metadata carries a version, not a string: by its node name, or by content.
    const std::uint64_t n = std::min<std::uint64_t>(c.blob_size.value_or(kPageSize), layout("kho_kexec_metadata").size);
    auto head = w.in_image(c.phys, n) ? w.read(path, c.phys, n, "blob") : std::nullopt;
    if (name == "kexec-metadata" || (head && looks_like_metadata(*head)))
      is = registry::format_by_label("kexec-metadata version 1");
  }
  const registry::ClientFormat* use = nullptr;  // the format to decode the blob as
  auto expected_labels = [&] {
    std::string s;
    for (const auto* f : cands.empty() ? all : cands) s += (s.empty() ? "" : " or ") + f->label();
    return s;
  };
  if (all.empty()) {
    w.add("kho_client_unknown", path,
          "no KHO client khospec knows hangs from /" + name + " (its blob is " +
              (is_fdt ? describe_fdt_blob(actual) : dec(extent) + " raw bytes") +
              "); only its preservation is checked");
    use = is;
  } else if (is && std::find(all.begin(), all.end(), is) != all.end() && cands.empty()) {
    w.add("kho_client_unknown", path,
          is->label() + " is not read by any kernel that reads a " + w.root_compatible() + " hand-over (written " +
              std::string(is->first_release) + (is->last_release.empty() ? "+" : " - " + std::string(is->last_release)) +
              "); it is decoded, but the next kernel ignores it");
    use = is;
  } else if (is && std::find(cands.begin(), cands.end(), is) != cands.end()) {
    use = is;
  } else if (is_fdt && !sub->ok()) {
    // A broken FDT: the validator's container checks of the sub-blob say why.
  } else if (!is_fdt && !is && std::all_of(cands.begin(), cands.end(), [](const auto* f) { return f->kind == registry::BlobKind::fdt; })) {
    // Not an FDT where one must be: kho_subfdt_invalid (validate.cpp).
  } else if (!w.blocked("kho_client_format_mismatch")) {
    const registry::ClientFormat* reader = cands.empty() ? all.front() : cands.front();
    std::string holds = is_fdt ? describe_fdt_blob(actual)
                               : (actual.empty() ? "a struct that is none of them" : "a struct with compatible '" + printable(actual) + "'");
    if (is && !is->first_release.empty())
      holds += " (" + is->label() + ", written " + std::string(is->first_release) +
               (is->last_release.empty() ? "+" : " - " + std::string(is->last_release)) + ")";
    w.add("kho_client_format_mismatch", path,
          "/" + name + " holds " + holds + ", but a " + w.root_compatible() + " hand-over's /" + name + " is " +
              expected_labels() + ": " + std::string(registry::identity(*reader).reader) + " refuses it and the client's state is lost");
  }
  client.format = use ? use->label() : (actual.empty() ? std::string() : printable(actual));
  if (use && use->kind == registry::BlobKind::raw && !c.blob_size) extent = layout(registry::identity(*use).layout).size;
  client.size = extent;
  // The blob is the client's first pointer.
  const bool restored_as_folio = use && use->family == "luo" && use->kind == registry::BlobKind::raw;
  w.require(client, c.phys, std::max<std::uint64_t>(extent, 1), restored_as_folio ? Claim::folio : Claim::covered,
            std::nullopt, use ? std::string(registry::identity(*use).reader) : std::string());
  if (use) {
    if (use->kind == registry::BlobKind::fdt && sub && sub->ok()) {
      if (use->family == "memblock") read_memblock(w, client, sub->flat);
      else if (use->family == "kho_test") read_test_kho(w, client, sub->flat);
      else if (use->family == "luo") read_luo_fdt(w, client, sub->flat);
    } else if (use->kind == registry::BlobKind::raw) {
      const std::uint64_t want = std::min<std::uint64_t>(std::max<std::uint64_t>(layout(registry::identity(*use).layout).size, 1), extent);
      raw = w.read(path, c.phys, want, "blob").value_or(std::vector<std::uint8_t>());
      if (use->family == "kexec-metadata") {
        if (c.blob_size && *c.blob_size != layout(registry::identity(*use).layout).size && !w.blocked("kho_blob_size_mismatch"))
          add_at(report, w.opts(), "kho_blob_size_mismatch", path, t.prop(*c.node, "blob-size"),
                 "blob-size " + hex(*c.blob_size) + " but struct kho_kexec_metadata is " + dec(layout(registry::identity(*use).layout).size) +
                     " bytes");
        read_kexec_metadata(w, client, raw, c.blob_size);
      } else if (use->family == "luo") {
        read_luo_ser(w, client, raw, c.blob_size);
      }
    }
  }
  w.keep(root, std::move(client));
}

}  // namespace
}  // namespace follow

using namespace follow;

Handover follow_handover(const fdt::FlatTree& t, std::string_view abi, const MemoryImage& image,
                         const MapDecode* map, const FollowOptions& opts, Report& report) {
  Handover h;
  if (t.nodes.empty()) return h;
  const fdt::FlatNode& root = t.nodes.front();
  std::string compat = prop_first_string(t, root, "compatible");
  // RFC layouts: no release writes them, so every client format is possible.
  const std::string era_compat = abi.find("rfc") != std::string_view::npos ? std::string(abi) : compat;
  Walk w(&image, map, opts, report, era_compat);
  h.root = make_node("handover", compat, "/");
  h.root.format = std::string(abi);
  add_text(h.root, "compatible", printable(compat));
  if (opts.fdt_phys) add_field(h.root, "fdt_phys", *opts.fdt_phys);
  if (map) summarize_map(w, h.root, *map);
  const bool v1 = abi.rfind("kho-v1", 0) == 0;
  for (int ci = root.first_child; ci >= 0; ci = t.nodes[static_cast<std::size_t>(ci)].next_sibling) {
    const fdt::FlatNode& ch = t.nodes[static_cast<std::size_t>(ci)];
    const fdt::FlatProp* ptr = t.prop(ch, v1 ? "fdt" : "preserved-data");
    auto phys = prop_u64(t, ch, v1 ? "fdt" : "preserved-data", opts.endian);
    if (!phys || *phys == 0) continue;  // value rules, kho_blob_null
    auto size = prop_u64(t, ch, "blob-size", opts.endian);
    if (size && *size == 0) continue;  // kho_blob_size_zero
    follow_client(w, report, h.root, t, Child{&ch, ptr, *phys, size});
  }
  w.finish("/");
  return h;
}

std::string recognise_raw_blob(std::span<const std::uint8_t> bytes, std::string_view file_name) {
  if (fdt::peek_fdt_totalsize(bytes.first(std::min<std::size_t>(bytes.size(), 40)))) return {};
  // By name: debugfs sub_fdts/<name>, the captures' *sub_blob_<name>.bin and mem_*blob_<name>_0x*.bin.
  std::string base(file_name);
  const auto slash = base.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string() : base.substr(0, slash);
  if (slash != std::string::npos) base = base.substr(slash + 1);
  std::string node;
  if (dir.size() >= 8 && dir.compare(dir.size() - 8, 8, "sub_fdts") == 0) {
    node = base;
  } else if (auto p = base.find("sub_blob_"); p != std::string::npos && base.size() > 4 &&
                                                base.compare(base.size() - 4, 4, ".bin") == 0) {
    node = base.substr(p + 9, base.size() - 4 - (p + 9));
  } else if (auto q = base.find("blob_"); base.rfind("mem_", 0) == 0 && q != std::string::npos) {
    node = base.substr(q + 5);
    if (auto u = node.rfind("_0x"); u != std::string::npos) node = node.substr(0, u);
  }
  for (const auto* f : registry::formats_of_node(node)) {
    if (f->kind != registry::BlobKind::raw) continue;
    return f->label();  // checked as that format, whatever its bytes say (follow_raw_blob())
  }
  // By content alone: a luo_ser ("luo-v..."), or a version-1 kexec-metadata of exactly its size.
  // (Cheap tests first: most inputs that reach here are broken FDTs, and a layout is a schema file to parse.)
  if (bytes.size() >= 5 && std::memcmp(bytes.data(), "luo-v", 5) == 0 && bytes.size() >= layout("luo_ser").size &&
      struct_tag(bytes).rfind("luo-v", 0) == 0)
    return "luo-v5";
  if (looks_like_metadata(bytes) && bytes.size() == layout("kho_kexec_metadata").size) return "kexec-metadata version 1";
  return {};
}

Handover follow_raw_blob(std::span<const std::uint8_t> bytes, std::string_view label, const MemoryImage* image,
                         const FollowOptions& opts, Report& report) {
  Handover h;
  Walk w(image, nullptr, opts, report, "");
  h.root = make_node("handover", "", "/");
  h.root.format = std::string(label);
  const registry::ClientFormat* f = registry::format_by_label(label);
  std::string node = f ? std::string(f->node) : std::string();
  HandoverNode client = make_node("client", node, "/" + node, 0, bytes.size());
  client.format = std::string(label);
  add_text(client, "blob", "struct (a sub-blob on its own)");
  if (f && f->family == "kexec-metadata") {
    read_kexec_metadata(w, client, bytes, std::nullopt);
  } else if (f && f->family == "luo") {
    // luo_early_startup(): strncmp() of the whole compatible field.
    const std::string actual = struct_tag(bytes);
    if (actual != f->label())
      w.add("kho_client_format_mismatch", client.path,
            client.path + " holds " + (actual.empty() ? std::string("a struct that is no luo_ser") : "a struct with compatible '" + printable(actual) + "'") +
                ", not " + f->label() + ": " + std::string(registry::identity(*f).reader) + " refuses it and the preserved sessions are lost");
    else
      read_luo_ser(w, client, bytes, std::nullopt);
  }
  w.keep(h.root, std::move(client));
  w.finish("/");
  return h;
}

}  // namespace khospec::conformance
