#include "conformance/corpus/corpus_source.hpp"

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

extern "C" {
#include <libfdt.h>
}

#include "core/elf.hpp"
#include "core/parse.hpp"
#include "conformance/corpus/memgen.hpp"
#include "conformance/corpus/memgen_internal.hpp"
#include "conformance/memmap/memmap.hpp"
#include "fdt/builder.hpp"

#include <elf.h>
#include <cstring>

namespace khospec::conformance {

namespace memgen {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

[[noreturn]] void fail(const YAML::Node& at, std::string message) {
  throw SourceError{at.Mark(), std::move(message)};
}

std::uint64_t number(const YAML::Node& n, std::uint64_t max) {
  if (!n.IsScalar()) fail(n, "expected a number");
  auto v = parse_u64(trim(n.Scalar()));
  if (!v) fail(n, "'" + n.Scalar() + "' is not a number (decimal, 0x hex or 0b binary)");
  if (*v > max) fail(n, "'" + n.Scalar() + "' does not fit in the field");
  return *v;
}

std::vector<std::uint8_t> hex_bytes(const YAML::Node& n) {
  std::vector<std::uint8_t> out;
  if (n.IsSequence()) {
    for (const auto& e : n) out.push_back(static_cast<std::uint8_t>(number(e, 0xff)));
    return out;
  }
  if (!n.IsScalar()) fail(n, "!bytes takes \"de ad be ef\" or a list of byte values");
  std::string digits;
  for (char c : n.Scalar()) {
    if (c == ' ' || c == ':' || c == '\t') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) fail(n, "!bytes: '" + std::string(1, c) + "' is not a hex digit");
    digits.push_back(c);
  }
  if (digits.size() % 2) fail(n, "!bytes: odd number of hex digits");
  for (std::size_t i = 0; i < digits.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

void poke(Pages& pages, std::uint64_t addr, std::span<const std::uint8_t> bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::uint64_t a = addr + i;
    auto& pg = pages[a & ~(kPageSize - 1)];
    if (pg.empty()) pg.assign(kPageSize, 0);
    pg[a & (kPageSize - 1)] = bytes[i];
  }
}

void touch(Pages& pages, std::uint64_t addr, std::uint64_t len) {
  for (std::uint64_t a = addr & ~(kPageSize - 1); a < addr + len; a += kPageSize) {
    auto& pg = pages[a];
    if (pg.empty()) pg.assign(kPageSize, 0);
  }
}

void poke64(Pages& pages, std::uint64_t addr, std::uint64_t v) {
  std::uint8_t b[8];
  fdt::store_u64(b, v, fdt::Endian::little);
  poke(pages, addr, b);
}

}  // namespace memgen

namespace {

using namespace memgen;

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void emit_property(fdt::Builder& b, const std::string& name, const YAML::Node& v) {
  const std::string& tag = v.Tag();
  if (tag == "!u32") {
    b.prop_u32(name, static_cast<std::uint32_t>(number(v, 0xffffffffu)));
  } else if (tag == "!u64") {
    b.prop_u64(name, number(v));
  } else if (tag == "!string") {
    if (!v.IsScalar()) fail(v, "!string takes one scalar");
    b.prop_string(name, v.Scalar());
  } else if (tag == "!string-list") {
    std::vector<std::string> l;
    if (v.IsSequence()) {
      for (const auto& e : v) l.push_back(e.as<std::string>());
    } else if (v.IsScalar()) {
      l.push_back(v.Scalar());
    } else {
      fail(v, "!string-list takes a list of strings");
    }
    b.prop_string_list(name, l);
  } else if (tag == "!bytes") {
    b.prop_bytes(name, hex_bytes(v));
  } else if (tag == "!u32-array" || tag == "!u64-array") {
    if (!v.IsSequence()) fail(v, tag + " takes a list of numbers");
    if (tag == "!u32-array") {
      std::vector<std::uint32_t> a;
      for (const auto& e : v) a.push_back(static_cast<std::uint32_t>(number(e, 0xffffffffu)));
      b.prop_u32_array(name, a);
    } else {
      std::vector<std::uint64_t> a;
      for (const auto& e : v) a.push_back(number(e));
      b.prop_u64_array(name, a);
    }
  } else if (tag == "!empty") {
    b.prop_bytes(name, {});
  } else if (tag.empty() || tag == "?" || tag == "!") {
    fail(v, "property '" + name +
                "' needs a type tag (!u32, !u64, !string, !string-list, !bytes, !u32-array, !u64-array, !empty)");
  } else {
    fail(v, "unknown type tag '" + tag + "' on property '" + name + "'");
  }
}

// Nodes and properties are emitted in source order: a property written after
// a subnode stays there (that is how fdt_property_after_subnode is produced).
void emit_node(fdt::Builder& b, const std::string& name, const YAML::Node& n) {
  b.begin_node(name);
  if (n.IsMap()) {
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      bool is_node = (v.IsMap() || v.IsNull()) && (v.Tag().empty() || v.Tag() == "?" || v.Tag() == "!");
      if (is_node) {
        emit_node(b, key, v);
      } else {
        emit_property(b, key, v);
      }
    }
  } else if (!n.IsNull()) {
    fail(n, "node '" + name + "' must be a map of properties and subnodes");
  }
  b.end_node();
}

// Header fields that `header:` may override (byte offset in struct fdt_header).
std::optional<std::size_t> header_field(std::string_view f) {
  static constexpr std::pair<std::string_view, std::size_t> kFields[] = {
      {"magic", 0}, {"totalsize", 4}, {"off_dt_struct", 8}, {"off_dt_strings", 12},
      {"off_mem_rsvmap", 16}, {"version", 20}, {"last_comp_version", 24},
      {"boot_cpuid_phys", 28}, {"size_dt_strings", 32}, {"size_dt_struct", 36}};
  for (const auto& [n, off] : kFields) {
    if (n == f) return off;
  }
  return std::nullopt;
}

void put_be32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  if (b.size() < off + 4) b.resize(off + 4);
  b[off] = static_cast<std::uint8_t>(v >> 24);
  b[off + 1] = static_cast<std::uint8_t>(v >> 16);
  b[off + 2] = static_cast<std::uint8_t>(v >> 8);
  b[off + 3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_be32(const std::vector<std::uint8_t>& b, std::size_t off) {
  return (std::uint32_t{b[off]} << 24) | (std::uint32_t{b[off + 1]} << 16) |
         (std::uint32_t{b[off + 2]} << 8) | std::uint32_t{b[off + 3]};
}

void apply_raw(std::vector<std::uint8_t>& blob, const YAML::Node& ops) {
  if (!ops.IsSequence()) fail(ops, "raw: takes a list of operations");
  for (const auto& op : ops) {
    if (!op.IsMap() || op.size() != 1) fail(op, "each raw operation is a one-key map");
    const std::string what = op.begin()->first.as<std::string>();
    const YAML::Node arg = op.begin()->second;
    if (what == "truncate") {  // keep the first N bytes
      blob.resize(std::min<std::size_t>(blob.size(), number(arg)));
    } else if (what == "truncate-by") {  // drop the last N bytes
      std::uint64_t n = number(arg);
      blob.resize(n >= blob.size() ? 0 : blob.size() - n);
    } else if (what == "shift-struct") {
      // Insert N zero bytes before the structure block and fix the header so
      // the blob stays self-consistent apart from the block's alignment.
      std::uint64_t n = number(arg, 64);
      if (blob.size() < 40) fail(arg, "shift-struct needs a full header");
      std::uint32_t off_struct = get_be32(blob, 8);
      if (off_struct > blob.size()) fail(arg, "shift-struct: header off_dt_struct is out of range");
      blob.insert(blob.begin() + off_struct, n, 0);
      put_be32(blob, 4, get_be32(blob, 4) + static_cast<std::uint32_t>(n));
      put_be32(blob, 8, off_struct + static_cast<std::uint32_t>(n));
      put_be32(blob, 12, get_be32(blob, 12) + static_cast<std::uint32_t>(n));
    } else if (what == "replace") {
      if (arg.IsScalar() && arg.Scalar() == "empty") {
        blob.clear();
      } else if (arg.IsMap() && arg["random"]) {
        // Deterministic pseudo-random bytes (fixed generator and seed).
        std::uint64_t size = number(arg["random"], 1u << 24);
        std::uint64_t seed = arg["seed"] ? number(arg["seed"]) : 1;
        std::mt19937_64 rng(seed);
        blob.resize(size);
        for (auto& byte : blob) byte = static_cast<std::uint8_t>(rng());
      } else {
        fail(arg, "replace: takes 'empty' or {random: SIZE, seed: N}");
      }
    } else if (what == "append") {
      auto more = hex_bytes(arg);
      blob.insert(blob.end(), more.begin(), more.end());
    } else {
      fail(op, "unknown raw operation '" + what +
                   "' (truncate, truncate-by, shift-struct, replace, append)");
    }
  }
}

// ------------------------------------------------------------- memory images

std::vector<std::pair<std::uint64_t, unsigned>> block_list(const YAML::Node& n) {
  std::vector<std::pair<std::uint64_t, unsigned>> out;
  if (!n || !n.IsSequence()) fail(n, "blocks: takes a list of [phys, order]");
  for (const auto& e : n) {
    if (!e.IsSequence() || e.size() != 2) fail(e, "a block is [phys, order]");
    const std::uint64_t phys = number(e[0]);
    const unsigned order = static_cast<unsigned>(number(e[1], 51));
    if (phys % (kPageSize << order) != 0) fail(e, "a block of order " + std::to_string(order) + " must be aligned to its size");
    out.push_back({phys, order});
  }
  return out;
}

// kho_mem_serialize() (6.16): per order ascending, a fresh chunk; entries by bitmap index.
void gen_chunks(Pages& pages, const YAML::Node& spec) {
  const std::uint64_t head = number(spec["head"]);
  std::uint64_t pool = number(spec["pool"]);
  std::string bm = spec["bitmap"] ? spec["bitmap"].as<std::string>() : "512";
  if (bm != "512" && bm != "page") fail(spec["bitmap"], "bitmap: 512 or page");
  const std::uint64_t bitmap_bytes = bm == "512" ? 512 : kPageSize;
  const std::uint64_t bits = bitmap_bytes * 8;
  std::map<unsigned, std::map<std::uint64_t, std::vector<std::uint64_t>>> by_order;  // order -> idx -> bits
  for (auto [phys, order] : block_list(spec["blocks"])) {
    const std::uint64_t pfn_high = (phys >> kPageShift) >> order;
    by_order[order][pfn_high / bits].push_back(pfn_high % bits);
  }
  std::uint64_t bitmap_pool = pool;
  pool += 0x100000;  // chunks after the bitmaps
  std::uint64_t prev_chunk = 0;
  bool first = true;
  for (auto& [order, idxs] : by_order) {
    std::uint64_t chunk = 0, n = 0;
    for (auto& [idx, set] : idxs) {
      if (!chunk || n == kChunkCapacity) {
        const std::uint64_t c = first ? head : pool;
        if (!first) pool += kPageSize;
        first = false;
        touch(pages, c, kPageSize);
        if (prev_chunk) poke64(pages, prev_chunk, c);
        std::uint8_t hdr[8];
        fdt::store_u32(hdr, order, fdt::Endian::little);
        fdt::store_u32(hdr + 4, 0, fdt::Endian::little);
        poke(pages, c + 8, hdr);
        prev_chunk = chunk = c;
        n = 0;
      }
      const std::uint64_t bitmap = bitmap_pool;
      bitmap_pool += bitmap_bytes;
      touch(pages, bitmap, bitmap_bytes);
      for (std::uint64_t b : set) {
        std::uint8_t byte = 0;
        const std::uint64_t at = bitmap + b / 8;
        auto& pg = pages[at & ~(kPageSize - 1)];
        byte = pg[at & (kPageSize - 1)];
        byte = static_cast<std::uint8_t>(byte | (1u << (b % 8)));
        poke(pages, at, std::span(&byte, 1));
      }
      poke64(pages, chunk + kChunkHdrSize + n * kChunkEntrySize, (idx * bits) << (order + kPageShift));
      poke64(pages, chunk + kChunkHdrSize + n * kChunkEntrySize + 8, bitmap);
      ++n;
      std::uint8_t cnt[4];
      fdt::store_u32(cnt, static_cast<std::uint32_t>(n), fdt::Endian::little);
      poke(pages, chunk + 12, cnt);
    }
  }
}

// kho_radix_add(): one table per level on the key's path, bit in the leaf.
void gen_radix(Pages& pages, const YAML::Node& spec) {
  const std::uint64_t root = number(spec["root"]);
  std::uint64_t pool = number(spec["pool"]);
  touch(pages, root, kPageSize);
  auto read64 = [&](std::uint64_t a) {
    auto& pg = pages[a & ~(kPageSize - 1)];
    if (pg.empty()) pg.assign(kPageSize, 0);
    return fdt::load_u64(pg.data() + (a & (kPageSize - 1)), fdt::Endian::little);
  };
  for (auto [phys, order] : block_list(spec["blocks"])) {
    const std::uint64_t key = radix_encode(phys, order);
    std::uint64_t node = root;
    for (unsigned level = kRadixDepth - 1; level >= 1; --level) {
      const unsigned shift = (level - 1) * kRadixTableLog2 + kRadixBitmapLog2;
      const std::uint64_t idx = (key >> shift) & ((1u << kRadixTableLog2) - 1);
      std::uint64_t child = read64(node + idx * 8);
      if (!child) {
        child = pool;
        pool += kPageSize;
        touch(pages, child, kPageSize);
        poke64(pages, node + idx * 8, child);
      }
      node = child;
    }
    const std::uint64_t bit = key & ((std::uint64_t{1} << kRadixBitmapLog2) - 1);
    std::uint64_t w = read64(node + (bit / 64) * 8);
    poke64(pages, node + (bit / 64) * 8, w | (std::uint64_t{1} << (bit % 64)));
  }
}

}  // namespace

namespace {

std::vector<std::uint8_t> build(const YAML::Node& doc);

}  // namespace

std::vector<std::uint8_t> build_memory(const YAML::Node& spec, std::span<const std::uint8_t> root_blob) {
  static const std::set<std::string> kKeys = {"format", "chunks", "radix", "place", "write", "elf", "empty",
                                              "luo", "memfd", "kexec-metadata"};
  if (!spec.IsMap()) fail(spec, "memory: takes a map");
  for (const auto& kv : spec) {
    if (!kKeys.count(kv.first.as<std::string>())) fail(kv.first, "unknown memory key '" + kv.first.as<std::string>() + "'");
  }
  if (spec["empty"]) return {};
  Pages pages;
  if (spec["chunks"]) gen_chunks(pages, spec["chunks"]);
  if (spec["radix"]) gen_radix(pages, spec["radix"]);
  gen_clients(pages, spec);  // luo, memfd, kexec-metadata (memgen_clients.cpp)
  if (const auto& place = spec["place"]) {
    if (!place.IsSequence()) fail(place, "place: takes a list");
    for (const auto& p : place) {
      const std::uint64_t at = number(p["at"]);
      std::vector<std::uint8_t> bytes;
      if (p["fdt"]) {
        if (p["fdt"].as<std::string>() != "self") fail(p["fdt"], "fdt: self (the root blob)");
        bytes.assign(root_blob.begin(), root_blob.end());
      } else if (p["tree"]) {
        YAML::Node d;
        d["root"] = p["tree"];
        bytes = build(d);
      } else if (p["bytes"]) {
        bytes = hex_bytes(p["bytes"]);
      } else {
        fail(p, "place: needs fdt: self, tree: or bytes:");
      }
      touch(pages, at, std::max<std::uint64_t>(bytes.size(), 1));
      poke(pages, at, bytes);
    }
  }
  if (const auto& wr = spec["write"]) {
    if (!wr.IsSequence()) fail(wr, "write: takes a list");
    for (const auto& w : wr) {
      std::uint64_t at = number(w["at"]);
      if (w["u64"]) {
        for (const auto& v : w["u64"]) {
          poke64(pages, at, number(v));
          at += 8;
        }
      } else if (w["u32"]) {
        for (const auto& v : w["u32"]) {
          std::uint8_t b[4];
          fdt::store_u32(b, static_cast<std::uint32_t>(number(v, 0xffffffffu)), fdt::Endian::little);
          poke(pages, at, b);
          at += 4;
        }
      } else if (w["bytes"]) {
        poke(pages, at, hex_bytes(w["bytes"]));
      } else {
        fail(w, "write: needs u64:, u32: or bytes:");
      }
    }
  }
  const std::string format = spec["format"] ? spec["format"].as<std::string>() : "elf";
  std::vector<std::uint8_t> out;
  if (format == "raw") {
    if (pages.empty()) return {};
    const std::uint64_t base = pages.begin()->first;
    const std::uint64_t end = pages.rbegin()->first + kPageSize;
    if (end - base > (64u << 20)) fail(spec, "a raw image spans more than 64 MiB");
    out.assign(end - base, 0);
    for (const auto& [a, d] : pages) std::memcpy(out.data() + (a - base), d.data(), d.size());
    return out;
  }
  if (format != "elf") fail(spec["format"], "format: elf or raw");
  out = write_elf_core(pages);
  if (const auto& e = spec["elf"]) {
    auto put = [&](std::size_t off, std::uint64_t v, int n) {
      for (int i = 0; i < n && off + i < out.size(); ++i) out[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    if (e["class"]) put(EI_CLASS, number(e["class"], 0xff), 1);
    if (e["phoff"]) put(offsetof(Elf64_Ehdr, e_phoff), number(e["phoff"]), 8);
    if (e["phentsize"]) put(offsetof(Elf64_Ehdr, e_phentsize), number(e["phentsize"], 0xffff), 2);
    if (e["phnum"]) put(offsetof(Elf64_Ehdr, e_phnum), number(e["phnum"], 0xffff), 2);
    if (e["segment-filesz"]) {
      const auto& sf = e["segment-filesz"];
      const std::uint64_t i = number(sf[0], 0xffff);
      put(sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_filesz), number(sf[1]), 8);
    }
    if (e["paddr-unknown"]) {
      const std::uint64_t i = number(e["paddr-unknown"], 0xffff);
      put(sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_paddr), ~std::uint64_t{0}, 8);
    }
    if (e["duplicate-first"]) {
      // A second PT_LOAD covering the first one's physical range (kcore aliases).
      std::uint64_t n = out[offsetof(Elf64_Ehdr, e_phnum)] | (std::uint64_t{out[offsetof(Elf64_Ehdr, e_phnum) + 1]} << 8);
      if (n == 0) fail(e, "duplicate-first needs a segment");
      std::vector<std::uint8_t> ph(out.begin() + sizeof(Elf64_Ehdr), out.begin() + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
      // Append the header copy at the end of the file and point e_phoff there.
      const std::uint64_t newoff = out.size();
      out.insert(out.end(), out.begin() + sizeof(Elf64_Ehdr), out.begin() + sizeof(Elf64_Ehdr) + n * sizeof(Elf64_Phdr));
      out.insert(out.end(), ph.begin(), ph.end());
      put(offsetof(Elf64_Ehdr, e_phoff), newoff, 8);
      put(offsetof(Elf64_Ehdr, e_phnum), n + 1, 2);
    }
    if (e["truncate"]) {
      const std::uint64_t t = number(e["truncate"]);
      if (t < out.size()) out.resize(t);
    }
  }
  return out;
}

namespace {

std::vector<std::uint8_t> build(const YAML::Node& doc) {
  static const std::set<std::string> kKeys = {"root", "root-name", "second-root", "endianness",
                                              "memreserve", "header", "pad-to", "raw", "memory"};
  if (!doc.IsMap()) fail(doc, "a corpus source is a YAML map with at least 'root'");
  for (const auto& kv : doc) {
    std::string k = kv.first.as<std::string>();
    if (!kKeys.count(k)) fail(kv.first, "unknown top-level key '" + k + "'");
  }
  fdt::Endian endian = fdt::Endian::little;
  if (doc["endianness"]) {
    std::string e = doc["endianness"].as<std::string>();
    if (e == "big") endian = fdt::Endian::big;
    else if (e != "little") fail(doc["endianness"], "endianness is 'little' or 'big'");
  }
  std::vector<std::uint8_t> blob;
  if (doc["root"]) {
    fdt::Builder b(4096, endian);
    if (const auto& rsv = doc["memreserve"]) {
      if (!rsv.IsSequence()) fail(rsv, "memreserve: takes a list of [address, size]");
      for (const auto& e : rsv) {
        if (!e.IsSequence() || e.size() != 2) fail(e, "memreserve entries are [address, size]");
        b.add_reservemap_entry(number(e[0]), number(e[1]));
      }
    }
    std::string root_name = doc["root-name"] ? doc["root-name"].as<std::string>() : std::string();
    emit_node(b, root_name, doc["root"]);
    if (doc["second-root"]) emit_node(b, "", doc["second-root"]);
    blob = b.finish();
    if (b.error() != 0) fail(doc["root"], "libfdt refused the tree: " + std::string(fdt_strerror(b.error())));
  } else if (!doc["raw"]) {
    fail(doc, "a corpus source needs 'root' (or a 'raw: [replace: ...]' generator)");
  }
  if (const auto& hdr = doc["header"]) {
    if (!hdr.IsMap()) fail(hdr, "header: takes a map of header fields");
    for (const auto& kv : hdr) {
      std::string f = kv.first.as<std::string>();
      auto off = header_field(f);
      if (!off) fail(kv.first, "unknown header field '" + f + "'");
      put_be32(blob, *off, static_cast<std::uint32_t>(number(kv.second, 0xffffffffu)));
    }
  }
  if (const auto& pad = doc["pad-to"]) {
    std::uint64_t n = number(pad, 1u << 24);
    if (n > blob.size()) blob.resize(n, 0);
  }
  if (const auto& raw = doc["raw"]) apply_raw(blob, raw);
  return blob;
}

}  // namespace

SourceHeader parse_header(std::string_view text) {
  SourceHeader h;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::string t = trim(line);
    if (t.empty()) continue;
    if (t[0] != '#') break;  // the header is the leading comment block
    t = trim(std::string_view(t).substr(1));
    auto field = [&](std::string_view key) -> std::optional<std::string> {
      if (t.rfind(key, 0) == 0) return trim(std::string_view(t).substr(key.size()));
      return std::nullopt;
    };
    if (auto v = field("ABI:")) {
      h.abi = *v;
    } else if (auto v2 = field("EXPECT-NOT:")) {
      for (auto& r : split_ws(*v2)) h.expect_not.push_back(r);
    } else if (auto v3 = field("EXPECT:")) {
      auto words = split_ws(*v3);
      if (words.size() == 1 && words[0] == "none") {
        h.expect_clean = true;
      } else if (!words.empty()) {
        Expectation e{words[0], "", ""};
        if (words.size() > 1) {
          const std::string& loc = words[1];
          auto colon = loc.find(':');
          e.node = loc.substr(0, colon);
          if (colon != std::string::npos) e.property = loc.substr(colon + 1);
        }
        h.expect.push_back(std::move(e));
      }
    } else if (auto v4 = field("ARGS:")) {
      h.args = split_ws(*v4);
    }
  }
  return h;
}

Compiled compile_source(std::string_view text, std::string_view name) {
  Compiled out;
  out.header = parse_header(text);
  auto where = [&](const YAML::Mark& m) {
    std::string s(name);
    if (m.line >= 0) s += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    return s;
  };
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    out.blob = build(doc);
    if (doc.IsMap() && doc["memory"]) {
      out.memory = build_memory(doc["memory"], out.blob);
      out.has_memory = true;
    }
    out.ok = true;
  } catch (const SourceError& e) {
    out.error = where(e.mark) + ": " + e.message;
  } catch (const YAML::Exception& e) {
    out.error = where(e.mark) + ": " + e.msg;
  } catch (const std::exception& e) {
    out.error = std::string(name) + ": " + e.what();
  }
  return out;
}

std::vector<std::string> check_expectations(const SourceHeader& h, const Report& report) {
  std::vector<std::string> problems;
  std::set<std::string> fired;
  for (const auto& d : report.diagnostics()) {
    if (d.level != Level::info) fired.insert(d.rule);
  }
  if (h.expect_clean && !fired.empty()) {
    for (const auto& r : fired) problems.push_back("expected no findings, but " + r + " fired");
  }
  std::set<std::string> expected;
  for (const auto& e : h.expect) {
    expected.insert(e.rule);
    bool hit = std::any_of(report.diagnostics().begin(), report.diagnostics().end(), [&](const Diagnostic& d) {
      return d.rule == e.rule && (e.node.empty() || d.node == e.node) &&
             (e.property.empty() || d.property == e.property);
    });
    if (!hit) {
      std::string loc = e.node.empty() ? "" : " at " + e.node + (e.property.empty() ? "" : ":" + e.property);
      problems.push_back("expected " + e.rule + loc + ", which did not fire");
    }
  }
  if (!h.expect_clean) {
    for (const auto& r : fired) {
      if (!expected.count(r)) problems.push_back("unexpected " + r + " fired");
    }
  }
  for (const auto& r : h.expect_not) {
    if (fired.count(r)) problems.push_back(r + " fired but is listed in EXPECT-NOT");
  }
  return problems;
}

std::vector<std::string> corpus_sources(const std::string& dir, bool good) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string s = it->path().string();
    if (it->is_regular_file() && s.size() > 9 && s.ends_with(".kho.yaml") && (s.find("/good/") != std::string::npos) == good)
      out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace khospec::conformance
