#include "conformance/live/live.hpp"

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
    } else {
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
    return true;
  }
  error = "no KHO interface below " + base.string() + " (looked for /sys/kernel/debug/kho/" + which +
          (which == "out" ? " and /sys/kernel/kho" : " and /sys/firmware/kho") +
          "); is debugfs mounted, and was the kernel booted with kho=on?";
  return false;
}

}  // namespace khospec::conformance
