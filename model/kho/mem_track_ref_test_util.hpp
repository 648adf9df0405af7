// The straightforward per-bit map reader that kho_mem_deserialize() was
// before it became kho_mem_walk() expanded (kept verbatim as a test oracle):
// every read goes through PhysImage::read(), every set bit is one block.
// The walk tests check the walker against it block for block and issue for
// issue, on good and on corrupted maps.
#pragma once

#include <bit>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "model/kho/mem_track.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model::testutil {

namespace refdetail {

constexpr std::uint64_t kPage = PhysImage::kPageSize;
using Issues = std::vector<DecodeIssue>;

inline void note(Issues* issues, std::string what, phys_addr_t at) {
  if (issues) issues->push_back(DecodeIssue{std::move(what), at});
}

template <typename F>
void for_each_set_bit(const PhysImage& image, phys_addr_t addr, std::uint64_t nbits, F&& f) {
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

inline std::vector<PreservedBlock> decode_chunk_list(const PhysImage& image, MemMapFormat fmt, phys_addr_t head,
                                                     Issues* issues) {
  std::vector<PreservedBlock> out;
  const std::uint64_t nbits = kho_preserve_bits(fmt);
  std::set<phys_addr_t> seen;
  for (phys_addr_t chunk = head; chunk != 0;) {
    if (!seen.insert(chunk).second) {
      note(issues, "khoser_mem_chunk list has a cycle (next points back to an earlier chunk)", chunk);
      break;
    }
    if (!image.touched(chunk) || !image.touched(chunk + kPage - 1)) {
      note(issues, "khoser_mem_chunk points outside the image", chunk);
      break;
    }
    if (chunk % kPage) note(issues, "khoser_mem_chunk is not page-aligned", chunk);
    const phys_addr_t next = image.read_u64(chunk);
    const std::uint32_t order = image.read_u32(chunk + 8);
    std::uint32_t num = image.read_u32(chunk + 12);
    if (order > KHO_MAX_WIRE_ORDER) {
      note(issues, "khoser_mem_chunk order " + std::to_string(order) + " too large, chunk skipped", chunk);
      num = 0;
    }
    if (num > KHOSER_BITMAP_SIZE) {
      note(issues, "khoser_mem_chunk num_elms " + std::to_string(num) + " exceeds capacity 255; reading 255",
           chunk);
      num = KHOSER_BITMAP_SIZE;
    }
    const unsigned shift = order + KHO_PAGE_SHIFT;
    const std::uint64_t coverage_mask = order + KHO_PAGE_SHIFT + std::bit_width(nbits - 1) < 64
                                            ? (nbits << shift) - 1
                                            : ~std::uint64_t{0};
    for (std::uint32_t i = 0; i < num; ++i) {
      const phys_addr_t elm = chunk + 16 + std::uint64_t{i} * 16;
      const std::uint64_t phys_start = image.read_u64(elm);
      const phys_addr_t bitmap = image.read_u64(elm + 8);
      if (bitmap == 0 || !image.touched(bitmap) || !image.touched(bitmap + nbits / 8 - 1)) {
        note(issues, "bitmap pointer of entry " + std::to_string(i) + " is null or outside the image", elm + 8);
        continue;
      }
      if (phys_start & coverage_mask)
        note(issues, "phys_start of entry " + std::to_string(i) + " is not a multiple of the bitmap coverage", elm);
      for_each_set_bit(image, bitmap, nbits, [&](std::uint64_t bit) {
        out.push_back(PreservedBlock{phys_start + (bit << shift), order});
      });
    }
    chunk = next;
  }
  return out;
}

struct RadixWalker {
  const PhysImage& image;
  Issues* issues;
  std::vector<PreservedBlock>& out;
  std::set<phys_addr_t> seen;

  bool enter(phys_addr_t node, phys_addr_t from) {
    if (node % kPage) {
      note(issues, "radix node pointer is not page-aligned, subtree skipped", from);
      return false;
    }
    if (!image.touched(node)) {
      note(issues, "radix node pointer points outside the image, subtree skipped", from);
      return false;
    }
    if (!seen.insert(node).second) {
      note(issues, "radix node reached twice (shared subtree or cycle), skipped", from);
      return false;
    }
    return true;
  }

  void leaf(phys_addr_t addr, std::uint64_t base) {
    for_each_set_bit(image, addr, std::uint64_t{1} << KHO_BITMAP_SIZE_LOG2, [&](std::uint64_t bit) {
      const std::uint64_t key = base | bit;
      if (!kho_radix_key_valid(key)) {
        note(issues, "radix leaf bit " + std::to_string(bit) + " gives an invalid key", addr + bit / 64 * 8);
        return;
      }
      out.push_back(kho_radix_decode_key(key));
    });
  }

  void table(phys_addr_t addr, unsigned level, std::uint64_t base) {
    const auto bytes = image.read(addr, kPage);
    for (std::uint64_t i = 0; i < (std::uint64_t{1} << KHO_TABLE_SIZE_LOG2); ++i) {
      std::uint64_t child = 0;
      for (int b = 7; b >= 0; --b) child = child << 8 | bytes[i * 8 + static_cast<std::size_t>(b)];
      if (!child) continue;
      const phys_addr_t slot = addr + i * 8;
      const unsigned shift = (level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2;
      if (shift + std::bit_width(i) > KHO_ORDER_0_LOG2 + 1) {
        note(issues, "radix root index " + std::to_string(i) + " encodes no order, subtree skipped", slot);
        continue;
      }
      if (!enter(child, slot)) continue;
      const std::uint64_t key = base | i << shift;
      if (level == 1) {
        leaf(child, key);
      } else {
        table(child, level - 1, key);
      }
    }
  }
};

}  // namespace refdetail

// The reference reader: same contract as kho_mem_deserialize().
inline std::vector<PreservedBlock> reference_deserialize(const PhysImage& image, MemMapFormat fmt, phys_addr_t map,
                                                         std::vector<DecodeIssue>* issues) {
  if (fmt != MemMapFormat::radix) return refdetail::decode_chunk_list(image, fmt, map, issues);
  std::vector<PreservedBlock> out;
  if (map == 0) return out;
  refdetail::RadixWalker w{image, issues, out, {}};
  if (w.enter(map, map)) w.table(map, KHO_TREE_MAX_DEPTH - 1, 0);
  return out;
}

}  // namespace khospec::model::testutil
