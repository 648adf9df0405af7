// Helpers shared by the Kernel's source files (kernel*.cpp); not part of the
// model's API.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kho/kernel.hpp"

namespace khospec::model::kernel_detail {

inline std::uint64_t round_up_wrap(std::uint64_t x, std::uint64_t a) { return (x + a - 1) & ~(a - 1); }

inline bool overlap(phys_addr_t a, std::uint64_t al, phys_addr_t b, std::uint64_t bl) {
  return al && bl && a < b + bl && b < a + al;
}

inline std::uint64_t block_bytes(unsigned order) { return PAGE_SIZE_4K << order; }

// An FDT copied out of the image into an aligned buffer for libfdt.
struct ImageFdt {
  std::vector<std::uint64_t> buf;
  std::size_t len = 0;
  ImageFdt(const PhysImage& img, phys_addr_t at, std::size_t bytes) : buf(bytes / 8 + 1, 0), len(bytes) {
    img.read(at, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buf.data()), bytes));
  }
  const void* fdt() const { return buf.data(); }
};

}  // namespace khospec::model::kernel_detail
