// KHO scratch-only mode (v6.16+, docs/kernel-behaviour.md §3), which the kernel's
// memblock simulator does not cover: allocations land only in
// MEMBLOCK_KHO_SCRATCH memory, fail when scratch is exhausted (no fallback),
// the reserved array doubles inside scratch, and clearing scratch-only
// restores normal allocation. Invariant 13 (INV_MEMBLOCK_SCRATCH_ONLY_ALLOC)
// is checked by self_check after every allocation.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

// 256 MiB of memory at 1 GiB; 4 MiB of scratch in the middle (as
// kho_populate() does: memblock_add + memblock_mark_kho_scratch).
constexpr phys_addr_t kMem = SZ_1G, kMemSize = SZ_256M;
constexpr phys_addr_t kScratch = SZ_1G + SZ_64M, kScratchSize = SZ_4M;

class MemblockScratch : public MemblockAllocFixture {
 protected:
  void populate() {
    mb.memblock_add(kMem, kMemSize);
    ASSERT_EQ(mb.memblock_mark_kho_scratch(kScratch, kScratchSize), 0);
    mb.memblock_set_kho_scratch_only();
  }
  static bool in_scratch(phys_addr_t a, phys_addr_t size) {
    return a >= kScratch && a + size <= kScratch + kScratchSize;
  }
};
INSTANTIATE_TEST_SUITE_P(Directions, MemblockScratch,
                         ::testing::Values(AllocMode{false, false}, AllocMode{true, false}),
                         alloc_mode_name);

// Expect the scratch range to become its own memory region flagged
// KHO_SCRATCH between two plain ones.
TEST_P(MemblockScratch, mark_kho_scratch_splits_memory) {
  populate();
  ASSERT_EQ(mb.memory().cnt(), 3u);
  EXPECT_EQ(mem(1).base, kScratch);
  EXPECT_EQ(mem(1).size, kScratchSize);
  EXPECT_EQ(mem(1).flags, MEMBLOCK_KHO_SCRATCH);
  EXPECT_EQ(mem(0).flags, MEMBLOCK_NONE);
  EXPECT_EQ(mem(2).flags, MEMBLOCK_NONE);
  EXPECT_EQ(mb.choose_memblock_flags(), MEMBLOCK_KHO_SCRATCH);
}

// Every allocator lands inside scratch, whichever direction.
TEST_P(MemblockScratch, allocations_land_in_scratch) {
  populate();
  const phys_addr_t a = mb.memblock_phys_alloc(SZ_64K, PAGE_SIZE);
  const phys_addr_t b = mb.memblock_alloc(SZ_4K, SMP_CACHE_BYTES);
  const phys_addr_t c = mb.memblock_alloc_try_nid(SZ_1M, SZ_1M, 0, MEMBLOCK_ALLOC_ACCESSIBLE, 3);
  const phys_addr_t d = mb.memblock_phys_alloc_range(SZ_8K, PAGE_SIZE, 0, PHYS_ADDR_MAX);
  for (auto [addr, size] : {std::pair{a, SZ_64K}, {b, SZ_4K}, {c, SZ_1M}, {d, SZ_8K}}) {
    ASSERT_NE(addr, 0u);
    EXPECT_TRUE(in_scratch(addr, size)) << std::hex << addr;
  }
  // Top-down starts at the top of scratch, bottom-up at its bottom.
  EXPECT_EQ(a, GetParam().bottom_up ? kScratch : kScratch + kScratchSize - SZ_64K);
  EXPECT_EQ(mb.memblock_reserved_kern_size(PHYS_ADDR_MAX, NUMA_NO_NODE),
            SZ_64K + SZ_4K + SZ_1M + SZ_8K);
}

// A range allocation outside scratch fails even though the range is free.
TEST_P(MemblockScratch, range_outside_scratch_fails) {
  populate();
  EXPECT_EQ(mb.memblock_phys_alloc_range(SZ_4K, PAGE_SIZE, kMem, kScratch), 0u);
  EXPECT_EQ(mb.memblock_phys_alloc_range(SZ_4K, PAGE_SIZE, kScratch + kScratchSize,
                                         kMem + kMemSize), 0u);
  EXPECT_EQ(mb.reserved().cnt(), 0u);
}

// Scratch exhausted: expect failure, no fallback to node-less or
// non-scratch memory (KHO_SCRATCH is never dropped), nothing reserved.
TEST_P(MemblockScratch, exhausted_scratch_fails_without_fallback) {
  populate();
  ASSERT_NE(mb.memblock_phys_alloc(kScratchSize, PAGE_SIZE), 0u);
  const std::uint64_t cnt = mb.reserved().cnt();
  EXPECT_EQ(mb.memblock_phys_alloc(PAGE_SIZE, PAGE_SIZE), 0u);
  EXPECT_EQ(mb.memblock_alloc_try_nid(PAGE_SIZE, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ACCESSIBLE, 1), 0u);
  EXPECT_EQ(mb.memblock_alloc_from(PAGE_SIZE, PAGE_SIZE, kMem), 0u);
  EXPECT_EQ(mb.reserved().cnt(), cnt);
  EXPECT_EQ(mb.reserved().total_size, kScratchSize);
}

// Even with mirrored memory present (choose_memblock_flags would pick
// MIRROR), scratch-only wins and no MIRROR fallback happens.
TEST_P(MemblockScratch, scratch_only_beats_mirror) {
  mb.set_mirrored_kernelcore(true);
  mb.memblock_add(kMem, kMemSize);
  ASSERT_EQ(mb.memblock_mark_mirror(kMem, SZ_16M), 0);
  ASSERT_TRUE(mb.system_has_some_mirror());
  EXPECT_EQ(mb.choose_memblock_flags(), MEMBLOCK_MIRROR);
  const phys_addr_t m = mb.memblock_phys_alloc(SZ_4K, PAGE_SIZE);
  EXPECT_TRUE(m >= kMem && m < kMem + SZ_16M);
  ASSERT_EQ(mb.memblock_mark_kho_scratch(kScratch, kScratchSize), 0);
  mb.memblock_set_kho_scratch_only();
  EXPECT_EQ(mb.choose_memblock_flags(), MEMBLOCK_KHO_SCRATCH);
  const phys_addr_t s = mb.memblock_phys_alloc(SZ_4K, PAGE_SIZE);
  EXPECT_TRUE(in_scratch(s, SZ_4K));
  ASSERT_NE(mb.memblock_phys_alloc(kScratchSize - SZ_4K, PAGE_SIZE), 0u);
  EXPECT_EQ(mb.memblock_phys_alloc(SZ_4K, PAGE_SIZE), 0u);
}

// The 129th reserved region doubles the reserved array; the new array is
// found under choose_memblock_flags() and so lands in scratch.
TEST_P(MemblockScratch, reserved_array_doubles_inside_scratch) {
  populate();
  mb.memblock_allow_resize();
  for (std::uint64_t i = 0; i < INIT_MEMBLOCK_RESERVED_REGIONS + 1; ++i)
    ASSERT_EQ(mb.memblock_reserve(kMem + i * SZ_64K, SZ_4K), 0);
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_RESERVED_REGIONS * 2);
  ASSERT_FALSE(mb.reserved().array_is_static);
  const phys_addr_t array = mb.reserved().array_base;
  const phys_addr_t array_size = page_align(2 * INIT_MEMBLOCK_RESERVED_REGIONS * MEMBLOCK_REGION_BYTES);
  EXPECT_TRUE(in_scratch(array, array_size)) << std::hex << array;
  EXPECT_TRUE(mb.memblock_is_reserved(array));
  EXPECT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_RESERVED_REGIONS + 2);
  // The array reservation is RSRV_KERN (v6.16 memblock_reserve_kern()).
  bool found = false;
  for (const auto& r : mb.reserved().regions)
    if (r.base == array) found = r.size == array_size && r.flags == MEMBLOCK_RSRV_KERN;
  EXPECT_TRUE(found);
}

// No room left in scratch for a new array: the reservation that needs the
// doubling fails with -ENOMEM and nothing changes (mm/memblock.c
// memblock_double_array(), 6.16: its search uses the scratch-only flags too).
TEST_P(MemblockScratch, reserved_array_doubling_fails_when_scratch_full) {
  populate();
  mb.memblock_allow_resize();
  ASSERT_EQ(mb.memblock_reserve(kScratch, kScratchSize), 0);  // scratch fully in use
  for (std::uint64_t i = 1; i < INIT_MEMBLOCK_RESERVED_REGIONS; ++i)
    ASSERT_EQ(mb.memblock_reserve(kMem + i * SZ_64K, SZ_4K), 0);
  ASSERT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_RESERVED_REGIONS);
  const MemblockType before = mb.reserved();
  EXPECT_EQ(mb.memblock_reserve(kMem + SZ_128M, SZ_4K), MODEL_ENOMEM);
  EXPECT_EQ(mb.reserved().regions, before.regions);
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_RESERVED_REGIONS);
  EXPECT_FALSE(mb.failed());
  // mark_noinit needs two spare slots and fails the same way.
  EXPECT_EQ(mb.memblock_reserved_mark_noinit(kMem + SZ_64K + SZ_1K, SZ_1K), MODEL_ENOMEM);
  // Outside scratch-only mode the array can go anywhere.
  mb.memblock_clear_kho_scratch_only();
  EXPECT_EQ(mb.memblock_reserve(kMem + SZ_128M, SZ_4K), 0);
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_RESERVED_REGIONS * 2);
}

// Clearing scratch-only restores allocation from all memory.
TEST_P(MemblockScratch, clearing_scratch_only_restores_normal_allocation) {
  populate();
  ASSERT_NE(mb.memblock_phys_alloc(kScratchSize, PAGE_SIZE), 0u);
  EXPECT_EQ(mb.memblock_phys_alloc(SZ_1M, PAGE_SIZE), 0u);
  mb.memblock_clear_kho_scratch_only();
  EXPECT_EQ(mb.choose_memblock_flags(), MEMBLOCK_NONE);
  const phys_addr_t a = mb.memblock_phys_alloc(SZ_1M, PAGE_SIZE);
  ASSERT_NE(a, 0u);
  EXPECT_FALSE(in_scratch(a, SZ_1M));
  EXPECT_EQ(a, GetParam().bottom_up ? kMem + PAGE_SIZE * 0 : kMem + kMemSize - SZ_1M);
}

// memblock_free_all() clears scratch-only (v6.16) and hands the free parts of
// scratch to buddy too; RSRV_NOINIT regions are not initialised.
TEST_P(MemblockScratch, free_all_clears_scratch_only_and_frees_scratch) {
  populate();
  const phys_addr_t early = mb.memblock_phys_alloc(SZ_64K, PAGE_SIZE);
  ASSERT_TRUE(in_scratch(early, SZ_64K));
  // A preserved block outside scratch, as kho_mem_deserialize() does.
  ASSERT_EQ(mb.memblock_reserve(kMem + SZ_16M, SZ_2M), 0);
  ASSERT_EQ(mb.memblock_reserved_mark_noinit(kMem + SZ_16M, SZ_2M), 0);
  const FreeAllResult res = mb.memblock_free_all();
  EXPECT_FALSE(mb.kho_scratch_only());
  EXPECT_EQ(res.pages, (kMemSize - SZ_64K - SZ_2M) / PAGE_SIZE);
  ASSERT_EQ(res.noinit_regions.size(), 1u);
  EXPECT_EQ(res.noinit_regions[0].base, kMem + SZ_16M);
  // The early scratch allocation is initialised (PageReserved) ...
  bool early_reserved = false;
  for (auto [s, e] : res.reserved_pfn_ranges)
    if (s == early / PAGE_SIZE && e == (early + SZ_64K) / PAGE_SIZE) early_reserved = true;
  EXPECT_TRUE(early_reserved);
  // ... and buddy gets scratch pages.
  std::uint64_t scratch_pages = 0;
  for (const auto& c : res.chunks)
    if (c.pfn >= kScratch / PAGE_SIZE && c.pfn < (kScratch + kScratchSize) / PAGE_SIZE)
      scratch_pages += c.count << c.order;
  EXPECT_EQ(scratch_pages, (kScratchSize - SZ_64K) / PAGE_SIZE);
  // memblock allocations after the hand-off WARN once (slab is up).
  EXPECT_EQ(mb.memblock_phys_alloc(SZ_4K, PAGE_SIZE), 0u);
  EXPECT_EQ(mb.warning_count(), 1u);
}

// v6.12 has no KHO scratch: the calls are unavailable and scratch-only is
// never entered.
TEST_P(MemblockScratch, v6_12_has_no_scratch_support) {
  mb.set_era(Era::v6_12);
  mb.memblock_add(kMem, kMemSize);
  EXPECT_EQ(mb.memblock_mark_kho_scratch(kScratch, kScratchSize), MODEL_ENOSYS);
  mb.memblock_set_kho_scratch_only();
  EXPECT_FALSE(mb.kho_scratch_only());
  EXPECT_EQ(mb.memblock_reserve_kern(kMem, SZ_4K), MODEL_ENOSYS);
  const phys_addr_t a = mb.memblock_phys_alloc(SZ_4K, PAGE_SIZE);
  ASSERT_NE(a, 0u);
  // v6.12 allocations are plain memblock_reserve(): MAX_NUMNODES, flags 0.
  EXPECT_EQ(rsv(0).flags, MEMBLOCK_NONE);
  EXPECT_EQ(rsv(0).nid, MAX_NUMNODES);
}

}  // namespace
}  // namespace khospec::model::testing
