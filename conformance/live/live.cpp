#include "conformance/live/live.hpp"

#include "conformance/live/kcore.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file.hpp"
#include "core/rules.hpp"
#include "fdt/reader.hpp"
#include "registry/era.hpp"

namespace khospec::conformance {

namespace fs = std::filesystem;

namespace {

struct Adapter {
  const char* era;
  const char* out_dir;   // relative to root
  const char* out_fdt;   // file inside the dir
  const char* in_dir;
  const char* in_fdt;
  bool has_sub_fdts;
};

// Tried in order; the first whose directory exists is used.
constexpr Adapter kAdapters[] = {
    {"debugfs", "sys/kernel/debug/kho/out", "fdt", "sys/kernel/debug/kho/in", "fdt", true},
    {"rfc-sysfs", "sys/kernel/kho", "dt", "sys/firmware/kho", "dt", false},
};

void finding(Report& r, const char* rule, const std::string& file, std::string msg) {
  r.add(make_finding(rule, file, std::nullopt, "", "", std::move(msg), "live"));
}

// 7.x debugfs serves the root with the size it had at kho_init() (or not at all
// on a KHO-booted kernel): take the root from memory, where the next kernel will,
// and follow the map and blobs there (/proc/kcore) too.
void root_from_memory(const fs::path& base, const fs::path& dir, const std::string& label, std::size_t max_size,
                      LiveSource& out, Report& report) {
  std::optional<std::uint32_t> claimed;
  std::size_t served = 0;
  auto it = std::find_if(out.blobs.begin(), out.blobs.end(), [](const LiveBlob& b) { return b.root; });
  if (it != out.blobs.end()) {
    claimed = fdt::peek_fdt_totalsize(it->bytes);
    served = it->bytes.size();
    if (!claimed) return;  // not an FDT: validated as it is
  }
  const bool whole = it != out.blobs.end() && *claimed <= served;
  std::vector<std::uint8_t> in_fdt;
  std::string ignored;
  std::error_code ec;
  if (fs::exists(dir.parent_path() / "in/fdt", ec)) fdt::read_file((dir.parent_path() / "in/fdt").string(), in_fdt, ignored, max_size);
  KcoreRoot k;
  std::string why;
  const bool got = read_kcore_root(base.string(), in_fdt, max_size, k, why);
  if (whole) {
    // debugfs gave the whole root: memory only adds the map and blobs behind it.
    std::vector<std::uint8_t> root(it->bytes.begin(), it->bytes.begin() + *claimed);
    if (!got || k.fdt != root) {
      finding(report, "kho_live_source", dir.string(),
              "the map and blobs are not followed: " +
                  (got ? "the root in memory at " + hex_u64(k.fdt_phys) + " differs from " + it->path : why));
      return;
    }
    finding(report, "kho_live_source", dir.string(),
            "following the map and blobs in /proc/kcore (root at " + hex_u64(k.fdt_phys) + ")");
    out.fdt_phys = k.fdt_phys;
    out.memory = std::move(k.memory);
    return;
  }
  const std::string what = it == out.blobs.end()
                               ? dir.string() + " has no fdt (a KHO-booted 7.x kernel: kho_init() adds none)"
                               : it->path + " serves " + hex_u64(served) + " of the root's " + hex_u64(*claimed) +
                                     " bytes (7.x fixes its size at kho_init())";
  if (!got) {
    if (it == out.blobs.end()) {
      finding(report, "kho_live_no_fdt", dir.string(), what + "; the root could not be read from memory: " + why);
    } else {
      finding(report, "kho_live_debugfs_truncated", it->path, what);
      finding(report, "kho_live_unverified", it->path, "the root could not be read from memory: " + why);
      out.blobs.erase(it);
    }
    return;
  }
  finding(report, it == out.blobs.end() ? "kho_live_root_from_memory" : "kho_live_debugfs_truncated", dir.string(),
          what + "; read the root from /proc/kcore at " + hex_u64(k.fdt_phys) + " (" + hex_u64(k.fdt.size()) +
              " bytes, found " + (k.how == "scan" ? "by scanning memory" : "through kho_out") + ")");
  LiveBlob b;
  b.name = "kcore:" + label + "/fdt@" + hex_u64(k.fdt_phys);
  b.path = (base / "proc/kcore").string();
  b.bytes = std::move(k.fdt);
  b.root = true;
  if (it != out.blobs.end()) *it = std::move(b);
  else out.blobs.insert(out.blobs.begin(), std::move(b));
  out.fdt_phys = k.fdt_phys;
  out.memory = std::move(k.memory);
}

}  // namespace

bool read_live(const std::string& root, const std::string& which, std::size_t max_size, LiveSource& out,
               Report& report, std::string& error) {
  if (which != "out" && which != "in") {
    error = "--live takes 'out' or 'in', not '" + which + "'";
    return false;
  }
  const fs::path base = root.empty() ? fs::path("/") : fs::path(root);
  std::error_code ec;
  for (const auto& a : kAdapters) {
    const fs::path dir = base / (which == "out" ? a.out_dir : a.in_dir);
    if (!fs::is_directory(dir, ec)) continue;
    out.era = a.era;
    out.dir = dir.string();
    const std::string label = std::string(a.era == std::string("debugfs") ? "debugfs:kho/" : "sysfs:") + which;
    finding(report, "kho_live_source", dir.string(),
            std::string("reading the ") + which + " side from " + dir.string() + " (" + a.era + " adapter)");
    const fs::path fdt = dir / (which == "out" ? a.out_fdt : a.in_fdt);
    if (fs::exists(fdt, ec)) {
      LiveBlob b;
      b.name = label + "/" + fdt.filename().string();
      b.path = fdt.string();
      b.root = true;
      if (!fdt::read_file(b.path, b.bytes, error, max_size)) return false;
      out.blobs.push_back(std::move(b));
    } else if (!a.has_sub_fdts || which != "out") {
      finding(report, "kho_live_no_fdt", dir.string(), dir.string() + " has no " + fdt.filename().string());
    }
    if (a.has_sub_fdts && fs::is_directory(dir / "sub_fdts", ec)) {
      std::vector<fs::path> subs;
      for (const auto& e : fs::directory_iterator(dir / "sub_fdts", ec)) subs.push_back(e.path());
      std::sort(subs.begin(), subs.end());
      for (const auto& p : subs) {
        LiveBlob b;
        b.name = label + "/sub_fdts/" + p.filename().string();
        b.path = p.string();
        if (!fdt::read_file(b.path, b.bytes, error, max_size)) return false;
        // kho-v2+ sub-blobs may be packed structs (kexec-metadata, LUO v3+): only FDTs are validated.
        const bool is_fdt = b.bytes.size() >= 4 && b.bytes[0] == 0xd0 && b.bytes[1] == 0x0d &&
                            b.bytes[2] == 0xfe && b.bytes[3] == 0xed;
        const std::string n = p.filename().string();
        if (!is_fdt && (n == "kexec-metadata" || n == "LUO")) continue;
        out.blobs.push_back(std::move(b));
      }
    }
    // The scratch files under the names some release gives them: scratch_*
    // to 7.3, bootmem_* from 7.4-rc1 (the registry's debugfs layouts).
    for (const auto& rel : registry::releases()) {
      const std::string ph(rel.debugfs.scratch_phys), ln(rel.debugfs.scratch_len);
      std::string pt, lt;
      if (!read_text_file(dir / ph, pt) || !read_text_file(dir / ln, lt)) continue;
      std::vector<ScratchArea> s;
      std::string serr;
      if (parse_scratch_files(pt, lt, s, serr)) {
        out.scratch = std::move(s);
        out.scratch_files = {ph, ln};
      }
      break;
    }
    if (a.has_sub_fdts && which == "out") root_from_memory(base, dir, label, max_size, out, report);
    return true;
  }
  error = "no KHO interface below " + base.string() + " (looked for /sys/kernel/debug/kho/" + which +
          (which == "out" ? " and /sys/kernel/kho" : " and /sys/firmware/kho") +
          "); is debugfs mounted, and was the kernel booted with kho=on?";
  return false;
}

}  // namespace khospec::conformance
