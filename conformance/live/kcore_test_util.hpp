// Test helper: a /proc/kcore in miniature (ELF64 core with p_vaddr/p_paddr),
// for the live reader's tests and the CLI's.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/elf.hpp"

namespace khospec::conformance::test {

// A /proc/kcore in miniature: the kernel image at its link address (kho_out in
// it) and the direct map, aliasing the same physical bytes as kcore does.
constexpr std::uint64_t kText = 0xffffffff81000000, kTextPhys = 0x1000000, kKhoOut = kText + 0x800;
constexpr std::uint64_t kDirectMap = 0xffff888000000000;

struct Segment {
  std::uint64_t vaddr, paddr;
  std::vector<std::uint8_t> bytes;
};

inline std::vector<std::uint8_t> kcore(const std::vector<Segment>& segs) {
  std::vector<ElfRun> runs;
  for (const auto& s : segs) runs.push_back({s.paddr, s.bytes, s.vaddr});
  return write_elf_core(runs);
}

// RAM [0, 4 MiB) holding `roots` (phys -> FDT), and the kernel image whose
// kho_out points at `out_root` (0: a null pointer).
inline std::vector<std::uint8_t> machine(const std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>>& roots,
                                  std::uint64_t out_root) {
  std::vector<std::uint8_t> ram(4u << 20), text(0x2000);
  for (const auto& [phys, fdt] : roots) std::memcpy(ram.data() + phys, fdt.data(), fdt.size());
  const std::uint64_t ptr = out_root ? kDirectMap + out_root : 0;
  std::memcpy(text.data() + (kKhoOut - kText), &ptr, sizeof ptr);
  return kcore({{kDirectMap, 0, ram}, {kText, kTextPhys, text}, {kDirectMap + kTextPhys, kTextPhys, text}});
}

inline std::string kallsyms() {
  return "ffffffff81000000 T _text\nffffffff81000800 b kho_out\nffffffff81000900 b kho_in\n";
}

}  // namespace khospec::conformance::test
