#include "conformance/live/kcore.hpp"

#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/file.hpp"
#include "core/rules.hpp"
#include "fdt/reader.hpp"

namespace khospec::conformance {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kPage = 4096;

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);  // a live kernel has the host's byte order
  return v;
}

// The FDT at `phys` when it is a KHO root ("kho-v*" root compatible), whole.
std::optional<std::vector<std::uint8_t>> kho_root_at(const MemoryImage& m, std::uint64_t phys, std::size_t max_size) {
  std::uint8_t head[8];
  if (!m.read(phys, head)) return std::nullopt;
  const auto total = fdt::peek_fdt_totalsize(head);
  if (!total || *total > max_size) return std::nullopt;
  auto bytes = m.read_vec(phys, *total);
  if (!bytes) return std::nullopt;
  const auto compat = fdt::root_compatible(*bytes);
  if (!compat || compat->rfind("kho-v", 0) != 0) return std::nullopt;
  return bytes;
}

}  // namespace

std::optional<std::uint64_t> kallsyms_lookup(const std::string& text, const std::string& symbol) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string addr, type, name;
    if (!(l >> addr >> type >> name) || name != symbol) continue;
    std::uint64_t v = 0;
    try {
      v = std::stoull(addr, nullptr, 16);
    } catch (...) {
      return std::nullopt;
    }
    if (v == 0) return std::nullopt;  // kptr_restrict hides it
    return v;
  }
  return std::nullopt;
}

bool read_kcore_root(const std::string& root, const std::vector<std::uint8_t>& in_fdt, std::size_t max_size,
                     KcoreRoot& out, std::string& why) {
  const fs::path base = root.empty() ? fs::path("/") : fs::path(root);
  const fs::path kcore = base / "proc/kcore";
  Report ignored;  // a kcore's own shape is not the hand-over's business
  std::string err;
  if (!MemoryImage::from_file(kcore.string(), std::nullopt, out.memory, ignored, err, Aliasing::expected) ||
      !out.memory.ok()) {
    why = err.empty() ? kcore.string() + " has no physical memory segments" : err;
    why += " (CONFIG_PROC_KCORE, and root)";
    return false;
  }
  std::string syms;
  std::string sym_why;
  if (read_text_file(base / "proc/kallsyms", syms)) {
    if (auto at = kallsyms_lookup(syms, "kho_out")) {
      std::uint8_t ptr[8];
      auto at_phys = out.memory.virt_to_phys(*at);
      if (at_phys && out.memory.read(*at_phys, ptr)) {
        // struct kho_out starts with the root's direct-map address (7.1+).
        if (auto phys = out.memory.virt_to_phys(load_le64(ptr))) {
          if (auto fdt = kho_root_at(out.memory, *phys, max_size)) {
            out.fdt_phys = *phys;
            out.fdt = std::move(*fdt);
            out.how = "kho_out";
            return true;
          }
        }
        sym_why = "kho_out's first field does not lead to a KHO root FDT";
      } else {
        sym_why = "kho_out lies outside " + kcore.string() + "'s segments";
      }
    } else {
      sym_why = "no kho_out in /proc/kallsyms (CONFIG_KALLSYMS_ALL, or kptr_restrict)";
    }
  } else {
    sym_why = "no /proc/kallsyms";
  }
  // Scan RAM page by page; the incoming root (still preserved) is left out.
  std::vector<std::uint64_t> found;
  std::vector<std::uint8_t> chosen;
  for (const auto& s : out.memory.segments()) {
    std::uint64_t p = (s.paddr + kPage - 1) & ~(kPage - 1);
    for (; p + kPage <= s.paddr + s.size && p >= s.paddr; p += kPage) {
      std::uint8_t magic[8];
      if (!out.memory.read(p, magic) || !fdt::peek_fdt_totalsize(magic)) continue;
      auto fdt = kho_root_at(out.memory, p, max_size);
      if (!fdt || (*fdt == in_fdt)) continue;
      found.push_back(p);
      chosen = std::move(*fdt);
    }
  }
  if (found.size() == 1) {
    out.fdt_phys = found[0];
    out.fdt = std::move(chosen);
    out.how = "scan";
    return true;
  }
  why = sym_why + "; a scan of " + kcore.string() + " found " + std::to_string(found.size()) + " KHO root FDTs";
  if (found.size() > 1) {
    why += " (";
    for (std::size_t i = 0; i < found.size() && i < 4; ++i) why += (i ? ", " : "") + hex_u64(found[i]);
    why += "): give --memory /proc/kcore --fdt-phys ADDR";
  }
  return false;
}

}  // namespace khospec::conformance
