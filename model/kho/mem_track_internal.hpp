// Helpers shared by the tracker, its readers and the other wire writers
// (mem_track.cpp, mem_walk.cpp, radix_key.cpp, vmalloc.cpp, kho_block.cpp);
// not part of the model's API.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "model/kho/mem_track.hpp"

namespace khospec::model::mem_detail {

inline constexpr std::uint64_t kPage = PhysImage::kPageSize;
inline constexpr std::uint64_t kChunkHdr = 16;        // struct khoser_mem_chunk_hdr
inline constexpr std::uint64_t kChunkElm = 16;        // struct khoser_mem_bitmap_ptr
inline constexpr std::uint64_t kTableEntries = 1u << KHO_TABLE_SIZE_LOG2;
inline constexpr std::uint64_t kLeafBits = 1u << KHO_BITMAP_SIZE_LOG2;
inline constexpr std::uint64_t kBlockHdr = 16;        // struct kho_block_header_ser
inline constexpr std::uint16_t kVmallocKnownFlags = KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP;

using Issues = std::vector<DecodeIssue>;

inline void note(Issues* issues, std::string what, phys_addr_t at) {
  if (issues) issues->push_back(DecodeIssue{std::move(what), at});
}

inline std::uint64_t bitmap_bytes(MemMapFormat fmt) { return kho_preserve_bits(fmt) / 8; }

// 6.16 kzalloc(512) is 512-aligned (kmalloc-512); 6.18+ get_zeroed_page.
inline std::uint64_t bitmap_align(MemMapFormat fmt) { return fmt == MemMapFormat::bitmap512 ? 512 : kPage; }

inline phys_addr_t alloc_zeroed(PageAllocator& alloc, PhysImage& image, std::uint64_t bytes, std::uint64_t align) {
  const phys_addr_t a = alloc.alloc(bytes, align);
  if (a) image.fill(a, bytes, 0);  // kzalloc / get_zeroed_page semantics
  return a;
}

inline void set_bit(PhysImage& image, phys_addr_t bitmap, std::uint64_t bit) {
  const phys_addr_t w = bitmap + bit / 64 * 8;
  image.write_u64(w, image.read_u64(w) | std::uint64_t{1} << (bit % 64));
}
inline void clear_bit(PhysImage& image, phys_addr_t bitmap, std::uint64_t bit) {
  const phys_addr_t w = bitmap + bit / 64 * 8;
  image.write_u64(w, image.read_u64(w) & ~(std::uint64_t{1} << (bit % 64)));
}
inline bool test_bit(const PhysImage& image, phys_addr_t bitmap, std::uint64_t bit) {
  return (image.read_u64(bitmap + bit / 64 * 8) >> (bit % 64)) & 1;
}

// for_each_set_bit() over a bitmap of `nbits` at `addr`: one read of the
// whole bitmap, then word-wise ctz, O(words + set bits).
template <typename F>
inline void for_each_set_bit(const PhysImage& image, phys_addr_t addr, std::uint64_t nbits, F&& f) {
  const auto bytes = image.read(addr, static_cast<std::size_t>(nbits / 8));
  for (std::size_t w = 0; w < bytes.size() / 8; ++w) {
    std::uint64_t word = 0;
    for (int b = 7; b >= 0; --b) word = word << 8 | bytes[w * 8 + static_cast<std::size_t>(b)];
    while (word) {
      const unsigned bit = static_cast<unsigned>(std::countr_zero(word));
      f(std::uint64_t{w} * 64 + bit);
      word &= word - 1;
    }
  }
}

}  // namespace khospec::model::mem_detail
