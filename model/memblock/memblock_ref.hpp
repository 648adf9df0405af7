// The kernel's own memblock algorithms, written out as a separate reference
// (our words, the kernel's steps), for two uses only:
//   - bench/: the "kernel algorithm" side of every memblock benchmark pair
//     (linear scan from index 0 plus a memmove per inserted/removed region);
//   - memblock_ref_prop_test: the model (model/memblock/memblock.cpp) must produce the
//     same region arrays as these functions on random operation sequences.
//
// The array is a C-style region array with a fixed capacity `max` and a count
// `cnt`, moved with std::memmove exactly where mm/memblock.c moves it. The one
// deliberate difference: when the kernel would call memblock_double_array()
// (which allocates the new array from memblock and reserves it), the reference
// only doubles the capacity. Benchmarks and the property test size the arrays
// so that neither side ever doubles; then the two are comparable region by
// region. Complexity (mm/memblock.c, 6.16): add/isolate/remove are O(n) scans
// from index 0 plus O(n) per memmove; the free-range walk is O(n_m + n_r).
#pragma once

#include <cstdint>
#include <vector>

#include "model/memblock/memblock.hpp"

namespace khospec::model::ref {

struct RefType {
  std::vector<MemblockRegion> slots;  // capacity `max`; entries [0, cnt) valid
  std::uint64_t cnt = 0;
  std::uint64_t max = 0;
  phys_addr_t total_size = 0;
  int max_numnodes = 64;  // what an emptied regions[0] reads as (nid)

  explicit RefType(std::uint64_t capacity = 128, int numnodes = 64);
  // The valid regions, as a vector (for comparisons; O(n)).
  std::vector<MemblockRegion> regions() const;
  // Copies the regions of a model array (capacity must suffice).
  void assign(const std::vector<MemblockRegion>& regions);
};

// Warnings the kernel would raise (counted, not recorded).
struct RefWarnings {
  std::uint64_t nid = 0;    // WARN_ON(nid != memblock_get_region_node(rgn))
  std::uint64_t flags = 0;  // WARN_ON(flags != MEMBLOCK_NONE && flags != rgn->flags) (6.16) / != (6.12)
  std::uint64_t total = 0;  // WARN_ON(type->total_size != 0) on emptying
};

// mm/memblock.c memblock_add_range() (v6.16; era_16 = false gives the 6.12
// flags warning). Returns 0 (the reference never fails).
int memblock_add_range(RefType& t, phys_addr_t base, phys_addr_t size, int nid, std::uint32_t flags,
                       bool era_16, RefWarnings* w = nullptr);
// mm/memblock.c memblock_isolate_range().
int memblock_isolate_range(RefType& t, phys_addr_t base, phys_addr_t size, int* start_rgn, int* end_rgn);
// mm/memblock.c memblock_remove_range().
int memblock_remove_range(RefType& t, phys_addr_t base, phys_addr_t size, RefWarnings* w = nullptr);
// mm/memblock.c memblock_setclr_flag().
int memblock_setclr_flag(RefType& t, phys_addr_t base, phys_addr_t size, bool set, std::uint32_t flag);

// The memory side of should_skip_region() with movable_node off.
bool should_skip_memory_region(const MemblockRegion& m, int nid, std::uint32_t flags, int max_numnodes);

// mm/memblock.c __next_mem_range() / __next_mem_range_rev() with type_a =
// memory and type_b = reserved: the kernel's u64 cursor (idx_a in the low 32
// bits, idx_b in the high 32 bits; ~0 = start/end for the reverse walk).
// Returns false at the end.
bool next_free_mem_range(const RefType& mem, const RefType& rsv, int nid, std::uint32_t flags,
                         std::uint64_t* idx, phys_addr_t* out_start, phys_addr_t* out_end, int* out_nid,
                         int max_numnodes = 64);
bool next_free_mem_range_rev(const RefType& mem, const RefType& rsv, int nid, std::uint32_t flags,
                             std::uint64_t* idx, phys_addr_t* out_start, phys_addr_t* out_end, int* out_nid,
                             int max_numnodes = 64);

// mm/memblock.c __memblock_find_range_top_down(): first fit from the top
// (start/end already clamped by memblock_find_in_range_node). 0 on failure.
phys_addr_t find_range_top_down(const RefType& mem, const RefType& rsv, phys_addr_t start, phys_addr_t end,
                                phys_addr_t size, phys_addr_t align, int nid, std::uint32_t flags,
                                int max_numnodes = 64);

}  // namespace khospec::model::ref
