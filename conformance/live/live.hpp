// Live reads (`khospec validate --live out|in`): one adapter per kernel era,
// tried in order, each tested on fake directory trees (--root DIR):
//   debugfs   /sys/kernel/debug/kho/{out,in}/{fdt,sub_fdts/*,scratch_phys,scratch_len}
//             (6.16+, kernel/kexec_handover.c / kexec_handover_debugfs.c;
//             7.4-rc1 names the scratch files bootmem_phys, bootmem_len)
//   rfc-sysfs out: /sys/kernel/kho/{dt,scratch_phys,scratch_len}; in: /sys/firmware/kho/dt
//             (Graf / rppt RFCs, never merged)
// Where debugfs `out/fdt` is absent or truncated (7.x), the root is read from
// memory through /proc/kcore (conformance/live/kcore.hpp), which then also
// serves as the memory image the map and blobs are followed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conformance/image/image.hpp"
#include "conformance/validate/validate.hpp"
#include "core/diag.hpp"

namespace khospec::conformance {

struct LiveBlob {
  std::string name;   // display name ("debugfs:kho/out/fdt")
  std::string path;   // file system path
  std::vector<std::uint8_t> bytes;
  bool root = false;  // the root KHO FDT (sub-blobs are client formats)
};

struct LiveSource {
  std::string era;    // "debugfs" or "rfc-sysfs"
  std::string dir;    // the directory that was read
  std::vector<LiveBlob> blobs;
  std::optional<std::vector<ScratchArea>> scratch;
  std::optional<MemoryImage> memory;        // /proc/kcore, when the root came from it
  std::optional<std::uint64_t> fdt_phys;    // where that root lies
  std::pair<std::string, std::string> scratch_files;  // the files it came from
};

// Reads the `which` ("out" or "in") side below `root` ("" = "/"). Findings
// (kho_live_source, kho_live_no_fdt) go to `report`; returns false with `error`
// when no KHO interface exists at all (exit 1: KHO off, debugfs not mounted).
bool read_live(const std::string& root, const std::string& which, std::size_t max_size, LiveSource& out,
               Report& report, std::string& error);

}  // namespace khospec::conformance
