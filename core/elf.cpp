#include "core/elf.hpp"

#include <cstring>
#include <elf.h>

namespace khospec {

std::vector<std::uint8_t> write_elf_core(const std::vector<ElfRun>& runs) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(runs.size());
  std::size_t total = sizeof eh + runs.size() * sizeof(Elf64_Phdr);
  for (const auto& r : runs) total += r.bytes.size();
  std::vector<std::uint8_t> out(total, 0);
  std::memcpy(out.data(), &eh, sizeof eh);  // x86-64 host: the structs are little-endian
  std::uint64_t off = sizeof eh + runs.size() * sizeof(Elf64_Phdr);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R;
    ph.p_offset = off;
    ph.p_paddr = runs[i].paddr;
    ph.p_vaddr = runs[i].vaddr.value_or(runs[i].paddr);
    ph.p_filesz = ph.p_memsz = runs[i].bytes.size();
    ph.p_align = 1;
    std::memcpy(out.data() + sizeof eh + i * sizeof ph, &ph, sizeof ph);
    if (!runs[i].bytes.empty()) std::memcpy(out.data() + off, runs[i].bytes.data(), runs[i].bytes.size());
    off += runs[i].bytes.size();
  }
  return out;
}

std::vector<std::uint8_t> write_elf_core(const std::map<std::uint64_t, std::vector<std::uint8_t>>& pages) {
  // Runs of consecutive pages become one PT_LOAD each.
  std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> runs;
  for (const auto& [addr, data] : pages) {
    if (!runs.empty() && runs.back().first + runs.back().second.size() == addr) {
      runs.back().second.insert(runs.back().second.end(), data.begin(), data.end());
    } else {
      runs.push_back({addr, data});
    }
  }
  std::vector<ElfRun> elf;
  for (const auto& [addr, bytes] : runs) elf.push_back({addr, bytes, std::nullopt});
  return write_elf_core(elf);
}

}  // namespace khospec
