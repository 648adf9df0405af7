// The running kernel's page allocator, as far as KHO can observe it.
//
// After memblock_free_all() the buddy allocator owns (memory \ reserved).
// Pageblocks marked MIGRATE_CMA (KHO scratch) serve only movable
// allocations, so the unmovable allocations KHO and its clients make
// (kzalloc, get_zeroed_page, alloc_pages, folio_alloc(GFP_KERNEL)) never land
// in scratch (docs/kernel-behaviour.md §3). Addresses are first-fit from the
// bottom; the real buddy's choice depends on boot history, so exact
// addresses are not part of the model's contract (docs/model-kho.md).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "model/kho/phys_image.hpp"

namespace khospec::model {

class BuddyAllocator : public PageAllocator {
 public:
  explicit BuddyAllocator(PhysImage& image) : image_(image) {}

  // Free memory handed over by memblock_free_all() (pfn ranges), and the
  // pageblocks that are MIGRATE_CMA.
  void add_free(phys_addr_t start, phys_addr_t end);
  void add_cma(phys_addr_t start, phys_addr_t end);
  bool is_cma(phys_addr_t addr) const;

  // PageAllocator: unmovable, zeroed. Sub-page sizes come from per-size slabs.
  phys_addr_t alloc(std::uint64_t bytes, std::uint64_t align) override;
  void free(phys_addr_t addr, std::uint64_t bytes) override;

  // Limit the allocator (failure injection: -ENOMEM paths). 0 = no limit.
  void set_fail_after(std::uint64_t allocations) { fail_after_ = allocations; }
  std::uint64_t allocations() const { return count_; }
  std::uint64_t free_bytes() const;
  const std::map<phys_addr_t, phys_addr_t>& free_ranges() const { return free_; }
  const std::map<phys_addr_t, phys_addr_t>& cma_ranges() const { return cma_; }

 private:
  phys_addr_t alloc_pages(std::uint64_t bytes, std::uint64_t align);
  void insert(std::map<phys_addr_t, phys_addr_t>& m, phys_addr_t s, phys_addr_t e);

  PhysImage& image_;
  std::map<phys_addr_t, phys_addr_t> free_;  // start -> end, merged, non-CMA
  std::map<phys_addr_t, phys_addr_t> cma_;   // MIGRATE_CMA pageblocks
  struct Slab { phys_addr_t page = 0; std::uint64_t next = 0; std::vector<phys_addr_t> freed; };
  std::map<std::uint64_t, Slab> slabs_;      // object size -> current slab
  std::uint64_t fail_after_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace khospec::model
