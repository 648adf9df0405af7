// ELF64 little-endian cores (the shape of QEMU dump-guest-memory output,
// /proc/kcore and the memory.elf of real KHO captures): one PT_LOAD per run of physical
// memory, p_paddr = its physical address. Used by the model to save its
// physical image and by the corpus generator to build memory images.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace khospec {

struct ElfRun {
  std::uint64_t paddr = 0;
  std::span<const std::uint8_t> bytes;
};

// `runs` must be sorted by address and must not overlap.
std::vector<std::uint8_t> write_elf_core(const std::vector<ElfRun>& runs);

// Pages (address -> bytes), each run of consecutive pages one PT_LOAD.
std::vector<std::uint8_t> write_elf_core(const std::map<std::uint64_t, std::vector<std::uint8_t>>& pages);

}  // namespace khospec
