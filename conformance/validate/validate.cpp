#include "conformance/validate/validate.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/file.hpp"
#include "core/parse.hpp"
#include "core/rules.hpp"
#include "fdt/reader.hpp"
#include "registry/clients.hpp"

namespace khospec::conformance {

namespace fs = std::filesystem;

namespace {

std::string hex(std::uint64_t v) { return hex_u64(v); }

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool any_error(const Report& r) {
  for (const auto& d : r.diagnostics())
    if (d.level == Level::error) return true;
  return false;
}

bool is_kho_root(std::string_view abi) { return abi.rfind("kho-v", 0) == 0; }
bool is_v1(std::string_view abi) { return abi.rfind("kho-v1", 0) == 0; }

struct Ctx {
  const std::string& file;
  Report& report;
  const fdt::FlatTree& t;  // the tree the nodes below belong to
  void add(const char* rule, const fdt::FlatNode* n, const fdt::FlatProp* p, std::string msg) {
    std::optional<std::uint64_t> off;
    if (p) off = p->offset;
    else if (n) off = n->offset;
    report.add(make_finding(rule, file, off, n ? std::string(t.path(*n)) : std::string("/"),
                            p ? std::string(p->name) : std::string(), std::move(msg), "kho"));
  }
  // Prerequisites are errors: with none reported yet (every clean run), skip the registry lookups.
  bool blocked(const char* rule) const { return any_error(report) && prereq_failed(rule, report); }
};

std::optional<std::uint64_t> number(const fdt::FlatProp* p) {
  if (!p || !p->value_ok) return std::nullopt;
  switch (p->type) {
    case fdt::PropType::u32:
    case fdt::PropType::u64:
    case fdt::PropType::phys_addr:
      return p->number;
    default:
      return std::nullopt;
  }
}

// Looks for the root FDT in a small image: a page start whose bytes begin with the blob.
std::optional<std::uint64_t> locate_fdt(const MemoryImage& image, std::span<const std::uint8_t> blob) {
  if (blob.size() < 40) return std::nullopt;
  std::uint64_t total = 0;
  for (const auto& s : image.segments()) total += s.size;
  if (total > (64u << 20)) return std::nullopt;  // never scan a whole /proc/kcore
  const std::size_t n = std::min<std::size_t>(blob.size(), kPageSize);
  std::vector<std::uint8_t> buf(n);
  for (const auto& s : image.segments()) {
    for (std::uint64_t a = (s.paddr + kPageSize - 1) & ~(kPageSize - 1); a - s.paddr < s.size && a >= s.paddr;
         a += kPageSize) {
      if (!image.read(a, buf)) break;
      if (std::equal(buf.begin(), buf.end(), blob.begin())) return a;
    }
  }
  return std::nullopt;
}

}  // namespace

// ------------------------------------------------------------------- scratch

bool parse_scratch_files(const std::string& phys_text, const std::string& len_text, std::vector<ScratchArea>& out,
                         std::string& error) {
  auto a = words(phys_text), l = words(len_text);
  if (a.size() != l.size()) {
    error = "scratch_phys lists " + std::to_string(a.size()) + " areas but scratch_len lists " +
            std::to_string(l.size());
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto pa = parse_u64(a[i]), pl = parse_u64(l[i]);
    if (!pa || !pl) {
      error = "'" + (pa ? l[i] : a[i]) + "' is not a number";
      return false;
    }
    out.push_back({*pa, *pl});
  }
  return true;
}

bool parse_scratch(const std::string& arg, std::vector<ScratchArea>& out, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    // The debugfs names (7.4-rc1 renames scratch_* to bootmem_*), as captures
    // save them (out_NAME.txt, which simulate --out writes too) and as
    // simulate wrote them before (NAME.txt).
    for (const char* stem : {"scratch", "bootmem"}) {
      const std::string pn = std::string(stem) + "_phys", ln = std::string(stem) + "_len";
      for (auto [p, l] : {std::pair{pn, ln}, std::pair{"out_" + pn + ".txt", "out_" + ln + ".txt"},
                          std::pair{pn + ".txt", ln + ".txt"}}) {
        std::string pt, lt;
        if (read_text_file(fs::path(arg) / p, pt) && read_text_file(fs::path(arg) / l, lt))
          return parse_scratch_files(pt, lt, out, error);
      }
    }
    error = arg + ": no scratch_phys/scratch_len in this directory (nor out_scratch_phys.txt/out_scratch_len.txt, "
                  "scratch_phys.txt/scratch_len.txt, or the bootmem_* forms of 7.4)";
    return false;
  }
  if (arg.find('+') != std::string::npos) {
    std::string item;
    std::istringstream in(arg);
    while (std::getline(in, item, ',')) {
      auto plus = item.find('+');
      auto a = plus == std::string::npos ? std::nullopt : parse_u64(item.substr(0, plus));
      auto s = plus == std::string::npos ? std::nullopt : parse_size(item.substr(plus + 1));
      if (!a || !s) {
        error = "--scratch: '" + item + "' is not ADDR+SIZE";
        return false;
      }
      out.push_back({*a, *s});
    }
    return true;
  }
  auto colon = arg.find(':');
  if (colon != std::string::npos) {
    std::string pt, lt;
    if (!read_text_file(arg.substr(0, colon), pt) || !read_text_file(arg.substr(colon + 1), lt)) {
      error = "--scratch: cannot read '" + arg.substr(0, colon) + "' or '" + arg.substr(colon + 1) + "'";
      return false;
    }
    return parse_scratch_files(pt, lt, out, error);
  }
  error = "--scratch takes ADDR+SIZE[,...], PHYS_FILE:LEN_FILE or a directory with scratch_phys/scratch_len";
  return false;
}

// ------------------------------------------------------------------ ABI detection

const std::vector<std::string>& known_abis() {
  static const std::vector<std::string> v = {
      "kho-v1", "kho-v2", "kho-v3", "kho-v4", "memblock-v1", "kho-test-v1", "luo-v1", "luo-v2",
      "kho-v1-rfc-g0", "kho-v1-rfc-order-table", "kho-v4-rfc-compat"};
  return v;
}

namespace {

// detect_abi() on the in-place decode before its typing pass: decode_tree() with the
// built-in types decodes compatible as a string-list, keeps the first property of
// each name among the properties before a node's first subnode (libfdt's property
// iteration, as fdt_getprop() does) and skips nodes deeper than
// DecodeOptions::max_depth; read_flat() keeps exactly those.
std::string_view detect_abi_flat(const fdt::FlatTree& t) {
  if (t.nodes.empty()) return "";
  const fdt::FlatNode& root = t.nodes.front();
  // compatible as fdt::decode_string_list() reads it, in place: nullopt when that returns nullopt.
  auto strings = [&](const fdt::FlatNode& n) -> std::optional<std::string_view> {
    const fdt::FlatProp* p = t.prop(n, "compatible");
    if (!p || p->raw.empty() || p->raw.back() != 0 || p->raw.front() == 0) return std::nullopt;
    std::string_view all(reinterpret_cast<const char*>(p->raw.data()), p->raw.size() - 1);
    // An empty entry, inside or last ("a\0\0"): decode_string_list() refuses both.
    if (all.back() == 0 || all.find(std::string_view("\0\0", 2)) != std::string_view::npos) return std::nullopt;
    return all;
  };
  auto first = [](std::string_view all) { return all.substr(0, all.find('\0')); };
  auto has = [&](const fdt::FlatNode& n, std::string_view name) { return t.prop(n, name) != nullptr; };
  auto c = strings(root);
  if (!c) return "";
  // G0/G1 RFC: `mem` arrays and embedded client nodes instead of a memory map (only
  // asked for a kho-v1 root without either map property).
  auto has_mem = [&] {
    for (const auto& n : t.nodes) {
      if (has(n, "mem")) return true;
      if (auto nc = strings(n); nc && first(*nc).rfind("ftrace", 0) == 0) return true;
    }
    return false;
  };
  for (std::string_view rest = *c;;) {
    const std::string_view s = first(rest);
    if (s == "kho-v1") {
      if (has(root, "preserved-order-table")) return "kho-v1-rfc-order-table";
      if (!has(root, "preserved-memory-map") && has_mem()) return "kho-v1-rfc-g0";
      return "kho-v1";
    }
    if (s.rfind("kho-v4;", 0) == 0) return "kho-v4-rfc-compat";  // R2: "kho-v4" ";radix-v1" ...
    for (const auto& k : known_abis()) {
      if (s == k) return k;  // a view of the static list
    }
    if (s.size() == rest.size()) return "";
    rest.remove_prefix(s.size() + 1);
  }
}

}  // namespace

std::string detect_abi(const fdt::Tree& tree) {
  const fdt::Node& root = tree.root;
  const fdt::Property* c = root.prop("compatible");
  if (!c || !c->value) return "";
  bool has_mem = false;
  // G0/G1 RFC: `mem` arrays and embedded client nodes instead of a memory map.
  std::vector<const fdt::Node*> stack{&root};
  while (!stack.empty()) {
    const fdt::Node* n = stack.back();
    stack.pop_back();
    if (n->prop("mem")) has_mem = true;
    if (const auto* nc = n->prop("compatible"); nc && nc->value && !nc->value->strings.empty() &&
                                               nc->value->strings.front().rfind("ftrace", 0) == 0)
      has_mem = true;
    for (const auto& ch : n->children) stack.push_back(&ch);
  }
  for (const auto& s : c->value->strings) {
    if (s == "kho-v1") {
      if (root.prop("preserved-order-table")) return "kho-v1-rfc-order-table";
      if (!root.prop("preserved-memory-map") && has_mem) return "kho-v1-rfc-g0";
      return "kho-v1";
    }
    if (s.rfind("kho-v4;", 0) == 0) return "kho-v4-rfc-compat";  // R2: "kho-v4" ";radix-v1" ...
    for (const auto& k : known_abis()) {
      if (s == k) return s;
    }
  }
  return "";
}

// ---------------------------------------------------------------------- validate

namespace {

struct Pipeline {
  const ValidateOptions& opts;
  const MemoryImage* image;
  Report& report;
  const SchemaSet& schemas;
  Validation& v;  // validate()'s return value, built in place
  std::vector<Report> pending;

  // The sub-blobs the followed hand-over found, and the container and schema
  // checks of those that are (or must be) FDTs: their findings follow the
  // root's, so a broken sub-FDT never suppresses its siblings' checks.
  void check_sub_blobs(const std::string& file, const fdt::FlatNode& root, const Handover& h) {
    Ctx cx{file, report, v.flat};
    const fdt::FlatTree& t = v.flat;
    const std::string root_compat = t.prop(root, "compatible") ? follow_first_string(*t.prop(root, "compatible")) : "";
    for (const auto& c : h.root.children) {
      if (c.kind != "client") continue;
      const int ci = t.child(root, c.name);
      if (ci < 0) continue;
      const fdt::FlatNode& child = t.nodes[static_cast<std::size_t>(ci)];
      const fdt::FlatProp* ptr_prop = t.prop(child, is_v1(v.abi) ? "fdt" : "preserved-data");
      SubBlob sb;
      sb.node = std::string(t.path(child));
      sb.phys = c.phys;
      const HandoverField* blob = c.field("blob");
      sb.in_image = !blob || blob->text != "not in the image";
      if (sb.in_image) sb.size = c.size;
      if (auto bs = c.field("blob-size")) sb.size = bs->number;
      sb.preserved = c.preserved;
      sb.abi = c.format;
      const bool fdt_magic = blob && blob->text == "FDT";
      // Where the next kernel expects an FDT: every kho-v1 child (`fdt`), and a child
      // whose formats under this root are all FDTs (memblock, kho_test, LUO before 7.2).
      bool must_be_fdt = is_v1(v.abi);
      if (!must_be_fdt) {
        std::size_t n = 0, fdts = 0;
        for (const auto* f : registry::formats_of_node(c.name)) {
          if (!registry::written_under(root_compat, *f)) continue;
          ++n;
          fdts += f->kind == registry::BlobKind::fdt;
        }
        must_be_fdt = n > 0 && n == fdts;
      }
      if (sb.in_image && (fdt_magic || (must_be_fdt && c.format.empty())) && opts.follow_blobs) {
        std::uint8_t hdr[40] = {};
        const bool full = image->read(c.phys, hdr);
        const std::uint64_t total = full ? fdt::peek_fdt_totalsize(hdr).value_or(0) : 0;
        std::uint64_t len = fdt_magic ? std::max<std::uint64_t>(total, c.size) : sizeof hdr;
        len = std::min<std::uint64_t>(len, opts.read.max_size + 1);
        auto bytes = image->read_vec(c.phys, static_cast<std::size_t>(len));
        if (!bytes) bytes = image->read_vec(c.phys, sizeof hdr);
        if (!bytes) bytes = std::vector<std::uint8_t>(hdr, hdr + sizeof hdr);
        ValidateOptions so = opts;
        so.abi = "auto";
        so.read.file = file + ":" + sb.node + "@" + hex(c.phys);
        so.fdt_phys.reset();
        so.follow_blobs = false;
        Report nested;
        Validation sub = validate(*bytes, nullptr, so, nested);
        if (!sub.blob.ok())
          cx.add("kho_subfdt_invalid", &child, ptr_prop,
                 "the blob at " + hex(c.phys) + " is not a valid FDT (findings for " + so.read.file + " follow)");
        if (sb.abi.empty()) sb.abi = sub.abi;
        pending.push_back(std::move(nested));
      }
      v.subs.push_back(sb);
    }
  }

  static std::string follow_first_string(const fdt::FlatProp& p) {
    std::string s(reinterpret_cast<const char*>(p.raw.data()), p.raw.size());
    return s.substr(0, s.find('\0'));
  }

  void run(std::span<const std::uint8_t> bytes) {
    const std::string& file = opts.read.file;
    Ctx cx{file, report, v.flat};
    // The decode is read in place during open()'s structure walk (the flat decode
    // read_flat() returns: views into the blob, no tree); Validation::tree() builds
    // the owning tree only for a consumer that asks.
    // A client blob on its own (7.x debugfs sub_fdts/LUO, kexec-metadata): not an
    // FDT; checked as the struct its name and content say it is.
    if (const std::string raw = recognise_raw_blob(bytes, file); !raw.empty()) {
      v.abi = raw;
      FollowOptions fo = follow_options(file);
      v.handover = follow_raw_blob(bytes, raw, image, fo, report);
      return;
    }
    v.blob = fdt::Blob::open(bytes, opts.read, report, &v.flat);
    if (!v.blob.ok()) return;

    // ABI detection comes before the typing pass (compatible is a string-list in
    // every format): detect_abi_flat() == detect_abi(decode_tree(blob)).
    const std::string_view detected = detect_abi_flat(v.flat);
    if (opts.abi == std::string_view("auto")) v.abi = detected;
    else v.abi = opts.abi;
    const SchemaDoc* doc = v.abi.empty() ? nullptr : schemas.for_abi(v.abi);

    // Typed decoding with the schema's wire types (the built-in schemas' by name for the rest);
    // each node and property is bound to its schema for validate_flat().
    schemas.bind_flat(v.flat, doc);
    fdt::type_flat_declared(v.flat, v.blob, opts.endian, report);
    const fdt::FlatTree& t = v.flat;
    if (t.nodes.empty()) return;  // never for an ok() blob (its root is at depth 0)
    const fdt::FlatNode& root = t.nodes.front();

    // ABI.
    if (!cx.blocked("kho_abi_missing_compatible")) {
      const fdt::FlatProp* c = t.prop(root, "compatible");
      if (!c) {
        cx.add("kho_abi_missing_compatible", &root, nullptr, "the root has no compatible; the format is unknown");
      } else if (detected.empty()) {
        std::string names = c->value_ok ? fdt::format_value(*fdt::flat_value(t, *c)) : "?";
        // A "vendor,device" compatible is a device tree's, not a KHO format's.
        const std::string_view raw(reinterpret_cast<const char*>(c->raw.data()), c->raw.size());
        const bool device_tree = raw.find(',') != std::string_view::npos;
        cx.add("kho_abi_unknown", &root, c,
               "compatible " + names + " names no format khospec knows" +
                   (device_tree ? ": this is not a KHO blob (a device tree's vendor,device compatible); it is not "
                                  "checked as a hand-over"
                                : ""));
      } else if (opts.abi != "auto" && opts.abi != detected) {
        cx.add("kho_abi_mismatch", &root, c, "--abi " + opts.abi + " but the blob is " + std::string(detected));
      } else if (!doc) {
        cx.add("kho_abi_unknown", &root, c, "no schema for " + v.abi);
      }
    }
    if (!v.abi.empty() && is_kho_root(v.abi) && !cx.blocked("kho_abi_properties_mismatch")) {
      const bool v1 = is_v1(v.abi);
      for (int ci = root.first_child; ci >= 0; ci = t.nodes[static_cast<std::size_t>(ci)].next_sibling) {
        const fdt::FlatNode& ch = t.nodes[static_cast<std::size_t>(ci)];
        const fdt::FlatProp* other = v1 ? (t.prop(ch, "preserved-data") ? t.prop(ch, "preserved-data") : t.prop(ch, "blob-size"))
                                        : t.prop(ch, "fdt");
        if (other)
          cx.add("kho_abi_properties_mismatch", &ch, other,
                 "'" + std::string(other->name) + "' belongs to " + (v1 ? "kho-v2+ (preserved-data, blob-size)" : "kho-v1 (fdt)") +
                     " but the root is checked as " + v.abi +
                     (detected != v.abi ? " (--abi; its compatible says " + std::string(detected) + ")" : "") +
                     "; that kernel never reads it");
      }
    }
    if (opts.as_reader && is_kho_root(detected) && detected != opts.as_reader->compatible &&
        !cx.blocked("kho_reader_refuses"))
      cx.add("kho_reader_refuses", &root, t.prop(root, "compatible"),
             "a " + opts.as_reader->era + " reader refuses this " + std::string(detected) + " hand-over: kho_populate() needs '" +
                 opts.as_reader->compatible +
                 "' and disables revival (cold boot: the preserved memory is unprotected)");
    if (cx.blocked("schema_required") || !doc) return;
    v.schema_id = doc->id;
    schemas.validate_flat(t, *doc, file, report);

    if (!is_kho_root(v.abi) || v.abi == std::string_view("kho-v1-rfc-g0")) return;
    xrefs(file, root, bytes);
  }

  void xrefs(const std::string& file, const fdt::FlatNode& root, std::span<const std::uint8_t> bytes) {
    Ctx cx{file, report, v.flat};
    const fdt::FlatTree& t = v.flat;
    const bool v1 = is_v1(v.abi);
    const fdt::FlatProp* pmm = t.prop(root, v.abi == std::string_view("kho-v1-rfc-order-table") ? "preserved-order-table" : "preserved-memory-map");
    auto map_phys = number(pmm);
    if (v1 && map_phys && *map_phys == 0 && !cx.blocked("kho_map_empty"))
      cx.add("kho_map_empty", &root, pmm, "preserved-memory-map is 0: the hand-over preserves nothing");
    const bool same_reader = opts.as_reader && opts.as_reader->compatible == v.abi;
    if (same_reader && opts.as_reader->requires_map && (!map_phys || *map_phys == 0) &&
        !cx.blocked("kho_reader_refuses"))
      cx.add("kho_reader_refuses", &root, pmm,
             "a " + opts.as_reader->era + " reader refuses this hand-over: kho_populate() requires a non-zero "
             "preserved-memory-map (6.19+), 6.16-6.18 accepted 0");

    // Sub-blob pointers (no memory needed).
    struct Child {
      const fdt::FlatNode* node;
      const fdt::FlatProp* ptr;
      std::uint64_t phys;
      std::optional<std::uint64_t> size;
    };
    std::vector<Child> children;
    for (int ci = root.first_child; ci >= 0; ci = t.nodes[static_cast<std::size_t>(ci)].next_sibling) {
      const fdt::FlatNode& ch = t.nodes[static_cast<std::size_t>(ci)];
      const fdt::FlatProp* ptr = t.prop(ch, v1 ? "fdt" : "preserved-data");
      auto phys = number(ptr);
      if (!phys) continue;
      auto size = number(t.prop(ch, "blob-size"));
      if (*phys == 0 && !cx.blocked("kho_blob_null")) {
        cx.add("kho_blob_null", &ch, ptr, "the subtree points at physical address 0");
        continue;
      }
      if (size && *size == 0 && !cx.blocked("kho_blob_size_zero")) {
        cx.add("kho_blob_size_zero", &ch, t.prop(ch, "blob-size"), "blob-size is 0");
        continue;
      }
      if (image && image->ok()) children.push_back({&ch, ptr, *phys, size});  // followed below
    }

    // Scratch areas (kho_scratch[]).
    if (opts.scratch) {
      for (std::size_t i = 0; i < opts.scratch->size(); ++i) {
        const auto& s = (*opts.scratch)[i];
        if (s.size == 0)
          cx.add("kho_scratch_zero_size", &root, nullptr,
                 "scratch area " + std::to_string(i) + " at " + hex(s.addr) + " has size 0");
        else if (s.addr % kPageSize || s.size % kPageSize)
          cx.add("kho_scratch_misaligned", &root, nullptr,
                 "scratch area " + std::to_string(i) + " [" + hex(s.addr) + ", +" + hex(s.size) + ") is not page-aligned");
      }
    }

    if (!image || !image->ok()) return;
    MapSite site{file, "/", pmm ? std::string(pmm->name) : "preserved-memory-map", pmm ? pmm->offset : 0};
    if (map_phys && *map_phys != 0 && v.abi != std::string_view("kho-v1-rfc-order-table") && !cx.blocked("kho_map_cycle")) {
      Report mr;
      MapOptions mo = opts.map;
      if (same_reader && v1 && opts.as_reader->v1_bitmap != BitmapSize::automatic) mo.v1_bitmap = opts.as_reader->v1_bitmap;
      MapDecode md = v1 ? decode_v1_chunks(*image, *map_phys, mo, site, mr)
                        : decode_radix(*image, *map_phys, mo, site, mr);
      bool misread = false;
      if (same_reader && v1 && mo.v1_bitmap != opts.map.v1_bitmap && !cx.blocked("kho_reader_misreads")) {
        // What the writer meant (auto-detected or given) vs what this reader decodes.
        Report ignored;
        MapDecode meant = decode_v1_chunks(*image, *map_phys, opts.map, site, ignored);
        misread = meant.blocks != md.blocks;
        if (misread)
          cx.add("kho_reader_misreads", &root, pmm,
                 "a " + opts.as_reader->era + " reader decodes " + std::to_string(md.blocks.size()) + " block(s) (" +
                     md.format + ") where the writer meant " + std::to_string(meant.blocks.size()) + " (" +
                     meant.format + "): same kho-v1 compatible, different bitmap size (docs/kernel-abi.md §3)");
      }
      // The verdict leads; what the reader's misreading of the map then trips
      // over (bitmaps past the image, misaligned phys_start) follows from it.
      for (const auto& d : mr.diagnostics()) {
        Diagnostic c = d;
        if (misread) c.derived_from = "kho_reader_misreads";
        report.add(std::move(c));
      }
      check_overlaps(md.blocks, site, report);
      md.head = *map_phys;
      v.map = std::move(md);
    }
    // Scratch vs preserved.
    if (v.map && opts.scratch && !cx.blocked("kho_scratch_overlap")) {
      std::size_t n = 0;
      for (const auto& s : *opts.scratch) {
        if (s.size == 0) continue;
        const std::uint64_t send = s.addr + s.size < s.addr ? ~std::uint64_t{0} : s.addr + s.size;
        for (const auto& b : v.map->blocks) {
          if (b.phys < send && s.addr < b.end() && n++ < 8)
            cx.add("kho_scratch_overlap", &root, pmm,
                   "preserved block " + hex(b.phys) + " order " + std::to_string(b.order) +
                       " overlaps scratch area [" + hex(s.addr) + ", +" + hex(s.size) + ")");
        }
      }
    }
    // The root FDT page itself.
    v.fdt_phys = opts.fdt_phys ? opts.fdt_phys : locate_fdt(*image, bytes);
    if (v.fdt_phys && v.map && v.map->complete && !cx.blocked("kho_fdt_not_preserved")) {
      const std::uint64_t page = *v.fdt_phys & ~(kPageSize - 1);
      if (!covered(v.map->blocks, page, kPageSize))
        cx.add("kho_fdt_not_preserved", &root, nullptr,
               "the root FDT page " + hex(page) + " is not in the preserved set");
    }
    // Every client behind the root, through the image (conformance/handover/).
    FollowOptions fo = follow_options(file);
    fo.fdt_phys = v.fdt_phys;
    v.handover = follow_handover(t, v.abi, *image, v.map ? &*v.map : nullptr, fo, report);
    if (!children.empty()) check_sub_blobs(file, root, *v.handover);
    for (const auto& r : pending) report.append(r);
  }

  FollowOptions follow_options(const std::string& file) const {
    FollowOptions fo;
    fo.file = file;
    fo.endian = opts.endian;
    fo.max_items = opts.map.max_items;
    fo.max_nodes = opts.max_nodes;
    fo.max_fdt = opts.read.max_size;
    fo.release = opts.release;
    return fo;
  }
};

}  // namespace

const fdt::Tree& Validation::tree() const {
  if (!tree_) tree_ = std::make_shared<const fdt::Tree>(fdt::to_tree(flat));
  return *tree_;
}

namespace {

// The hint when the root's pointers (properties typed phys_addr, on the root
// and its children) hold an address no kernel can have in the byte order used
// (above 52 bits, MAX_PHYSMEM_BITS; or outside the image) while every one of
// them reads as a plausible address in the other order.
std::string endian_hint(const Validation& v, const MemoryImage* image, fdt::Endian used) {
  if (!v.blob.ok() || v.flat.nodes.empty()) return {};
  const fdt::Endian other = used == fdt::Endian::little ? fdt::Endian::big : fdt::Endian::little;
  const bool have_image = image && image->ok();
  auto possible = [&](std::uint64_t a) { return a < (std::uint64_t{1} << 52) && (!have_image || image->contains(a, 1)); };
  bool absurd = false, other_sane = true, any = false;
  for (const auto& n : v.flat.nodes) {
    if (n.depth > 1) continue;
    for (std::uint32_t i = 0; i < n.prop_count; ++i) {
      const fdt::FlatProp& p = v.flat.props[n.first_prop + i];
      if (p.type != fdt::PropType::phys_addr || p.raw.size() != 8) continue;
      const std::uint64_t here = fdt::load_u64(p.raw.data(), used), there = fdt::load_u64(p.raw.data(), other);
      if (here == 0 && there == 0) continue;
      any = true;
      absurd = absurd || !possible(here);
      other_sane = other_sane && possible(there);
    }
  }
  if (!any || !absurd || !other_sane) return {};
  const char* name = other == fdt::Endian::little ? "little" : "big";
  return std::string("the pointers read as addresses no kernel can hold in ") +
         (used == fdt::Endian::little ? "little" : "big") + "-endian but as plausible ones in " + name +
         "-endian: try --endian " + name;
}

}  // namespace

Validation validate(std::span<const std::uint8_t> bytes, const MemoryImage* image, const ValidateOptions& opts,
                    Report& report) {
  Validation v;
  Pipeline p{opts, image, report, opts.schemas ? *opts.schemas : SchemaSet::builtin(), v, {}};
  p.run(bytes);
  v.endian_hint = endian_hint(v, image, opts.endian);
  if (!v.endian_hint.empty()) {
    Report hinted;
    for (Diagnostic d : report.diagnostics()) {
      if (d.file == opts.read.file) d.hints.push_back(v.endian_hint);
      hinted.add(std::move(d));
    }
    report = std::move(hinted);
  }
  return v;
}

std::optional<ReaderProfile> reader_profile(std::string_view name) {
  const auto r = registry::resolve(name);
  if (!r) return std::nullopt;
  const registry::Era& e = *r->era;
  ReaderProfile p;
  p.era = r->release ? r->describe() : std::string(e.name);
  p.compatible = std::string(e.compatible);
  p.v1_bitmap = e.mem_map == registry::MemMapFormat::bitmap512     ? BitmapSize::b512
                : e.mem_map == registry::MemMapFormat::bitmap_page ? BitmapSize::page
                                                                   : BitmapSize::automatic;
  p.requires_map = e.populate_needs_map;
  return p;
}

bool apply_validate_args(const std::vector<std::string>& args, ValidateOptions& opts,
                         std::optional<std::uint64_t>& memory_base, std::string& error) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], v;
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      v = args[++i];
    } else {
      error = a + " needs a value";
      return false;
    }
    if (a == "--endian" && (v == "little" || v == "big")) {
      opts.endian = v == "big" ? fdt::Endian::big : fdt::Endian::little;
    } else if (a == "--abi") {
      opts.abi = v;
    } else if (a == "--as" && reader_profile(v)) {
      opts.as_reader = reader_profile(v);
    } else if (a == "--memory-base" && parse_u64(v)) {
      memory_base = parse_u64(v);
    } else if (a == "--fdt-phys" && parse_u64(v)) {
      opts.fdt_phys = parse_u64(v);
    } else if (a == "--kho-v1-bitmap" && (v == "512" || v == "page" || v == "auto")) {
      opts.map.v1_bitmap = v == "512" ? BitmapSize::b512 : v == "page" ? BitmapSize::page : BitmapSize::automatic;
    } else if (a == "--release" && !v.empty()) {
      opts.release = v;
    } else if (a == "--map-limit" && parse_u64(v) && *parse_u64(v) > 0) {
      opts.map.max_items = static_cast<std::size_t>(*parse_u64(v));
    } else if (a == "--scratch") {
      std::vector<ScratchArea> sc;
      if (!parse_scratch(v, sc, error)) return false;
      opts.scratch = std::move(sc);
    } else {
      error = "unsupported corpus argument '" + a + " " + v + "'";
      return false;
    }
  }
  return true;
}

}  // namespace khospec::conformance
