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
    ph.p_vaddr = ph.p_paddr = runs[i].paddr;
    ph.p_filesz = ph.p_memsz = runs[i].bytes.size();
    ph.p_align = 1;
    std::memcpy(out.data() + sizeof eh + i * sizeof ph, &ph, sizeof ph);
    if (!runs[i].bytes.empty()) std::memcpy(out.data() + off, runs[i].bytes.data(), runs[i].bytes.size());
    off += runs[i].bytes.size();
  }
  return out;
}

}  // namespace khospec
