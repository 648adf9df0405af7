// memfds as the model's userspace sees them: an unlinked shmem file of
// page-sized folios (mm/shmem.c, mm/memfd.c) with a size, a file position and
// seals. Pages are allocated on first write (a hole reads as zeros) from the
// kernel's unmovable allocator, which never hands out scratch (CMA) pages --
// as memfd_pin_folios() guarantees for the folios LUO preserves.
//
// The table is one kernel's: a memfd does not survive a kexec unless LUO
// preserves it, and then the next kernel builds a new one from the bytes of
// memfd_luo_ser (memfd_luo.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "model/kho/phys_image.hpp"

namespace khospec::model {

class Kernel;

// include/uapi/linux/fcntl.h
inline constexpr std::uint32_t F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2, F_SEAL_GROW = 0x4, F_SEAL_WRITE = 0x8,
                               F_SEAL_FUTURE_WRITE = 0x10, F_SEAL_EXEC = 0x20;

struct Memfd {
  std::uint64_t size = 0;                       // i_size
  std::uint64_t pos = 0;                        // f_pos
  std::uint32_t seals = 0;
  std::map<std::uint64_t, phys_addr_t> pages;   // page index -> folio (order 0); absent: a hole
  bool frozen = false;                          // shmem_freeze(): LUO preserves it, size fixed
};

class MemfdTable {
 public:
  explicit MemfdTable(Kernel& k) : k_(k) {}

  // memfd_create(): an empty file; without MFD_ALLOW_SEALING it carries
  // F_SEAL_SEAL (no further seals). Returns the fd.
  int create(bool allow_sealing);
  // A memfd built by a file handler (LUO retrieve); returns the fd.
  int adopt(Memfd m);
  Memfd* get(int fd);
  const Memfd* get(int fd) const;
  bool is_memfd(int fd) const { return files_.count(fd) != 0; }

  // ftruncate(): size in bytes (pages past the end are dropped); -EPERM
  // under F_SEAL_SHRINK/GROW or while frozen.
  int truncate(int fd, std::uint64_t size);
  // pwrite(): allocates (zeroed) pages for holes, grows the size; -EPERM
  // under F_SEAL_WRITE or growth while frozen/F_SEAL_GROW; -ENOMEM.
  int write(int fd, std::uint64_t offset, std::span<const std::uint8_t> bytes);
  // pread() of [offset, offset + len) clipped to the size; holes read as 0.
  std::optional<std::vector<std::uint8_t>> read(int fd, std::uint64_t offset, std::uint64_t len) const;
  int seek(int fd, std::uint64_t pos);
  // F_ADD_SEALS: -EPERM once F_SEAL_SEAL is set.
  int add_seals(int fd, std::uint32_t seals);
  // The bytes of [0, size), holes as zeros.
  std::vector<std::uint8_t> content(const Memfd& m) const;

 private:
  Kernel& k_;
  std::map<int, Memfd> files_;
};

// FNV-1a over a byte string (content digests of memfds).
std::uint64_t fnv1a(std::span<const std::uint8_t> bytes);

}  // namespace khospec::model
