// memblock model: free-range iteration, the allocators and the buddy hand-off.
#include <algorithm>
#include <optional>

#include "model/memblock/memblock.hpp"
#include "model/memblock/memblock_internal.hpp"

namespace khospec::model {

namespace {

// include/linux/math.h round_up()/round_down() for power-of-two alignments.
// Used verbatim in spirit: a non-power-of-two alignment gives the same odd
// results as in the kernel.
phys_addr_t round_up(phys_addr_t x, phys_addr_t align) { return ((x - 1) | (align - 1)) + 1; }
phys_addr_t round_down(phys_addr_t x, phys_addr_t align) { return x & ~(align - 1); }
phys_addr_t clamp(phys_addr_t v, phys_addr_t lo, phys_addr_t hi) {
  return std::min(std::max(v, lo), hi);
}

}  // namespace

void Memblock::for_each_mem_range_generic(MemblockTypeId type_a,
                                          std::optional<MemblockTypeId> type_b, int nid,
                                          std::uint32_t flags, bool reverse,
                                          const std::function<bool(const MemRange&)>& fn) const {
  walk_ranges(type_a, type_b ? &*type_b : nullptr, nid, flags, reverse,
              [&](const MemRange& r) { return fn(r); });
}

std::vector<MemRange> Memblock::for_each_mem_range(bool reverse) const {
  std::vector<MemRange> out;
  walk_ranges(MemblockTypeId::memory, nullptr, NUMA_NO_NODE,
                             MEMBLOCK_HOTPLUG | MEMBLOCK_DRIVER_MANAGED, reverse,
                             [&](const MemRange& r) {
                               out.push_back(r);
                               return true;
                             });
  return out;
}

std::vector<MemRange> Memblock::for_each_free_mem_range(int nid, std::uint32_t flags,
                                                        bool reverse) const {
  std::vector<MemRange> out;
  const MemblockTypeId rsv = MemblockTypeId::reserved;
  walk_ranges(MemblockTypeId::memory, &rsv, nid, flags, reverse, [&](const MemRange& r) {
                               out.push_back(r);
                               return true;
                             });
  return out;
}

// mm/memblock.c __memblock_find_range_bottom_up(): first fit from below.
phys_addr_t Memblock::find_range_bottom_up(phys_addr_t start, phys_addr_t end, phys_addr_t size,
                                           phys_addr_t align, int nid,
                                           std::uint32_t flags) const {
  phys_addr_t found = 0;
  const MemblockTypeId rsv = MemblockTypeId::reserved;
  walk_ranges(MemblockTypeId::memory, &rsv, nid, flags, false,
                             [&](const MemRange& r) {
                               const phys_addr_t this_start = clamp(r.start, start, end);
                               const phys_addr_t this_end = clamp(r.end, start, end);
                               const phys_addr_t cand = round_up(this_start, align);
                               if (cand < this_end && this_end - cand >= size) {
                                 found = cand;
                                 return false;
                               }
                               return true;
                             });
  return found;
}

// mm/memblock.c __memblock_find_range_top_down(): first fit from above, the
// candidate placed at the top of the free range and aligned down.
phys_addr_t Memblock::find_range_top_down(phys_addr_t start, phys_addr_t end, phys_addr_t size,
                                          phys_addr_t align, int nid,
                                          std::uint32_t flags) const {
  phys_addr_t found = 0;
  const MemblockTypeId rsv = MemblockTypeId::reserved;
  walk_ranges(MemblockTypeId::memory, &rsv, nid, flags, true,
                             [&](const MemRange& r) {
                               const phys_addr_t this_start = clamp(r.start, start, end);
                               const phys_addr_t this_end = clamp(r.end, start, end);
                               if (this_end < size) return true;
                               const phys_addr_t cand = round_down(this_end - size, align);
                               if (cand >= this_start) {
                                 found = cand;
                                 return false;
                               }
                               return true;
                             });
  return found;
}

// mm/memblock.c memblock_find_in_range_node(): ACCESSIBLE/NOLEAKTRACE mean
// current_limit; page 0 is never returned.
phys_addr_t Memblock::memblock_find_in_range_node(phys_addr_t size, phys_addr_t align,
                                                  phys_addr_t start, phys_addr_t end, int nid,
                                                  std::uint32_t flags) {
  if (end == MEMBLOCK_ALLOC_ACCESSIBLE || end == MEMBLOCK_ALLOC_NOLEAKTRACE) end = current_limit_;
  start = std::max(start, cfg_.page_size);
  end = std::max(start, end);
  return bottom_up_ ? find_range_bottom_up(start, end, size, align, nid, flags)
                    : find_range_top_down(start, end, size, align, nid, flags);
}

// mm/memblock.c memblock_find_in_range(): any node, dropping MIRROR if needed
// (KHO_SCRATCH is never dropped).
phys_addr_t Memblock::memblock_find_in_range(phys_addr_t start, phys_addr_t end,
                                             phys_addr_t size, phys_addr_t align) {
  std::uint32_t flags = choose_memblock_flags();
  for (;;) {
    const phys_addr_t ret = memblock_find_in_range_node(size, align, start, end, NUMA_NO_NODE, flags);
    if (!ret && (flags & MEMBLOCK_MIRROR)) {
      log("memblock_find_in_range", "Could not allocate bytes of mirrored memory");
      flags &= ~MEMBLOCK_MIRROR;
      continue;
    }
    return ret;
  }
}

// The reservation an allocation makes. v6.16: __memblock_reserve(found, size,
// nid, MEMBLOCK_RSRV_KERN) for the requested node and memblock_reserve_kern()
// for the any-node fallback; v6.12: memblock_reserve() for both.
int Memblock::reserve_for_alloc(phys_addr_t found, phys_addr_t size, int nid, bool any_node) {
  if (!era_16()) return memblock_reserve(found, size);
  if (any_node) return memblock_reserve_kern(found, size);
  return __memblock_reserve(found, size, nid, MEMBLOCK_RSRV_KERN);
}

// mm/memblock.c memblock_alloc_range_nid(): node first, then any node unless
// exact_nid, then without MIRROR. KHO_SCRATCH is never dropped, so scratch
// exhaustion in scratch-only mode is a failure (0).
phys_addr_t Memblock::memblock_alloc_range_nid(phys_addr_t size, phys_addr_t align,
                                               phys_addr_t start, phys_addr_t end, int nid,
                                               bool exact_nid) {
  if (failed_) return 0;
  Scope scope(*this, "memblock_alloc_range_nid");
  std::uint32_t flags = choose_memblock_flags();
  if (freed_to_buddy_) {
    // After memblock_free_all() the kernel WARNs once and uses kzalloc_node();
    // slab is outside the model, so the model fails the allocation.
    if (!warned_slab_) warn("memblock_alloc_range_nid", "WARN_ON_ONCE(slab_is_available())");
    warned_slab_ = true;
    log("memblock_alloc_range_nid", "kzalloc_node() fallback not modelled");
    return 0;
  }
  if (!align) {
    log("memblock_alloc_range_nid", "dump_stack(): align == 0, using SMP_CACHE_BYTES");
    align = cfg_.smp_cache_bytes;
  }
  std::optional<MemblockType> reserved_before;
  if (cfg_.self_check && (flags & MEMBLOCK_KHO_SCRATCH)) reserved_before = reserved_;

  phys_addr_t found = 0;
  for (;;) {
    found = memblock_find_in_range_node(size, align, start, end, nid, flags);
    if (found && !reserve_for_alloc(found, size, nid, false)) break;
    if (numa_valid_node(nid) && !exact_nid) {
      found = memblock_find_in_range_node(size, align, start, end, NUMA_NO_NODE, flags);
      if (found && !reserve_for_alloc(found, size, nid, true)) break;
    }
    if (flags & MEMBLOCK_MIRROR) {
      flags &= ~MEMBLOCK_MIRROR;
      log("memblock_alloc_range_nid", "Could not allocate bytes of mirrored memory");
      continue;
    }
    return 0;
  }
  if (reserved_before)
    record(check_scratch_alloc(memory_, *reserved_before, found, size), "memblock_alloc_range_nid");
  check_array_overlap(found, size, "memblock_alloc_range_nid");
  return found;
}

phys_addr_t Memblock::memblock_phys_alloc_range(phys_addr_t size, phys_addr_t align,
                                                phys_addr_t start, phys_addr_t end) {
  return memblock_alloc_range_nid(size, align, start, end, NUMA_NO_NODE, false);
}

phys_addr_t Memblock::memblock_phys_alloc(phys_addr_t size, phys_addr_t align) {
  return memblock_phys_alloc_range(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE);
}

phys_addr_t Memblock::memblock_phys_alloc_try_nid(phys_addr_t size, phys_addr_t align, int nid) {
  return memblock_alloc_range_nid(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE, nid, false);
}

// mm/memblock.c memblock_alloc_internal(): caps max_addr at current_limit and
// retries once with min_addr = 0.
phys_addr_t Memblock::alloc_internal(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                     phys_addr_t max_addr, int nid, bool exact_nid) {
  if (max_addr > current_limit_) max_addr = current_limit_;
  phys_addr_t alloc = memblock_alloc_range_nid(size, align, min_addr, max_addr, nid, exact_nid);
  if (!alloc && min_addr)
    alloc = memblock_alloc_range_nid(size, align, 0, max_addr, nid, exact_nid);
  return alloc;
}

phys_addr_t Memblock::memblock_alloc_try_nid(phys_addr_t size, phys_addr_t align,
                                             phys_addr_t min_addr, phys_addr_t max_addr, int nid) {
  return alloc_internal(size, align, min_addr, max_addr, nid, false);
}

phys_addr_t Memblock::memblock_alloc_try_nid_raw(phys_addr_t size, phys_addr_t align,
                                                 phys_addr_t min_addr, phys_addr_t max_addr,
                                                 int nid) {
  return alloc_internal(size, align, min_addr, max_addr, nid, false);
}

phys_addr_t Memblock::memblock_alloc_exact_nid_raw(phys_addr_t size, phys_addr_t align,
                                                   phys_addr_t min_addr, phys_addr_t max_addr,
                                                   int nid) {
  return alloc_internal(size, align, min_addr, max_addr, nid, true);
}

// include/linux/memblock.h wrappers around memblock_alloc_try_nid{,_raw}().
phys_addr_t Memblock::memblock_alloc(phys_addr_t size, phys_addr_t align) {
  return memblock_alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE,
                                NUMA_NO_NODE);
}
phys_addr_t Memblock::memblock_alloc_raw(phys_addr_t size, phys_addr_t align) {
  return memblock_alloc_try_nid_raw(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE,
                                    NUMA_NO_NODE);
}
phys_addr_t Memblock::memblock_alloc_from(phys_addr_t size, phys_addr_t align,
                                          phys_addr_t min_addr) {
  return memblock_alloc_try_nid(size, align, min_addr, MEMBLOCK_ALLOC_ACCESSIBLE, NUMA_NO_NODE);
}
phys_addr_t Memblock::memblock_alloc_low(phys_addr_t size, phys_addr_t align) {
  return memblock_alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, cfg_.arch_low_address_limit,
                                NUMA_NO_NODE);
}
phys_addr_t Memblock::memblock_alloc_node(phys_addr_t size, phys_addr_t align, int nid) {
  return memblock_alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE, nid);
}

// ---- memblock_free_all ------------------------------------------------------------------

// mm/memblock.c memblock_free_all() -> free_low_memory_core_early() (v6.16).
// free_unused_memmap() is a no-op for SPARSEMEM_VMEMMAP and is not modelled.
FreeAllResult Memblock::memblock_free_all() {
  FreeAllResult res;
  if (failed_) return res;
  Scope scope(*this, "memblock_free_all");
  const phys_addr_t page = cfg_.page_size;
  auto pfn_down = [page](phys_addr_t x) { return x / page; };
  auto pfn_up = [page](phys_addr_t x) { return x / page + (x % page != 0); };

  memblock_clear_kho_scratch_only();
  memblock_clear_hotplug(0, PHYS_ADDR_MAX);  // kernel: memblock_clear_hotplug(0, -1)

  // memmap_init_reserved_pages(): copy memory nids onto reserved regions,
  // again if that doubled the reserved array, and mark NOMAP memory reserved.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> nomap;
  for (;;) {
    nomap.clear();
    const std::uint64_t max_reserved = reserved_.max;
    for (std::size_t i = 0; i < memory_.cnt(); ++i) {
      const MemblockRegion m = memory_.regions[i];
      if (m.flags & MEMBLOCK_NOMAP) nomap.emplace_back(pfn_down(m.base), pfn_up(m.end()));
      memblock_set_node(m.base, m.size, MemblockTypeId::reserved, m.nid);
      if (failed_) return res;
    }
    if (max_reserved == reserved_.max) break;
  }
  res.reserved_pfn_ranges = nomap;
  for (const auto& r : reserved_.regions) {
    if (r.flags & MEMBLOCK_RSRV_NOINIT)
      res.noinit_regions.push_back(r);
    else
      res.reserved_pfn_ranges.emplace_back(pfn_down(r.base), pfn_up(r.end()));
  }

  // for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE) -> __free_memory_core():
  // NOMAP and DRIVER_MANAGED memory is skipped, KHO_SCRATCH is included.
  for (const MemRange& r : for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE)) {
    std::uint64_t start = pfn_up(r.start);
    std::uint64_t end = pfn_down(r.end);
    if (end > cfg_.max_low_pfn) end = cfg_.max_low_pfn;
    if (start >= end) continue;
    // __free_pages_memory(): the largest naturally aligned chunks. Once aligned to
    // the maximum order, the chunks up to the tail are one run.
    while (start < end) {
      unsigned order = cfg_.max_page_order;
      if (start) order = std::min<unsigned>(order, static_cast<unsigned>(__builtin_ctzll(start)));
      while (start + (std::uint64_t{1} << order) > end) --order;
      const std::uint64_t count = order == cfg_.max_page_order ? (end - start) >> order : 1;
      res.chunks.push_back({start, order, count});
      res.pages += count << order;
      start += count << order;
    }
  }
  freed_to_buddy_ = true;
  return res;
}

}  // namespace khospec::model
