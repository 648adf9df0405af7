// Port of tools/testing/memblock/tests/alloc_api.c (v6.16+ tree, which uses
// memblock_reserve_kern() where a merge with the RSRV_KERN allocation is
// expected). Direction-specific checks run with TEST_F_NONE and TEST_F_RAW;
// the *_generic_check ones also run top-down and bottom-up, as the kernel's
// run_top_down()/run_bottom_up() wrappers do. The simulator's
// assert_mem_content() (zeroed vs raw memory) has no model counterpart.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAlloc : public MemblockAllocFixture {};
class MemblockAllocGeneric : public MemblockAllocFixture {};
INSTANTIATE_TEST_SUITE_P(Flags, MemblockAlloc, raw_axis(), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, MemblockAllocGeneric, both_directions(), alloc_mode_name);

// Expect an aligned region at the end of memory.
TEST_P(MemblockAlloc, alloc_top_down_simple_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_2;
  const phys_addr_t expected_start = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES;
  const phys_addr_t p = run_memblock_alloc(size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, expected_start);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Reserved r1 at a misaligned address at the top: expect a separate, aligned
// new entry in front of it.
TEST_P(MemblockAlloc, alloc_top_down_disjoint_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r2_size = SZ_16, alignment = SMP_CACHE_BYTES * 2;
  const region r1{mb.memblock_end_of_DRAM() - SZ_2, SZ_2};
  const phys_addr_t expected_start = mb.memblock_end_of_DRAM() - alignment;
  mb.memblock_reserve(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, alignment);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(1).size, r1.size);
  EXPECT_EQ(rsv(1).base, r1.base);
  EXPECT_EQ(rsv(0).size, r2_size);
  EXPECT_EQ(rsv(0).base, expected_start);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1.size + r2_size);
}

// First fit right after r1 (at the end of memory): expect one merged region.
TEST_P(MemblockAlloc, alloc_top_down_before_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r1_size = SMP_CACHE_BYTES, r2_size = SZ_512;
  const phys_addr_t total = r1_size + r2_size;
  mb.memblock_reserve_kern(mb.memblock_end_of_DRAM() - total, r1_size);
  const phys_addr_t p = run_memblock_alloc(r2_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, mb.memblock_end_of_DRAM() - total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Not enough room above r1: expect the new block below r1, merged.
TEST_P(MemblockAlloc, alloc_top_down_after_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r2_size = SZ_512;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, SZ_8};
  const phys_addr_t total = r1.size + r2_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r1.base - r2_size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Gap between r2 and r1 too small: expect the block below r2, merged with it.
TEST_P(MemblockAlloc, alloc_top_down_second_fit_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r3_size = SZ_1K;
  const region r1{mb.memblock_end_of_DRAM() - SZ_512, SZ_512};
  const region r2{r1.base - SZ_512, SZ_256};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  const phys_addr_t p = run_memblock_alloc(r3_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, r2.size + r3_size);
  EXPECT_EQ(rsv(0).base, r2.base - r3_size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Gap between r2 and r1 exactly fits: expect all three merged.
TEST_P(MemblockAllocGeneric, alloc_in_between_generic_check) {
  setup_memblock();
  const phys_addr_t gap_size = SMP_CACHE_BYTES, r3_size = SZ_64;
  const phys_addr_t rgn_size = (MEM_SIZE - (2 * gap_size + r3_size)) / 2;
  const region r1{mb.memblock_end_of_DRAM() - (gap_size + rgn_size), rgn_size};
  const region r2{mb.memblock_start_of_DRAM() + gap_size, rgn_size};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  const phys_addr_t p = run_memblock_alloc(r3_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r1.base - r2.size - r3_size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Memory full of small gaps: expect no allocation.
TEST_P(MemblockAllocGeneric, alloc_small_gaps_generic_check) {
  setup_memblock();
  const phys_addr_t region_size = SZ_1K, gap_size = SZ_256;
  phys_addr_t region_end = mb.memblock_start_of_DRAM();
  while (region_end < mb.memblock_end_of_DRAM()) {
    mb.memblock_reserve(region_end + gap_size, region_size);
    region_end += gap_size + region_size;
  }
  EXPECT_EQ(run_memblock_alloc(region_size, SMP_CACHE_BYTES), 0u);
}

// All memory reserved: expect no allocation.
TEST_P(MemblockAllocGeneric, alloc_all_reserved_generic_check) {
  setup_memblock();
  mb.memblock_reserve(mb.memblock_start_of_DRAM(), MEM_SIZE);
  EXPECT_EQ(run_memblock_alloc(SZ_256, SMP_CACHE_BYTES), 0u);
}

// Almost full, too little left: expect no allocation.
TEST_P(MemblockAllocGeneric, alloc_no_space_generic_check) {
  setup_memblock();
  const phys_addr_t available_size = SZ_256;
  mb.memblock_reserve(mb.memblock_start_of_DRAM(), MEM_SIZE - available_size);
  EXPECT_EQ(run_memblock_alloc(SZ_1K, SMP_CACHE_BYTES), 0u);
}

// Almost full, exactly enough left: expect one region covering all memory.
TEST_P(MemblockAllocGeneric, alloc_limited_space_generic_check) {
  setup_memblock();
  const phys_addr_t available_size = SZ_256;
  mb.memblock_reserve_kern(mb.memblock_start_of_DRAM(), MEM_SIZE - available_size);
  const phys_addr_t p = run_memblock_alloc(available_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, MEM_SIZE);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, MEM_SIZE);
}

// No memory registered: expect no allocation and nothing reserved.
TEST_P(MemblockAllocGeneric, alloc_no_memory_generic_check) {
  reset_memblock_regions();
  EXPECT_EQ(run_memblock_alloc(SZ_1K, SMP_CACHE_BYTES), 0u);
  EXPECT_EQ(rsv(0).size, 0u);
  EXPECT_EQ(rsv(0).base, 0u);
  EXPECT_EQ(mb.reserved().total_size, 0u);
}

// Larger than all memory: expect no allocation.
TEST_P(MemblockAllocGeneric, alloc_too_large_generic_check) {
  setup_memblock();
  EXPECT_EQ(run_memblock_alloc(MEM_SIZE + SZ_2, SMP_CACHE_BYTES), 0u);
  EXPECT_EQ(rsv(0).size, 0u);
  EXPECT_EQ(rsv(0).base, 0u);
  EXPECT_EQ(mb.reserved().total_size, 0u);
}

// Expect an aligned region at the start of memory.
TEST_P(MemblockAlloc, alloc_bottom_up_simple_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t p = run_memblock_alloc(SZ_2, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, SZ_2);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, SZ_2);
}

// Reserved r1 at a misaligned address at the bottom: expect a separate,
// aligned entry after it.
TEST_P(MemblockAlloc, alloc_bottom_up_disjoint_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r2_size = SZ_16, alignment = SMP_CACHE_BYTES * 2;
  const region r1{mb.memblock_start_of_DRAM() + SZ_2, SZ_2};
  const phys_addr_t expected_start = mb.memblock_start_of_DRAM() + alignment;
  mb.memblock_reserve(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, alignment);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, r1.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(1).size, r2_size);
  EXPECT_EQ(rsv(1).base, expected_start);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1.size + r2_size);
}

// First fit at the start of memory, right before r2: expect one merged region.
TEST_P(MemblockAlloc, alloc_bottom_up_before_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r1_size = SZ_512, r2_size = SZ_128, total = r1_size + r2_size;
  mb.memblock_reserve_kern(mb.memblock_start_of_DRAM() + r1_size, r2_size);
  const phys_addr_t p = run_memblock_alloc(r1_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Not enough room below r1: expect the block after r1, merged.
TEST_P(MemblockAlloc, alloc_bottom_up_after_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r2_size = SZ_512;
  const region r1{mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES, SZ_64};
  const phys_addr_t total = r1.size + r2_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Gap between r1 and r2 too small: expect the block after r2, merged with it.
TEST_P(MemblockAlloc, alloc_bottom_up_second_fit_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r3_size = SZ_1K;
  const region r1{mb.memblock_start_of_DRAM(), SZ_512};
  const region r2{r1.base + r1.size + SZ_512, SZ_256};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  const phys_addr_t p = run_memblock_alloc(r3_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(1).size, r2.size + r3_size);
  EXPECT_EQ(rsv(1).base, r2.base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

}  // namespace
}  // namespace khospec::model::testing
