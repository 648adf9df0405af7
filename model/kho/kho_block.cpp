// kho-v4 linked blocks (kho_block.c): page-sized blocks of fixed-size
// entries chained by physical address, and the reader's rules.
#include "model/kho/mem_track.hpp"

#include <cstdint>
#include <set>

#include "model/kho/luo_encoding.hpp"
#include "model/kho/mem_track_internal.hpp"

namespace khospec::model {

using namespace mem_detail;

namespace {
// The layout arithmetic is luo_encoding.hpp's (the functions a Z3 encoding mirrors).
std::uint64_t count_per_block(std::size_t entry_size) { return kho_block_count_per_block(entry_size); }
}  // namespace

// kho_block_set_grow() then kho_block_set_it_reserve_entry() (kho_block.c):
// all blocks are allocated and chained first (kho_alloc_preserve(PAGE_SIZE),
// zeroed), then filled in order, count updated per entry. On failure the
// blocks are freed last-first (kho_block_set_shrink_one).
std::optional<std::vector<phys_addr_t>> kho_block_write(PhysImage& image, PageAllocator& alloc,
                                                        const std::vector<std::vector<std::uint8_t>>& entries,
                                                        std::size_t entry_size) {
  const std::uint64_t cpb = count_per_block(entry_size);
  if (cpb == 0) return std::nullopt;  // WARN_ON_ONCE(!bs->count_per_block)
  for (const auto& e : entries)
    if (e.size() != entry_size) return std::nullopt;
  const std::uint64_t nblocks = (entries.size() + cpb - 1) / cpb;
  if (nblocks > KHO_MAX_BLOCKS) return std::nullopt;  // -ENOSPC
  std::vector<phys_addr_t> blocks;
  for (std::uint64_t b = 0; b < nblocks; ++b) {
    const phys_addr_t blk = alloc_zeroed(alloc, image, kPage, kPage);
    if (!blk) {
      for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) alloc.free(*it, kPage);
      return std::nullopt;
    }
    if (!blocks.empty()) image.write_u64(blocks.back(), blk);
    blocks.push_back(blk);
  }
  for (std::uint64_t i = 0; i < entries.size(); ++i) {
    const KhoBlockSlot slot = kho_block_slot(i, entry_size);
    const phys_addr_t blk = blocks[slot.block];
    image.write(blk + slot.offset, entries[i]);
    image.write_u64(blk + 8, i % cpb + 1);
  }
  return blocks;
}

// kho_block_set_restore(): first the chain check (Floyd in the kernel, bounded
// by KHO_MAX_BLOCKS; a chain longer than that fails with -ENOSPC while being
// added), then every count must be in 1..count_per_block.
std::optional<std::vector<std::vector<std::uint8_t>>> kho_block_read(const PhysImage& image, phys_addr_t head,
                                                                     std::size_t entry_size,
                                                                     std::vector<DecodeIssue>* issues) {
  std::vector<std::vector<std::uint8_t>> out;
  const std::uint64_t cpb = count_per_block(entry_size);
  if (cpb == 0) {
    note(issues, "kho_block: entry size gives no entry per block", head);
    return std::nullopt;
  }
  std::vector<phys_addr_t> chain;
  std::set<phys_addr_t> seen;
  for (phys_addr_t blk = head; blk != 0; blk = image.read_u64(blk)) {
    if (!seen.insert(blk).second) {
      note(issues, "Block set is corrupted (cycle)", blk);
      return std::nullopt;
    }
    if (chain.size() == KHO_MAX_BLOCKS) {
      note(issues, "Block set is corrupted (more than KHO_MAX_BLOCKS blocks)", blk);
      return std::nullopt;
    }
    if (!image.touched(blk)) {
      note(issues, "kho_block points outside the image", blk);
      return std::nullopt;
    }
    chain.push_back(blk);
  }
  for (const phys_addr_t blk : chain) {
    const std::uint64_t count = image.read_u64(blk + 8);
    if (!kho_block_count_valid(count, entry_size)) {
      note(issues, "Block contains invalid entry count: " + std::to_string(count), blk + 8);
      return std::nullopt;
    }
    for (std::uint64_t i = 0; i < count; ++i)
      out.push_back(image.read(blk + kBlockHdr + i * entry_size, entry_size));
  }
  return out;
}

}  // namespace khospec::model
