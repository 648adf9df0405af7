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

std::optional<std::uint64_t> number(const fdt::Property* p) {
  if (!p || !p->value) return std::nullopt;
  switch (p->value->type) {
    case fdt::PropType::u32:
    case fdt::PropType::u64:
    case fdt::PropType::phys_addr:
      return p->value->number;
    default:
      return std::nullopt;
  }
}

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

std::uint64_t page_round_up(std::uint64_t v) {
  return v > ~std::uint64_t{0} - (kPageSize - 1) ? ~std::uint64_t{0} & ~(kPageSize - 1) : (v + kPageSize - 1) & ~(kPageSize - 1);
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
    // 7.4-rc1 names the debugfs files bootmem_phys / bootmem_len.
    for (auto [pn, ln] : {std::pair{"scratch_phys", "scratch_len"}, std::pair{"bootmem_phys", "bootmem_len"},
                          std::pair{"out_scratch_phys.txt", "out_scratch_len.txt"}}) {
      std::string pt, lt;
      if (read_text_file(fs::path(arg) / pn, pt) && read_text_file(fs::path(arg) / ln, lt)) return parse_scratch_files(pt, lt, out, error);
    }
    error = arg + ": no scratch_phys/scratch_len (bootmem_phys/bootmem_len, or out_scratch_phys.txt/out_scratch_len.txt) in this directory";
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
    if (all.find(std::string_view("\0\0", 2)) != std::string_view::npos) return std::nullopt;  // an empty entry
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

  void client_checks(const std::string& file, const Validation& sub, const fdt::FlatNode& at) {
    if (!v.map || !v.map->complete) return;
    Ctx cx{file, report, v.flat};
    const auto& blocks = v.map->blocks;
    if (sub.abi == "memblock-v1") {
      for (const auto& n : sub.tree().root.children) {
        auto start = number(n.prop("start")), size = number(n.prop("size"));
        if (!start || !size || cx.blocked("kho_reserve_mem_not_preserved")) continue;
        if (!covered(blocks, *start, *size))
          cx.add("kho_reserve_mem_not_preserved", &at, nullptr,
                 "reserve_mem '" + n.name + "' [" + hex(*start) + ", +" + hex(*size) +
                     ") is not covered by preserved blocks");
      }
    } else if (sub.abi == "kho-test-v1") {
      const fdt::Node* data = sub.tree().root.child("data");
      if (!data) return;
      auto nr = number(data->prop("nr_folios"));
      const fdt::Property* fi = data->prop("folios_info");
      if (!nr || !fi || !fi->value) return;
      const auto& w = fi->value->numbers;
      std::vector<std::uint64_t> folios;
      // Later test_kho: folios_info is a 16-byte struct kho_vmalloc {first, total_pages,
      // flags, order} (kho_test_preserve(), kho_preserve_vmalloc()); the first version
      // stored nr_folios inline u64 (phys | order) entries.
      const bool vmalloc_form = fi->raw.size() == 16 && (w[0] & (kPageSize - 1)) == 0 && w[0] != 0 &&
                                ((w[1] >> 32) & 0xffff) != 0 && ((w[1] >> 32) & 0xffff) <= 3;
      if (vmalloc_form) {
        if (!follow_vmalloc(file, at, nullptr, w[0], w[1], *nr, folios)) return;  // findings at the root's node
      } else if (w.size() == *nr) {
        folios = w;
      } else {
        return;
      }
      for (std::uint64_t e : folios) {
        const std::uint64_t phys = e & ~(kPageSize - 1);
        const unsigned order = static_cast<unsigned>(e & (kPageSize - 1));
        if (!std::binary_search(blocks.begin(), blocks.end(), PreservedBlock{phys, order}))
          cx.add("kho_test_folio_not_preserved", &at, nullptr,
                 "folio " + hex(phys) + " order " + std::to_string(order) + " is not a preserved block of that order");
      }
    }
  }

  // Follows a struct kho_vmalloc (kho_restore_vmalloc(): chunk list of up to
  // 511 block pointers, each block 2^order pages) and returns the first
  // `nr` u64 entries of the preserved array in `out`.
  bool follow_vmalloc(const std::string& file, const fdt::FlatNode& at, const fdt::FlatProp* prop, std::uint64_t first,
                      std::uint64_t word1, std::uint64_t nr, std::vector<std::uint64_t>& out) {
    Ctx cx{file, report, v.flat};
    const auto& blocks = v.map->blocks;
    const std::uint64_t total_pages = word1 & 0xffffffffu;
    const unsigned flags = static_cast<unsigned>((word1 >> 32) & 0xffff);
    const unsigned order = static_cast<unsigned>((word1 >> 48) & 0xffff);
    if (order > kMaxPageOrder + 8 || flags & ~3u) {
      cx.add("kho_vmalloc_invalid", &at, prop, "kho_vmalloc flags " + hex(flags) + " order " + std::to_string(order));
      return false;
    }
    std::vector<std::uint8_t> bytes;
    std::set<std::uint64_t> seen;
    std::uint64_t pages = 0;
    const std::uint64_t contig = std::uint64_t{1} << order;
    for (std::uint64_t chunk = first; chunk != 0;) {
      if (chunk % kPageSize || !seen.insert(chunk).second || seen.size() > 4096) {
        cx.add("kho_vmalloc_invalid", &at, prop, "vmalloc chunk " + hex(chunk) + " is misaligned or repeats");
        return false;
      }
      auto page = image->read_vec(chunk, kPageSize);
      if (!page) {
        cx.add("kho_image_addr_missing", &at, prop, "folios_info: vmalloc chunk " + hex(chunk) + " is not in the memory image");
        return false;
      }
      if (!covered(blocks, chunk, kPageSize))
        cx.add("kho_vmalloc_not_preserved", &at, prop, "vmalloc chunk page " + hex(chunk) + " is not preserved");
      for (std::size_t i = 1; i < kPageSize / 8; ++i) {
        const std::uint64_t phys = fdt::load_u64(page->data() + i * 8, fdt::Endian::little);
        if (phys == 0) break;
        if (pages + contig > total_pages) {
          cx.add("kho_vmalloc_invalid", &at, prop,
                 "vmalloc blocks exceed total_pages " + std::to_string(total_pages) + " (idx + contig > total_pages)");
          return false;
        }
        if (!covered(blocks, phys, kPageSize << order))
          cx.add("kho_vmalloc_not_preserved", &at, prop,
                 "vmalloc block " + hex(phys) + " (order " + std::to_string(order) + ") is not preserved");
        auto blk = image->read_vec(phys, static_cast<std::size_t>(kPageSize << order));
        if (!blk) {
          cx.add("kho_image_addr_missing", &at, prop, "vmalloc block " + hex(phys) + " is not in the memory image");
          return false;
        }
        bytes.insert(bytes.end(), blk->begin(), blk->end());
        pages += contig;
      }
      chunk = fdt::load_u64(page->data(), fdt::Endian::little);
    }
    if (pages != total_pages) {
      cx.add("kho_vmalloc_invalid", &at, prop,
             "vmalloc chunks hold " + std::to_string(pages) + " pages, total_pages says " + std::to_string(total_pages));
      return false;
    }
    if (nr > bytes.size() / 8) {
      cx.add("kho_vmalloc_invalid", &at, prop, "nr_folios " + std::to_string(nr) + " does not fit the vmalloc array");
      return false;
    }
    for (std::uint64_t i = 0; i < nr; ++i) out.push_back(fdt::load_u64(bytes.data() + i * 8, opts.endian));
    return true;
  }

  void follow_blob(const std::string& file, const fdt::FlatNode& child, const fdt::FlatProp* ptr_prop,
                   std::uint64_t phys, std::optional<std::uint64_t> blob_size) {
    Ctx cx{file, report, v.flat};
    const fdt::FlatTree& t = v.flat;
    SubBlob sb;
    sb.node = std::string(t.path(child));
    sb.phys = phys;
    sb.size = blob_size;
    std::uint8_t hdr[40] = {};
    sb.in_image = image->read(phys, hdr);
    if (!sb.in_image && blob_size && *blob_size < sizeof hdr) sb.in_image = image->read(phys, std::span(hdr, *blob_size));
    if (!sb.in_image) {
      if (!cx.blocked("kho_image_addr_missing"))
        cx.add("kho_image_addr_missing", &child, ptr_prop,
               "blob " + hex(phys) + " is not in the memory image " + image->name());
      v.subs.push_back(sb);
      return;
    }
    const std::optional<std::uint32_t> fdt_size = fdt::peek_fdt_totalsize(hdr);
    const bool is_fdt = fdt_size.has_value();
    const bool must_be_fdt = is_v1(v.abi) || child.name == "memblock" || child.name == "kho_test";
    std::uint64_t extent = blob_size.value_or(kPageSize);
    if (is_fdt) {
      const std::uint64_t total = *fdt_size;
      if (!blob_size) sb.size = total;
      extent = blob_size.value_or(total);
      if (blob_size && *blob_size != total && !cx.blocked("kho_blob_size_mismatch"))
        cx.add("kho_blob_size_mismatch", &child, t.prop(child, "blob-size"),
               "blob-size " + hex(*blob_size) + " but the FDT at " + hex(phys) + " has totalsize " + hex(total));
    } else if (child.name == "kexec-metadata") {
      // struct kho_kexec_metadata { u32 version; char previous_release[65]; u32 kexec_count; } __packed
      const std::uint32_t version = fdt::load_u32(hdr, opts.endian);
      if (blob_size && *blob_size != 73 && !cx.blocked("kho_blob_size_mismatch"))
        cx.add("kho_blob_size_mismatch", &child, t.prop(child, "blob-size"),
               "blob-size " + hex(*blob_size) + " but struct kho_kexec_metadata is 73 bytes");
      if (version != 1)
        cx.add("kho_metadata_invalid", &child, ptr_prop,
               "kexec-metadata version " + std::to_string(version) + ", expected 1");
    }
    // The blob's pages must be preserved by its owner (docs/kernel-abi.md §2, "Blob ownership").
    if (v.map && v.map->complete && !cx.blocked("kho_blob_not_preserved")) {
      const std::uint64_t first = phys & ~(kPageSize - 1);
      const std::uint64_t last = page_round_up(phys + std::max<std::uint64_t>(extent, 1));
      sb.preserved = covered(v.map->blocks, first, last > first ? last - first : kPageSize);
      if (!*sb.preserved)
        cx.add("kho_blob_not_preserved", &child, ptr_prop,
               "blob " + hex(phys) + " (" + hex(extent) + " bytes) is not covered by preserved blocks");
    }
    if ((is_fdt || must_be_fdt) && opts.follow_blobs) {
      std::uint64_t len = is_fdt ? extent : sizeof hdr;
      if (is_fdt && blob_size) len = std::max<std::uint64_t>(len, *fdt_size);
      len = std::min<std::uint64_t>(len, opts.read.max_size + 1);
      auto bytes = image->read_vec(phys, static_cast<std::size_t>(len));
      if (!bytes) bytes = image->read_vec(phys, sizeof hdr);
      if (!bytes) bytes = std::vector<std::uint8_t>(hdr, hdr + sizeof hdr);
      ValidateOptions so = opts;
      so.abi = "auto";
      so.read.file = file + ":" + sb.node + "@" + hex(phys);
      so.fdt_phys.reset();
      so.follow_blobs = false;
      Report nested;
      Validation sub = validate(*bytes, nullptr, so, nested);
      sb.abi = sub.abi;
      if (!sub.blob.ok())
        cx.add("kho_subfdt_invalid", &child, ptr_prop,
               "the blob at " + hex(phys) + " is not a valid FDT (findings for " + so.read.file + " follow)");
      // Appended after every blob was followed: a broken sub-FDT must not
      // suppress the checks of its siblings through the prerequisites.
      pending.push_back(std::move(nested));
      if (sub.blob.ok()) client_checks(file, sub, child);
    }
    v.subs.push_back(sb);
  }

  void run(std::span<const std::uint8_t> bytes) {
    const std::string& file = opts.read.file;
    Ctx cx{file, report, v.flat};
    // The decode is read in place during open()'s structure walk (the flat decode
    // read_flat() returns: views into the blob, no tree); Validation::tree() builds
    // the owning tree only for a consumer that asks.
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
        cx.add("kho_abi_unknown", &root, c, "compatible " + names + " names no format khospec knows");
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
                     " but the root says " + v.abi + "; that kernel never reads it");
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
      report.append(mr);
      if (same_reader && v1 && mo.v1_bitmap != opts.map.v1_bitmap && !cx.blocked("kho_reader_misreads")) {
        // What the writer meant (auto-detected or given) vs what this reader decodes.
        Report ignored;
        MapDecode meant = decode_v1_chunks(*image, *map_phys, opts.map, site, ignored);
        if (meant.blocks != md.blocks)
          cx.add("kho_reader_misreads", &root, pmm,
                 "a " + opts.as_reader->era + " reader decodes " + std::to_string(md.blocks.size()) + " block(s) (" +
                     md.format + ") where the writer meant " + std::to_string(meant.blocks.size()) + " (" +
                     meant.format + "): same kho-v1 compatible, different bitmap size (docs/kernel-abi.md §3)");
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
    for (const auto& c : children) follow_blob(file, *c.node, c.ptr, c.phys, c.size);
    for (const auto& r : pending) report.append(r);
  }
};

}  // namespace

const fdt::Tree& Validation::tree() const {
  if (!tree_) tree_ = std::make_shared<const fdt::Tree>(fdt::to_tree(flat));
  return *tree_;
}

Validation validate(std::span<const std::uint8_t> bytes, const MemoryImage* image, const ValidateOptions& opts,
                    Report& report) {
  Validation v;
  Pipeline p{opts, image, report, opts.schemas ? *opts.schemas : SchemaSet::builtin(), v, {}};
  p.run(bytes);
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
