// The running kernel's outgoing root FDT, read from memory through /proc/kcore
// when debugfs cannot give it: 7.x debugfs `out/fdt` keeps the size the root had
// at kho_init(), and a KHO-booted 7.x kernel has no `out/fdt` at all.
//
// /proc/kcore is an ELF core whose PT_LOADs carry p_vaddr (kernel virtual) and,
// for RAM and the kernel image, p_paddr. The root is found two ways:
//   kallsyms  `kho_out` from /proc/kallsyms; its first field is the root's
//             direct-map address (struct kho_out, 7.1+);
//   scan      every page of RAM for an FDT whose root compatible is "kho-v*",
//             leaving out the incoming root (debugfs in/fdt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/image/image.hpp"
#include "core/diag.hpp"

namespace khospec::conformance {

struct KcoreRoot {
  MemoryImage memory;              // /proc/kcore, read on demand
  std::uint64_t fdt_phys = 0;
  std::vector<std::uint8_t> fdt;   // totalsize bytes at fdt_phys
  std::string how;                 // "kho_out" or "scan"
};

// Reads below `root` ("" = "/"): proc/kcore, proc/kallsyms, and (to tell the
// incoming root from the outgoing one when scanning) `in_fdt`, the incoming root's
// bytes if known. False with `why` when the root cannot be read from memory.
bool read_kcore_root(const std::string& root, const std::vector<std::uint8_t>& in_fdt, std::size_t max_size,
                     KcoreRoot& out, std::string& why);

// The address of `symbol` in a /proc/kallsyms text; nullopt when absent or
// hidden (kptr_restrict prints zeros).
std::optional<std::uint64_t> kallsyms_lookup(const std::string& kallsyms_text, const std::string& symbol);

}  // namespace khospec::conformance
