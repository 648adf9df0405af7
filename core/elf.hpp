// ELF64 little-endian cores (the shape of QEMU dump-guest-memory output,
// /proc/kcore and the memory.elf of real KHO captures): one PT_LOAD per run of physical
// memory, p_paddr = its physical address. Used by the model to save its
// physical image and by the corpus generator to build memory images.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace khospec {

struct ElfRun {
  std::uint64_t paddr = 0;
  std::span<const std::uint8_t> bytes;
  std::optional<std::uint64_t> vaddr;  // p_vaddr (default: paddr); /proc/kcore's windows differ
};

// A memory image's runs are sorted by address and do not overlap; a kcore's
// windows (the direct map, the kernel image) may alias the same physical bytes.
std::vector<std::uint8_t> write_elf_core(const std::vector<ElfRun>& runs);

// Pages (address -> bytes), each run of consecutive pages one PT_LOAD.
std::vector<std::uint8_t> write_elf_core(const std::map<std::uint64_t, std::vector<std::uint8_t>>& pages);

}  // namespace khospec
