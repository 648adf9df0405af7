// LUO's memfd file handler (mm/memfd_luo.c, 6.19): "memfd-v1" (6.19-7.0)
// and "memfd-v2" (7.1+, seals kept). Preserving a memfd pins every page of
// its size (a hole gets a fresh zeroed folio), preserves each folio, and
// describes them in a vmalloc'd array of memfd_luo_folio_ser that is itself
// preserved with kho_preserve_vmalloc(); memfd_luo_ser (kho_alloc_preserve)
// points at that array. The next kernel rebuilds a memfd from those bytes.
// docs/kernel-behaviour.md §9.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/kho/luo_encoding.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model {

class Kernel;

// What memfd_luo_preserve() hands back to LUO: args->serialized_data (the
// phys of memfd_luo_ser) and args->private_data (the folio array's pages).
struct MemfdLuoPreserved {
  phys_addr_t ser = 0;
  std::vector<phys_addr_t> folio_array;
};

// The handler of a kernel: its compatible string decides the format.
struct MemfdLuoHandler {
  bool v2 = true;  // memfd-v2 (seals, flags) vs memfd-v1
  std::string_view compatible() const { return v2 ? "memfd-v2" : "memfd-v1"; }

  // memfd_luo_preserve(): 0 or -errno (-ENOMEM, -EFBIG); nothing stays
  // preserved on failure.
  int preserve(Kernel& k, int fd, MemfdLuoPreserved* out) const;
  // memfd_luo_freeze() at liveupdate_reboot(): the file position may have
  // moved since preserve.
  int freeze(Kernel& k, int fd, const MemfdLuoPreserved& p) const;
  // memfd_luo_unpreserve(): everything preserve() preserved is released.
  void unpreserve(Kernel& k, int fd, const MemfdLuoPreserved& p) const;
  // memfd_luo_retrieve() in the next kernel: a new memfd from the bytes at
  // `ser`; its fd, or -errno (-EIO when a folio does not restore,
  // -EINVAL when the array does not, -EOPNOTSUPP for unknown seals).
  int retrieve(Kernel& k, phys_addr_t ser) const;
  // memfd_luo_finish(): a file never retrieved gives its memory back.
  void finish(Kernel& k, phys_addr_t ser, int retrieve_status) const;
};

// The memory a preserved memfd's serialization occupies, read back from the
// bytes at `ser` ([addr, len): memfd_luo_ser, the vmalloc chunks, the folio
// array pages and every folio); `issues` gets what does not decode.
std::vector<std::pair<phys_addr_t, std::uint64_t>> memfd_luo_structures(const PhysImage& image, phys_addr_t ser,
                                                                        bool v2, std::vector<std::string>* issues);

// INV_MEMFD_FOLIO_ENTRY_EXACT on the serialized memfd at `ser`: nr_folios
// entries (at most one per page), each word decodes exactly (pfn < 2^52, flags within DIRTY |
// UPTODATE, pfn != 0), indices strictly increasing and below
// ceil(size / PAGE_SIZE). What is wrong, one line each (empty: nothing).
std::vector<std::string> memfd_luo_entry_violations(const PhysImage& image, phys_addr_t ser, bool v2);

}  // namespace khospec::model
