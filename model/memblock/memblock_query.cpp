// memblock model: queries over the region arrays (is_reserved, is_region_memory,
// reserved_kern_size, end_of_DRAM) and memblock_trim_memory().
#include "model/memblock/memblock.hpp"

#include "core/parse.hpp"
#include "model/memblock/memblock_internal.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace khospec::model {

// The arrays are sorted and disjoint, so region ends strictly increase and
// every region the kernel's scan from index 0 would `continue` past comes
// before RegionArray::first_ending_above(): O(1) at either end of the array
// (the kernel's scan is O(1) below the first region), else O(log n).
// ---- queries ---------------------------------------------------------------------------

// mm/memblock.c memblock_overlaps_region(); binary search instead of a scan.
bool Memblock::memblock_overlaps_region(MemblockTypeId tid, phys_addr_t base,
                                        phys_addr_t size) const {
  size = std::min(size, PHYS_ADDR_MAX - base);
  const auto& r = type(tid).regions;
  const std::size_t i = r.first_ending_above(base);
  return i < r.size() && r[i].base < base + size;
}

// mm/memblock.c memblock_search().
int Memblock::search(const MemblockType& t, phys_addr_t addr) const {
  const std::size_t i = t.regions.first_ending_above(addr);
  if (i < t.cnt() && t.regions[i].base <= addr) return static_cast<int>(i);
  return -1;
}

bool Memblock::memblock_is_memory(phys_addr_t addr) const { return search(memory_, addr) != -1; }
bool Memblock::memblock_is_reserved(phys_addr_t addr) const {
  return search(reserved_, addr) != -1;
}
bool Memblock::memblock_is_map_memory(phys_addr_t addr) const {
  const int i = search(memory_, addr);
  return i != -1 && !(memory_.regions[static_cast<std::size_t>(i)].flags & MEMBLOCK_NOMAP);
}
bool Memblock::memblock_is_region_memory(phys_addr_t base, phys_addr_t size) const {
  const int i = search(memory_, base);
  size = std::min(size, PHYS_ADDR_MAX - base);
  if (i == -1) return false;
  return memory_.regions[static_cast<std::size_t>(i)].end() >= base + size;
}
bool Memblock::memblock_is_region_reserved(phys_addr_t base, phys_addr_t size) const {
  return memblock_overlaps_region(MemblockTypeId::reserved, base, size);
}

// mm/memblock.c memblock_reserved_kern_size() (v6.16): RSRV_KERN bytes below
// limit, for one node or all nodes.
phys_addr_t Memblock::memblock_reserved_kern_size(phys_addr_t limit, int nid) const {
  phys_addr_t total = 0;
  for (const auto& r : reserved_.regions) {
    phys_addr_t sz = r.size;
    if (r.base > limit) break;
    if (r.base + r.size > limit) sz = limit - r.base;
    if ((nid == r.nid || !numa_valid_node(nid)) && (r.flags & MEMBLOCK_RSRV_KERN)) total += sz;
  }
  return total;
}

phys_addr_t Memblock::memblock_start_of_DRAM() const { return memory_.at(0).base; }

// The kernel reads regions[cnt - 1] even when cnt == 0 (out of bounds); the
// model answers 0 there.
phys_addr_t Memblock::memblock_end_of_DRAM() const {
  if (memory_.regions.empty()) return 0;
  return memory_.regions.back().end();
}

// mm/memblock.c memblock_trim_memory(): shrinks memory regions to `align`,
// dropping the ones that vanish. Like the kernel it does not update
// total_size for shrunk regions (INV_MEMBLOCK_TOTAL then fails).
void Memblock::memblock_trim_memory(phys_addr_t align) {
  if (failed_) return;
  Scope scope(*this, "memblock_trim_memory");
  std::size_t i = 0;
  while (i < memory_.cnt()) {
    MemblockRegion& r = memory_.regions[i];
    const phys_addr_t orig_start = r.base;
    const phys_addr_t orig_end = r.end();
    const phys_addr_t start = ((orig_start - 1) | (align - 1)) + 1;  // round_up()
    const phys_addr_t end = orig_end & ~(align - 1);                // round_down()
    if (start == orig_start && end == orig_end) {
      ++i;
      continue;
    }
    if (start < end) {
      r.base = start;
      r.size = end - start;
      ++i;
    } else {
      remove_region(memory_, i);
    }
  }
}

}  // namespace khospec::model
